"""The front desk's pages: the catalogue of sheets, the personalise form, printing and sending
a sheet to the clinic's printer.

A plain print is the PDF the build made (sheets.Sheets.plain): it answers at once, whatever
else is printing. A personalised print runs in the render gate's bounded workers, at most one
per core at a time; its PDF is sent to the browser (or the printer) and forgotten. The print
log records the sheet, never the patient.
"""
from __future__ import annotations

import asyncio
import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import dates
from ..errors import InputError
from ..pipeline import PERSONAL_LIMITS, PageBudgetError, PersonalFieldError, UnknownSheet, render_sheet
from . import form as personal_form
from .sheets import THUMB_SCALE
from .web import (Problem, cannot_print, choices, edition_name, folded, language_name, located, not_found,
                  page, read_form, sheet_names)


async def catalogue(request: Request):
    """Every sheet with its languages, each either ready to print or with why it cannot."""
    sheets = request.app.state.sheets
    query = request.query_params.get("q", "").strip()
    cards, errors = await run_in_threadpool(sheets.catalogue)
    config = sheets.project.config
    problems = await print_problems(request, cards)
    words = folded(query).split()
    for card in cards:
        card["search"] = search_text(card, config.editions)
        card["hidden"] = not all(word in card["search"] for word in words)
    shown = sum(not card["hidden"] for card in cards)
    return page(request, "catalogue.html", cards=cards, errors=errors, query=query, shown=shown,
                problems=problems, printer=request.app.state.printer,
                **choices(request, "standard", config.paper))


async def print_problems(request: Request, cards: list[dict]) -> dict[tuple[str, str], str]:
    """(lang, slug) -> why that sheet cannot print, for every sheet in the catalogue that cannot.
    Each is printed once per change of the project (or read from dist/), all at once."""
    sheets = request.app.state.sheets
    handouts = [handout for card in cards for handout in card["versions"]]
    renders = await asyncio.gather(*(run_in_threadpool(sheets.plain, handout.lang, handout.slug)
                                     for handout in handouts))
    return {(handout.lang, handout.slug): located(render.error, sheets.root)
            for handout, render in zip(handouts, renders) if render.error}


async def thumbnail(request: Request):
    lang, slug = request.path_params["lang"], request.path_params["slug"]
    sheets = request.app.state.sheets
    sheet_names(request, lang)
    render = await plain(request, lang, slug, "standard", None)
    try:
        png = await run_in_threadpool(sheets.page_png, render, 1, THUMB_SCALE)
    except IndexError:
        raise not_found() from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})


async def personalise(request: Request):
    lang, slug = request.path_params["lang"], request.path_params["slug"]
    edition, paper = sheet_names(request, lang)
    return await form_page(request, lang, slug, edition, paper, personal_form.Filled({}))


async def form_page(request: Request, lang: str, slug: str, edition: str, paper: str,
                    filled: personal_form.Filled, status: int = 200):
    """The personalise form, empty or as posted with a message at each refused field."""
    handout = await run_in_threadpool(find_handout, request, lang, slug)
    zone = time_zone(request)
    first_error = next((name for name in personal_form.FIELDS if name in filled.errors), None)
    return page(request, "personalise.html", status=status, handout=handout, fields=personal_form.FIELDS,
                limits=PERSONAL_LIMITS, filled=filled, first_error=first_error,
                whole_form=filled.errors.get(personal_form.WHOLE_FORM),
                earliest_visit=personal_form.earliest_visit(zone), time_zone=zone.key,
                printer=request.app.state.printer, language=language_name(lang),
                **choices(request, edition, paper))


async def reopen_print(request: Request):
    """A print's address opened again (a bookmark, the history, a reload): the PDF was never
    kept, so the form it came from, which prints it again in one click."""
    lang, slug = request.path_params["lang"], request.path_params["slug"]
    query = urllib.parse.urlencode({key: request.query_params[key] for key in ("edition", "paper")
                                    if key in request.query_params})
    target = f"/personalise/{urllib.parse.quote(lang)}/{urllib.parse.quote(slug)}"
    return RedirectResponse(target + (f"?{query}" if query else ""), status_code=303)


