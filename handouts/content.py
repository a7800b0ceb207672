"""content/<lang>/<slug>.md -> Handout: front matter checked against its schema, Markdown body.

Parse errors are never swallowed. Each names ``path:line`` and says what was expected and what
was found, and loading goes on through every file so that one run reports all of them.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from . import sandbox
from .markdown_extensions import without_icons
from .errors import ContentError, unknown_name

DEFAULT_MAX_PAGES = 2
STATUSES = ("approved", "draft")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
VERSION = re.compile(r"^\d+(\.\d+)*$")
#: A patient sheet is a few kilobytes; anything near this is a mistake (and would print for minutes).
MAX_CONTENT_BYTES = 128 * 1024
#: Front matter is flat ``key: value`` lines; nothing in it needs to nest deeper than this.
MAX_YAML_DEPTH = 4
#: Lists and quotes nest at most this deep: three levels are plenty on paper, and Markdown's
#: parser slows down badly on thousands.
MAX_NESTING = 6
#: The longest a front matter text may be: a title is one line of the running header and the
#: footer (and WeasyPrint takes minutes to fit a title of thousands of letters).
MAX_LENGTHS = {"title": 120, "summary": 300, "reviewed_by": 100, "version": 20, "short_title": 60,
               "main_message": 200}
#: Characters that print as nothing or garble a line: C0 and C1 controls except tab and newline.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Handout:
    """One handout in one language, as its author wrote it."""

    slug: str
    lang: str
    path: Path
    title: str
    version: str
    updated: date
    status: str
    body: str
    body_line: int  # line of the file on which the Markdown body starts
    summary: str = ""
    main_message: str = ""  # what the patient must do or know, at the top of page 1
    short_title: str = ""  # the running header's and footer's name of a sheet with a long title
    reviewed_by: str = ""
    review_due: date | None = None
    max_pages: int = DEFAULT_MAX_PAGES
    max_pages_large: int | None = None  # large print's budget; max_pages x 2 when not given
    max_pages_bilingual: int | None = None  # the bilingual edition's; both sheets' max_pages and 1 when not given
    key_lines: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def running_title(self) -> str:
        """The name the running header and footer print: one line, even in large print."""
        return self.short_title or self.title

    def line_of(self, needle: str) -> int | None:
        """The file's line number of the first body line holding ``needle``, if any."""
        for offset, line in enumerate(self.body.split("\n")):
            if needle in line:
                return self.body_line + offset
        return None


@dataclass(frozen=True)
class Field:
    kind: type
    required: bool = False
    description: str = ""


FIELDS = {
    "title": Field(str, True, "text"),
    "version": Field(str, True, "a version such as 1.0"),
    "updated": Field(date, True, "a date as YYYY-MM-DD"),
    "status": Field(str, True, "approved or draft"),
    "summary": Field(str, False, "one sentence of text"),
    "main_message": Field(str, False, "one or two short sentences: what the patient must do or know"),
    "short_title": Field(str, False, "a short name for the running header and footer"),
    "reviewed_by": Field(str, False, "a name"),
    "review_due": Field(date, False, "a date as YYYY-MM-DD"),
    "max_pages": Field(int, False, "a whole number of pages, 1 or more"),
    "max_pages_large": Field(int, False, "a whole number of pages, 1 or more"),
    "max_pages_bilingual": Field(int, False, "a whole number of pages, 1 or more"),
}


def reviewer_of(lang: str, source_language: str) -> str:
    """Who must review a sheet before a patient may have it."""
    return "a clinician" if lang == source_language else "a qualified medical translator"


def load_all(content_dir: Path, languages: tuple[str, ...]) -> tuple[list[Handout], list[ContentError]]:
    """Every handout of every language, and every error found on the way."""
    handouts, errors = [], []
    for lang in languages:
        for path in sorted((content_dir / lang).glob("*.md")):
            try:
                handouts.append(load_handout(path, lang))
            except ContentError as error:
                errors.append(error)
            except Exception as error:  # whatever the file holds, the other sheets still load
                errors.append(ContentError(path, f"could not be read: {error.__class__.__name__}"))
    return handouts, errors


