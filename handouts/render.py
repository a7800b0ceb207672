"""Handout -> HTML: Markdown to an HTML body, then the Jinja2 page template around it.

One Jinja2 Environment per project (autoescape, StrictUndefined: a misspelt variable is an
error, not a blank on a patient's sheet). Every URL in the body is checked against the sandbox
here, where the Markdown line is still known, before anything is printed. So is raw HTML: the
look of a sheet belongs to ``styles/`` and ``templates/``, so content may hold only the few
harmless inline tags of RAW_HTML_ALLOWED, and no attribute but the author classes of
``markdown_extensions``. So is Markdown that would print as its own syntax.
"""
from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, fields
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import markdown
import markdown.extensions.tables
from babel import Locale
from babel.dates import format_date
from markupsafe import Markup, escape

from . import bilingual, icons, markdown_extensions, qrcode, sandbox, typography
from .config import PAPERS, Clinic, Emergency, Project
from .content import Handout
from .errors import BuildError, ConfigError, ContentError

#: Raw HTML a content author may write: line breaks, super- and subscripts, abbreviations.
#: Everything else (``<style>``, ``<div>``, ``<img>``, ``<script>``...) is refused at its line.
RAW_HTML_ALLOWED = {"br": (), "wbr": (), "sup": (), "sub": (), "abbr": ("title",)}

TEMPLATE = "handout.html"
#: Call-outs of the designed types, the author classes, lists, quotes; GitHub pipe tables
#: (alignment as ``align``, since content may carry no style attribute); ``- [ ]`` task lists;
#: definition lists, numbered footnotes (named as a string: each converter gets its own, since
#: the extension keeps the notes); bare web and mail addresses as links (pymdownx.magiclink);
#: and the sheet's own additions (CommonMark indentation,
#: heading levels, printed link addresses, syntax left as text).
MARKDOWN_EXTENSIONS = [markdown_extensions.CallOuts(), markdown_extensions.AuthorClasses(), "sane_lists",
                       "smarty", "def_list", "handouts.markdown_extensions:NumberedFootnotes",
                       markdown.extensions.tables.TableExtension(use_align_attribute=True),
                       "pymdownx.tasklist", "pymdownx.magiclink", markdown_extensions.SheetMarkdown()]
#: Stylesheets in cascade order; an edition's layer comes last and only overrides.
STYLESHEETS = ("styles/fonts.css", "styles/tokens.css", "styles/print.css")
#: The layer for languages written right to left: what logical properties cannot mirror.
RIGHT_TO_LEFT = "styles/scripts/rtl.css"
#: Fonts of scripts that most sheets never print are megabytes (Chinese alone is 21 MB) that
#: every print would load: each has a stylesheet of its own, linked only when the sheet's text
#: (content, template strings, clinic facts or what staff typed in) has a letter it draws.
SCRIPT_FONTS = {
    "styles/scripts/han.css": re.compile("[\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff"
                                         "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0002fa1f]"),
    "styles/scripts/arabic.css": re.compile("[\u0600-\u06ff\u0750-\u077f\u0870-\u08ff\ufb50-\ufdff"
                                            "\ufe70-\ufeff]"),
}


@dataclass(frozen=True)
class Personal:
    """What staff write in for one patient. Printed as text (never markup), never stored."""

    patient: str = ""
    treatment_date: str = ""
    next_visit: str = ""
    clinician: str = ""
    note: str = ""

    def __bool__(self) -> bool:
        return any(getattr(self, name.name) for name in fields(self))


@dataclass(frozen=True)
class Translation:
    """The translation printed with its original in the bilingual edition."""

    handout: Handout
    text: dict  # its language's template strings
    lang: str
    updated: str
    main_message: Markup = Markup("")


@dataclass(frozen=True)
class SheetContext:
    """Everything a template may use; nothing else reaches it."""

    handout: Handout
    body: Markup
    main_message: Markup  # the front matter's main message, icons placed
    clinic: Clinic
    emergency: Emergency
    text: dict  # the language's template strings, from templates/strings/<lang>.toml
    lang: str
    direction: str  # "ltr" or "rtl", from the language
    edition: str
    paper: str  # CSS page size
    updated: str  # the handout's date, written out in its language
    keywords: str
    stylesheets: tuple[str, ...]
    logo: str
    personal: Personal  # empty on the sheets built into dist/: they get write-in lines
    translation: Translation | None  # the bilingual edition's second language, else None
    is_draft: bool  # the sheet, or the translation printed with it, is not yet reviewed
    sheet_link: qrcode.SheetLink | None  # where the sheet is online, for its QR code


