"""The web app under load: how throughput scales from one client to 20 (the worker processes), throughput and
latency with 50 concurrent clients, /api/health while the server is saturated with maximal requests, and the
server's memory through a 1 GB chunked upload.

The server is the real `flopcast serve` in its own process (uvicorn; its estimates in one worker process per core,
the default), driven over loopback by threads with httpx, one client each (keep-alive), in this process. Client and
server share the machine's cores.

Scaling (issue 19: "at least 1.7x the single-client throughput with 2 cores and 20 clients"): one client sending
the same GPT-3 estimate (10,000 samples, the default seed, as the calculator page sends it) back to back, then 20 clients at once, each for 4 s, against `flopcast serve` with its
defaults and, for comparison, `flopcast serve --workers 1` (the estimates in the server's own process, as before),
both up at once, interleaved in rounds. The clients of this part are plain keep-alive connections on one event loop
(0.2-0.9 ms of CPU per request, against 8-11 ms for httpx in 20 threads). The machine is shared with other work, so
a round counts only when two busy processes got at least 1.75 cores' worth just before and after it; the ratio is
the median 20-client throughput over the median single-client throughput of the same server, over 3 such rounds.

    .venv/bin/python benchmarks/bench_web_load.py [--quick] [--scaling] [--rounds N]
    # --scaling: that part only; --rounds: at most N rounds (default 8) to find 3 quiet ones
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
CLIENTS = 50
SCALING_CLIENTS = 20
SCALING_TRIALS = 3
SCALING_TARGET = 1.7
#: a round of the scaling trials counts when two busy processes get at least this many cores' worth around it
QUIET_CAPACITY = 1.75
TYPICAL = {"model": "gpt-3", "samples": 10_000}
MAXIMAL = {"model": "gpt-3", "samples": 100_000, "sensitivity": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


def summary_ms(lat_s: list[float]) -> dict:
    ms = [x * 1e3 for x in lat_s]
    return {
        "n": len(ms),
        "p50_ms": pct(ms, 50),
        "p95_ms": pct(ms, 95),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms),
        "mean_ms": statistics.fmean(ms),
    }


def memory_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the worker processes of a server)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def workers_rss_mb(pid: int) -> float:
    """The resident memory of the server's worker processes together, MB."""
    total = 0
    for c in children(pid):
        with contextlib.suppress(OSError):
            total += memory_kb(c).get("VmRSS", 0)
    return total / 1024


