"""The web app: the staff catalogue, personalised printing, the print log and the live preview.

A second face of the same pipeline, as cli.py is the first: every PDF and page image comes
from the render gate, ``pipeline.render_sheet``. Starlette gives routing, requests and
responses and nothing more; the pages are Jinja2 templates of this package (autoescaped, so
whatever anyone types is shown as text).

Patient details arrive only in POST bodies, live only in the request that prints them, and
are never logged, stored or cached: the print log records the sheet, not the patient.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import urllib.parse
from pathlib import Path

import jinja2
from babel import Locale
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..config import CONFIG_FILE, PAPERS, line_of
from ..errors import ConfigError, HandoutsError, InputError
from ..pipeline import PageBudgetError, PERSONAL_LIMITS, PersonalFieldError, UnknownSheet, render_sheet
from ..render import Personal
from . import security
from .printlog import PrintLog, PrintLogError
from .sheets import PREVIEW_SCALE, THUMB_SCALE, Sheets

HERE = Path(__file__).parent
#: A form of five short fields is a few hundred bytes; anything past this is refused unread.
MAX_BODY = 16 * 1024
#: Prints made at once. WeasyPrint holds the GIL, so more only share the same core(s): with
#: two at a time the first of twenty waiting prints is done in a tenth of the time, not last.
PRINTS_AT_ONCE = 2
#: A wrong access code is answered this late (seconds), to slow down guessing.
#: How long a live preview's event stream waits for a change before the browser reconnects.
EVENT_WAIT_SECONDS = 25
PAPER_NAMES = {"letter": "US Letter", "a4": "A4"}
FIELDS = {  # the form's fields: label, hint
    "patient": ("Patient's name", "As the patient likes to be called."),
    "treatment_date": ("Treatment date", "Short, for example: Nov 27"),
    "next_visit": ("Next appointment", "Day, date and time, for example: Thu Dec 10, 9:30 am"),
    "clinician": ("Clinician", "Who the patient can ask for."),
    "note": ("Note for the patient", "A short note, at most 500 characters."),
}


class Problem(Exception):
    """An answer that is not the page asked for: a status, a title and what to do."""

    def __init__(self, status: int, title: str, message: str, detail: str = ""):
        super().__init__(title)
        self.status, self.title, self.message, self.detail = status, title, message, detail


def create_app(root: Path, *, access_code: str | None = None, watch: bool = True,
               hosts=security.LOOPBACK_HOSTS) -> Starlette:
    """The app for the project at ``root``. With an access code, every browser must give it once.
    With ``watch``, a change to any file a sheet is made from refreshes what the app shows."""
    sheets = Sheets(root)
    project = sheets.require_project()
    try:
        log = PrintLog(project.root / project.config.server.print_log)
    except PrintLogError as error:
        config = project.root / CONFIG_FILE
        raise ConfigError(config, f"print_log: {error}",
                          line_of(config.read_text(encoding="utf-8"), "print_log")) from None
    pages = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                               undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    if access_code and (problem := security.code_problem(access_code)):
        raise HandoutsError(problem)
    gate = security.AccessCode(access_code) if access_code else None
    printing = asyncio.Semaphore(PRINTS_AT_ONCE)

    def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        html = pages.get_template(template).render(
            request=request, clinic=sheets.project.config.clinic if sheets.project else None,
            signed_in=gate is not None, **context)
        return HTMLResponse(html, status_code=status)

    def names(request: Request, lang: str) -> tuple[str, str]:
        """The edition and paper asked for (query or form), defaults from handouts.toml."""
        config = sheets.require_project().config
        edition = request.query_params.get("edition") or "standard"
        paper = request.query_params.get("paper") or config.paper
        try:
            sheets.check_names(lang, edition, paper)
        except UnknownSheet:
            raise not_found()
        return edition, paper

    def not_found(message: str = "") -> Problem:
        return Problem(404, "That sheet is not here",
                       "The address names a sheet, language, edition or paper that this clinic "
                       "does not have. Pick the sheet from the list instead.", message)

    def choices(edition: str, paper: str) -> dict:
        config = sheets.require_project().config
        return {"editions": [(name, edition_name(name)) for name in config.editions],
                "papers": [(name, PAPER_NAMES.get(name, name)) for name in PAPERS],
                "edition": edition, "paper": paper}

    # --- staff: catalogue, personalise, print ---------------------------------------------

    async def catalogue(request: Request):
        query = request.query_params.get("q", "").strip()
        cards, errors = await run_in_threadpool(sheets.catalogue)
        config = sheets.project.config
        words = folded(query).split()
        for card in cards:
            card["search"] = search_text(card, config.editions)
            card["hidden"] = not all(word in card["search"] for word in words)
        shown = sum(not card["hidden"] for card in cards)
        return page(request, "catalogue.html", cards=cards, errors=errors, query=query, shown=shown,
                    language_name=language_name, **choices("standard", config.paper))

    async def thumbnail(request: Request):
        lang, slug = request.path_params["lang"], request.path_params["slug"]
        names(request, lang)
        render = await current(lang, slug, "standard", None)
        try:
            png = await run_in_threadpool(sheets.page_png, render, 1, THUMB_SCALE)
        except IndexError:
            raise not_found()
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})

    async def personalise(request: Request):
        lang, slug = request.path_params["lang"], request.path_params["slug"]
        edition, paper = names(request, lang)
        handout = await run_in_threadpool(find_handout, lang, slug)
        return page(request, "personalise.html", handout=handout, fields=FIELDS, limits=PERSONAL_LIMITS,
                    language=language_name(lang), **choices(edition, paper))

    async def reopen_print(request: Request):
        """A print's address opened again (a bookmark, the history, a reload): the PDF was never
        kept, so the form it came from, which prints it again in one click."""
        lang, slug = request.path_params["lang"], request.path_params["slug"]
        query = urllib.parse.urlencode({key: request.query_params[key] for key in ("edition", "paper")
                                        if key in request.query_params})
        target = f"/personalise/{urllib.parse.quote(lang)}/{urllib.parse.quote(slug)}"
        return RedirectResponse(target + (f"?{query}" if query else ""), status_code=303)

    async def print_sheet(request: Request):
        lang, slug = request.path_params["lang"], request.path_params["slug"]
        same_origin(request)
        form = await read_form(request)
        config = sheets.require_project().config
        edition, paper = form.get("edition") or "standard", form.get("paper") or config.paper
        try:
            sheets.check_names(lang, edition, paper)
        except UnknownSheet:
            raise not_found()
        personal = Personal(**{name: clean(form.get(name, ""), name) for name in FIELDS})
        try:
            async with printing:
                sheet = await run_in_threadpool(render_sheet, sheets.require_project(), slug, lang,
                                                edition, paper, personal=personal)
        except UnknownSheet as error:
            raise not_found(error.format_message())
        except PersonalFieldError as error:
            raise Problem(400, "Please check the form", field_message(error), "")
        except PageBudgetError as error:
            if not personal:
                raise cannot_print(error, sheets.root)
            raise Problem(400, "The sheet would not fit on its pages",
                          f"With what you wrote in, this sheet needs {error.pages} pages, more than it "
                          f"may have. Shorten what you typed (the note first, then dates such as "
                          f"'Dec 10, 9:30 am'), or choose large print, which has room for it.")
        except InputError as error:
            raise cannot_print(error, sheets.root)
        handout = sheet.job.handout
        await run_in_threadpool(log.record, handout.slug, handout.lang, edition, paper, handout.version,
                                handout.status, bool(personal))
        filename = f"{handout.slug}-{handout.lang}{'' if edition == 'standard' else '-' + edition}.pdf"
        return Response(sheet.data, media_type="application/pdf", headers={
            "Cache-Control": "no-store", "Pragma": "no-cache",
            "Content-Disposition": f'inline; filename="{filename}"'})

    def find_handout(lang: str, slug: str):
        cards, _ = sheets.catalogue()
        for card in cards:
            for handout in card["versions"]:
                if handout.slug == slug and handout.lang == lang:
                    return handout
        raise not_found()

    # --- the print log --------------------------------------------------------------------

    async def print_log(request: Request):
        counts, recent, total = await run_in_threadpool(lambda: (log.counts(), log.recent(), log.total()))
        return page(request, "log.html", counts=counts, recent=recent, total=total,
                    language_name=language_name, edition_name=edition_name,
                    paper_name=lambda name: PAPER_NAMES.get(name, name))

    async def print_log_csv(request: Request):
        data = await run_in_threadpool(log.csv)
        return Response(data, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="print-log.csv"'})

    # --- designers: the live preview ------------------------------------------------------

    async def current(lang, slug, edition, paper):
        try:
            return await run_in_threadpool(sheets.current, lang, slug, edition, paper)
        except UnknownSheet as error:
            raise not_found(error.format_message())

    def preview_state(request: Request, lang, slug, edition, paper, render, seconds=None) -> dict:
        query = urllib.parse.urlencode({"edition": edition, "paper": paper, "g": render.generation})
        return {"generation": render.generation, "pages": render.pages,
                "error": located(render.error, sheets.root) if render.error else None,
                "warnings": list(render.warnings), "seconds": seconds,
                "images": [f"/preview/{lang}/{slug}/page-{n}.png?{query}" for n in range(1, render.pages + 1)]}

    async def preview(request: Request):
        lang, slug = request.path_params["lang"], request.path_params["slug"]
        edition, paper = names(request, lang)
        started = time.perf_counter()
        render = await current(lang, slug, edition, paper)
        state = preview_state(request, lang, slug, edition, paper, render, time.perf_counter() - started)
        events = f"/preview/{lang}/{slug}/events?" + urllib.parse.urlencode(
            {"edition": edition, "paper": paper, "since": render.generation})
        title = render.sheet.job.handout.title if render.sheet else slug
        return page(request, "preview.html", lang=lang, slug=slug, title=title, state=state, events=events,
                    languages=sheets.project.config.languages, language_name=language_name,
                    **choices(edition, paper))

    async def preview_page(request: Request):
        lang, slug, number = (request.path_params[k] for k in ("lang", "slug", "number"))
        edition, paper = names(request, lang)
        render = await current(lang, slug, edition, paper)
        try:
            png = await run_in_threadpool(sheets.page_png, render, number, PREVIEW_SCALE)
        except IndexError:
            raise not_found(f"The sheet has {render.pages} page{'s' * (render.pages != 1)}"
                            + (f"; it does not print now: {located(render.error, sheets.root)}" if render.error else "."))
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})

    async def preview_events(request: Request):
        """Server-sent events: one event when the sheet's files change, then the stream ends and
        the browser reconnects (with Last-Event-ID, the generation it has)."""
        lang, slug = request.path_params["lang"], request.path_params["slug"]
        edition, paper = names(request, lang)
        since = request.headers.get("last-event-id") or request.query_params.get("since") or ""
        # Only a plain number is a generation: "²" and 5,000 digits are digits that int() refuses.
        since = int(since) if re.fullmatch(r"[0-9]{1,18}", since) else -1

        async def stream():
            yield "retry: 250\n\n"
            generation = await sheets.wait_past(since, EVENT_WAIT_SECONDS)
            if generation <= since:
                yield ": nothing changed\n\n"
                return
            started = time.perf_counter()
            render = await current(lang, slug, edition, paper)
            if render.sheet:  # the images are ready before the page asks for them
                await run_in_threadpool(lambda: [sheets.page_png(render, n, PREVIEW_SCALE)
                                                 for n in range(1, render.pages + 1)])
            state = preview_state(request, lang, slug, edition, paper, render, time.perf_counter() - started)
            yield f"id: {render.generation}\nevent: render\ndata: {json.dumps(state)}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # --- the access code ------------------------------------------------------------------

    async def give_code(request: Request):
        same_origin(request)
        form = await read_form(request)
        outcome = gate.attempt(form.get("code", "")) if gate else "wrong"
        if outcome == "admitted":
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(security.COOKIE, gate.new_session(), max_age=security.COOKIE_DAYS * 86400,
                                httponly=True, samesite="strict")
            return response
        return page(request, "access.html", status=429 if outcome in ("wait", "locked") else 401,
                    outcome=outcome)

    async def problem(request: Request, error: Problem):
        return page(request, "problem.html", status=error.status, problem=error)

    async def http_error(request: Request, error: HTTPException):
        if error.status_code == 404:
            return await problem(request, not_found())
        return page(request, "problem.html", status=error.status_code, problem=Problem(
            error.status_code, "That did not work", str(error.detail)))

    async def config_error(request: Request, error: InputError):
        return page(request, "problem.html", status=500, problem=cannot_print(error, sheets.root))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if watch:
            sheets.start_watching()
        try:
            yield
        finally:
            sheets.stop_watching()

    routes = [
        Route("/", catalogue),
        Route("/thumb/{lang}/{slug}.png", thumbnail),
        Route("/personalise/{lang}/{slug}", personalise),
        Route("/print/{lang}/{slug}", print_sheet, methods=["POST"]),
        Route("/print/{lang}/{slug}", reopen_print, methods=["GET"]),
        Route("/log", print_log),
        Route("/log.csv", print_log_csv),
        Route("/preview/{lang}/{slug}", preview),
        Route("/preview/{lang}/{slug}/page-{number:int}.png", preview_page),
        Route("/preview/{lang}/{slug}/events", preview_events),
        Route("/access", give_code, methods=["POST"]),
        # The web page uses the sheets' own font, from the project.
        Mount("/static/fonts", StaticFiles(directory=project.root / "styles" / "fonts", check_dir=False)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(security.RequestLog), Middleware(security.SecurityHeaders),
                  Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))]
    if gate:
        middleware.append(Middleware(AccessGate, gate=gate, page=page))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={Problem: problem, HTTPException: http_error, InputError: config_error})
    app.state.sheets, app.state.log = sheets, log
    return app


class AccessGate:
    """ASGI middleware: without the signed cookie, only the sign-in page and static files."""

    def __init__(self, app, gate: security.AccessCode, page):
        self.app, self.gate, self.page = app, gate, page

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        path = scope["path"]
        if (self.gate.admits(request.cookies.get(security.COOKIE)) or path.startswith(security.STATIC_PREFIX)
                or (path == "/access" and scope["method"] == "POST")):
            return await self.app(scope, receive, send)
        response = self.page(request, "access.html", status=401, outcome=None)
        await response(scope, receive, send)


# --- helpers ------------------------------------------------------------------------------

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
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_large()
    try:
        pairs = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True, max_num_fields=32,
                                       encoding="utf-8", errors="strict")
    except ValueError:  # not ASCII, not UTF-8 once decoded, or too many fields
        raise Problem(400, "Please check the form", "The form could not be read: expected UTF-8 text.")
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def too_large() -> Problem:
    return Problem(413, "Too much text", f"The form may hold at most {MAX_BODY // 1024} KiB. Shorten "
                                         f"the note: it may have at most {PERSONAL_LIMITS['note']} characters.")


def clean(value: str, name: str) -> str:
    """What a browser sends, as the sheet should print it: a textarea's line breaks are CR LF."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value if name == "note" else value.replace("\n", " ")


