"""The access code: the sign-in page, and the gate that lets only signed-in browsers further.

Served beyond this computer, the app answers nothing but its sign-in page until a browser
shows the random session token it got for the code (security.AccessCode keeps the tokens, the
rate limit and the lockout).
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse

from . import security
from .web import page, read_form


async def give_code(request: Request):
    gate = request.app.state.gate
    form = await read_form(request)
    outcome = gate.attempt(form.get("code", "")) if gate else "wrong"
    if outcome == "admitted":
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(security.COOKIE, gate.new_session(), max_age=security.COOKIE_DAYS * 86400,
                            httponly=True, samesite="strict")
        return response
    return page(request, "access.html", status=429 if outcome in ("wait", "locked") else 401,
                outcome=outcome)


class AccessGate:
    """ASGI middleware: without the session cookie, only the sign-in page and static files."""

    def __init__(self, app, gate: security.AccessCode):
        self.app, self.gate = app, gate

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        path = scope["path"]
        if (self.gate.admits(request.cookies.get(security.COOKIE)) or path.startswith(security.STATIC_PREFIX)
                or (path == "/access" and scope["method"] == "POST")):
            return await self.app(scope, receive, send)
        response = page(request, "access.html", status=401, outcome=None)
        await response(scope, receive, send)