def load_handout(path: Path, lang: str) -> Handout:
    slug = path.stem
    if not SLUG.match(slug):
        raise ContentError(path, f"expected a file name of lowercase letters, digits and hyphens, "
                                 f"found {sandbox.excerpt(path.name, 40)!r}")
    text = _read_text(path)
    front, front_line, body, body_line = _split_front_matter(path, text)
    meta, key_lines = _parse_front_matter(path, front, front_line)
    _check_nesting(path, body, body_line)
    return Handout(slug=slug, lang=lang, path=path, body=body, body_line=body_line,
                   key_lines=key_lines, **meta)


def project_root(path: Path) -> Path:
    """The project a content file belongs to: content/<lang>/<slug>.md lies three levels down."""
    return Path(path).absolute().parent.parent.parent


def _read_text(path: Path) -> str:
    try:
        data = sandbox.read_file(project_root(path), path, MAX_CONTENT_BYTES)
    except sandbox.UnreadableFile as problem:
        raise ContentError(path, str(problem)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ContentError(path, f"expected UTF-8 text, found byte {data[error.start]:#04x} "
                                 f"(save the file as UTF-8)", line)
    text = text.replace("\r\n", "\n")
    if found := CONTROL.search(text):
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - text.rfind("\n", 0, found.start())
        raise ContentError(path, f"expected text, found the control character {_char_name(found[0])} "
                                 f"at column {column} (delete it; it does not print)", line)
    return text


def _char_name(char: str) -> str:
    """'U+0007 (BEL)': control characters have no Unicode name, so their usual abbreviation."""
    names = {0: "NUL", 7: "BEL", 8: "BS", 0x0B: "VT", 0x0C: "FF", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL"}
    name = names.get(ord(char)) or unicodedata.name(char, "a control character")
    return f"U+{ord(char):04X} ({name})"


def _check_nesting(path: Path, body: str, body_line: int) -> None:
    """Refuse lists and quotes nested deeper than MAX_NESTING, at the first line that is."""
    for offset, line in enumerate(body.split("\n")):
        quotes = re.match(r"(\s*>)*", line)[0].count(">")
        rest = line[len(re.match(r"(\s*>)*", line)[0]):]
        indent = len(rest.expandtabs(4)) - len(rest.expandtabs(4).lstrip(" "))
        # A list item's marker sits two to four columns deeper per level: count the deepest reading.
        lists = indent // 2 + 1 if re.match(r"\s*([-*+]|\d{1,9}[.)])(\s|$)", rest) else 0
        if quotes > MAX_NESTING or lists > MAX_NESTING:
            what = "quote" if quotes > MAX_NESTING else "list"
            raise ContentError(path, f"a {what} nested too deep; expected at most {MAX_NESTING} "
                                     f"levels (a printed sheet needs three at most)", body_line + offset)


def _split_front_matter(path: Path, text: str) -> tuple[str, int, str, int]:
    """(front matter, its first line, body, its first line)."""
    if not text.strip():
        raise ContentError(path, "expected front matter between '---' lines, found an empty file", 1)
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise ContentError(path, f"expected front matter starting with '---' on line 1, "
                                 f"found {lines[0][:40]!r}", 1)
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() == "---":
            front = "\n".join(lines[1:number - 1])
            return front, 2, "\n".join(lines[number:]), number + 1
    raise ContentError(path, "expected a closing '---' after the front matter, found the end of the file", 1)


class _Refused(yaml.MarkedYAMLError):
    """YAML that front matter never needs: anchors, aliases, deep nesting."""


class _FrontMatterLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases (no alias bombs) and deep nesting (no
    RecursionError) while it builds the node tree, before anything is constructed."""

    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(problem="expected plain values, found a YAML anchor or alias (& or *); "
                                   "front matter needs none, so write each value out", problem_mark=event.start_mark)
        if self.depth >= MAX_YAML_DEPTH:
            raise _Refused(problem=f"expected 'key: value' lines, found values nested more than "
                                   f"{MAX_YAML_DEPTH} deep", problem_mark=event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _parse_front_matter(path: Path, front: str, first_line: int) -> tuple[dict, dict]:
    """Check the YAML against FIELDS; return the values and each key's line, for messages."""
    offset = first_line - 1
    try:
        loader = _FrontMatterLoader(front)  # reads every character before it parses anything
    except yaml.reader.ReaderError as error:
        raise ContentError(path, f"expected text YAML can read, found the character "
                                 f"U+{error.character:04X} (delete it)",
                           first_line + front.count("\n", 0, error.position)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ContentError(path, "expected front matter keys (title, version, updated, status), "
                                     "found nothing", first_line - 1)
        if not isinstance(node, yaml.MappingNode):
            raise ContentError(path, f"expected 'key: value' lines, found {_describe_node(node)}",
                               offset + node.start_mark.line + 1)
        meta, lines = {}, {}
        for key_node, value_node in node.value:
            line = offset + key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ContentError(path, f"expected a key name, found {_describe_node(key_node)}", line)
            key = key_node.value
            if key not in FIELDS:
                raise ContentError(path, unknown_name("key", key, FIELDS), line)
            if key in meta:
                raise ContentError(path, f"{key!r} is given twice (first on line {lines[key]})", line)
            meta[key] = _field_value(path, key, loader, value_node, line)
            lines[key] = line
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "invalid YAML"
        if problem == "mapping values are not allowed here":
            problem += " (text that holds ': ' needs quotes around it)"
        context = f" {error.context}" if error.context else ""
        kind = "" if isinstance(error, _Refused) else "YAML syntax error: "
        raise ContentError(path, f"{kind}{problem}{context}",
                           offset + mark.line + 1 if mark else first_line)
    finally:
        loader.dispose()
    missing = [key for key, field in FIELDS.items() if field.required and key not in meta]
    if missing:
        raise ContentError(path, f"front matter is missing required key{'s' * (len(missing) > 1)} "
                                 f"{', '.join(missing)}", first_line - 1)
    return meta, lines


def _field_value(path: Path, key: str, loader: yaml.SafeLoader, node: yaml.Node, line: int):
    field = FIELDS[key]
    if not isinstance(node, yaml.ScalarNode):
        raise ContentError(path, f"{key}: expected {field.description}, found {_describe_node(node)}", line)
    if key == "version":
        value = node.value  # the text as written: 1.10 must not become 1.1
    else:
        try:
            value = loader.construct_object(node)  # a scalar: nothing deeper to build
        except ValueError as error:  # 2026-02-30 looks like a date and is none
            raise ContentError(path, f"{key}: expected a real date as YYYY-MM-DD, found "
                                     f"{sandbox.excerpt(node.value, 40)!r} ({error})", line) from None
    valid = (type(value) is field.kind and value != ""
             and (key != "version" or VERSION.match(value))
             and (key != "status" or value in STATUSES)
             and (not key.startswith("max_pages") or value >= 1))
    if not valid:
        raise ContentError(path, f"{key}: expected {field.description}, found {_describe(value)}", line)
    # The main message is measured as it reads: its icons' syntax does not count.
    length = len(without_icons(value) if key == "main_message" else value) if isinstance(value, str) else 0
    if length > MAX_LENGTHS.get(key, length):
        raise ContentError(path, f"{key}: expected at most {MAX_LENGTHS[key]} characters, found "
                                 f"{length}", line)
    return value


def _describe(value) -> str:
    """A scalar's value in words (a list or mapping never gets this far: see _describe_node)."""
    if value is None or value == "":
        return "nothing"
    return repr(value) if isinstance(value, str) else f"{value} ({type(value).__name__})"


def _describe_node(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return f"the text {node.value[:40]!r}"
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"

