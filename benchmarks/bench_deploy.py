"""Deployment: one scenario with 10,000 samples; the planner's search over 5 chips x 4 precisions x batches
1-1,024; the whole default plan (every chip with a price) with its Monte Carlo; and the sweep."""

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
    from flopcast.catalogs import bundled_hardware, get_model
    from flopcast.serving import estimate_deployment, sweep
    from flopcast.serving.config import Workload, served_from_spec
    from flopcast.serving.plan import BATCHES, search

    scenario_ms = _time(
        lambda: estimate_deployment("llama-2-70b", hardware="h100", scenario="chat-assistant", samples=10_000), 21
    )
    m = served_from_spec(get_model("llama-3-70b"))
    chips = [bundled_hardware().get(h) for h in ("a100", "h100", "h200", "b200", "mi300x")]

    def planner_search() -> int:
        _rows, searched, _ = search(
            m,
            Workload(70.0, 215.0),
            hardware=chips,
            price=lambda _hw: 2.0,
            output_tokens_per_day=1e9,
            precisions=("bf16", "fp8", "int8", "fp4"),
            batches=BATCHES,
        )
        return searched

    searched = planner_search()
    search_ms = _time(planner_search, 21)
    default_ms = _time(lambda: estimate_deployment("llama-3-70b", tokens_per_day=1e9, samples=10_000), 11)
    sweep_ms = _time(lambda: sweep("llama-2-70b"), 21)
    res = {
        "scenario_median_ms": scenario_ms,
        "planner_search_median_ms": search_ms,
        "planner_search_configs": searched,
        "default_plan_median_ms": default_ms,
        "sweep_median_ms": sweep_ms,
        "sweep_configs": len(sweep("llama-2-70b")),
    }
    (HERE / "results_deploy.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
