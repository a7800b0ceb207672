"""Print times of the web app against bare WeasyPrint, measured in one run.

    make bench                      # or: .venv/bin/python benchmarks/bench_web.py [--repeat N]

`handouts serve` (uvicorn, the app as it runs at the front desk) on a copy of this project in a
temporary folder, after a build into its dist/, asked over HTTP on the loopback:

- plain:         a plain print (the PDF of dist/), the median of --repeat
- personalised:  a print with a patient's name, treatment date, next visit and note, the median
- 20 at once:    20 personalised prints sent together: the median and the slowest answer
- bare:          the same personalised sheet's HTML printed by WeasyPrint in this process, as
                 the same PDF variant (pdf/ua-1), without the checks: the median

Prints a table.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench import PDF_VARIANT, PROJECT_PARTS  # noqa: E402  (the build benchmark's own settings)

SHEET = ("en", "ketamine-aftercare")
PERSONAL = {"patient": "Philippa Brightwater", "treatment_date": "2026-11-27",
            "next_visit": "2030-12-10T09:30", "clinician": "Dr. Okafor", "note": "Bring your list of medicines."}
AT_ONCE = 20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each single print (default 5)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="handouts-bench-web-") as scratch:
        project = copy_project(Path(scratch) / "project")
        with serving(project) as url:
            rows = measure(project, url, args.repeat)
    print_table(rows)
    return 0


def copy_project(target: Path) -> Path:
    import shutil

    from handouts import pipeline
    from handouts.config import load_project

    target.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / part)
    pipeline.build(load_project(target), out=target / "dist")  # plain prints are dist/'s PDFs
    return target


class serving:
    """The app under uvicorn on a free loopback port, in a thread, as `handouts serve` runs it."""

    def __init__(self, project: Path):
        import uvicorn

        from handouts.server.app import create_app
        from handouts.server.serving import bind, server_config

        self.sock = bind("127.0.0.1", 0)
        self.server = uvicorn.Server(server_config(create_app(project, watch=False)))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *_):
        self.server.should_exit = True
        self.thread.join(timeout=10)


def post(url: str, form: dict) -> float:
    """Seconds until the whole PDF has come back."""
    started = time.perf_counter()
    request = urllib.request.Request(f"{url}/print/{SHEET[0]}/{SHEET[1]}",
                                     data=urllib.parse.urlencode(form).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        assert response.headers["content-type"] == "application/pdf", response.read()[:500]
        response.read()
    return time.perf_counter() - started


def measure(project: Path, url: str, repeat: int) -> list[tuple[str, float, str]]:
    post(url, {})  # warm: the server's first print starts its workers
    post(url, PERSONAL)
    plain = [post(url, {}) for _ in range(repeat)]
    personal = [post(url, PERSONAL) for _ in range(repeat)]
    with ThreadPoolExecutor(AT_ONCE) as pool:
        burst = list(pool.map(lambda n: post(url, {**PERSONAL, "patient": f"Patient {n}"}), range(AT_ONCE)))
    bare = bare_weasyprint(project, repeat)
    return [("plain print", statistics.median(plain), f"median of {repeat}"),
            ("personalised print", statistics.median(personal), f"median of {repeat}"),
            (f"{AT_ONCE} personalised at once", statistics.median(burst), "median answer"),
            (f"{AT_ONCE} personalised at once", max(burst), "slowest answer"),
            ("bare WeasyPrint, same HTML", statistics.median(bare), f"median of {repeat}, one process")]


def bare_weasyprint(project: Path, repeat: int) -> list[float]:
    """The personalised sheet's own HTML, printed by WeasyPrint alone."""
    import weasyprint

    from handouts import content, dates, render
    from handouts.config import load_project
    from handouts.server import form

    loaded = load_project(project)
    lang, slug = SHEET
    personal = form.read_personal(PERSONAL, lang, dates.zone(loaded.config.clinic.time_zone)).personal
    handout = content.load_handout(loaded.content_dir / lang / f"{slug}.md", lang)
    html = render.render_html(loaded, handout, "standard", loaded.config.paper, personal)
    html = html.replace("<head>", f'<head>\n  <base href="{project.resolve().as_uri()}/">', 1)
    weasyprint.HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT)  # warm
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        weasyprint.HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT)
        seconds.append(time.perf_counter() - started)
    return seconds


def print_table(rows) -> None:
    bare = rows[-1][1]
    print(f"{'what':<32} {'seconds':>8} {'x bare':>7}  note")
    for name, seconds, note in rows:
        print(f"{name:<32} {seconds:>8.3f} {seconds / bare:>7.2f}  {note}")


if __name__ == "__main__":
    sys.exit(main())
