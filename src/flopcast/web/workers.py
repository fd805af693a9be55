"""The heavy requests (estimate, plan, deploy, trend, forecast) and the worker processes that run them on every core.

Each ``*_work`` function takes a request model and a way to get the database, calls the service function and
returns the dict the route answers (the service's JSON plus the page's ``display`` rows). ``create_app`` runs it
in its thread pool (``workers=1``: one process, as before) or in a :class:`WorkerPool`: ``workers`` processes
started with ``spawn`` (never ``fork``: the server has threads), each of which imports the service and loads the
database once (its initializer), then runs the same function on the same database, so both paths give the same
numbers. What crosses between the processes is the request model (a few hundred bytes) and the answer, a dict of
plain numbers and strings (about 20 KB for an estimate, well under a millisecond to pickle): the numpy work and
the formatting run in the worker, under its own interpreter lock.

An error the worker raises on purpose (a :class:`~flopcast.errors.FlopcastError`: an unknown model, a run that
does not fit) comes back as a ``FlopcastError`` with the same message, so the app answers the same 422; any
other exception comes back as :class:`WorkerFailed` with the worker's traceback (the server logs it; the client
gets the app's 500, as for a bug in the thread pool). A worker that dies (killed, out of memory) breaks the pool: the request is tried again on a fresh
pool, once (then :class:`WorkerFailed`). Workers ignore Ctrl-C (the server shuts them down) and exit if the server
dies without shutting them down (they watch its process sentinel).

This module imports neither FastAPI nor Starlette, so a worker does not load the web framework.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from flopcast.errors import FlopcastError, InvalidInputError

Database = Any  # flopcast.service's Database (not imported here: the service loads lazily)
Work = Callable[[Any, Callable[[], Database]], dict]


# -- the work: one function per heavy route ----------------------------------------------------------------------


def estimate_work(req: Any, database: Callable[[], Database]) -> dict:
    """``POST /api/estimate``: :func:`flopcast.service.training_estimate`, with histograms and the page's rows."""
    from flopcast.service import MoneyOptions, cost_swings, histogram, training_estimate
    from flopcast.web.display import estimate_display, log_ticks

    money_fields = ("depreciation", "depreciation_years", "cost_of_capital", "grid", "utilization_prior")
    fields = req.model_dump(exclude={"model", "samples", "seed", "sensitivity", *money_fields}, exclude_none=True)
    est = training_estimate(
        req.model,
        samples=req.samples,
        seed=req.seed,
        sensitivity=req.sensitivity,
        max_samples=100_000,
        db=database(),
        money=MoneyOptions(**req.model_dump(include=set(money_fields))),
        **fields,
    )
    out = est.to_dict()
    out["histograms"] = {m: histogram(s.samples) for m, s in est.cost_usd.items()}
    swings = {m: cost_swings(est, m, min_share=0.005) for m in est.cost_usd} if req.sensitivity else {}
    out["display"] = estimate_display(est, swings)
    out["display"]["histogram_ticks"] = log_ticks(out["histograms"])
    return out


def plan_work(req: Any, database: Callable[[], Database]) -> dict:
    """``POST /api/plan``: :func:`flopcast.service.training_plan` (what ``flopcast plan --json`` prints), with the
    page's rows."""
    from flopcast.service import MoneyOptions, training_plan
    from flopcast.web.display import plan_display

    money_fields = ("depreciation", "depreciation_years", "cost_of_capital", "grid", "utilization_prior")
    fields = req.model_dump(exclude={"model", *money_fields}, exclude_none=True)
    plan = training_plan(
        req.model, db=database(), money=MoneyOptions(**req.model_dump(include=set(money_fields))), **fields
    )
    out = plan.to_dict()
    out["display"] = plan_display(plan)
    return out


