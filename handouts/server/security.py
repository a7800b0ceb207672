"""What every response carries, who may ask, and what the request log may say.

- Security headers on every response: a Content-Security-Policy that allows only the app's
  own scripts, styles and images (no inline script at all), no framing, no MIME sniffing, no
  referrer, and ``Cache-Control: no-store`` on everything but the app's static files.
- The access code: served beyond this computer, the app answers nothing but its sign-in page
  until the browser shows the random session token it got for the code (see AccessCode). A
  wrong or missing cookie gets the same 401 page on every path, so it tells nothing of what
  exists. Restarting the server signs every browser out.
- The Host header must name an address the server was started for, so that a web page whose
  name is re-pointed at this computer (DNS rebinding) is refused; a form must be posted from
  the app's own page (see SameOrigin).
- The request log names the method, the path and the status: never a query string or a body,
  where a patient's details could be.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
import urllib.parse

logger = logging.getLogger("handouts.server.requests")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: under no-referrer a browser posts the app's own forms with
    # "Origin: null", which is what a hostile sandboxed frame sends too.
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
STATIC_PREFIX = "/static/"
COOKIE = "handouts_access"
COOKIE_DAYS = 30


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response, errors included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith(STATIC_PREFIX)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {name for name, _ in HEADERS}]
                headers += HEADERS
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-cache" if static else b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SameOrigin:
    """ASGI middleware: a request that changes something (any method but GET, HEAD, OPTIONS)
    must come from the app's own pages. A browser says where a request came from: ``Origin``
    (``null`` from a sandboxed frame, refused too), or, where it sends no Origin, its
    ``Sec-Fetch-Site``. A request with neither comes from no browser, so no web page sent it."""

    SAFE = {"GET", "HEAD", "OPTIONS"}

    def __init__(self, app, refuse):
        self.app, self.refuse = app, refuse

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in self.SAFE or self.same_site(scope):
            return await self.app(scope, receive, send)
        await self.refuse(scope, receive, send)

    @staticmethod
    def same_site(scope) -> bool:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        origin, fetch_site = headers.get("origin"), headers.get("sec-fetch-site")
        if origin is not None:
            try:
                return origin != "null" and urllib.parse.urlsplit(origin).netloc == headers.get("host")
            except ValueError:  # not a URL at all ("http://[")
                return False
        return fetch_site in (None, "same-origin")


class RequestLog:
    """ASGI middleware: one log line per request with its path only (uvicorn's own access log,
    which prints query strings, is turned off)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [0]

        async def recording_send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            logger.info("%s %s %d %.0f ms", scope["method"], scope["path"], status[0],
                        (time.perf_counter() - started) * 1000)


#: The shortest access code: a short code falls to guessing.
MIN_CODE_LENGTH = 12
#: One try of the code per this many seconds, for every browser together.
TRY_INTERVAL = 1.0
#: After this many wrong tries in a row, no try is taken for LOCKOUT_SECONDS.
LOCKOUT_AFTER = 10
LOCKOUT_SECONDS = 15 * 60


def code_problem(code: str) -> str | None:
    """What is wrong with an access code, or None."""
    if len(code.strip()) < MIN_CODE_LENGTH:
        return (f"the access code must be at least {MIN_CODE_LENGTH} characters (a shorter one falls "
                f"to guessing), found {len(code.strip())}; set a longer HANDOUTS_ACCESS_CODE or "
                f"[server] access_code")
    return None


class AccessCode:
    """The access code, and the browsers that gave it.

    Tries are rate-limited for all browsers together (one per TRY_INTERVAL, however many come
    at once), and LOCKOUT_AFTER wrong tries in a row lock the sign-in for LOCKOUT_SECONDS, with
    a line in the server's output. A browser that gave the code gets a random session token,
    kept here: the cookie says nothing about the code, so a sniffed cookie cannot be turned
    back into it. Sessions end when the server stops."""

    def __init__(self, code: str):
        self.code = code
        self.sessions: dict[str, float] = {}  # token -> when it expires (time.monotonic)
        self.wrong, self.next_try, self.locked_until = 0, 0.0, 0.0
        self.lock = threading.Lock()

    def attempt(self, given: str) -> str:
        """'admitted', 'wrong', 'wait' (another try came less than a try interval ago) or
        'locked'."""
        with self.lock:
            now = time.monotonic()
            if now < self.locked_until:
                return "locked"
            if now < self.next_try:
                return "wait"
            self.next_try = now + TRY_INTERVAL
            if hmac.compare_digest(given.encode(), self.code.encode()):
                self.wrong = 0
                return "admitted"
            self.wrong += 1
            if self.wrong >= LOCKOUT_AFTER:
                self.wrong, self.locked_until = 0, now + LOCKOUT_SECONDS
                logger.warning("access code: %d wrong tries in a row; sign-in is locked for %d "
                               "minutes", LOCKOUT_AFTER, LOCKOUT_SECONDS // 60)
            return "wrong"

    def new_session(self) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.monotonic()
            self.sessions = {t: end for t, end in self.sessions.items() if end > now}
            self.sessions[token] = now + COOKIE_DAYS * 86400
        return token

    def admits(self, cookie: str | None) -> bool:
        expires = self.sessions.get(cookie or "")
        return expires is not None and expires > time.monotonic()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a --host value) reaches only this computer."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: What a browser calls this computer.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def allowed_hosts(host: str) -> list[str]:
    """The Host headers to answer for a server bound to ``host``: its loopback names; the
    address itself; for a wildcard (0.0.0.0, ::), this computer's names and addresses."""
    import ipaddress
    import socket

    names = [*LOOPBACK_HOSTS]
    try:
        wildcard = ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        wildcard = False
    if not wildcard:
        return names + [host, f"[{host}]" if ":" in host else host]
    machine = socket.gethostname()
    names += [machine, socket.getfqdn(machine)]
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(machine, None)}
    except OSError:
        addresses = set()
    for address in sorted(addresses):
        names += [address, f"[{address}]"] if ":" in address else [address]
    return list(dict.fromkeys(names))
