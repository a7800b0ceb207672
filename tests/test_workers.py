"""Bounded work: every print runs in a worker process with a deadline and a memory cap, and
every text value has a length, so that no input hangs a build or a print."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import one_sheet_project, run
from handouts.config import load_project
from handouts.content import load_handout
from handouts.errors import ContentError, InputError
from handouts.pipeline import render_sheet

HANDOUTS = str(Path(os.environ.get("VIRTUAL_ENV", Path(__file__).parents[1] / ".venv")) / "bin/handouts")
AFTERCARE = "content/en/ketamine-aftercare.md"


def set_build(project: Path, key: str, value) -> int:
    config = project / "handouts.toml"
    text = re.sub(rf"^{key} = .*$", f"{key} = {value}", config.read_text(), flags=re.M)
    config.write_text(text)
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(f"{key} ="))


def test_a_print_past_its_deadline_is_stopped_and_named(small_project):
    run("-C", small_project, "build")
    before = (small_project / "dist/en/ketamine-aftercare.pdf").read_bytes()
    set_build(small_project, "print_seconds", 0.05)
    (small_project / "styles/print.css").write_text((small_project / "styles/print.css").read_text() + "\n")
    started = time.monotonic()
    result = run("-C", small_project, "build")
    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    assert "ketamine-aftercare.md: printing en/ketamine-aftercare.pdf took longer than 0.05 s" in result.stderr
    assert "print_seconds and print_megabytes in handouts.toml" in result.stderr
    assert (small_project / "dist/en/ketamine-aftercare.pdf").read_bytes() == before


def test_a_print_past_its_memory_cap_is_stopped_and_the_next_print_works(small_project, tmp_path):
    set_build(small_project, "print_megabytes", 20)
    with pytest.raises(InputError, match=r"printing en/ketamine-aftercare.pdf (needed more than 20 MB of "
                                         r"memory|ended unexpectedly \(did it need more than 20 MB)"):
        render_sheet(load_project(small_project), "ketamine-aftercare", "en")
    # Its worker is gone; another takes its place.
    roomy = one_sheet_project(tmp_path / "roomy")
    assert render_sheet(load_project(roomy), "ketamine-aftercare", "en").pages == 2


@pytest.mark.parametrize("key, value", [("print_seconds", 0), ("print_megabytes", -1)])
def test_limits_must_be_above_zero(small_project, key, value):
    line = set_build(small_project, key, value)
    result = run("-C", small_project, "build")
    assert result.exit_code == 1
    assert f"handouts.toml:{line}: [build] {key}: expected a number above 0" in result.stderr


def test_a_killed_build_leaves_no_worker_behind(small_project):
    (small_project / "styles/tokens.css").write_text((small_project / "styles/tokens.css").read_text() + "\n")
    build = subprocess.Popen([HANDOUTS, "-C", str(small_project), "build", "--force"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    build.stdout.readline()  # "Building into ...": the workers start now
    descendants: set[int] = set()
    deadline = time.monotonic() + 30
    while not descendants and time.monotonic() < deadline:
        descendants = _descendants(build.pid)
        time.sleep(0.05)
    assert descendants, "the build started no worker"
    build.send_signal(signal.SIGKILL)
    build.wait()
    build.stdout.close()
    deadline = time.monotonic() + 10
    while (alive := {pid for pid in descendants if _running(pid)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive


def test_a_worker_warmed_up_in_the_background_serves_the_first_print():
    from handouts import workers

    megabytes = 397  # a pool of its own
    pool = workers._pool_for(megabytes)
    workers.warm_up(megabytes)
    workers.warm_up(megabytes)  # a second warm-up starts nothing more
    deadline = time.monotonic() + 60
    while not pool.idle and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.idle, "no worker was started in the background"
    warm = pool.idle[0].process.pid
    assert workers.call(workers.Limits(60, megabytes), os.getpid) == warm
    assert pool.started == 1


def test_a_print_asked_for_while_the_warm_up_worker_starts_waits_for_it():
    # A one-job build asks for its first print at once: it must get the worker the warm-up is
    # starting, not start a second one (whose caches would all be cold). A second caller at the
    # same time may start one.
    from handouts import workers

    megabytes = 398  # a pool of its own
    pool = workers._pool_for(megabytes)
    pool.capacity = 2
    workers.warm_up(megabytes)
    deadline = time.monotonic() + 60
    while not pool.started and time.monotonic() < deadline:  # the warm-up has begun its worker
        time.sleep(0.001)
    first = workers.call(workers.Limits(60, megabytes), os.getpid)
    assert pool.started == 1
    assert workers.call(workers.Limits(60, megabytes), os.getpid) == first


def _descendants(pid: int) -> set[int]:
    found, pending = set(), [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    pending.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- every text value has a length --------------------------------------------------------------

def _with_title(project: Path, title: str) -> Path:
    path = project / AFTERCARE
    path.write_text(re.sub(r"^title: .*$", f"title: {title}", path.read_text(), count=1, flags=re.M))
    return path


def test_a_title_of_120_characters_is_the_longest(small_project):
    assert load_handout(_with_title(small_project, "a" * 120), "en").title == "a" * 120
    with pytest.raises(ContentError, match="title: expected at most 120 characters, found 121"):
        load_handout(_with_title(small_project, "a" * 121), "en")


def test_a_title_of_thousands_of_letters_is_refused_at_once(small_project):
    _with_title(small_project, "ketamine " * 400)
    started = time.monotonic()
    result = run("-C", small_project, "build")
    assert result.exit_code == 1 and time.monotonic() - started < 20
    assert f"{AFTERCARE}:2: title: expected at most 120 characters, found" in result.stderr


@pytest.mark.parametrize("key, limit", [("name", 80), ("address", 160)])
def test_clinic_texts_have_a_length(small_project, key, limit):
    config = small_project / "handouts.toml"
    text = config.read_text()
    for length, ok in ((limit, True), (limit + 1, False)):
        changed = re.sub(rf'^{key} = ".*"$', f'{key} = "{"M" * length}"', text, count=1, flags=re.M)
        config.write_text(changed)
        line = next(n for n, row in enumerate(changed.splitlines(), 1) if row.startswith(f"{key} ="))
        result = run("-C", small_project, "list")
        if ok:
            assert "characters" not in result.stderr
        else:
            assert f"handouts.toml:{line}: [clinic] {key}: expected at most {limit} characters, " \
                   f"found {limit + 1}" in result.stderr


def _collector_state():
    import gc

    return gc.get_threshold(), gc.get_freeze_count()


def test_a_worker_leaves_what_it_inherits_out_of_garbage_collection():
    from handouts import workers

    threshold, frozen = workers.call(workers.Limits(60, 398), _collector_state)
    assert threshold == workers.COLLECT_EVERY == (10_000, 10, 10)
    assert frozen > 10_000  # WeasyPrint's modules and the others the forkserver loaded


# --- a worker's temporary files -------------------------------------------------------------------

def test_a_build_leaves_no_temporary_file(small_project):
    """WeasyPrint copies each @font-face font into a temporary folder and never removes it
    from a worker that is stopped: the worker's scratch folder goes with the worker."""
    # A short path: the forkserver's socket lives in the temporary folder too, and a Unix
    # socket's path has at most 107 bytes.
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        scratch = Path(folder)
        result = subprocess.run([HANDOUTS, "-C", str(small_project), "build", "--force"], capture_output=True,
                                text=True, env={**os.environ, "TMPDIR": str(scratch)})
        assert result.returncode == 0, result.stderr
        assert list(scratch.iterdir()) == []


