"""Benchmark of the web app, in one run on a copy of the project:

1. the live preview's refresh after a stylesheet edit of a one-page sheet, from the file's
   write until the new page image is served, against a bare warm WeasyPrint render of the same
   HTML (target: at most 0.5 s, and at most 1.5 times the bare render);
2. twenty personalised prints sent at once: the median and the slowest.

    .venv/bin/python benchmarks/preview.py [--rounds 10]

The server is uvicorn on a free loopback port, as `handouts serve` runs it.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG, LANG = "ketamine-aftercare", "en"
PARTS = ("content", "templates", "styles", "assets", "handouts.toml", "pyproject.toml")


def copy_project(target: Path) -> Path:
    for part in PARTS:
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / part)
    return target


def start_server(project: Path):
    import uvicorn

    from handouts.server.app import create_app
    from handouts.server.serving import bind

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(project), access_log=False, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, sock.getsockname()[1]


def get(port: int, path: str, headers=None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


def bare_render_seconds(project: Path, rounds: int) -> float:
    """WeasyPrint alone on the sheet's HTML, warm, with the same fetcher and PDF variant."""
    import weasyprint

    from handouts import content, pdf, render, sandbox
    from handouts.config import load_project

    loaded = load_project(project)
    handout = content.load_handout(project / "content" / LANG / f"{SLUG}.md", LANG)
    html = render.render_html(loaded, handout, "standard", loaded.config.paper)
    times = []
    for _ in range(rounds + 2):
        started = time.perf_counter()
        weasyprint.HTML(string=html, base_url=sandbox.BASE_URL,
                        url_fetcher=pdf.SandboxedFetcher(project)).write_pdf(pdf_variant=pdf.PDF_VARIANT)
        times.append(time.perf_counter() - started)
    return statistics.median(times[2:])


def preview_refresh_seconds(port: int, project: Path, rounds: int) -> list[float]:
    """Write the stylesheet, wait for the page's event, fetch the new image: as the browser does."""
    tokens = project / "styles" / "tokens.css"
    original = tokens.read_text()
    events = f"/preview/{LANG}/{SLUG}/events?edition=standard&paper=letter"
    status, _ = get(port, f"/preview/{LANG}/{SLUG}")  # warm: the first render
    assert status == 200
    times = []
    for round_ in range(rounds):
        colour = f"#{0x0e5a63 + 16 * (round_ + 1):06x}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", events + "&since=%d" % generation(port))
        response = connection.getresponse()
        response.fp.readline(), response.fp.readline()  # "retry: 250" and its blank line
        time.sleep(0.05)  # the stream is waiting
        started = time.perf_counter()
        tokens.write_text(original.replace("#0e5a63", colour))
        data = read_event(response)
        status, png = get(port, data["images"][0])
        times.append(time.perf_counter() - started)
        assert status == 200 and png.startswith(b"\x89PNG"), status
        connection.close()
    tokens.write_text(original)
    return times


def generation(port: int) -> int:
    status, html = get(port, f"/preview/{LANG}/{SLUG}")
    marker = b"since="
    start = html.index(marker) + len(marker)
    return int(html[start:html.index(b'"', start)])


def read_event(response) -> dict:
    while True:
        line = response.fp.readline().decode()
        if line.startswith("data: "):
            return json.loads(line[6:])
        if not line:
            raise RuntimeError("the event stream ended without an event")


def concurrent_prints(port: int, count: int) -> list[float]:
    def print_one(number: int) -> float:
        body = urllib.parse.urlencode({"patient": f"Benchmark Patient {number}", "next_visit": "Thu Dec 10"})
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.request("POST", f"/print/{LANG}/{SLUG}", body,
                           {"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        data = response.read()
        assert response.status == 200 and data.startswith(b"%PDF"), response.status
        return time.perf_counter() - started

    barrier_pool = concurrent.futures.ThreadPoolExecutor(count)
    return list(barrier_pool.map(print_one, range(count)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--prints", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = copy_project(Path(folder))
        server, port = start_server(project)
        bare = bare_render_seconds(project, args.rounds)
        refresh = preview_refresh_seconds(port, project, args.rounds)
        get(port, "/")  # let the catalogue settle before the burst
        prints = concurrent_prints(port, args.prints)
        server.should_exit = True
    median = statistics.median(refresh)
    print(f"bare warm WeasyPrint render of {LANG}/{SLUG} (same HTML, PDF/UA): median {bare:.3f} s")
    print(f"preview refresh, write -> new PNG served ({args.rounds} edits): median {median:.3f} s, "
          f"slowest {max(refresh):.3f} s, {median / bare:.2f}x the bare render "
          f"(targets: <= 0.5 s, <= 1.5x)")
    print(f"{args.prints} personalised prints at once: median {statistics.median(prints):.2f} s, "
          f"slowest {max(prints):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
