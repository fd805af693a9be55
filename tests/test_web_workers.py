"""The web app's worker processes: heavy requests (estimate, deploy, trend, forecast) run in a pool of processes
when the app is made with ``workers > 1`` (``flopcast serve``'s default), with the same JSON, the same error shapes
and the same bounds as in the server's own thread pool, and no process left behind.

The in-process test client used elsewhere starts no process: ``create_app()`` has no pool, and an app with one
starts it only with its lifespan or at its first heavy request. Throughput is measured in
benchmarks/bench_web_load.py, never asserted here.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is part of the test extra")
uvicorn = pytest.importorskip("uvicorn")
import httpx
from fastapi.testclient import TestClient

from flopcast.defaults import usable_cores as default_workers
from flopcast.testing import run_cli as run
from flopcast.web import create_app
from flopcast.web.guards import WorkLimiter
from flopcast.web.workers import WorkerFailed, WorkerPool, run_in_worker

BODIES = {
    "/api/estimate": {"model": "gpt-3"},
    "/api/deploy": {"model": "bloom-176b", "scenario": "twitter-1pct", "samples": 500},
    "/api/trend": {"metric": "compute", "samples": 200},
    "/api/forecast": {"metric": "cost", "thresholds": [1e9], "until": 2030, "samples": 500},
}
BAD = {
    # refused in the worker, by the service (FlopcastError): 422 naming the field
    "unknown model": ("/api/estimate", {"model": "no-such-model-zz"}),
    "does not fit": ("/api/estimate", {"model": "gpt-3", "params": 1e12, "samples": 200}),
    "two loads": ("/api/deploy", {"model": "bloom-176b", "scenario": "twitter-1pct", "tokens_per_day": 1e9}),
    "years backwards": ("/api/trend", {"metric": "compute", "since": 2024, "until": 2020}),
    # refused by pydantic before any work
    "negative": ("/api/estimate", {"model": "gpt-3", "params": -5}),
}


def _until(condition, what: str, limit_s: float = 60.0) -> None:
    """Wait for ``condition`` (a guard against hanging, not a timing check)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {limit_s:.0f} s")
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.fixture(scope="module")
def pooled():
    """An app with two worker processes, started with its lifespan: (client, worker pids)."""
    app = create_app(workers=2)
    with TestClient(app) as client:
        pids = app.state.pool.pids()
        yield client, pids
    assert not any(_alive(p) for p in pids), "a worker outlived the app's lifespan"


@pytest.fixture(scope="module")
def local():
    return TestClient(create_app())


@pytest.mark.parametrize("path", sorted(BODIES))
def test_the_pool_answers_the_same_json_as_the_thread_pool(pooled, local, path):
    client, _ = pooled
    a, b = client.post(path, json=BODIES[path]), local.post(path, json=BODIES[path])
    assert a.status_code == b.status_code == 200, (a.text[:500], b.text[:500])
    assert a.content == b.content  # byte for byte: the same service call, the same database, the same seed


def test_gpt3_with_the_pool_is_gpt3_in_process(pooled, local):
    # the numbers a page shows: GPT-3's default estimate (10,000 samples, seed 0), with the pool and without
    client, _ = pooled
    a = client.post("/api/estimate", json={"model": "gpt-3", "sensitivity": True}).json()
    b = local.post("/api/estimate", json={"model": "gpt-3", "sensitivity": True}).json()
    assert a == b
    assert a["key"] == "gpt-3" and a["cost_usd"]


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_in_a_worker_have_the_same_shape_and_status(pooled, local, case):
    client, _ = pooled
    path, body = BAD[case]
    a, b = client.post(path, json=body), local.post(path, json=body)
    assert a.status_code == b.status_code == 422, (a.text, b.text)
    assert a.json() == b.json()
    (e,) = a.json()["detail"]
    assert set(e) == {"loc", "msg", "type"} and e["msg"]


def test_the_work_runs_in_the_workers_not_in_the_server(pooled, monkeypatch):
    # the server's own service function is broken: the pool's answer does not use it
    import flopcast.service

    def broken(*args, **kwargs):
        raise RuntimeError("ran in the server")

    monkeypatch.setattr(flopcast.service, "training_estimate", broken)
    client, pids = pooled
    assert client.post("/api/estimate", json={"model": "gpt-3", "samples": 200}).status_code == 200
    assert len(pids) == 2 and os.getpid() not in pids and all(_alive(p) for p in pids)


def test_the_bounds_cover_the_pool(pooled):
    client, _ = pooled
    limiter = client.app.state.limiter
    held = limiter.max_requests
    for _ in range(held):
        assert limiter.try_acquire(1)
    try:
        saved = limiter.max_waiting
        limiter.max_waiting = 0
        r = client.post("/api/estimate", json={"model": "gpt-3", "samples": 200})
        assert r.status_code == 503 and r.json()["detail"][0]["type"] == "busy" and "retry-after" in r.headers
        assert client.get("/api/health").json() == {"ok": True}
    finally:
        limiter.max_waiting = saved
        for _ in range(held):
            limiter.release(1)
    assert client.post("/api/estimate", json={"model": "gpt-3", "samples": 200}).status_code == 200
    assert (limiter.running, limiter.samples, limiter.waiting) == (0, 0, 0)