def deploy_work(req: Any, database: Callable[[], Database]) -> dict:
    """``POST /api/deploy``: :func:`flopcast.service.deployment_estimate`, with a histogram of $/Mtok."""
    from flopcast.service import deployment_estimate, histogram
    from flopcast.web.display import deploy_display, log_ticks

    loads = [k for k in ("scenario", "tokens_per_day", "requests_per_s") if getattr(req, k) is not None]
    if len(loads) != 1:
        raise InvalidInputError("give one load: a scenario, tokens_per_day or requests_per_s")
    fields: dict[str, Any] = req.model_dump(exclude={"ttft_s", "tpot_s", "model"}, exclude_none=True)
    for k in ("ttft_s", "tpot_s"):
        fields[k] = math.inf if getattr(req, k) == "none" else getattr(req, k)
    fields["price_usd_per_chip_hour"] = fields.pop("price_per_chip_hour", None)
    est = deployment_estimate(req.model, **fields)
    out = est.to_dict()
    out["histograms"] = {"usd_per_million_tokens": histogram(est.usd_per_million_tokens.samples)}
    out["display"] = deploy_display(out)
    out["display"]["histogram_ticks"] = log_ticks(out["histograms"])
    return out


def trend_work(req: Any, database: Callable[[], Database]) -> dict:
    """``POST /api/trend``: :func:`flopcast.service.trend_analysis` on a grid of 80 years, with its points."""
    from flopcast.service import trend_analysis
    from flopcast.web.display import trend_display

    if req.since is not None and req.until is not None and req.since > req.until:
        raise InvalidInputError(f"since={req.since} is after until={req.until}")
    t = trend_analysis(
        req.metric,
        top=req.top,
        since=req.since,
        until=req.until,
        cost_method=req.cost_method,
        utilization_prior=req.utilization_prior,
        extrapolate=req.extrapolate,
        bootstrap=0,
        samples=req.samples,
        seed=req.seed,
        db=database(),
        band_points=80,
    )
    out = dict(t.out)
    out.update(title=t.title, unit=t.unit, points=t.points(), band=t.band)
    out["display"] = trend_display(out)
    return out


def forecast_work(req: Any, database: Callable[[], Database]) -> dict:
    """``POST /api/forecast``: :func:`flopcast.service.frontier_forecast`."""
    from flopcast.service import frontier_forecast

    return frontier_forecast(
        req.metric,
        until=req.until,
        largest=req.largest,
        top=req.top,
        thresholds=req.thresholds,
        priors={k: (v[0], v[1]) for k, v in req.priors.items()},
        caps=req.caps,
        fit_since=req.fit_since,
        fit_until=req.fit_until,
        cost_method=req.cost_method,
        utilization_prior=req.utilization_prior,
        samples=req.samples,
        seed=req.seed,
        db=database(),
    ).to_dict()


WORK: dict[str, Work] = {
    "estimate": estimate_work,
    "deploy": deploy_work,
    "plan": plan_work,
    "trend": trend_work,
    "forecast": forecast_work,
}


# -- inside a worker process ---------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}
#: how long :meth:`WorkerPool.start` waits for every worker to import the service and load the database
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class _Refused:
    """A FlopcastError raised in a worker, as its message (its class need not survive pickling)."""

    msg: str


def _watch_parent() -> None:
    """Exit when the server's process ends without shutting the pool down (killed): no orphan is left."""
    import multiprocessing.connection

    parent = multiprocessing.parent_process()
    if parent is None:
        return
    multiprocessing.connection.wait([parent.sentinel])
    os._exit(0)


def _init_worker(data: str | None, started: Any) -> None:
    """A worker's initializer: ignore Ctrl-C, watch the server, load the database once. ``started`` is a barrier
    of every worker of the pool (:meth:`WorkerPool.start` waits on it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the server shuts the pool down
    threading.Thread(target=_watch_parent, name="flopcast-watch-parent", daemon=True).start()
    from flopcast.service import database

    _WORKER["db"] = database(data)
    _WORKER["started"] = started


def _worker_db() -> Database:
    return _WORKER["db"]


def _ready(timeout_s: float) -> int:
    """Wait until every worker of the pool has started (and loaded the database): this one's process id. A worker
    waiting here takes no other task, so the pool's ``workers`` calls run on ``workers`` different processes."""
    _WORKER["started"].wait(timeout_s)
    return os.getpid()