def test_a_worker_stopped_at_its_deadline_leaves_no_scratch_folder():
    from handouts import workers

    limits = workers.Limits(60, 396)  # a pool of its own
    folder = Path(workers.call(limits, _scratch_with_a_file))
    assert folder.name.startswith(f"{workers.SCRATCH_PREFIX}{os.getpid()}-") and any(folder.iterdir())
    with pytest.raises(workers.Stopped):
        workers.call(workers.Limits(0.2, 396), time.sleep, 30)
    assert not folder.exists()


def test_the_scratch_folders_of_a_killed_parent_go_with_the_next_pool(monkeypatch):
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:  # short: see above
        scratch = Path(folder)
        parent = subprocess.run(
            [os.path.join(os.path.dirname(HANDOUTS), "python"), "-c",
             "import os, signal\nfrom handouts import workers\n"
             "print(workers.call(workers.Limits(60, 500), __import__('tempfile').gettempdir), flush=True)\n"
             "os.kill(os.getpid(), signal.SIGKILL)"],
            capture_output=True, text=True, env={**os.environ, "TMPDIR": str(scratch)})
        assert parent.returncode == -signal.SIGKILL
        orphan = Path(parent.stdout.strip())
        assert orphan.parent == scratch and orphan.exists()
        mine = scratch / f"handouts-print-{os.getpid()}-kept"
        mine.mkdir()
        from handouts import workers
        monkeypatch.setattr(tempfile, "tempdir", str(scratch))
        workers.remove_orphaned_scratch()
        assert not orphan.exists() and mine.exists()


def _scratch_with_a_file() -> str:
    folder = tempfile.mkdtemp()  # as WeasyPrint's fonts do
    Path(folder, "font.ttf").write_bytes(b"a font")
    return tempfile.gettempdir()


def test_a_temporary_folder_too_long_for_a_socket_is_named(small_project, tmp_path):
    long_folder = tmp_path / ("t" * 100)
    long_folder.mkdir()
    result = subprocess.run([HANDOUTS, "-C", str(small_project), "build", "--force"], capture_output=True,
                            text=True, env={**os.environ, "TMPDIR": str(long_folder)})
    assert result.returncode == 1
    assert "could not start a printing worker: the temporary folder's path is too long for its socket" in result.stderr
    assert "set TMPDIR to a shorter one, such as /tmp" in result.stderr and "Traceback" not in result.stderr