async def print_sheet(request: Request):
    """The sheet's PDF, in the same tab; a refused form comes back with its values (400)."""
    made = await make_sheet(request)
    if isinstance(made, Response):
        return made
    handout, edition, _paper, data = made
    filename = f"{handout.slug}-{handout.lang}{'' if edition == 'standard' else '-' + edition}.pdf"
    return Response(data, media_type="application/pdf", headers={
        "Cache-Control": "no-store", "Pragma": "no-cache",
        "Content-Disposition": f'inline; filename="{filename}"'})


async def send_to_printer(request: Request):
    """The sheet sent to the clinic's printer (handouts.toml [server] printer) at 100%."""
    printer = request.app.state.printer
    if printer is None:
        raise not_found()
    made = await make_sheet(request)
    if isinstance(made, Response):
        return made
    handout, _edition, paper, data = made
    try:
        job = await run_in_threadpool(printer.send, data, f"{handout.slug}-{handout.lang}", paper)
    except OSError as error:
        raise Problem(502, "The printer did not take the sheet",
                      f"Print it from the browser instead, and tell whoever looks after the printer "
                      f"{printer.name!r}:", str(error)) from None
    return page(request, "sent.html", handout=handout, printer=printer.name, job=job)


async def make_sheet(request: Request):
    """(handout, edition, paper, PDF bytes) of the posted form, logged; or the form again, refused."""
    lang, slug = request.path_params["lang"], request.path_params["slug"]
    values = await read_form(request)
    edition, paper = sheet_names(request, lang, values)
    filled = personal_form.read_personal(values, lang, time_zone(request))
    if filled.errors:
        return await form_page(request, lang, slug, edition, paper, filled, status=400)
    if not filled.personal:
        render = await plain(request, lang, slug, edition, paper)
        if render.error:
            raise cannot_print(render.error, request.app.state.sheets.root)
        sheet = render.sheet
    else:
        try:
            sheet = await personal_print(request, lang, slug, edition, paper, filled.personal)
        except (PersonalFieldError, PageBudgetError) as error:
            personal_form.gate_refusal(filled, error)
            return await form_page(request, lang, slug, edition, paper, filled, status=400)
    handout = sheet.job.handout
    await run_in_threadpool(request.app.state.log.record, handout.slug, handout.lang, edition, paper,
                            handout.version, handout.status, bool(filled.personal))
    return handout, edition, paper, sheet.data


async def personal_print(request: Request, lang, slug, edition, paper, personal):
    """A personalised sheet from the render gate's workers, one per core at a time."""
    sheets = request.app.state.sheets
    try:
        async with request.app.state.personal_prints:
            return await run_in_threadpool(render_sheet, sheets.require_project(), slug, lang, edition,
                                           paper, personal=personal)
    except UnknownSheet as error:
        raise not_found(error.format_message()) from None
    except PageBudgetError:
        raise
    except InputError as error:
        raise cannot_print(error, sheets.root) from None


async def plain(request: Request, lang, slug, edition, paper):
    try:
        return await run_in_threadpool(request.app.state.sheets.plain, lang, slug, edition, paper)
    except UnknownSheet as error:
        raise not_found(error.format_message()) from None


def find_handout(request: Request, lang: str, slug: str):
    cards, _ = request.app.state.sheets.catalogue()
    for card in cards:
        for handout in card["versions"]:
            if handout.slug == slug and handout.lang == lang:
                return handout
    raise not_found()


def time_zone(request: Request):
    return dates.zone(request.app.state.sheets.require_project().config.clinic.time_zone)


def search_text(card: dict, editions) -> str:
    """What the catalogue's search looks in: the slug, titles and summaries, the language names
    in English and in their own language, and the print sizes, without case or accents (so that
    "despues", "español" and "large print" all find their sheets)."""
    parts = [card["slug"], *(f"{h.title} {h.summary} {h.lang} {language_name(h.lang)}"
                             for h in card["versions"])]
    parts += [f"{edition} {edition_name(edition)}" for edition in editions]
    return folded(" ".join(parts))