@dataclass(frozen=True)
class _Failed:
    """Any other exception raised in a worker, as its traceback (an exception that cannot be unpickled in the
    server would break the whole pool)."""

    traceback: str


def run_in_worker(kind: str, req: Any) -> dict | _Refused | _Failed:
    """Run ``WORK[kind]`` on the worker's database; a FlopcastError comes back as its message, any other
    exception as its traceback."""
    try:
        return WORK[kind](req, _worker_db)
    except FlopcastError as exc:
        return _Refused(str(exc))
    except Exception:
        import traceback

        return _Failed(traceback.format_exc())


# -- in the server -------------------------------------------------------------------------------------------------


class WorkerFailed(RuntimeError):
    """A worker raised something other than a FlopcastError (a bug: its traceback is in the message, which the
    server logs), or died twice."""


class WorkerPool:
    """``workers`` processes that run the heavy work, started on the first :meth:`run` (or :meth:`start`).

    The bound on work in flight is the app's :class:`~flopcast.web.guards.WorkLimiter`: a request is submitted
    here only once it holds a slot, and keeps the slot until its worker is done with it, even if the client has
    gone. :meth:`close` stops the workers (waiting for them to exit); the pool may start again after it.
    """

    def __init__(self, workers: int, data: str | None = None) -> None:
        if workers < 1:
            raise ValueError("WorkerPool: workers >= 1")
        self.workers = workers
        self.data = data
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _get(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                import multiprocessing

                ctx = multiprocessing.get_context("spawn")
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    self.workers,
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(self.data, ctx.Barrier(self.workers)),
                )
            return self._executor

    def _discard(self, executor: concurrent.futures.ProcessPoolExecutor) -> None:
        """Drop a broken executor (a worker died) so that the next request starts a fresh one."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def start(self, timeout_s: float = START_TIMEOUT_S) -> list[int]:
        """Start every worker now and wait until each has loaded the database: their process ids. A worker that
        cannot start (its database cannot be read) raises here, so the server does not start half-ready."""
        ex = self._get()
        # one task per worker, submitted at once: each submit finds no idle worker and starts one more
        futures = [ex.submit(_ready, timeout_s) for _ in range(self.workers)]
        return sorted(f.result() for f in futures)

    def pids(self) -> list[int]:
        """The process ids of the running workers (none before the pool starts)."""
        ex = self._executor
        procs = getattr(ex, "_processes", None) or {}
        return sorted(procs)

    @property
    def started(self) -> bool:
        return self._executor is not None

    async def run(self, kind: str, req: Any) -> dict:
        """``WORK[kind](req, database)`` in a worker; a FlopcastError is raised again here with its message.

        A worker that died (this request's or another's) breaks the pool: the request is tried once more on a fresh
        pool, then fails with :class:`WorkerFailed`."""
        for attempt in (1, 2):
            ex = self._get()
            try:
                out = await asyncio.wrap_future(ex.submit(run_in_worker, kind, req))
                break
            except BrokenProcessPool as exc:
                self._discard(ex)
                if attempt == 2:
                    raise WorkerFailed(f"a worker died twice during a {kind} request") from exc
        if isinstance(out, _Refused):
            raise FlopcastError(out.msg)
        if isinstance(out, _Failed):
            raise WorkerFailed(f"a {kind} request failed in a worker:\n{out.traceback}")
        return out

    def close(self) -> None:
        """Stop the workers: queued work is dropped, running work finishes, then each process exits and is reaped."""
        with self._lock:
            ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
