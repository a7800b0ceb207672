# `make` sets up .venv/ and builds every handout into dist/; `make test` runs the tests;
# `make check` checks the content; `make lock` refreshes requirements.lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BYTECODE := $(VENV)/.compiled
LOCK   := requirements.lock
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: all build test check lock goldens bench mutation system-libs browser-tools print-tools fonts icons serve clean

all: build

build: system-libs fonts $(BYTECODE)
	$(BIN)/handouts build

test: system-libs browser-tools print-tools fonts $(BYTECODE)
	$(BIN)/python -m pytest

# The staff's print page and the designers' live preview, on http://127.0.0.1:8000/.
serve: system-libs fonts $(BYTECODE)
	$(BIN)/handouts serve

# Reading level, reviews, translations, alt text, contrast and page budgets.
check: system-libs fonts $(BYTECODE)
	$(BIN)/handouts check

# The package, its dependencies and the test tools, in the repository's own venv, at exactly
# the versions (and hashes) of requirements.lock: same versions, same PDF bytes. The venv is
# made anew when the lock changes, so nothing from an older lock stays behind.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv --clear $(VENV)
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@$(PIP) check >/dev/null || { $(PIP) check; \
	  echo "pyproject.toml asks for packages that $(LOCK) lacks: run 'make lock'"; exit 1; }
	touch $@

# The package's own modules compiled to bytecode once, as pip does for installed packages: the
# package is installed editable, and where PYTHONDONTWRITEBYTECODE is set Python would compile
# every module of handouts/ again in every process (about 0.3 s before a build, and again
# before its printing workers, can start). A changed module is compiled again by the next make.
$(BYTECODE): $(STAMP) $(wildcard handouts/*.py handouts/*/*.py)
	$(BIN)/python -m compileall -q handouts
	touch $@

# Write requirements.lock anew from pyproject.toml (the package, its test extra and its build
# backend, so that the package itself installs from locked setuptools too), with
# pip-tools in a venv of its own. Pins already in the lock are kept; to take the newest
# releases that pyproject.toml allows: make lock LOCK_FLAGS=--upgrade
LOCK_TOOLS := $(VENV)-lock
PIP_TOOLS  := pip-tools==7.6.2
LOCK_FLAGS ?=

lock:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check '$(PIP_TOOLS)'
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes \
	  --allow-unsafe --strip-extras --extra test --all-build-deps --no-emit-index-url --no-emit-find-links \
	  $(LOCK_FLAGS) --output-file $(LOCK) pyproject.toml

# Rewrite tests/golden/ from a fresh build, after a visual change has been reviewed.
goldens: system-libs fonts $(STAMP)
	$(BIN)/python -m pytest tests/test_goldens.py --update-goldens -q

# Build times against bare WeasyPrint and Pandoc: prints a table, writes benchmarks/results.json;
# then the web app's print times against bare WeasyPrint.
bench: system-libs fonts $(BYTECODE)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/bench_web.py

# Would the fast tests notice a bug in the core? mutmut changes the core modules one small
# change at a time; prints the share killed per module and the survivors, fails below 80%.
# About 20 minutes on 2 cores; not part of `make test`. One module: make mutation MODULES=config
MODULES ?=
MUTATION_JOBS ?= 2
mutation: system-libs $(STAMP)
	nice -n 19 $(BIN)/python tools/mutation.py --jobs $(MUTATION_JOBS) $(MODULES)

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

# Send to printer goes through CUPS; its test prints to the cups-pdf printer of a cupsd it
# starts on its own. As root with apt-get we install them; otherwise that test is skipped.
PRINT_TOOLS := cupsd:cups lp:cups-client /usr/lib/cups/backend/cups-pdf:printer-driver-cups-pdf

print-tools:
	@missing=""; \
	for pair in $(PRINT_TOOLS); do \
	  tool=$${pair%%:*}; pkg=$${pair##*:}; \
	  { [ -e "$$tool" ] || PATH="$$PATH:/usr/sbin" command -v "$$tool" >/dev/null; } || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Send to printer is tested with CUPS. Please run: sudo apt-get install$$missing"; \
	  fi; \
	fi

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Fonts for the letters Atkinson Hyperlegible lacks: Noto Sans (Vietnamese, Greek, Cyrillic),
# Noto Sans SC (Chinese) and Tajawal (Arabic), from the npm registry at the versions
# package-lock.json pins (TTF: the PDFs' subsets stay byte-identical), copied into styles/
# because a sheet may load fonts from there only. Regular and bold of each, Noto Sans in italic
# too, and each family's licence (SIL OFL 1.1) beside it.
PINNED_FONTS := styles/fonts/pinned
FONT_FILES   := noto-sans:NotoSans:400Regular noto-sans:NotoSans:700Bold \
                noto-sans:NotoSans:400Regular_Italic noto-sans:NotoSans:700Bold_Italic \
                tajawal:Tajawal:400Regular tajawal:Tajawal:700Bold \
                noto-sans-sc:NotoSansSC:400Regular noto-sans-sc:NotoSansSC:700Bold

fonts: $(PINNED_FONTS)/.installed

$(PINNED_FONTS)/.installed: node_modules/axe-core/axe.min.js Makefile
	@mkdir -p $(PINNED_FONTS)
	@for triple in $(FONT_FILES); do \
	  package=$${triple%%:*}; rest=$${triple#*:}; family=$${rest%%:*}; style=$${rest#*:}; \
	  cp node_modules/@expo-google-fonts/$$package/$$style/$${family}_$$style.ttf \
	     $(PINNED_FONTS)/$$family-$$(echo $$style | sed 's/^[0-9]*//; s/Regular_//; s/_//').ttf; \
	  cp node_modules/@expo-google-fonts/$$package/LICENSE_FONT $(PINNED_FONTS)/$$family-OFL.txt; \
	done
	touch $@
# Copy the icons named in assets/icons/icons.txt from the pinned healthicons package, with its
# licence and version beside them: a build reads only assets/icons/, never node_modules/.
icons: node_modules/axe-core/axe.min.js
	grep -v '^#' assets/icons/icons.txt | while read -r name source; do \
	  if [ -n "$$name" ]; then cp "node_modules/healthicons/$$source" "assets/icons/$$name.svg" || exit 1; fi; \
	done
	cp node_modules/healthicons/LICENSE assets/icons/LICENSE
	node -p '"healthicons " + require("./node_modules/healthicons/package.json").version' > assets/icons/VERSION

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) dist node_modules $(PINNED_FONTS)
