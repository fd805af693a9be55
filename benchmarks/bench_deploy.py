"""Deployment: one scenario with 10,000 samples, and a sweep of 5 chips x 4 precisions x 8 batch sizes."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _time(fn, runs: int) -> float:
    fn()  # warm-up (imports, catalogs)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(out)


def main() -> None:
    from flopcast.serving import estimate_deployment, sweep

    scenario_ms = _time(
        lambda: estimate_deployment("llama-2-70b", hardware="h100", scenario="chat-assistant", samples=10_000), 21
    )
    sweep_ms = _time(lambda: sweep("llama-2-70b"), 21)
    res = {"scenario_median_ms": scenario_ms, "sweep_median_ms": sweep_ms, "sweep_configs": len(sweep("llama-2-70b"))}
    (HERE / "results_deploy.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
