"""Trend fit with 10,000 bootstrap resamples over 50 points, the whole `flopcast trend` command, and
`flopcast forecast` to 2035 with 10,000 samples (the Monte Carlo alone, the service call, the command)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    from flopcast.trends import fit_trend

    rng = np.random.default_rng(0)
    years = np.sort(rng.uniform(2016, 2024, 50))
    values = 10 ** (0.38 * (years - 2016) + 5 + rng.normal(0, 0.4, 50))
    fit_trend(years, values, bootstrap=10_000)  # warm-up
    fit_ms = []
    for _ in range(21):
        t0 = time.perf_counter()
        fit_trend(years, values, bootstrap=10_000, breakpoint=True)
        fit_ms.append((time.perf_counter() - t0) * 1e3)
    exe = Path(sys.executable).parent / "flopcast"
    cmd = [
        str(exe),
        "trend",
        "cost",
        "--top",
        "10",
        "--since",
        "2016",
        "--until",
        "2023",
        "--extrapolate",
        "2030",
        "--cross",
        "1e9",
        "--json",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    cli_s = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        cli_s.append(time.perf_counter() - t0)
    # forecast: the Monte Carlo over the frontier points, the whole service call (pipeline estimates of the
    # frontier runs included) and the command
    from flopcast.projection import project
    from flopcast.series import frontier_points
    from flopcast.service import database, frontier_forecast, settings

    db = database(None)
    pts = frontier_points(db, top=10, since=2016, settings=settings(db, method="amortized"))
    project(pts, "cost", 2035, thresholds=[1e9], samples=10_000)  # warm-up
    mc_ms, svc_s = [], []
    for _ in range(11):
        t0 = time.perf_counter()
        project(pts, "cost", 2035, thresholds=[1e9], samples=10_000)
        mc_ms.append((time.perf_counter() - t0) * 1e3)
    for _ in range(5):
        t0 = time.perf_counter()
        frontier_forecast("cost", until=2035, thresholds=[1e9], samples=10_000, db=db)
        svc_s.append(time.perf_counter() - t0)
    fcmd = [str(exe), "forecast", "cost", "--largest", "--threshold", "1e9", "--until", "2035", "--json"]
    subprocess.run(fcmd, check=True, capture_output=True)
    fcli_s = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(fcmd, check=True, capture_output=True)
        fcli_s.append(time.perf_counter() - t0)
    res = {
        "forecast_mc_median_ms": statistics.median(mc_ms),
        "forecast_mc_runs": len(mc_ms),
        "forecast_runs_fitted": int(pts.years.size),
        "forecast_service_median_s": statistics.median(svc_s),
        "forecast_service_runs": len(svc_s),
        "forecast_cli_median_s": statistics.median(fcli_s),
        "forecast_cli_runs": len(fcli_s),
        "forecast_cli": " ".join(fcmd[1:]),
        "fit_median_ms": statistics.median(fit_ms),
        "fit_runs": len(fit_ms),
        "points": 50,
        "bootstrap": 10_000,
        "cli_median_s": statistics.median(cli_s),
        "cli_runs": len(cli_s),
        "cli": " ".join(cmd[1:]),
    }
    (HERE / "results_trend.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
