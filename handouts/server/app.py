"""The web app: the staff catalogue, personalised printing, the print log and the live preview.

A second face of the same pipeline, as cli.py is the first: every PDF and page image comes
from the render gate, ``pipeline.render_sheet`` (or is the PDF the build made with it).
Starlette gives routing, requests and responses and nothing more; the pages are Jinja2
templates of this package (autoescaped, so whatever anyone types is shown as text). The
endpoints live in modules by what they serve (printing, logpage, preview, access) and share
the app's state through ``app.state``.

Patient details arrive only in POST bodies, live only in the request that prints them, and
are never logged, stored or cached: the print log records the sheet, not the patient.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import workers
from ..config import CONFIG_FILE, line_of
from ..errors import ConfigError, HandoutsError, InputError
from . import access, logpage, preview, printing, security
from .printer import Printer
from .printlog import PrintLog, PrintLogError
from .sheets import Sheets
from .web import Problem, cannot_print, not_found, page

HERE = Path(__file__).parent
#: Personalised prints made at once: one per core, each in a bounded worker of the render gate.
#: The workers keep one more, so a plain sheet that must be rendered anew never waits for them.
PERSONAL_PRINTS_AT_ONCE = os.cpu_count() or 1

ROUTES = [
    Route("/", printing.catalogue),
    Route("/thumb/{lang}/{slug}.png", printing.thumbnail),
    Route("/personalise/{lang}/{slug}", printing.personalise),
    Route("/print/{lang}/{slug}", printing.print_sheet, methods=["POST"]),
    Route("/print/{lang}/{slug}", printing.reopen_print, methods=["GET"]),
    Route("/send/{lang}/{slug}", printing.send_to_printer, methods=["POST"]),
    Route("/log", logpage.print_log),
    Route("/log.csv", logpage.print_log_csv),
    Route("/preview/{lang}/{slug}", preview.preview),
    Route("/preview/{lang}/{slug}/page-{number:int}.png", preview.preview_page),
    Route("/preview/{lang}/{slug}/events", preview.preview_events),
    Route("/access", access.give_code, methods=["POST"]),
]


def create_app(root: Path, *, access_code: str | None = None, watch: bool = True,
               hosts=security.LOOPBACK_HOSTS) -> Starlette:
    """The app for the project at ``root``. With an access code, every browser must give it once.
    With ``watch``, a change to any file a sheet is made from refreshes what the app shows."""
    sheets = Sheets(root)
    project = sheets.require_project()
    if access_code and (problem := security.code_problem(access_code)):
        raise HandoutsError(problem)
    gate = security.AccessCode(access_code) if access_code else None

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if watch:
            sheets.start_watching()
            threading.Thread(target=sheets.warm, name="handouts-warm", daemon=True).start()
        try:
            yield
        finally:
            sheets.stop_watching()

    middleware = [Middleware(security.RequestLog), Middleware(security.SecurityHeaders),
                  Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)),
                  Middleware(security.SameOrigin, refuse=refuse_other_site)]
    if gate:
        middleware.append(Middleware(access.AccessGate, gate=gate))
    routes = ROUTES + [
        # The web page uses the sheets' own font, from the project.
        Mount("/static/fonts", StaticFiles(directory=project.root / "styles" / "fonts", check_dir=False)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers={
        Problem: show_problem, HTTPException: http_error, InputError: config_error})
    workers.reserve(PERSONAL_PRINTS_AT_ONCE + 1, project.config.print_megabytes)
    app.state.sheets, app.state.log, app.state.gate = sheets, open_log(project), gate
    app.state.pages = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                         undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    app.state.personal_prints = asyncio.Semaphore(PERSONAL_PRINTS_AT_ONCE)
    app.state.printer = Printer(project.config.server.printer) if project.config.server.printer else None
    return app


def open_log(project) -> PrintLog:
    """The print log where handouts.toml says; a file that cannot be one is a ConfigError there."""
    try:
        return PrintLog(project.root / project.config.server.print_log)
    except PrintLogError as error:
        config = project.root / CONFIG_FILE
        raise ConfigError(config, f"print_log: {error}",
                          line_of(config.read_text(encoding="utf-8"), "print_log")) from None


async def show_problem(request: Request, error: Problem):
    return page(request, "problem.html", status=error.status, problem=error)


async def http_error(request: Request, error: HTTPException):
    if error.status_code == 404:
        return await show_problem(request, not_found())
    return page(request, "problem.html", status=error.status_code, problem=Problem(
        error.status_code, "That did not work", str(error.detail)))


async def config_error(request: Request, error: InputError):
    return page(request, "problem.html", status=500, problem=cannot_print(error, request.app.state.sheets.root))


async def refuse_other_site(scope, receive, send):
    response = page(Request(scope, receive), "problem.html", status=403, problem=Problem(
        403, "Please use this app's own page", "The form came from another web site, so it was not used."))
    await response(scope, receive, send)