def field_message(error: PersonalFieldError) -> str:
    """The gate's message names the field by its key; say it with the form's label."""
    key, _, rest = error.format_message().partition(": ")
    label = FIELDS.get(key, (key,))[0]
    return f"{label}: {rest.replace('expected', 'use', 1)}."


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


def same_origin(request: Request) -> None:
    """Refuse a form posted from another site's page (a browser says where it came from); a
    sandboxed frame on any page says ``null``, and is refused too."""
    origin = request.headers.get("origin")
    if origin and (origin == "null" or urllib.parse.urlsplit(origin).netloc != request.headers.get("host")):
        raise Problem(403, "Please use this app's own page", "The form came from another web site.")


def search_text(card: dict, editions) -> str:
    """What the catalogue's search looks in: the slug, titles and summaries, the language names
    in English and in their own language, and the print sizes, without case or accents (so that
    "despues", "español" and "large print" all find their sheets)."""
    parts = [card["slug"], *(f"{h.title} {h.summary} {h.lang} {language_name(h.lang)}"
                             for h in card["versions"])]
    parts += [f"{edition} {edition_name(edition)}" for edition in editions]
    return folded(" ".join(parts))


def folded(text: str) -> str:
    """Lower case, without accents: how the search compares words (app.js does the same)."""
    import unicodedata

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
