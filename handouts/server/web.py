"""What every page of the web app shares: its templates, the answer that is not the page asked
for (Problem), the names staff read for languages, print sizes and papers, and reading a form.

The app's state lives on ``request.app.state`` (see app.create_app): the project's sheets, the
print log, the page templates, the access gate and the printer.
"""
from __future__ import annotations

import asyncio
import unicodedata
import urllib.parse
from pathlib import Path

from babel import Locale
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..config import PAPERS
from ..errors import InputError
from ..pipeline import PERSONAL_LIMITS, UnknownSheet

#: A form of five short fields is a few hundred bytes; anything past this is refused unread.
MAX_BODY = 16 * 1024
#: Seconds a client has to send a form's body once its head is in (a browser needs milliseconds).
BODY_SECONDS = 10
PAPER_NAMES = {"letter": "US Letter", "a4": "A4"}


class Problem(Exception):
    """An answer that is not the page asked for: a status, a title and what to do."""

    def __init__(self, status: int, title: str, message: str, detail: str = ""):
        super().__init__(title)
        self.status, self.title, self.message, self.detail = status, title, message, detail


def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    """One of the app's pages (templates/), autoescaped: whatever anyone typed shows as text."""
    state = request.app.state
    project = state.sheets.project
    html = state.pages.get_template(template).render(
        request=request, clinic=project.config.clinic if project else None,
        signed_in=state.gate is not None, language_name=language_name, edition_name=edition_name,
        paper_name=paper_name, **context)
    return HTMLResponse(html, status_code=status)


def not_found(message: str = "") -> Problem:
    return Problem(404, "That sheet is not here",
                   "The address names a sheet, language, edition or paper that this clinic "
                   "does not have. Pick the sheet from the list instead.", message)


def cannot_print(error: InputError, root: Path | None = None) -> Problem:
    return Problem(500, "This sheet cannot be printed right now",
                   "Something in the sheet's files is wrong. Print the copy from the folder of "
                   "printed sheets instead, and tell whoever looks after the handouts:", located(error, root))


def located(error: InputError, root: Path | None = None) -> str:
    """``path:line: message`` with the path as the project names it (content/en/x.md)."""
    path = error.path
    for base in filter(None, (root, Path.cwd())):
        try:
            path = error.path.resolve().relative_to(Path(base).resolve())
            break
        except ValueError:
            continue
    return f"{path.as_posix()}{f':{error.line}' if error.line else ''}: {error.detail}"


def sheet_names(request: Request, lang: str, values=None) -> tuple[str, str]:
    """The edition and paper asked for (query, or ``values`` of a form), checked against the
    project; defaults from handouts.toml. A name the project lacks is a 404."""
    sheets = request.app.state.sheets
    values = request.query_params if values is None else values
    edition = values.get("edition") or "standard"
    paper = values.get("paper") or sheets.require_project().config.paper
    try:
        sheets.check_names(lang, edition, paper)
    except UnknownSheet:
        raise not_found() from None
    return edition, paper


def choices(request: Request, edition: str, paper: str) -> dict:
    """The print sizes and papers to choose from, and the chosen ones."""
    config = request.app.state.sheets.require_project().config
    return {"editions": [(name, edition_name(name)) for name in config.editions],
            "papers": [(name, paper_name(name)) for name in PAPERS],
            "edition": edition, "paper": paper}


async def read_form(request: Request) -> dict[str, str]:
    """A URL-encoded form body, refused past MAX_BODY bytes before it is read to the end."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind and request.headers.get("content-length", "0") == "0":
        return {}  # a bare POST: a plain sheet
    if kind != "application/x-www-form-urlencoded":
        raise Problem(415, "Please send the form from the web page",
                      "Expected the form's fields as application/x-www-form-urlencoded.")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise too_large()
    try:
        async with asyncio.timeout(BODY_SECONDS):  # a body sent a byte a minute holds nothing up
            body = await read_body(request)
    except TimeoutError:
        raise Problem(408, "The form took too long to arrive",
                      f"Nothing came for {BODY_SECONDS} seconds. Send the form again.") from None
    try:
        pairs = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True, max_num_fields=32,
                                       encoding="utf-8", errors="strict")
    except ValueError:  # not ASCII, not UTF-8 once decoded, or too many fields
        raise Problem(400, "Please check the form", "The form could not be read: expected UTF-8 text.")
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


async def read_body(request: Request) -> bytearray:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_large()
    return body


def too_large() -> Problem:
    return Problem(413, "Too much text", f"The form may hold at most {MAX_BODY // 1024} KiB. Shorten "
                                         f"the note: it may have at most {PERSONAL_LIMITS['note']} characters.")


def folded(text: str) -> str:
    """Lower case, without accents: how the search compares words (app.js does the same)."""
    return "".join(char for char in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(char))


def language_name(lang: str) -> str:
    """'English', 'Spanish (español)': in English, with the language's own name."""
    try:
        locale = Locale.parse(lang, sep="-")
    except (ValueError, LookupError):
        return lang
    english, native = locale.get_display_name("en"), locale.get_display_name(locale)
    return english.capitalize() if english.casefold() == native.casefold() else f"{english.capitalize()} ({native})"


def edition_name(edition: str) -> str:
    return {"standard": "Standard", "large-print": "Large print"}.get(edition, edition.replace("-", " ").capitalize())


def paper_name(paper: str) -> str:
    return PAPER_NAMES.get(paper, paper)
