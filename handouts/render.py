"""Handout -> HTML: Markdown to an HTML body, then the Jinja2 page template around it.

One Jinja2 Environment per project (autoescape, StrictUndefined: a misspelt variable is an
error, not a blank on a patient's sheet). Every URL in the body is checked against the sandbox
here, where the Markdown line is still known, before anything is printed.
"""
from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, fields
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import markdown
from babel.dates import format_date
from markupsafe import Markup

from . import sandbox, typography
from .config import PAPERS, Clinic, Emergency, Project
from .content import Handout
from .errors import BuildError, ConfigError

TEMPLATE = "handout.html"
MARKDOWN_EXTENSIONS = ["admonition", "attr_list", "sane_lists", "smarty"]
#: Stylesheets in cascade order; an edition's layer comes last and only overrides.
STYLESHEETS = ("styles/fonts.css", "styles/tokens.css", "styles/print.css")


@dataclass(frozen=True)
class SheetContext:
    """Everything a template may use; nothing else reaches it."""

    handout: Handout
    body: Markup
    clinic: Clinic
    emergency: Emergency
    text: dict  # the language's template strings, from templates/strings/<lang>.toml
    lang: str
    edition: str
    paper: str  # CSS page size
    updated: str  # the handout's date, written out in its language
    keywords: str
    stylesheets: tuple[str, ...]
    logo: str


def render_html(project: Project, handout: Handout, edition: str, paper: str) -> str:
    """The complete HTML document of one handout edition, ready for printing."""
    context = SheetContext(
        handout=handout,
        body=typography.tie_html(markdown_to_html(project, handout)),
        clinic=project.config.clinic,
        emergency=project.config.emergency,
        text=typography.tie_strings(template_strings(project.root, handout.lang)),
        lang=handout.lang,
        edition=edition,
        paper=PAPERS[paper],
        updated=format_date(handout.updated, format="long", locale=handout.lang),
        keywords=", ".join([*handout.slug.split("-"), project.config.clinic.name]),
        stylesheets=stylesheets(edition),
        logo=project.config.clinic.logo,
    )
    template_dir = project.root / "templates"
    try:
        template = environment(template_dir).get_template(TEMPLATE)
        return template.render({field.name: getattr(context, field.name) for field in fields(context)})
    except jinja2.TemplateSyntaxError as error:
        raise BuildError(Path(error.filename or template_dir / TEMPLATE), error.message, error.lineno)
    except jinja2.TemplateNotFound as error:
        raise BuildError(template_dir / str(error.name), "template not found")
    except jinja2.TemplateError as error:  # undefined variables and other runtime errors
        path, line = _template_position(error, template_dir)
        raise BuildError(path, f"template error: {error.message}", line)


def markdown_to_html(project: Project, handout: Handout) -> Markup:
    """The body as HTML; any link or image outside the sandbox is an error at its line."""
    html = markdown.markdown(handout.body, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    for url in _urls(html):
        if url.startswith("#") or url.split(":", 1)[0].lower() in sandbox.INERT_LINK_SCHEMES:
            continue
        try:
            sandbox.resolve(project.root, url)
        except sandbox.SandboxViolation as violation:
            raise BuildError(handout.path, str(violation), handout.line_of(url))
    return Markup(html)


def images_without_alt(handout: Handout) -> list[BuildError]:
    """One error per content image that does not say what it shows (screen readers read alt)."""
    html = markdown.markdown(handout.body, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    collector = _URLCollector()
    collector.feed(html)
    return [BuildError(handout.path, f"image {src!r} has no alt text; expected words that say what "
                                     f"it shows, as in ![A nurse takes a blood pressure]({src})",
                       handout.line_of(src))
            for src, alt in collector.images if not (alt or "").strip()]


def stylesheets(edition: str) -> tuple[str, ...]:
    layer = () if edition == "standard" else (f"styles/editions/{edition}.css",)
    return STYLESHEETS + layer


@functools.cache
def environment(template_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = css_string
    env.filters["keep_together"] = keep_together
    return env


def template_strings(root: Path, lang: str) -> dict:
    """The words of the page itself (labels, footer, emergency lines) in one language."""
    path = root / "templates" / "strings" / f"{lang}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, f"no template strings for language {lang!r}; expected this file")
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, f"TOML syntax error: {error}")


def keep_together(value: str) -> str:
    """A phone number never breaks across lines: its spaces become no-break spaces."""
    return str(value).replace(" ", "\u00a0")


def css_string(value: str) -> Markup:
    """A value as a quoted CSS string, safe inside a <style> element."""
    escaped = (str(value).replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\a ").replace("<", "\\3c "))
    return Markup(f'"{escaped}"')


class _URLCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.images: list[tuple[str, str | None]] = []  # (src, alt)

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("href", "src") and value]
        if tag == "img":
            self.images.append((dict(attrs).get("src") or "", dict(attrs).get("alt")))


def _urls(html: str) -> list[str]:
    collector = _URLCollector()
    collector.feed(html)
    return collector.urls


def _template_position(error: Exception, template_dir: Path) -> tuple[Path, int | None]:
    """The innermost template frame of a rendering error (Jinja2 rewrites tracebacks to them)."""
    position = (template_dir / TEMPLATE, None)
    traceback = error.__traceback__
    while traceback:
        filename = traceback.tb_frame.f_code.co_filename
        if filename.endswith(".html"):
            position = (Path(filename), traceback.tb_lineno)
        traceback = traceback.tb_next
    return position
