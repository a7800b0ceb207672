"""Mutation testing of the core: would the fast tests notice a bug in each rule?

mutmut (settings in pyproject.toml, [tool.mutmut]) copies the package to mutants/, makes
small changes to the core modules (a ``<`` for a ``<=``, a deleted condition, a ``None`` for a
value) and runs, for each change, the fast tests that call the changed function. A change
that no test notices survives: a bug that would pass CI. This script runs the modules one
after the other, then prints the share of changes killed per module and every survivor, and
exits 1 when a module falls below the floor.

    python tools/mutation.py [MODULE ...] [--jobs N]

A timeout counts as killed: the tests did not pass with the change. Of pipeline.py only the
render gate's own rules are mutated (see GATE); the rest of it prints PDFs in worker
processes, where mutmut cannot see which test reached which function.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = {"sandbox": "handouts/sandbox.py", "content": "handouts/content.py",
           "config": "handouts/config.py", "output": "handouts/output.py",
           "pipeline": "handouts/pipeline.py", "security": "handouts/server/security.py"}
#: The render gate's rules in pipeline.py that its fast tests reach in this process.
GATE = ("render_sheet", "check_personal", "_most_marks", "print_sheet", "ǁJobǁover_budget",
        "ǁPageBudgetErrorǁ__init__", "mandatory_lines", "_key_line", "expected_on_paper",
        "load_selection", "plan", "draft_error", "ǁInputsǁ")
#: The share of mutants every module's tests must kill.
FLOOR = 0.80
KILLED = {1, 3, 24, -24, 36, 152, 255}  # mutmut's exit codes for a failing or timed-out test run
SURVIVED = {0}


def mutant_patterns(module: str) -> list[str]:
    """mutmut's names for the module's mutants: handouts.sandbox.x_resolve__mutmut_3."""
    dotted = MODULES[module].removesuffix(".py").replace("/", ".")
    if module != "pipeline":
        return [f"{dotted}.*"]
    return [f"{dotted}.x{name}*" if name.startswith("ǁ") else f"{dotted}.x_{name}__mutmut_*"
            for name in GATE]


def run_module(module: str, jobs: int) -> None:
    mutmut = Path(sys.executable).with_name("mutmut")
    print(f"--- {module} ({MODULES[module]})", flush=True)
    subprocess.run([mutmut, "run", "--max-children", str(jobs), *mutant_patterns(module)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)


def results(module: str) -> dict[str, int | None]:
    """Each mutant of the module that was asked for, and the exit code of its test run."""
    meta = ROOT / "mutants" / (MODULES[module] + ".meta")
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    patterns = mutant_patterns(module)
    return {name: code for name, code in codes.items()
            if any(fnmatchcase(name, pattern) for pattern in patterns)}


def report(modules: list[str]) -> bool:
    """Print the score of each module and its survivors; whether every module reached FLOOR."""
    print(f"\n{'module':10} {'mutants':>8} {'killed':>7} {'survived':>9} {'other':>6} {'score':>6}")
    survivors, passed = [], True
    for module in modules:
        codes = results(module)
        killed = sum(code in KILLED for code in codes.values())
        survived = [name for name, code in sorted(codes.items()) if code in SURVIVED]
        other = len(codes) - killed - len(survived)  # no test reached it, or not run
        score = killed / len(codes) if codes else 0.0
        passed &= score >= FLOOR
        print(f"{module:10} {len(codes):8} {killed:7} {len(survived):9} {other:6} {score:6.0%}")
        survivors += survived + [f"{name} (no test reached it)" for name, code in sorted(codes.items())
                                 if code not in KILLED | SURVIVED]
    if survivors:
        print("\nSurvivors (see one with: .venv/bin/mutmut show NAME):")
        print("\n".join(f"  {name}" for name in survivors))
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"any of {', '.join(MODULES)} (default all)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--report", action="store_true", help="only print the last run's results")
    options = parser.parse_args()
    modules = options.modules or list(MODULES)
    if unknown := [module for module in modules if module not in MODULES]:
        parser.error(f"unknown module {unknown[0]!r}; expected any of {', '.join(MODULES)}")
    if not options.report:
        for module in modules:
            run_module(module, options.jobs)
    return 0 if report(modules) else 1


if __name__ == "__main__":
    sys.exit(main())
