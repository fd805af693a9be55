"""The web app under load: throughput and latency with 50 concurrent clients, /api/health while the server is
saturated with maximal requests, and the server's memory through a 1 GB chunked upload.

The server is the real `flopcast serve` in its own process (uvicorn, one worker), driven over loopback by threads
with httpx, one client each (keep-alive), in this process. Client and server share the machine's cores.

    .venv/bin/python benchmarks/bench_web_load.py [--quick]
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
CLIENTS = 50
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
    port = free_port()
    exe = str(Path(sys.executable).with_name("flopcast"))
    srv = subprocess.Popen([exe, "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=60) as c:
            for _ in range(3):  # warm-up: imports, catalogs, the database
                c.post("/api/estimate", json=TYPICAL).raise_for_status()
        start = memory_kb(srv.pid)
        upload = big_upload(base, srv.pid)
        load = typical_load(base, 200 if quick else 1000)
        sat = saturated(base, 5.0 if quick else 20.0)
        end = memory_kb(srv.pid)
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    res = {
        "server": "flopcast serve (uvicorn, one worker), limits at their defaults",
        "cores": os.cpu_count(),
        "typical_request": TYPICAL,
        "typical": load,
        "saturated": sat,
        "upload_1gb": upload,
        "server_rss_mb": {"after_warm_up": start["VmRSS"] / 1024, "end": end["VmRSS"] / 1024},
        "server_peak_rss_mb": end["VmHWM"] / 1024,
        "quick": quick,
    }
    if not quick:
        (HERE / "results_web_load.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
