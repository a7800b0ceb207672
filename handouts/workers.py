"""Bounded workers: every print runs in a worker process, with a deadline and a memory cap.

Some inputs make WeasyPrint work for minutes or take gigabytes (a huge picture, a title of
thousands of letters, a stylesheet that asks for a page 200 inches wide). The checks before a
print refuse the ones we know of; this module makes sure that no other can hang a build or a
web page: a print runs in a worker process that is killed when its deadline passes, under an
address-space limit (``RLIMIT_AS``) that turns a runaway into a ``MemoryError``, and the caller
gets a clear error naming the sheet and the last file it was loading.

Workers are forked from multiprocessing's forkserver, a small single-threaded process that has
loaded WeasyPrint once: a worker starts warm and cheap, and never inherits a web server's
threads, a build's folder lock or anything else of the process that asked. A worker serves
call after call; one that was killed or ran out of memory is replaced. Every worker dies with
its parent (``PR_SET_PDEATHSIG``), so a ``kill -9`` of a build leaves nothing behind.

A worker's temporary files (WeasyPrint copies every ``@font-face`` font into a folder of its
own: 24 MB for a Chinese sheet) go into a scratch folder the parent made for it, which the
parent removes when the worker ends, is killed, or the parent exits. A parent that was killed
cannot: the next pool removes the folders of parents that are gone.
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import multiprocessing
import os
import resource
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import HandoutsError

#: The modules every worker needs, loaded once in the forkserver.
PRELOAD = ["handouts.pipeline", "handouts.pdf", "handouts.paper"]
#: A worker collects young garbage every this many new objects (Python's default is 700): a
#: print makes millions of objects that live until it ends, and collecting every 700 of them
#: cost a twentieth of a print; a print's garbage is still collected, in fewer, larger rounds.
COLLECT_EVERY = (10_000, 10, 10)
#: The start of a worker's scratch folder's name; the parent's process id follows.
SCRATCH_PREFIX = "handouts-print-"


@dataclass(frozen=True)
class Limits:
    """What one print may take: seconds of wall time and megabytes of memory beyond a warm
    worker's own."""

    seconds: float
    megabytes: int


class Stopped(Exception):
    """A call that was stopped: past its deadline, out of memory, or its worker died.
    ``loading`` is the last file the print was loading, if any."""

    def __init__(self, reason: str, loading: str | None):
        super().__init__(reason)
        self.reason = reason
        self.loading = loading


def call(limits: Limits, function, *args):
    """``function(*args)`` in a worker within ``limits``: its result, or the exception it
    raised, or Stopped. Blocks while every worker is busy (there are as many as CPUs, or as
    many as the callers asked for with ``reserve``)."""
    pool = _pool_for(limits.megabytes)
    worker = pool.take()
    try:
        return worker.call(function, args, limits)
    finally:
        pool.give_back(worker)


def reserve(count: int, megabytes: int) -> None:
    """Let up to ``count`` calls with this memory cap run at once (a build's ``--jobs``)."""
    _pool_for(megabytes).grow(count)


def warm_up(megabytes: int) -> None:
    """Start the forkserver and a first worker now, in the background: the forkserver loads
    WeasyPrint (about a second) while the caller is still loading its own modules and reading
    the content, instead of after. A no-op when a worker with this cap already exists."""
    pool = _pool_for(megabytes)
    threading.Thread(target=pool.start_first, daemon=True, name="handouts-warm-up").start()


def loading(path: str) -> None:
    """Called inside a worker as a print loads a file: the deadline's message names it."""
    if _CONNECTION is not None:
        with contextlib.suppress(OSError, ValueError):
            _CONNECTION.send(("loading", path))


# --- the pool ----------------------------------------------------------------------------------

