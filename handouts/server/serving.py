"""Running the web app (uvicorn) and `handouts watch`: the parts that face the terminal."""
from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from pathlib import Path

from ..config import load_project
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
    config = uvicorn.Config(app, access_log=False, log_level="warning", timeout_graceful_shutdown=1,
                            server_header=False)
    uvicorn.Server(config).run(sockets=[sock])


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

    folders = ", ".join(f"{name}/" for name in watching.WATCHED_FOLDERS)
    say(f"Watching {folders} and handouts.toml; rebuilding into {out}/. Ctrl+C stops.")
    build("start")
    stop = stop or threading.Event()
    try:
        for paths in watching.changes(root, stop):
            build(", ".join(paths[:3]) + (" ..." if len(paths) > 3 else ""))
    except KeyboardInterrupt:
        pass
