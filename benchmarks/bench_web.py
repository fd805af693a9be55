"""Web app and report: calculator latency, 50 concurrent requests, and the time to build a report.

The server is `flopcast serve` in its own process (uvicorn; the estimates in its worker processes, one per core, the
default), measured over loopback with httpx.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    port = free_port()
    exe = str(Path(sys.executable).with_name("flopcast"))
    srv = subprocess.Popen([exe, "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        body = {"model": "gpt-3", "samples": 10_000}
        with httpx.Client(base_url=base, timeout=60) as c:
            c.post("/api/estimate", json=body).raise_for_status()  # warm-up (imports, catalogs)
            lat = []
            for _ in range(21):
                t0 = time.perf_counter()
                c.post("/api/estimate", json=body).raise_for_status()
                lat.append((time.perf_counter() - t0) * 1e3)
            adhoc = {
                "params": [60e9, 80e9],
                "tokens": 2e12,
                "hardware": "h100",
                "chips": 1024,
                "utilization": [0.35, 0.5],
                "price_per_chip_hour": [2, 3.5],
                "samples": 10_000,
            }
            lat_adhoc = []
            for _ in range(21):
                t0 = time.perf_counter()
                c.post("/api/estimate", json=adhoc).raise_for_status()
                lat_adhoc.append((time.perf_counter() - t0) * 1e3)

        def one(i):
            t0 = time.perf_counter()
            with httpx.Client(base_url=base, timeout=120) as c:
                r = c.post("/api/estimate", json={"model": "gpt-3", "samples": 10_000, "seed": i})
            return r.status_code, (time.perf_counter() - t0) * 1e3

        t0 = time.perf_counter()
        with ThreadPoolExecutor(50) as ex:
            results = list(ex.map(one, range(50)))
        wall = time.perf_counter() - t0
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    statuses = [s for s, _ in results]
    conc = sorted(ms for _, ms in results)

    from flopcast.reporting.html import build_report

    build_report("gpt-3")  # warm-up
    rep = []
    for _ in range(5):
        t0 = time.perf_counter()
        build_report("gpt-3")
        rep.append(time.perf_counter() - t0)
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run(
            [exe, "report", "gpt-3", "--out", os.path.join(tmp, "report.html")],
            check=True,
            env=env,
            capture_output=True,
        )
        report_cli_s = time.perf_counter() - t0
    res = {
        "estimate_gpt3_10k_median_ms": statistics.median(lat),
        "estimate_adhoc_10k_median_ms": statistics.median(lat_adhoc),
        "concurrent": {
            "requests": 50,
            "non_200": sum(s != 200 for s in statuses),
            "wall_s": wall,
            "median_ms": statistics.median(conc),
            "max_ms": conc[-1],
        },
        "report_in_process_median_s": statistics.median(rep),
        "report_cli_s": report_cli_s,
    }
    (HERE / "results_web.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