_POOLS: dict[int, _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _pool_for(megabytes: int) -> _Pool:
    with _POOLS_LOCK:
        if not _POOLS:
            remove_orphaned_scratch()
            atexit.register(_end_every_worker)
        if megabytes not in _POOLS:
            _POOLS[megabytes] = _Pool(megabytes)
        return _POOLS[megabytes]


def remove_orphaned_scratch() -> None:
    """Remove the scratch folders of workers whose parent is gone (killed before it could)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        parent = folder.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if parent.isdigit() and not _alive(int(parent)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def _end_every_worker() -> None:
    """At exit, before multiprocessing stops the workers: end them, and remove their scratch."""
    for worker in list(_Worker.living):
        worker.kill()


class _Pool:
    """Idle workers, started as needed up to a capacity: a caller starts a new worker only when
    there are more callers waiting than workers starting (a one-job build waits for the warm-up
    worker instead of starting a second, whose caches would all be cold)."""

    def __init__(self, megabytes: int):
        self.megabytes = megabytes
        self.capacity = os.cpu_count() or 1
        self.started = 0
        self.starting = 0  # started, not yet ready
        self.waiting = 0  # callers in take()
        self.idle: list[_Worker] = []
        self.changed = threading.Condition()

    def grow(self, capacity: int) -> None:
        with self.changed:
            self.capacity = max(self.capacity, capacity)
            self.changed.notify_all()

    def take(self) -> _Worker:
        with self.changed:
            self.waiting += 1
            try:
                self.changed.wait_for(lambda: self.idle or (self.started < self.capacity
                                                            and self.waiting > self.starting))
            finally:
                self.waiting -= 1
            if self.idle:
                return self.idle.pop()
            self.started += 1
        try:
            return self._start()
        except BaseException:
            self.give_back(None)
            raise

    def start_first(self) -> None:
        """Start one worker and leave it idle, unless one was started already. A failure is
        left for the first ``call`` to meet and report."""
        with self.changed:
            if self.started:
                return
            self.started += 1
        try:
            worker = self._start()
        except BaseException:
            worker = None
        self.give_back(worker)

    def _start(self) -> _Worker:
        with self.changed:
            self.starting += 1
        try:
            return _Worker(self.megabytes)
        finally:
            with self.changed:
                self.starting -= 1
                self.changed.notify_all()

    def give_back(self, worker: _Worker | None) -> None:
        with self.changed:
            if worker is not None and worker.alive:
                self.idle.append(worker)
            else:  # killed, or never started: its place is free for a new one
                self.started -= 1
            self.changed.notify()


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


class _Worker:
    """One worker process, the pipe to it, and its scratch folder."""

    living: set[_Worker] = set()

    def __init__(self, megabytes: int):
        context = _context()
        self.scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, megabytes, self.scratch),
                                       daemon=True, name="handouts-print")
        try:
            self.process.start()
        except BaseException as error:
            shutil.rmtree(self.scratch, ignore_errors=True)
            if isinstance(error, OSError) and "AF_UNIX path too long" in str(error):
                # The forkserver's socket is made in the temporary folder (in Python 3.11,
                # whatever the length of its path); a Unix socket's path has at most 107 bytes.
                raise HandoutsError(f"could not start a printing worker: the temporary folder's "
                                    f"path is too long for its socket ({tempfile.gettempdir()}); "
                                    f"set TMPDIR to a shorter one, such as /tmp") from None
            raise
        theirs.close()
        self.alive = True
        _Worker.living.add(self)

    def call(self, function, args, limits: Limits):
        self.connection.send((function, args))
        deadline = time.monotonic() + limits.seconds
        last_file = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.connection.poll(remaining):
                self.kill()
                raise Stopped(f"took longer than {limits.seconds:g} s", last_file)
            try:
                kind, value = self.connection.recv()
            except (EOFError, OSError):
                self.kill()
                raise Stopped(f"ended unexpectedly (did it need more than {limits.megabytes} MB "
                              f"of memory?)", last_file) from None
            if kind == "loading":
                last_file = value
            elif kind == "out of memory":
                self.kill()  # a worker that ran out of memory may be in a bad state
                raise Stopped(f"needed more than {limits.megabytes} MB of memory", last_file)
            elif kind == "raised":
                raise value
            else:
                return value

    def kill(self) -> None:
        self.alive = False
        _Worker.living.discard(self)
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()
            self.process.join(5)
            self.connection.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


# --- inside a worker ---------------------------------------------------------------------------

_CONNECTION = None  # a worker's end of its pipe


def _serve(connection, megabytes: int, scratch: str) -> None:
    global _CONNECTION
    _die_with_parent()
    tempfile.tempdir = os.environ["TMPDIR"] = scratch  # removed by the parent
    _collect_less_often()
    _cap_memory(megabytes)
    _CONNECTION = connection
    while True:
        try:
            function, args = connection.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            answer = ("returned", function(*args))
        except MemoryError:
            answer = ("out of memory", None)
        except Exception as error:  # the caller's to raise
            answer = ("raised", error)
        try:
            connection.send(answer)
        except MemoryError:
            connection.send(("out of memory", None))
        except Exception as error:  # an answer that cannot be pickled
            connection.send(("raised", RuntimeError(f"{error.__class__.__name__}: {error}")))
        if answer[0] == "out of memory":
            return


def _collect_less_often() -> None:
    """What a worker inherits from the forkserver (WeasyPrint and the other modules) lives as
    long as the worker: it leaves the garbage collector's rounds (``gc.freeze``), which then
    only look at what prints make, and less often (COLLECT_EVERY)."""
    gc.freeze()
    gc.set_threshold(*COLLECT_EVERY)


def _cap_memory(megabytes: int) -> None:
    """Limit the address space to what a warm worker uses now, plus ``megabytes``."""
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * resource.getpagesize()
    limit = used + megabytes * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _die_with_parent() -> None:
    """A worker goes when the process that started it goes (kill -9 included): Linux's
    PR_SET_PDEATHSIG. Its parent is the forkserver, which leaves when its own parent does."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 is PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before we got here
            os._exit(1)
