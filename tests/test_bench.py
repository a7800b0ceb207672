"""benchmarks/bench.py: what it does with an option the CLI lacks, and how it judges the targets.
(The timings themselves stay in the benchmark: no test here measures time.)"""
from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks/bench.py")
bench = sys.modules["bench"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def measures(**seconds):
    return [bench.Measure(name, name, value) for name, value in seconds.items()]


def targets(**seconds) -> dict[str, bench.Target]:
    """The four targets, by a short name: one_job, noop, jobs, pandoc."""
    return dict(zip(("one_job", "noop", "jobs", "pandoc"), bench.judge(measures(**seconds))))


def test_an_option_the_cli_lacks_is_reported_not_fatal(project):
    with pytest.raises(bench.OptionMissing, match="--no-such-option"):
        bench.handouts(project, "build", "--no-such-option", "2")


def test_a_failing_build_stops_the_benchmark(project):
    (project / "handouts.toml").write_text("[build\n")
    with pytest.raises(SystemExit, match="handouts build failed"):
        bench.handouts(project, "build")


@pytest.mark.parametrize("one_job, met", [(1.15, True), (1.16, False)])
def test_one_job_against_bare_at_the_bound(one_job, met):
    assert targets(full=9, full_jobs1=one_job, bare=1)["one_job"].met is met


@pytest.mark.parametrize("noop, met", [(0.5, True), (0.55, False)])
def test_noop_against_full_at_the_bound(noop, met):
    assert targets(full=5, noop=noop)["noop"].met is met


@pytest.mark.parametrize("pandoc, met", [(10, True), (9.9, False)])
def test_pandoc_speed_up_at_the_bound(pandoc, met):
    assert targets(full=2, pandoc=pandoc)["pandoc"].met is met


@pytest.mark.skipif(bench.CPUS < 2, reason="one CPU: one job is every job")
def test_jobs_speed_up_on_the_library():
    speed_up = targets(**{"library_jobs1": 32, f"library_jobs{bench.CPUS}": 20})["jobs"]
    assert speed_up.ratio == pytest.approx(1.6) and speed_up.met


def test_without_jobs_the_plain_build_is_the_one_job_figure():
    one_job = targets(full=2.2, bare=2)["one_job"]
    assert one_job.ratio == pytest.approx(1.1) and one_job.met
    assert "no --jobs" in one_job.note


def test_a_missing_figure_is_no_verdict():
    result = targets(full=2, noop=None)
    assert result["noop"].met is None and result["noop"].ratio is None
    assert result["pandoc"].met is None


def test_the_one_job_build_and_bare_run_by_turns(tmp_path, monkeypatch):
    """Each one-job build is followed by a bare print, so that both meet the same load from the
    machine's other work (the commands are only recorded here: timing stays in the benchmark)."""
    calls = []

    def build(project, *args):
        calls.append("html" if "--html" in args else " ".join(args[1:]))
        if "--html" in args:
            (tmp_path / "scratch/html/en").mkdir(parents=True)
            (tmp_path / "scratch/html/en/sheet.html").write_text("<p>x</p>")

    monkeypatch.setattr(bench, "ROOT", tmp_path)  # a copy of no project parts: nothing to copy
    monkeypatch.setattr(bench, "handouts", build)
    monkeypatch.setattr(bench, "run_checked", lambda command, **_: calls.append("bare"))
    (tmp_path / "scratch").mkdir()
    one_job, bare = bench.Bench(tmp_path / "scratch", 3).one_job_and_bare(20)
    assert calls == ["html", "bare", *["--force --jobs 1", "bare"] * 3]
    assert (one_job.name, one_job.pdfs, bare.name, bare.pdfs) == ("full_jobs1", 20, "bare", 1)
    assert one_job.note.startswith("by turns with bare: ratios ")
