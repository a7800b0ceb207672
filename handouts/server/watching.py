"""What to watch for changes: every input of a sheet, as `handouts serve` and `handouts watch` see it.

watchfiles (Rust's notify, on inotify here) reports a burst of writes as one set of changes.
Its default debounce waits 1.6 s for a burst to end; a designer wants the page back within a
second of saving, so a burst here ends after a short quiet step instead.
"""
from __future__ import annotations

import threading
from pathlib import Path

import watchfiles

from ..config import input_paths

#: Quiet time that ends a burst of changes, and the longest a burst may be held back (ms).
STEP_MS = 15
DEBOUNCE_MS = 400


def changes(root: Path, stop: threading.Event, ready: bool = False):
    """Yield the project paths (relative, sorted) of each burst of changes until ``stop`` is set.
    With ``ready``, first yield an empty list as soon as the files are watched: what the caller
    does then (a first build) misses no change made while it runs."""
    root = Path(root).resolve()
    # Each folder a sheet is made from, and handouts.toml as a file of its own: watching the
    # project root recursively would follow .venv/ and .git/ as well.
    for burst in watchfiles.watch(*input_paths(root), stop_event=stop, debounce=DEBOUNCE_MS,
                                  step=STEP_MS, rust_timeout=200, yield_on_timeout=ready,
                                  raise_interrupt=False):
        if ready:
            ready = False
            yield []
        if not burst:
            continue
        names = set()
        for _change, path in burst:
            try:
                names.add(Path(path).resolve().relative_to(root).as_posix())
            except ValueError:
                names.add(str(path))
        yield sorted(names)