def test_the_in_process_app_starts_no_process():
    app = create_app()
    assert app.state.pool is None
    # an app with a pool, without a lifespan: no process until the first heavy request
    app = create_app(workers=2)
    client = TestClient(app)
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/models").status_code == 200
    assert not app.state.pool.started and app.state.pool.pids() == []


def test_workers_must_be_a_whole_number_of_at_least_one():
    from flopcast.errors import InvalidInputError

    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidInputError, match="workers"):
            create_app(workers=bad)


def test_a_dead_worker_is_replaced():
    pool = WorkerPool(2)
    try:
        pids = pool.start()
        os.kill(pids[0], signal.SIGKILL)
        _until(lambda: not _alive(pids[0]), "the killed worker exiting")
        req = _training_request(samples=200)
        out = asyncio.run(pool.run("estimate", req))  # on a fresh pool
        assert out["key"] == "gpt-3"
        fresh = pool.pids()
        assert fresh and not set(fresh) & set(pids)
    finally:
        pool.close()
    assert not any(_alive(p) for p in [*pids, *fresh])


def test_a_bug_in_a_worker_is_a_worker_failure_with_its_traceback():
    pool = WorkerPool(2)
    try:
        with pytest.raises(WorkerFailed, match="AttributeError"):
            asyncio.run(pool.run("estimate", None))  # not a request: the work fails, the worker lives on
        assert asyncio.run(pool.run("estimate", _training_request(samples=200)))["key"] == "gpt-3"
    finally:
        pool.close()


def test_what_comes_back_from_a_worker_survives_pickling(db):
    # FlopcastErrors whose constructors take other arguments (UnknownModelError) cannot be unpickled in the
    # server (which would break the whole pool): they come back as their message
    import pickle

    import flopcast.web.workers as workers

    workers._WORKER["db"] = db
    try:
        refused = run_in_worker("estimate", _training_request(model="no-such-model-zz"))
        failed = run_in_worker("estimate", None)
    finally:
        workers._WORKER.pop("db")
    assert "unknown model 'no-such-model-zz'" in pickle.loads(pickle.dumps(refused)).msg
    assert "AttributeError" in pickle.loads(pickle.dumps(failed)).traceback


def test_the_slot_is_held_until_the_work_ends_even_if_the_request_goes_away():
    limiter = WorkLimiter(1, 100)

    async def scenario():
        done = asyncio.Event()
        request = asyncio.ensure_future(limiter.run(10, done.wait))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert (limiter.running, limiter.samples) == (1, 10)
        request.cancel()  # the client went away; its work (in a thread or a worker) runs on
        with pytest.raises(asyncio.CancelledError):
            await request
        assert (limiter.running, limiter.samples) == (1, 10)
        done.set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert (limiter.running, limiter.samples) == (0, 0)

    asyncio.run(scenario())


def _training_request(**fields):
    from flopcast.web.schemas import TrainingRequest

    return TrainingRequest(**{"model": "gpt-3", **fields})


# -- flopcast serve -----------------------------------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch):
    """`flopcast serve` up to the point where it would listen: what it passes to uvicorn.run."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_runs_one_worker_per_core_by_default(served, capsys, epoch_dir):
    code, _, err = run(["serve", "--port", "8131", "--data", str(epoch_dir)], capsys)
    assert code == 0, err
    ((app, _),) = served
    n = default_workers()
    assert n == len(os.sched_getaffinity(0))
    if n == 1:
        assert app.state.pool is None
    else:
        assert app.state.pool.workers == n and not app.state.pool.started
        assert f"{n} worker processes" in err


def test_serve_workers_1_runs_in_process_and_bad_counts_are_refused(served, capsys, epoch_dir):
    code, _, err = run(["serve", "--port", "8132", "--workers", "1", "--data", str(epoch_dir)], capsys)
    assert code == 0, err
    ((app, _),) = served
    assert app.state.pool is None and "estimates in this process" in err
    code, _, err = run(["serve", "--port", "8133", "--workers", "3", "--data", str(epoch_dir)], capsys)
    assert code == 0 and served[1][0].state.pool.workers == 3
    for bad in ("0", "-2", "65"):
        code, out, err = run(["serve", "--workers", bad], capsys)
        assert code == 2 and not out and len(err.strip().splitlines()) == 1, err
        assert f"--workers={bad} is outside 1..64" in err


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = str(Path(sys.executable).with_name("flopcast"))
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"flopcast serve exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            return httpx.get(base + "/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    _until(up, "flopcast serve answering", limit_s=120)
    return proc, base


@pytest.mark.slow
@pytest.mark.parametrize("how", ["terminate", "kill"])
def test_serve_leaves_no_worker_behind(how):
    # SIGTERM: uvicorn shuts down, the lifespan closes the pool. SIGKILL: nothing runs in the server, and the
    # workers, watching its process, exit on their own
    proc, base = _start("--workers", "2")
    try:
        assert (
            httpx.post(base + "/api/estimate", json={"model": "gpt-3", "samples": 200}, timeout=60).status_code == 200
        )
        workers = [p for p in _children(proc.pid) if _alive(p)]
        assert len(workers) >= 2, workers  # the two workers (and spawn's resource tracker)
        getattr(proc, how)()
        proc.wait(timeout=60)
        if how == "terminate":  # a clean shutdown (uvicorn then raises the signal again: -15 or 0)
            log = proc.stderr.read()
            assert proc.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in log, log[-2000:]
        _until(lambda: not any(_alive(p) for p in workers), "every worker exiting")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