def render_html(project: Project, handout: Handout, edition: str, paper: str,
                personal: Personal | None = None, translation: Handout | None = None) -> str:
    """The complete HTML document of one handout edition, ready for printing; with a
    ``translation``, both languages section by section (the bilingual edition)."""
    words = template_strings(project.root, handout.lang)
    translated = template_strings(project.root, translation.lang) if translation else {}
    printed = _printed_text(project, [handout, translation, personal], [words, translated])
    sheets = stylesheets(edition, handout.lang, printed)
    colour = icons.token_colour(project.root, sheets)
    body = typography.tie_html(_coloured(markdown_to_html(project, handout), project, handout, colour))
    if translation:
        body = bilingual.paired_body(handout, body, translation, typography.tie_html(
            _coloured(markdown_to_html(project, translation), project, translation, colour)))
    context = SheetContext(
        handout=handout,
        body=body,
        main_message=typography.tie_html(_coloured(main_message_html(handout), project, handout, colour)),
        clinic=project.config.clinic,
        emergency=project.config.emergency,
        text=typography.tie_strings(words),
        lang=handout.lang,
        direction=typography.direction(handout.lang),
        edition=edition,
        paper=PAPERS[paper],
        updated=written_date(handout),
        keywords=", ".join([*handout.slug.split("-"), project.config.clinic.name]),
        stylesheets=sheets,
        logo=icons.coloured_logo(project.root, project.config.clinic.logo, colour),
        personal=personal or Personal(),
        translation=translation_of(project, translation, translated, colour) if translation else None,
        is_draft=handout.is_draft or bool(translation and translation.is_draft),
        sheet_link=qrcode.sheet_link(project.config.clinic.sheet_url, handout.lang, handout.slug),
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


def translation_of(project: Project, handout: Handout, words: dict, colour: str) -> Translation:
    """What the template needs of the translation printed with its original (``words``: its
    language's template strings)."""
    words = typography.tie_strings(words)
    message = typography.tie_html(_coloured(main_message_html(handout), project, handout, colour))
    return Translation(handout, words, handout.lang, written_date(handout), message)


def written_date(handout: Handout) -> str:
    """The handout's date, written out in its own language."""
    return format_date(handout.updated, format="long", locale=Locale.parse(handout.lang, sep="-"))


def markdown_to_html(project: Project, handout: Handout) -> Markup:
    """The body as HTML; raw HTML beyond a few inline tags, a class, id or attribute beyond the
    author classes, Markdown left printing as text, any image or local link outside the
    sandbox, or an image without alt text (a tagged PDF needs it) is an error at its line.
    Links to the web, mail and phone are allowed."""
    converter = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
    html = converter.convert(handout.body)
    for raw in converter.htmlStash.rawHtmlBlocks:  # what the author wrote as HTML, verbatim
        refuse_raw_html(handout, str(raw))
    if found_mistakes := markdown_extensions.mistakes(converter):
        raise first_mistake(handout, found_mistakes)
    icons.check_names(html, project.root, handout.path, handout.line_of)
    found = _collected(html)
    for url, is_link in found.urls:
        if url.startswith("#") or (is_link and url.split(":", 1)[0].lower() in sandbox.LINK_SCHEMES):
            continue  # a link is never fetched: it becomes a link annotation
        try:
            sandbox.resolve(project.root, url)
        except sandbox.SandboxViolation as violation:
            raise BuildError(handout.path, str(violation), handout.line_of(url))
    if missing_alt := _without_alt(handout, found):
        raise missing_alt[0]
    return Markup(html)


def main_message_html(handout: Handout) -> Markup:
    """The main message as inline HTML (emphasis and icons); its mistakes are errors at its line."""
    if not handout.main_message:
        return Markup("")
    converter = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
    html = converter.convert(handout.main_message)
    line = handout.key_lines.get("main_message")
    if converter.htmlStash.rawHtmlBlocks:
        raise ContentError(handout.path, "main_message: expected words and icons, found HTML", line)
    if found := markdown_extensions.mistakes(converter):
        raise ContentError(handout.path, f"main_message: {found[0].message}", line)
    return Markup(re.sub(r"^<(p|figure)>|</(p|figure)>$", "", html.strip()))


def _coloured(html: Markup, project: Project, handout: Handout, colour: str) -> Markup:
    """The HTML with its icons drawn in the brand's colour (an unknown icon is an error)."""
    def line_of(needle: str) -> int | None:
        return handout.line_of(needle) or handout.key_lines.get("main_message")
    return Markup(icons.colour_icons(str(html), project.root, colour, handout.path, line_of))


def refuse_raw_html(handout: Handout, raw: str) -> None:
    """Raise at the line of the first tag or attribute outside RAW_HTML_ALLOWED."""
    parser = _TagCollector()
    parser.feed(raw)
    parser.close()
    for tag, attributes in parser.tags:
        allowed = RAW_HTML_ALLOWED.get(tag)
        if allowed is None:
            what, needle = f"the HTML tag <{tag}>", f"<{tag}"
        elif extra := [name for name in attributes if name not in allowed]:
            what, needle = f"the attribute {extra[0]!r} on <{tag}>", f"{extra[0]}="
        else:
            continue
        allowed_tags = ", ".join(f"<{name}>" for name in RAW_HTML_ALLOWED)
        raise BuildError(handout.path, f"expected Markdown, found {sandbox.excerpt(what, 60)}; content "
                                       f"may use only {allowed_tags} as HTML (images go in as "
                                       f"![alt text](file), the look belongs to styles/)",
                         handout.line_of(needle) or handout.line_of(raw.strip()[:20]))


def first_mistake(handout: Handout, found: list[markdown_extensions.Mistake]) -> ContentError:
    """The error of the mistake written first in the file (they are found in another order)."""
    located = [(next(filter(None, map(handout.line_of, mistake.near)), None), mistake) for mistake in found]
    line, mistake = min(located, key=lambda pair: pair[0] or float("inf"))
    return ContentError(handout.path, mistake.message, line)


def images_without_alt(handout: Handout) -> list[BuildError]:
    """One error per content image that does not say what it shows (screen readers read alt)."""
    html = markdown.markdown(handout.body, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return _without_alt(handout, _collected(html))


def _without_alt(handout: Handout, collector: _URLCollector) -> list[BuildError]:
    return [BuildError(handout.path, f"image {src!r} has no alt text; expected words that say what "
                                     f"it shows, as in ![A nurse takes a blood pressure]({src})",
                       handout.line_of(src))
            for src, alt in collector.images if not (alt or "").strip()]


def stylesheets(edition: str, lang: str = "en", text: str | None = None) -> tuple[str, ...]:
    """The stylesheets of a sheet in cascade order: the fonts of the scripts its ``text`` needs
    (all of them when the text is not known), the edition's layer over the base, and the
    right-to-left layer last."""
    scripts = tuple(sheet for sheet, letters in SCRIPT_FONTS.items() if text is None or letters.search(text))
    layer = () if edition == "standard" else (f"styles/editions/{edition}.css",)
    mirrored = (RIGHT_TO_LEFT,) if typography.direction(lang) == "rtl" else ()
    return STYLESHEETS[:1] + scripts + STYLESHEETS[1:] + layer + mirrored


def _printed_text(project: Project, sources: list, strings: list[dict]) -> str:
    """Everything a sheet may print (its handouts and personal fields, the clinic's facts, the
    template strings), as plain text: to choose the fonts it needs."""
    sources = [*sources, project.config.clinic, project.config.emergency]
    return " ".join(str(vars(source)) for source in sources if source) + " ".join(map(str, strings))


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
    env.filters["isolated"] = isolated
    return env


def template_strings(root: Path, lang: str) -> dict:
    """The words of the page itself (labels, footer, emergency lines) in one language."""
    path = root / "templates" / "strings" / f"{lang}.toml"
    if sandbox.file_kind(path) == "nothing":
        raise ConfigError(path, f"no template strings for language {lang!r}; expected this file")
    try:
        return tomllib.loads(sandbox.read_file(root, path, 1024 * 1024).decode("utf-8"))
    except sandbox.UnreadableFile as problem:
        raise ConfigError(path, str(problem)) from None
    except UnicodeDecodeError as error:
        raise ConfigError(path, f"expected UTF-8 text, found byte {error.object[error.start]:#04x}")
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, f"TOML syntax error: {error}")


def keep_together(value: str, direction: str = "ltr") -> Markup:
    """A phone number never breaks across lines, and keeps its order in right-to-left text
    (isolated only there: WeasyPrint breaks the line before an isolated number badly)."""
    if direction == "rtl":
        return typography.left_to_right(value)
    return escape(str(value).replace(" ", typography.NBSP))


def isolated(value: str, direction: str = "ltr") -> Markup:
    """A clinic fact written left to right (an address, a web address) keeps its order in a
    right-to-left sheet, where "123 Example Street" would otherwise print as "Example Street 123".
    It may wrap, unlike a phone number."""
    if direction == "rtl":
        return Markup('<bdi dir="ltr">{}</bdi>').format(value)
    return escape(value)


#: Characters that could end a CSS string, a rule or the <style> element a value sits in.
_CSS_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f"\'\\{}<>&;\u2028\u2029]')


def css_string(value: str) -> Markup:
    """A value as a quoted CSS string that nothing in it can leave: line breaks, quotes,
    backslashes, braces and ``<`` all become CSS escapes such as ``\\d `` (the space ends one)."""
    escaped = _CSS_UNSAFE.sub(lambda m: f"\\{ord(m[0]):x} ", str(value).replace("\x00", "\ufffd"))
    return Markup(f'"{escaped}"')


class _TagCollector(HTMLParser):
    """Every tag in a piece of HTML with its attribute names (comments are harmless)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, [name for name, _ in attrs]))

    def handle_endtag(self, tag):
        self.tags.append((tag, []))

    def handle_decl(self, decl):
        self.tags.append(("!" + decl.split()[0].lower() if decl.split() else "!", []))

    def handle_pi(self, data):
        self.tags.append(("?", []))


class _URLCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, bool]] = []  # (URL, is it a link's href?)
        self.images: list[tuple[str, str | None]] = []  # (src, alt)

    def handle_starttag(self, tag, attrs):
        self.urls += [(value, tag == "a" and name == "href") for name, value in attrs
                      if name in ("href", "src") and value]
        if tag == "img":
            self.images.append((dict(attrs).get("src") or "", dict(attrs).get("alt")))


def _collected(html: str) -> _URLCollector:
    collector = _URLCollector()
    collector.feed(html)
    return collector


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
