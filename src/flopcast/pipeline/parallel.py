"""Worker processes for the batch: ``fn(0), fn(1), ...`` evaluated on every core, yielded in order.

The batch (``flopcast costs``) is CPU-bound Python and numpy that threads do not speed up (the GIL), so
:func:`ordered_map` runs its tasks in worker processes, one per core this process may use
(``os.sched_getaffinity``, else ``os.cpu_count``), and yields their results in task order, so that the
output is the same bytes whatever the number of workers.

How the workers start: ``os.fork`` (Linux and the other POSIX systems), so that a worker inherits the
imported modules, the loaded database, the resolved settings and the shared draws, and costs nothing to
start: measured on two loaded cores, forking two workers, a round trip and reaping them takes about 20 ms,
where a fresh interpreter (``spawn``, or ``forkserver``'s server) pays the imports and the database load
again, about 0.9 s, as long as the whole batch takes on one core. Where ``os.fork`` is missing, the tasks
run in process.

Why forking here is safe although the CLI may run a spinner thread (:mod:`flopcast.cli.progress`) and numpy
may run its own: the child of a fork has one thread, and any lock another thread held at the fork stays held
in it. A worker therefore touches nothing that another thread may lock: it computes (Python and numpy, whose
locks CPython and OpenBLAS reset at fork), talks to its parent over its own socket
(:func:`multiprocessing.connection.Pipe`, plain ``send``/``recv`` on a descriptor, no Python-level lock),
records its warnings and sends them to the parent, which shows them (through its own filters, as in
process), ignores ``SIGINT`` (Ctrl-C is the parent's to handle) and ends with ``os._exit``, which neither flushes
``sys.stdout``/``sys.stderr`` (whose locks the spinner may hold) nor runs ``atexit`` handlers. It never
uses ``multiprocessing.Process``, whose child flushes the standard streams on exit.

No orphans: the parent ends every worker it started before :func:`ordered_map` returns or raises, on
success, on a worker's error, on Ctrl-C and when the consumer stops early (the generator is closed); a
worker whose parent died sees its socket close and exits.

``FLOPCAST_WORKERS`` sets the number of workers (``1``: always in process); by default one per core for a
batch of at least :data:`MIN_PARALLEL_ITEMS` items, and never inside a worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flopcast.defaults import usable_cores as cores
from flopcast.errors import InvalidInputError

T = TypeVar("T")

#: the environment variable that sets the number of worker processes (1: in process)
ENV_WORKERS = "FLOPCAST_WORKERS"

#: a batch of fewer items runs in process: measured on the embedded database (8,192 Sobol samples), a
#: worker's share must be worth a fork and the shipping of its rows (a few ms), and below about 200 models
#: the whole batch takes under 0.2 s in process
MIN_PARALLEL_ITEMS = 200

_in_worker = False


def in_worker() -> bool:
    """True inside a worker process of :func:`ordered_map` (which then never starts workers of its own)."""
    return _in_worker


def worker_count(items: int) -> int:
    """How many worker processes a batch of ``items`` gets: 1 (in process) inside a worker, without
    ``os.fork``, or below :data:`MIN_PARALLEL_ITEMS`; else ``FLOPCAST_WORKERS``, by default :func:`cores`."""
    raw = os.environ.get(ENV_WORKERS, "").strip()
    if raw:
        try:
            asked = int(raw)
        except ValueError:
            asked = 0
        if asked < 1:
            raise InvalidInputError(f"{ENV_WORKERS}={raw!r} must be a whole number >= 1 (1: no worker processes)")
    else:
        asked = cores()
    if asked <= 1 or _in_worker or not hasattr(os, "fork") or (not raw and items < MIN_PARALLEL_ITEMS):
        return 1
    return asked


def ordered_map(fn: Callable[[int], T], tasks: int, workers: int, *, ahead: int = 2) -> Iterator[T]:
    """``fn(0), ..., fn(tasks - 1)``, yielded in that order, computed by ``workers`` forked processes.

    ``fn`` is called in the workers (inherited at the fork, never pickled); its results are pickled back.
    Each worker runs one task at a time and is given the next when it is done; at most ``ahead`` tasks per
    worker run or wait beyond the next one to yield, so the results held at once do not grow with ``tasks``.
    An exception in ``fn`` is raised here as the same exception (its class, its arguments and its
    attributes); with ``workers <= 1`` (or a single task) everything runs in process.
    """
    if workers <= 1 or tasks <= 1:
        for i in range(tasks):
            yield fn(i)
        return
    yield from _Pool(fn, min(workers, tasks)).run(tasks, ahead)


class _Pool:
    """Forked workers, each with its own duplex socket; see the module's docstring for why it is safe."""

    def __init__(self, fn: Callable[[int], Any], workers: int):
        self.fn, self.workers = fn, workers
        self.pids: list[int] = []
        self.conns: list[Any] = []

    def _start(self) -> None:
        from multiprocessing.connection import Pipe

        for _ in range(self.workers):
            parent, child = Pipe(duplex=True)
            pid = os.fork()
            if pid == 0:  # the worker
                try:
                    parent.close()
                    for c in self.conns:
                        c.close()
                    _serve(self.fn, child)
                finally:
                    os._exit(0)
            child.close()
            self.pids.append(pid)
            self.conns.append(parent)

    def run(self, tasks: int, ahead: int) -> Iterator[Any]:
        from collections import deque
        from multiprocessing.connection import Connection, wait

        try:
            self._start()
            queued: dict[Any, deque[int]] = {c: deque() for c in self.conns}
            done: dict[int, Any] = {}
            nxt, out = 0, 0
            window = self.workers * ahead

            def feed() -> None:
                # the next task goes to a worker that is idle, not to a queue behind a busy one: tasks differ in
                # cost (a chunk of records the batch skips is quick), and a task queued behind a long one would
                # wait while the other worker had nothing to do (measured on the embedded database, 2 workers:
                # the last worker ended 0.2 s after the first with two tasks queued each)
                nonlocal nxt
                for c in self.conns:
                    if nxt < tasks and nxt < out + window and not queued[c]:
                        c.send(nxt)
                        queued[c].append(nxt)
                        nxt += 1

            feed()
            while out < tasks:
                if out in done:
                    value = done.pop(out)
                    out += 1
                    feed()
                    yield value
                    continue
                for c in wait([c for c in self.conns if queued[c]]):
                    assert isinstance(c, Connection)
                    try:
                        kind, i, payload, said = c.recv()
                    except EOFError:
                        raise RuntimeError("a worker process of the batch ended unexpectedly") from None
                    queued[c].remove(i)
                    for text, category, filename, lineno in said:  # a worker's warnings, shown here
                        warnings.warn_explicit(text, category, filename, lineno)
                    if kind == "error":
                        raise _rebuild(payload)
                    done[i] = payload
                    feed()  # the worker that sent it is idle now
        finally:
            self._stop()

    def _stop(self) -> None:
        """End every worker: ask politely, then kill whatever still runs (an error, Ctrl-C, an early close)."""
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.send(None)
            c.close()
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # a worker still busy with a task nobody will read
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.pids, self.conns = [], []


