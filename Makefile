# `make` sets up .venv/ and builds every handout into dist/; `make test` runs the tests;
# `make check` checks the content.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all build test check system-libs browser-tools serve clean

all: build

build: system-libs $(STAMP)
	$(BIN)/handouts build

test: system-libs browser-tools $(STAMP)
	$(BIN)/python -m pytest

# The staff's print page and the designers' live preview, on http://127.0.0.1:8000/.
serve: system-libs $(STAMP)
	$(BIN)/handouts serve

# Reading level, reviews, translations, alt text, contrast and page budgets.
check: system-libs $(STAMP)
	$(BIN)/handouts check

# The package, its dependencies and the test tools, in the repository's own venv.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# WeasyPrint needs Pango; libharfbuzz-subset0 makes its font subsetting about 3x faster.
# As root with apt-get we install what is missing; otherwise we say the command and go on.
SYSTEM_LIBS := libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
               libharfbuzz-subset.so.0:libharfbuzz-subset0

system-libs:
	@missing=""; \
	for pair in $(SYSTEM_LIBS); do \
	  lib=$${pair%%:*}; pkg=$${pair##*:}; \
	  /sbin/ldconfig -p 2>/dev/null | grep -q "$$lib" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "Missing system libraries. Please run: sudo apt-get install$$missing"; \
	  fi; \
	fi

# The end-to-end tests drive Debian's Chromium (Playwright's own browser download does not
# work offline) and inject axe-core from the npm registry (package-lock.json pins it).
browser-tools: node_modules/axe-core/axe.min.js
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Chromium. Please run: sudo apt-get install chromium"; \
	  fi; \
	fi

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) dist node_modules
