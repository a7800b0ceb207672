"""Running the web app (uvicorn) and `handouts watch`: the parts that face the terminal.

Slow or stalled clients cannot starve the server: a connection that has not sent a whole
request head within HEADER_SECONDS is closed (uvicorn's keep-alive timeout only starts after
a first response, so a client that connects and sends nothing, or a header a byte a minute,
would otherwise hold its connection for ever); the soft limit of open files is raised to the
hard one at start, and connections are capped below it, so the server always has the files
it needs to answer (a print log, a font, a worker's pipe).
"""
from __future__ import annotations

import errno
import logging
import resource
import socket
import threading
import time
from pathlib import Path

from uvicorn.protocols.http.h11_impl import H11Protocol

from ..config import INPUT_FOLDERS, load_project
from ..errors import HandoutsError, InputError
from . import security, watching


def serve(root: Path, host: str, port: int, access_code: str, say, verbose: bool = False) -> None:
    """Serve the app on host:port until Ctrl+C. Beyond this computer, only with an access code."""
    import uvicorn

    from .app import create_app

    loopback = security.is_loopback(host)
    if not loopback and not access_code:
        raise HandoutsError(
            f"--host {host}: other computers could reach the page, so it needs an access code; "
            f"expected HANDOUTS_ACCESS_CODE in the environment or access_code in the [server] "
            f"table of handouts.toml, found neither")
    sock = bind(host, port)
    log_requests(verbose)
    app = create_app(root, access_code=None if loopback else access_code,
                     hosts=security.allowed_hosts(host))
    shown = f"[{host}]" if ":" in host else host
    say(f"Serving the handouts of {Path(root).resolve()} at http://{shown}:{port}/ "
        f"({'this computer only' if loopback else 'access code required'}). Ctrl+C stops.")
    uvicorn.Server(server_config(app)).run(sockets=[sock])


#: Seconds a client has to send a whole request head (a browser needs milliseconds).
HEADER_SECONDS = 10
#: Open files kept free for the server's own use when connections are capped.
FILES_KEPT = 256
#: Connections at once, at most (a clinic's front desk needs a handful).
MOST_CONNECTIONS = 4096


def server_config(app, header_seconds: float = HEADER_SECONDS):
    """uvicorn's settings for the app: no access log of its own (ours never shows a query
    string), a header deadline, and connections capped below the open-file limit."""
    import uvicorn

    files = raise_open_files_limit()
    protocol = type("HeaderDeadline", (HeaderDeadline,), {"header_seconds": header_seconds})
    return uvicorn.Config(app, access_log=False, log_level="warning", timeout_graceful_shutdown=1,
                          server_header=False, http=protocol,
                          limit_concurrency=max(16, min(MOST_CONNECTIONS, files - FILES_KEPT)))


def raise_open_files_limit() -> int:
    """Raise the soft limit of open files to the hard one; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard if hard != resource.RLIM_INFINITY else MOST_CONNECTIONS + FILES_KEPT
    except (ValueError, OSError):
        return soft


class HeaderDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline for each request head: a connection that
    has not sent one within ``header_seconds`` of connecting (or of its last response) is closed."""

    header_seconds: float = HEADER_SECONDS

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.header_deadline = self.loop.call_later(self.header_seconds, self.close_if_no_header, None)

    def on_response_complete(self) -> None:
        finished = self.cycle
        super().on_response_complete()
        self.header_deadline.cancel()
        self.header_deadline = self.loop.call_later(self.header_seconds, self.close_if_no_header, finished)

    def connection_lost(self, exc) -> None:
        self.header_deadline.cancel()
        super().connection_lost(exc)

    def close_if_no_header(self, finished) -> None:
        """Close the connection unless a request began after the ``finished`` one."""
        if self.cycle is finished and not self.transport.is_closing():
            self.transport.close()


def log_requests(verbose: bool) -> None:
    """Our own lines only (request paths, reloads); WeasyPrint's progress stays quiet."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", datefmt="%H:%M:%S"))
    logger = logging.getLogger("handouts")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a clear message when the port is taken or the address is not ours."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise HandoutsError(f"--host {host}: expected an address of this computer, such as "
                            f"127.0.0.1 or 0.0.0.0 ({error.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise HandoutsError(f"port {port} on {host} is taken: another program (perhaps another "
                                f"handouts serve) is using it. Stop that one, or choose another "
                                f"port with --port {port + 1}") from None
        raise HandoutsError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def watch(root: Path, out: Path, strict: bool, say, stop: threading.Event | None = None) -> None:
    """Build now, then again after every change: one line per PDF printed anew."""
    from .. import pipeline

    def build(reason: str) -> None:
        try:
            project = load_project(root)
            report = pipeline.build(project, out=out, strict=strict, on_result=tell)
        except InputError as error:
            say(f"{time.strftime('%H:%M:%S')}  {error.message}")
            return
        for error in report.content_errors:
            say(f"{time.strftime('%H:%M:%S')}  {error.message}")
        if all(result.up_to_date for result in report.results) and not report.content_errors:
            say(f"{time.strftime('%H:%M:%S')}  {reason}: no PDF needed rebuilding")

    def tell(result) -> None:
        """Each PDF as soon as it is done, not when the whole build is."""
        stamp = time.strftime("%H:%M:%S")
        if result.up_to_date:
            return
        if result.error:
            say(f"{stamp}  failed   {result.job.path}: {result.error.message}")
        else:
            pages = result.entry["pages"]
            say(f"{stamp}  rebuilt  {result.job.path} ({pages} page{'s' * (pages != 1)}, "
                f"{result.seconds:.2f} s)")

    folders = ", ".join(f"{name}/" for name in INPUT_FOLDERS)
    say(f"Watching {folders} and handouts.toml; rebuilding into {out}/. Ctrl+C stops.")
    stop = stop or threading.Event()
    try:  # the first build once the files are watched: an edit saved while it runs is not lost
        for paths in watching.changes(root, stop, ready=True):
            build(", ".join(paths[:3]) + (" ..." if len(paths) > 3 else "") if paths else "start")
    except KeyboardInterrupt:
        pass
