"""Trend fit with 10,000 bootstrap resamples over 50 points, and the whole `flopcast trend` command."""

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
    res = {
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
