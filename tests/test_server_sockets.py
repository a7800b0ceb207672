"""The server under uvicorn with real sockets: stalled clients are dropped after the header
deadline, and a thousand half-open connections do not stop it answering."""
from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest

from conftest import one_sheet_project
from handouts.server import serving
from handouts.server.app import create_app

HEADER_SECONDS = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    project = one_sheet_project(tmp_path_factory.mktemp("sockets"))
    sock = serving.bind("127.0.0.1", 0)
    server = uvicorn.Server(serving.server_config(create_app(project, watch=False), header_seconds=HEADER_SECONDS))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(timeout=5)


def get(port: int, path: str = "/static/app.css") -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.status


def half_open(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ...and the head never ends
    return client


def test_a_client_that_never_finishes_its_header_is_dropped(server):
    client = half_open(server)
    client.settimeout(HEADER_SECONDS * 4)
    started = time.monotonic()
    try:
        assert client.recv(1024) == b""  # closed by the server
    finally:
        client.close()
    assert HEADER_SECONDS - 0.2 < time.monotonic() - started < HEADER_SECONDS * 3


def test_an_idle_connection_after_a_response_is_dropped_too(server):
    client = socket.create_connection(("127.0.0.1", server))
    client.settimeout(HEADER_SECONDS * 4)
    try:
        client.sendall(b"GET /static/app.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert client.recv(64).startswith(b"HTTP/1.1 200")
        client.sendall(b"GET / HTTP/1.1\r\n")  # a second request, stalled: keep-alive no longer guards it
        while client.recv(65536):
            pass
    finally:
        client.close()


def test_a_form_whose_body_never_comes_is_answered_408(server, monkeypatch):
    from handouts.server import web

    monkeypatch.setattr(web, "BODY_SECONDS", HEADER_SECONDS)
    client = socket.create_connection(("127.0.0.1", server))
    client.settimeout(HEADER_SECONDS * 4)
    try:
        client.sendall(b"POST /print/en/ketamine-aftercare HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\npatient=A")
        assert client.recv(64).startswith(b"HTTP/1.1 408")
    finally:
        client.close()


def test_a_thousand_half_open_connections_leave_the_server_answering(server):
    clients = [half_open(server) for _ in range(1100)]
    try:
        started = time.monotonic()
        assert get(server) == 200
        assert time.monotonic() - started < 2
    finally:
        for client in clients:
            client.close()
    assert get(server, "/") == 200


def test_the_open_file_limit_is_raised_to_the_hard_one():
    import resource

    serving.raise_open_files_limit()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft == hard
