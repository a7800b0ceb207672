"""Shared fixtures: a throw-away copy of the real project, its build, and the CLI."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from handouts.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECT_PARTS = ("content", "templates", "styles", "assets", "handouts.toml", "pyproject.toml")


def copy_project(target: Path) -> Path:
    """A complete copy of the repository's project (what a clone would have)."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    return target


def pytest_addoption(parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="Write tests/golden/ anew from this build's pages (after reviewing the change).")


def run(*args: str):
    """Run ``handouts ARGS`` in-process and return click's result."""
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The real project built strictly, as CI builds it; returns the output folder."""
    out = tmp_path_factory.mktemp("dist")
    result = run("-C", ROOT, "build", "--strict", "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """A copy of the project with a good build in its dist/: bad-input tests start from it."""
    project = copy_project(tmp_path_factory.mktemp("built") / "project")
    result = run("-C", project, "build")
    assert result.exit_code == 0, result.output
    return project


@pytest.fixture
def rebuildable(built_project: Path, tmp_path: Path) -> Path:
    """A fresh copy of ``built_project``, dist/ included, for one test to break."""
    target = tmp_path / "project"
    shutil.copytree(built_project, target)
    return target


RECOLOURED_BRAND = "#6a1b9a"  # purple, for the teal --brand of styles/tokens.css


@pytest.fixture(scope="session")
def recoloured(tmp_path_factory) -> Path:
    """The real project built after a designer's colour change: --brand turned from teal to purple."""
    project = copy_project(tmp_path_factory.mktemp("recoloured") / "project")
    tokens = project / "styles/tokens.css"
    css = tokens.read_text(encoding="utf-8")
    assert "--brand: #0e5a63;" in css, "the brand colour this fixture changes has moved"
    tokens.write_text(css.replace("--brand: #0e5a63;", f"--brand: {RECOLOURED_BRAND};"), encoding="utf-8")
    out = project / "dist"
    result = run("-C", project, "build", "--strict", "--out", out)
    assert result.exit_code == 0, result.output
    return out