def reset_peak(pid: int) -> bool:
    """Reset the process's peak resident memory (VmHWM) to its current RSS (Linux: /proc/PID/clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def typical_load(base: str, total: int) -> dict:
    """``total`` typical estimates from 50 clients at once: throughput and latency of the answered ones."""
    per_client = total // CLIENTS
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as c:
            for k in range(per_client):
                t0 = time.perf_counter()
                r = c.post("/api/estimate", json={**TYPICAL, "seed": i * 1000 + k})
                dt = time.perf_counter() - t0
                with lock:
                    results.append((r.status_code, dt))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as ex:
        list(ex.map(client, range(CLIENTS)))
    wall = time.perf_counter() - t0
    ok = [dt for s, dt in results if s == 200]
    return {
        "clients": CLIENTS,
        "requests": len(results),
        "ok": len(ok),
        "busy_503": sum(s == 503 for s, _ in results),
        "other": sum(s not in (200, 503) for s, _ in results),
        "wall_s": wall,
        "throughput_rps": len(ok) / wall,
        "latency": summary_ms(ok),
    }


def saturated(base: str, duration_s: float) -> dict:
    """50 clients send maximal estimates back to back (a 503 is re-sent at once, ignoring Retry-After) while one
    more asks /api/health every 50 ms."""
    stop = threading.Event()
    heavy: list[tuple[int, float]] = []
    health: list[float] = []
    health_fail: list[str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as c:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    status = c.post("/api/estimate", json={**MAXIMAL, "seed": i}).status_code
                except httpx.HTTPError:
                    status = -1
                with lock:
                    heavy.append((status, time.perf_counter() - t0))

    def prober() -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    r = c.get("/api/health")
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, exc
                dt = time.perf_counter() - t0
                if ok:
                    health.append(dt)
                else:
                    health_fail.append(repr(r))
                time.sleep(max(0.0, 0.05 - dt))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(2.0)  # let the clients fill the server before probing
    probe = threading.Thread(target=prober)
    probe.start()
    time.sleep(duration_s)
    stop.set()
    probe.join()
    for t in threads:
        t.join()
    ok = [dt for s, dt in heavy if s == 200]
    return {
        "clients": CLIENTS,
        "request": MAXIMAL,
        "duration_s": duration_s,
        "heavy_requests": len(heavy),
        "heavy_ok": len(ok),
        "heavy_busy_503": sum(s == 503 for s, _ in heavy),
        "heavy_other": sum(s not in (200, 503) for s, _ in heavy),
        "heavy_ok_latency": summary_ms(ok) if ok else None,
        "health": summary_ms(health),
        "health_failures": health_fail[:5],
        "health_under_1s": not health_fail and max(health) < 1.0,
    }


async def _light_clients(
    host: str, port: int, clients: int, duration_s: float, seed0: int | None
) -> tuple[list, float]:
    """``clients`` keep-alive HTTP/1.1 connections on one event loop, each sending typical estimates back to back
    for ``duration_s`` (all with the default seed when ``seed0`` is None, else each its own): (status, seconds)
    per request, and the wall time."""
    conns = [await asyncio.open_connection(host, port) for _ in range(clients)]
    results: list[tuple[int, float]] = []
    start = time.perf_counter()
    deadline = start + duration_s

    async def client(i: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        k = 0
        while time.perf_counter() < deadline:
            seed = {} if seed0 is None else {"seed": seed0 + i * 100_000 + k}
            body = json.dumps({**TYPICAL, **seed}).encode()
            head = (
                f"POST /api/estimate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\n\r\n"
            ).encode()
            t0 = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            answer = await reader.readuntil(b"\r\n\r\n")
            lines = answer.decode("latin-1").split("\r\n")
            length = next(
                int(v) for k_, _, v in (x.partition(":") for x in lines[1:]) if k_.lower() == "content-length"
            )
            await reader.readexactly(length)
            results.append((int(lines[0].split()[1]), time.perf_counter() - t0))
            k += 1
        writer.close()

    await asyncio.gather(*(client(i, r, w) for i, (r, w) in enumerate(conns)))
    return results, time.perf_counter() - start


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def closed_loop(base: str, clients: int, duration_s: float, seed0: int | None = None, pid: int | None = None) -> dict:
    """``clients`` clients each send typical estimates back to back for ``duration_s``: throughput and latency.

    The clients are plain keep-alive connections on one event loop in this process (not httpx in threads, which
    costs 8-11 ms of this machine's CPU per request with 20 threads, a quarter of what the server spends): the
    clients share the server's two cores, so the lighter they are, the more the figure is the server's."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    procs = [pid, *children(pid)] if pid is not None else []
    before = {p: cpu_s(p) for p in procs}
    results, wall = asyncio.run(_light_clients(host, int(port), clients, duration_s, seed0))
    busy = {p: (cpu_s(p) - before[p]) / wall for p in procs}
    ok = [dt for s, dt in results if s == 200]
    return {
        # how busy the server's process and each of its children (the workers, spawn's resource tracker) were
        "server_cpu_share": round(busy[pid], 3) if pid is not None else None,
        "children_cpu_share": [round(busy[p], 3) for p in procs[1:]],
        "clients": clients,
        "requests": len(results),
        "ok": len(ok),
        "not_ok": len(results) - len(ok),
        "wall_s": round(wall, 3),
        "throughput_rps": len(ok) / wall,
        "p50_ms": pct([x * 1e3 for x in ok], 50),
        "p95_ms": pct([x * 1e3 for x in ok], 95),
    }


def _spin(n: int) -> float:
    t0 = time.perf_counter()
    s = 0
    for i in range(n):
        s += i
    return time.perf_counter() - t0


def parallel_capacity(n: int = 2_000_000) -> float:
    """How many cores' worth of pure-Python work two processes get right now: 2 x (one alone) / (two at once, the
    slower of the two). 2.0 on two idle cores; less when other work shares the machine."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as p:
        p.map(_spin, [10_000, 10_000])
        one = min(p.apply(_spin, (n,)) for _ in range(3))
        two = max(p.map(_spin, [n, n], chunksize=1))
    return 2 * one / two


def scaling(
    servers: dict[str, tuple[str, int]], duration_s: float, trials: int = SCALING_TRIALS, max_rounds: int = 8
) -> dict:
    """Single-client and 20-client throughput of each server, interleaved, in rounds (one trial of each per
    round); medians and ratios over ``trials`` quiet rounds.

    The machine is shared: a round counts as quiet when two busy processes got at least ``QUIET_CAPACITY`` cores'
    worth just before and just after it (:func:`parallel_capacity`). Rounds run until ``trials`` are quiet or
    ``max_rounds`` have run; with fewer quiet rounds than ``trials`` the medians are over every round, and
    ``quiet`` says so. Every round is in the output, with its capacity."""
    rounds: list[dict] = []
    load_before = os.getloadavg()
    capacity = parallel_capacity()
    while len(rounds) < max_rounds and sum(r["quiet"] for r in rounds) < trials:
        before = capacity
        trial: dict[str, dict[str, dict]] = {}
        for name, (base, pid) in servers.items():
            trial[name] = {
                "single": closed_loop(base, 1, duration_s, pid=pid),
                "multi": closed_loop(base, SCALING_CLIENTS, duration_s, pid=pid),
            }
        capacity = parallel_capacity()
        quiet = min(before, capacity) >= QUIET_CAPACITY
        rounds.append({"capacity_before": before, "capacity_after": capacity, "quiet": quiet, "servers": trial})
    kept = [r for r in rounds if r["quiet"]]
    enough = len(kept) >= trials
    used = kept if enough else rounds
    out: dict[str, Any] = {
        "clients": SCALING_CLIENTS,
        "trial_s": duration_s,
        "target": SCALING_TARGET,
        "quiet": enough,
        "rounds_run": len(rounds),
        "rounds_used": len(used),
        # other work on the machine shows here: the 1-minute load average (this benchmark adds about 2 while it
        # runs), and around each round how many cores' worth two busy processes got (2.0: two free cores)
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "capacity": [(round(r["capacity_before"], 2), round(r["capacity_after"], 2)) for r in rounds],
    }
    for name in servers:
        singles = [r["servers"][name]["single"] for r in used]
        multis = [r["servers"][name]["multi"] for r in used]
        single = statistics.median(x["throughput_rps"] for x in singles)
        multi = statistics.median(x["throughput_rps"] for x in multis)

        def spread(xs: list[dict]) -> float:
            v = [x["throughput_rps"] for x in xs]
            return (max(v) - min(v)) / statistics.median(v)

        out[name] = {
            "single_rps": single,
            "multi_rps": multi,
            "ratio": multi / single,
            "meets_target": multi / single >= SCALING_TARGET,
            "single_p50_ms": statistics.median(x["p50_ms"] for x in singles),
            "single_p95_ms": statistics.median(x["p95_ms"] for x in singles),
            "multi_p50_ms": statistics.median(x["p50_ms"] for x in multis),
            "multi_p95_ms": statistics.median(x["p95_ms"] for x in multis),
            "spread_single": spread(singles),
            "spread_multi": spread(multis),
            "not_ok": sum(x["not_ok"] for x in singles + multis),
            # cores' worth used by the server's own process and by its children (the workers) with 20 clients
            "multi_server_cores": statistics.median(x["server_cpu_share"] or 0 for x in multis),
            "multi_children_cores": statistics.median(sum(x["children_cpu_share"]) for x in multis),
            "single_rps_by_round": [round(r["servers"][name]["single"]["throughput_rps"], 1) for r in rounds],
            "multi_rps_by_round": [round(r["servers"][name]["multi"]["throughput_rps"], 1) for r in rounds],
        }
    out["rounds"] = rounds
    return out


def start_server(*args: str, sobol_cache: str | None = None) -> tuple[subprocess.Popen, str]:
    """``flopcast serve`` on a free port with ``args``, warmed up (imports, catalogs, the database, every worker).
    ``sobol_cache``: the folder of its Sobol points cache (one file per seed and size), instead of the user's."""
    port = free_port()
    exe = str(Path(sys.executable).with_name("flopcast"))
    env = dict(os.environ, **({"FLOPCAST_SOBOL_CACHE": sobol_cache} if sobol_cache else {}))
    srv = subprocess.Popen(
        [exe, "serve", "--port", str(port), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if srv.poll() is not None:
            raise RuntimeError(f"flopcast serve {' '.join(args)} exited with {srv.returncode}")
        try:
            if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    with httpx.Client(base_url=base, timeout=60) as c:
        for _ in range(3):  # one client: each request may land on a worker not yet warm
            c.post("/api/estimate", json=TYPICAL).raise_for_status()
    with ThreadPoolExecutor(8) as ex:  # several at once: every worker process has run an estimate
        for r in ex.map(
            lambda i: httpx.post(base + "/api/estimate", json={**TYPICAL, "seed": i}, timeout=60), range(16)
        ):
            r.raise_for_status()
    return srv, base


def stop_server(srv: subprocess.Popen) -> None:
    srv.terminate()
    srv.wait(timeout=30)


def big_upload(base: str, pid: int, total: int = 1 << 30) -> dict:
    """A 1 GB chunked body (no Content-Length): the answer, what the client handed over, the server's memory."""
    sent = [0]

    def body(chunk: int = 64 * 1024):
        block = b" " * chunk
        while sent[0] < total:
            sent[0] += chunk
            yield block

    peak_reset = reset_peak(pid)
    before = memory_kb(pid)
    t0 = time.perf_counter()
    r = httpx.post(base + "/api/estimate", content=body(), headers={"content-type": "application/json"}, timeout=600)
    wall = time.perf_counter() - t0
    after = memory_kb(pid)
    # the peak since the reset (or, where it could not be reset, how far the upload raised the earlier peak)
    peak_growth = after["VmHWM"] - (before["VmRSS"] if peak_reset else before["VmHWM"])
    return {
        "body_bytes": total,
        "status": r.status_code,
        "answer": r.json(),
        "handed_over_bytes": sent[0],
        "wall_s": wall,
        "rss_before_mb": before["VmRSS"] / 1024,
        "rss_after_mb": after["VmRSS"] / 1024,
        "peak_before_mb": before["VmHWM"] / 1024,
        "peak_after_mb": after["VmHWM"] / 1024,
        "rss_growth_mb": (after["VmRSS"] - before["VmRSS"]) / 1024,
        "peak_reset": peak_reset,
        "peak_growth_mb": peak_growth / 1024,
        "within_50mb": after["VmRSS"] - before["VmRSS"] < 50 * 1024 and peak_growth < 50 * 1024,
    }


def main() -> None:
    quick = "--quick" in sys.argv
    only_scaling = "--scaling" in sys.argv
    # the requests below use thousands of seeds, each of which the engine may cache on disk (a file per seed):
    # the servers keep that cache in a folder of their own, removed at the end
    cache = tempfile.mkdtemp(prefix="flopcast-bench-sobol-")
    try:
        run_all_parts(quick, only_scaling, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def run_all_parts(quick: bool, only_scaling: bool, cache: str) -> None:
    srv, base = start_server(sobol_cache=cache)
    try:
        one, one_base = start_server("--workers", "1", sobol_cache=cache)
        try:
            rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 8
            pair = {"default": (base, srv.pid), "workers_1": (one_base, one.pid)}
            scale = scaling(pair, 2.0 if quick else 4.0, max_rounds=rounds)
        finally:
            stop_server(one)
        if only_scaling:
            print(json.dumps({"cores": len(os.sched_getaffinity(0)), "scaling": scale}, indent=2))
            return
        start = memory_kb(srv.pid)
        start_workers = workers_rss_mb(srv.pid)
        upload = big_upload(base, srv.pid)
        load = typical_load(base, 200 if quick else 1000)
        sat = saturated(base, 5.0 if quick else 20.0)
        end = memory_kb(srv.pid)
        end_workers = workers_rss_mb(srv.pid)
    finally:
        stop_server(srv)
    res = {
        "server": "flopcast serve (uvicorn; estimates in one worker process per core), limits at their defaults",
        "cores": len(os.sched_getaffinity(0)),
        "scaling": scale,
        "typical_request": TYPICAL,
        "typical": load,
        "saturated": sat,
        "upload_1gb": upload,
        "server_rss_mb": {"after_warm_up": start["VmRSS"] / 1024, "end": end["VmRSS"] / 1024},
        "server_peak_rss_mb": end["VmHWM"] / 1024,
        "workers_rss_mb": {"after_warm_up": start_workers, "end": end_workers},
        "quick": quick,
    }
    if not quick:
        (HERE / "results_web_load.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
