"""The web app's security rules, each at its boundary: the headers every response carries,
what the request log may say, the access code's length, its rate limit and lock-out, the
session cookie's lifetime, and which Host headers are answered. A tiny ASGI app stands behind
the real middleware; time is a clock the test moves, so no test waits."""
from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from handouts.server import security
from handouts.server.security import AccessCode


async def echo(request):
    return PlainTextResponse(str(len(await request.body())))


def page(request):
    if request.url.path == "/slow":
        time.sleep(0.05)
    if request.url.path == "/cached":
        return PlainTextResponse("x", headers={"Cache-Control": "max-age=60", "X-Frame-Options": "SAMEORIGIN"})
    if request.url.path == "/boom":
        return PlainTextResponse("broken", status_code=500)
    return PlainTextResponse("x")


@pytest.fixture
def client():
    routes = [Route(path, page) for path in ("/", "/static/app.css", "/cached", "/boom", "/slow")]
    routes.append(Route("/echo", echo, methods=["POST"]))
    return TestClient(security.RequestLog(security.SecurityHeaders(Starlette(routes=routes))))


@pytest.mark.parametrize("path", ["/", "/boom", "/missing", "/static/app.css"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["content-security-policy"] == security.CSP
    assert "script-src 'self'" in security.CSP and "frame-ancestors 'none'" in security.CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert response.headers["permissions-policy"] == "camera=(), microphone=(), geolocation=()"


def test_pages_are_never_stored_and_static_files_are_revalidated(client):
    assert client.get("/").headers["cache-control"] == "no-store"
    assert client.get("/missing").headers["cache-control"] == "no-store"
    assert client.get("/static/app.css").headers["cache-control"] == "no-cache"


def test_a_page_of_its_own_cache_rule_keeps_it_and_loses_a_weaker_frame_rule(client):
    response = client.get("/cached")
    assert response.headers.get_list("cache-control") == ["max-age=60"]
    assert response.headers.get_list("x-frame-options") == ["DENY"]


def test_a_request_body_reaches_the_app_through_both_middlewares(client):
    assert client.post("/echo", content=b"x" * 1000).text == "1000"


def test_a_response_without_headers_gets_them_all_in_lowercase():
    async def bare(scope, receive, send):
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body", "body": b""})

    sent = []

    async def record(message):
        sent.append(message)

    asyncio.run(security.SecurityHeaders(bare)({"type": "http", "path": "/"}, None, record))
    names = [name for name, _value in sent[0]["headers"]]
    assert names == [b"content-security-policy", b"x-frame-options", b"x-content-type-options",
                     b"referrer-policy", b"cross-origin-opener-policy", b"permissions-policy", b"cache-control"]
    assert sent[0]["headers"][-1] == (b"cache-control", b"no-store") and sent[1]["type"] == "http.response.body"


def test_the_request_log_names_method_path_and_status_never_the_query(client, caplog):
    with caplog.at_level(logging.INFO, logger="handouts.server.requests"):
        client.get("/boom?patient=Ana+Lopez")
        client.post("/missing", data={"note": "private"})
    lines = [record.getMessage() for record in caplog.records if record.name == "handouts.server.requests"]
    assert [line.rsplit(" ", 2)[0] for line in lines] == ["GET /boom 500", "POST /missing 404"]
    assert all(line.endswith(" ms") for line in lines)
    assert "Ana" not in caplog.text and "private" not in caplog.text


def test_the_log_says_how_long_a_request_took_in_milliseconds(client, caplog):
    with caplog.at_level(logging.INFO, logger="handouts.server.requests"):
        client.get("/slow")
    milliseconds = int(caplog.records[-1].getMessage().split()[-2])
    assert 50 <= milliseconds < 5000


def test_the_log_names_a_request_that_failed_before_it_answered(caplog):
    async def broken(scope, receive, send):
        raise RuntimeError("no answer")

    with caplog.at_level(logging.INFO, logger="handouts.server.requests"):
        with pytest.raises(RuntimeError):
            TestClient(security.RequestLog(broken)).get("/x")
    assert caplog.records[-1].getMessage().startswith("GET /x 0 ")


def test_the_middleware_lets_other_messages_pass(client):
    with client:  # the lifespan messages go through both middlewares untouched
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("code, problem", [
    ("x" * 12, None), ("  " + "x" * 12 + "  ", None),
    ("x" * 11, "found 11"), (" " + "x" * 11 + " ", "found 11"), ("", "found 0")])
def test_an_access_code_needs_12_characters(code, problem):
    message = security.code_problem(code)
    if problem is None:
        assert message is None
    else:
        assert message == (f"the access code must be at least 12 characters (a shorter one falls to "
                           f"guessing), {problem}; set a longer HANDOUTS_ACCESS_CODE or [server] access_code")


class Clock:
    def __init__(self):
        self.now = 0.0  # a machine just booted: the first try is taken at once

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(security.time, "monotonic", clock)
    return clock


def test_the_right_code_is_admitted_and_a_wrong_one_is_not(clock):
    code = AccessCode("correct horse battery")
    assert code.attempt("wrong code here") == "wrong"
    clock.now += 1.0
    assert code.attempt("correct horse battery") == "admitted"


def test_one_try_a_second_for_everyone(clock):
    code = AccessCode("correct horse battery")
    assert code.attempt("wrong") == "wrong"
    clock.now += 0.999
    assert code.attempt("correct horse battery") == "wait"
    clock.now += 0.001
    assert code.attempt("correct horse battery") == "admitted"
    assert code.attempt("correct horse battery") == "wait"


def wrong_tries(code: AccessCode, clock: Clock, count: int) -> None:
    """``count`` wrong codes, one a second, each turned away as wrong."""
    for _ in range(count):
        assert code.attempt("wrong") == "wrong"
        clock.now += 1


def test_ten_wrong_tries_in_a_row_lock_sign_in_for_15_minutes(clock, caplog):
    code = AccessCode("correct horse battery")
    wrong_tries(code, clock, 9)
    assert caplog.records == []
    with caplog.at_level(logging.WARNING, logger="handouts.server.requests"):
        assert code.attempt("wrong") == "wrong"
    assert [r.getMessage() for r in caplog.records] == [
        "access code: 10 wrong tries in a row; sign-in is locked for 15 minutes"]
    clock.now += 15 * 60 - 0.001
    assert code.attempt("correct horse battery") == "locked"
    clock.now += 0.001
    assert code.attempt("correct horse battery") == "admitted"


def test_a_right_code_starts_the_count_of_wrong_tries_again(clock):
    code = AccessCode("correct horse battery")
    wrong_tries(code, clock, 9)
    assert code.attempt("correct horse battery") == "admitted"
    clock.now += 1
    wrong_tries(code, clock, 9)
    assert code.attempt("correct horse battery") == "admitted"


def test_after_a_lock_out_the_count_starts_again(clock):
    code = AccessCode("correct horse battery")
    wrong_tries(code, clock, 10)
    clock.now += 15 * 60
    wrong_tries(code, clock, 10)
    assert code.attempt("correct horse battery") == "locked"


def test_a_session_admits_its_browser_for_30_days_and_no_other(clock):
    code = AccessCode("correct horse battery")
    token = code.new_session()
    assert len(token) == 43 and token != code.new_session()  # 32 random bytes
    assert code.admits(token)
    assert not code.admits(None) and not code.admits("") and not code.admits(token + "x")
    clock.now += 30 * 86400 - 1
    assert code.admits(token)
    clock.now += 1
    assert not code.admits(token)


def test_expired_sessions_are_forgotten_when_a_new_one_starts(clock):
    code = AccessCode("correct horse battery")
    old = code.new_session()
    clock.now += 30 * 86400
    new = code.new_session()
    assert list(code.sessions) == [new] and old not in code.sessions
    clock.now += 1
    newer = code.new_session()
    assert set(code.sessions) == {new, newer}


@pytest.mark.parametrize("host, loopback", [("localhost", True), ("127.0.0.1", True), ("127.1.2.3", True),
                                            ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                            ("192.168.1.20", False), ("example.org", False),
                                            ("localhost.example.org", False)])
def test_which_addresses_reach_only_this_computer(host, loopback):
    assert security.is_loopback(host) is loopback


def test_a_server_on_one_address_answers_that_address_and_this_computers_names():
    assert security.allowed_hosts("192.168.1.20") == ["127.0.0.1", "localhost", "::1", "[::1]",
                                                      "192.168.1.20", "192.168.1.20"]
    assert security.allowed_hosts("fe80::1")[-2:] == ["fe80::1", "[fe80::1]"]
    assert security.allowed_hosts("clinic.local")[-1] == "clinic.local"


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::", "[::]"])
def test_a_server_on_every_address_answers_this_computers_names_and_addresses(wildcard):
    hosts = security.allowed_hosts(wildcard)
    assert hosts[:4] == ["127.0.0.1", "localhost", "::1", "[::1]"]
    assert socket.gethostname() in hosts and socket.getfqdn(socket.gethostname()) in hosts
    assert wildcard not in hosts and len(hosts) == len(set(hosts))
    for address in {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}:
        assert (f"[{address}]" if ":" in address else address) in hosts


def test_a_server_on_every_address_answers_each_address_of_this_computer(monkeypatch):
    def resolve(host, port):
        assert host == socket.gethostname()
        return [(socket.AF_INET, 0, 0, "", ("192.168.1.20", 0)),
                (socket.AF_INET6, 0, 0, "", ("fe80::5", 0, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert security.allowed_hosts("0.0.0.0")[-3:] == ["192.168.1.20", "fe80::5", "[fe80::5]"]


def test_a_machine_whose_name_does_not_resolve_still_answers_its_names(monkeypatch):
    def unresolvable(*args, **kwargs):
        raise OSError("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
    hosts = security.allowed_hosts("0.0.0.0")
    assert hosts[:4] == ["127.0.0.1", "localhost", "::1", "[::1]"] and socket.gethostname() in hosts