def _serve(fn: Callable[[int], Any], conn: Any) -> None:
    """A worker's loop: task numbers in, ``("ok", i, result)`` or ``("error", i, exception)`` out."""
    global _in_worker
    _in_worker = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent ends the workers
    while True:
        try:
            i = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if i is None:
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # recorded here, filtered in the parent as in process
            try:
                msg: tuple = ("ok", i, fn(i))
            except BaseException as exc:  # sent back and raised there; a worker never prints
                msg = ("error", i, _portable(exc))
        said = list(dict.fromkeys((str(w.message), w.category, w.filename, w.lineno) for w in caught))
        try:
            conn.send((*msg, said))
        except (OSError, ValueError):
            return
        except Exception as exc:  # a result that does not pickle
            conn.send(("error", i, _portable(exc), said))


def _portable(exc: BaseException) -> tuple:
    """An exception as (class, args, attributes, traceback text): rebuilt without calling ``__init__``,
    which for some errors (:class:`~flopcast.errors.UnknownNameError`) takes other arguments than ``args``."""
    import pickle

    tb = "".join(traceback.format_exception(exc))
    state = dict(getattr(exc, "__dict__", {}))
    try:
        pickle.dumps((type(exc), exc.args, state))
    except Exception:
        return (RuntimeError, (f"{type(exc).__name__}: {exc}",), {}, tb)
    return (type(exc), exc.args, state, tb)


def _rebuild(payload: tuple) -> BaseException:
    cls, args, state, tb = payload
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    from flopcast.errors import FlopcastError

    if not isinstance(exc, FlopcastError):  # a bug: keep where it happened
        exc.add_note(f"in a worker process of the batch:\n{tb}")
    return exc
