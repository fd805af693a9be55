"""The floors the command benchmark sets beneath `estimate` and `costs` (benchmarks/bench_startup.py, mc_floor.py).

Their timings belong to the benchmark, never here; these tests pin that the floor of `costs` does the work it
says (the same order statistics as flopcast's exact quantiles, on as many rows as the CSV has sampled).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from flopcast.uncertainty.summary import quantile_ranks

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("n", [2, 3, 20, 8192, 10_000])
def test_the_floor_selects_the_order_statistics_of_numpys_linear_quantile(n):
    # numpy's linear p5/p50/p95 of n samples interpolate between floor(h) and floor(h) + 1 at h = (n - 1) q:
    # at n = 8,192, h = 409.55, 4095.5 and 7781.45, so the ranks 409, 410, 4095, 4096, 7781, 7782
    lo, hi, _ = quantile_ranks(n)
    assert _module("mc_floor").ranks(n) == sorted(set(lo.tolist()) | set(hi.tolist()))
    if n == 8192:
        assert _module("mc_floor").ranks(n) == [409, 410, 4095, 4096, 7781, 7782]


def test_the_floors_selection_gives_numpys_quantiles():
    # the floor's partition at those ranks leaves the values np.quantile interpolates between
    rng = np.random.default_rng(3)
    x = np.exp(rng.standard_normal((4, 1000)))
    want = np.quantile(x, (0.05, 0.5, 0.95), axis=1)
    kth = _module("mc_floor").ranks(1000)
    part = x.copy()
    part.view(np.int64).partition(kth, axis=1)
    lo, hi, g = quantile_ranks(1000)
    got = part[:, lo] + (part[:, hi] - part[:, lo]) * g
    np.testing.assert_allclose(got.T, want, rtol=1e-15)


def test_the_floor_runs_on_a_small_batch():
    assert _module("mc_floor").main(["--rows", "70", "--samples", "256", "--block", "32"]) == 0


def test_the_floors_size_is_the_sampled_rows_of_the_csv(tmp_path):
    # two models: the first has a sampled compute (p5 < p95) and a point chip-hours (p5 == p95), the second a
    # sampled chip-hours and no compute interval at all (an empty cell): 2 sampled rows
    csv = tmp_path / "costs.csv"
    csv.write_text(
        "model,training_compute_flop,training_compute_flop_p5,training_compute_flop_p95,"
        "chip_hours,chip_hours_p5,chip_hours_p95,notes\n"
        "a,3e23,1e23,9e23,5,5,5,\n"
        "b,,,,7,6,8,x\n"
    )
    assert _module("bench_startup").sampled_rows(str(csv)) == 2
