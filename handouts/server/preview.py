"""The designers' live preview: a sheet's pages as images, and an event when its files change.

The page long-polls with server-sent events: one event when a file a sheet is made from
changes (sheets.Sheets counts these changes as generations), then the stream ends and the
browser reconnects with the generation it has. A sheet that does not print shows its error,
at its file and line, where the pages would be.
"""
from __future__ import annotations

import json
import re
import time
import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..pipeline import UnknownSheet
from .sheets import PREVIEW_SCALE
from .web import choices, located, not_found, page, sheet_names

#: How long a live preview's event stream waits for a change before the browser reconnects.
EVENT_WAIT_SECONDS = 25


async def preview(request: Request):
    lang, slug = request.path_params["lang"], request.path_params["slug"]
    edition, paper = sheet_names(request, lang)
    started = time.perf_counter()
    render = await current(request, lang, slug, edition, paper)
    state = preview_state(request, lang, slug, edition, paper, render, time.perf_counter() - started)
    events = f"/preview/{lang}/{slug}/events?" + urllib.parse.urlencode(
        {"edition": edition, "paper": paper, "since": render.generation})
    title = render.sheet.job.handout.title if render.sheet else slug
    return page(request, "preview.html", lang=lang, slug=slug, title=title, state=state, events=events,
                languages=request.app.state.sheets.project.config.languages,
                **choices(request, edition, paper))


async def preview_page(request: Request):
    lang, slug, number = (request.path_params[k] for k in ("lang", "slug", "number"))
    edition, paper = sheet_names(request, lang)
    sheets = request.app.state.sheets
    render = await current(request, lang, slug, edition, paper)
    try:
        png = await run_in_threadpool(sheets.page_png, render, number, PREVIEW_SCALE)
    except IndexError:
        raise not_found(f"The sheet has {render.pages} page{'s' * (render.pages != 1)}"
                        + (f"; it does not print now: {located(render.error, sheets.root)}"
                           if render.error else ".")) from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})


async def preview_events(request: Request):
    """Server-sent events: one event when the sheet's files change, then the stream ends and
    the browser reconnects (with Last-Event-ID, the generation it has)."""
    lang, slug = request.path_params["lang"], request.path_params["slug"]
    edition, paper = sheet_names(request, lang)
    since = request.headers.get("last-event-id") or request.query_params.get("since") or ""
    # Only a plain number is a generation: "²" and 5,000 digits are digits that int() refuses.
    since = int(since) if re.fullmatch(r"[0-9]{1,18}", since) else -1
    sheets = request.app.state.sheets

    async def stream():
        yield "retry: 250\n\n"
        generation = await sheets.wait_past(since, EVENT_WAIT_SECONDS)
        if generation <= since:
            yield ": nothing changed\n\n"
            return
        started = time.perf_counter()
        render = await current(request, lang, slug, edition, paper)
        if render.sheet:  # the images are ready before the page asks for them
            await run_in_threadpool(lambda: [sheets.page_png(render, n, PREVIEW_SCALE)
                                             for n in range(1, render.pages + 1)])
        state = preview_state(request, lang, slug, edition, paper, render, time.perf_counter() - started)
        yield f"id: {render.generation}\nevent: render\ndata: {json.dumps(state)}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def current(request: Request, lang, slug, edition, paper):
    try:
        return await run_in_threadpool(request.app.state.sheets.current, lang, slug, edition, paper)
    except UnknownSheet as error:
        raise not_found(error.format_message()) from None


def preview_state(request: Request, lang, slug, edition, paper, render, seconds=None) -> dict:
    query = urllib.parse.urlencode({"edition": edition, "paper": paper, "g": render.generation})
    root = request.app.state.sheets.root
    return {"generation": render.generation, "pages": render.pages,
            "error": located(render.error, root) if render.error else None,
            "warnings": list(render.warnings), "seconds": seconds,
            "images": [f"/preview/{lang}/{slug}/page-{n}.png?{query}" for n in range(1, render.pages + 1)]}
