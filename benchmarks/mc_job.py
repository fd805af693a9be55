"""The 1% Monte Carlo job as a command: GPT-3's cost chain (bench_mc.py's six uncertain inputs), p5/p50/p95.

``python benchmarks/mc_job.py ENGINE [N]`` with ENGINE one of

* ``flopcast``   -- ``flopcast.uncertainty``: ``ci`` inputs, ``draw(method="sobol")``, ``Summary``;
* ``squigglepy`` -- squigglepy used correctly: ``sq.sample`` each input once (``sq.to`` / ``sq.norm``);
* ``numpy``      -- plain ``numpy.random`` lognormals and normals.

Every engine evaluates the same plain-numpy formula below (cloud + amortized hardware + energy) and
prints the three quantiles. N defaults to the samples each engine needs for 1% at p5, p50 and p95
(95th percentile over 20 seeds; measured in bench_mc.py and benchmarks/results_mc.json): 2^13 for
flopcast's Sobol points, 2^16 for the other two. bench_startup.py times it in fresh processes.
"""

from __future__ import annotations

import math
import sys

#: 90% intervals (lognormal unless marked normal) -- the same as bench_mc.INTERVALS
INTERVALS = {
    "chips": (8000.0, 12500.0, "lognormal"),
    "hours": (177.6, 710.4, "lognormal"),
    "price": (0.8, 1.6, "lognormal"),
    "chip_price": (9312.5, 37250.0, "lognormal"),
    "rate": (0.10, 0.18, "normal"),
    "usd_per_kwh": (0.04, 0.113, "lognormal"),
}
#: samples each engine needs for 1% (benchmarks/results_mc.json)
SAMPLES = {"flopcast": 2**13, "squigglepy": 2**16, "numpy": 2**16}
TDP_KW, SERVER_POWER_RATIO, AVERAGE_POWER_FRACTION, PUE = 0.3, 1.667, 0.75, 1.25
INTERCONNECT_FRACTION, YEARS_HELD, HOURS_PER_YEAR = 0.19, 1.2676, 8766.0
Z90 = 1.6448536269514722  # the standard normal's 95th percentile


def total(v):
    """Cloud + amortized hardware (Cottier et al.'s depreciation) + energy, on arrays of samples."""
    import numpy as np

    chip_hours = v["chips"] * v["hours"]
    value = v["chip_price"] * np.exp(-v["rate"] * YEARS_HELD * math.log(10.0)) / (1 - INTERCONNECT_FRACTION)
    hardware = chip_hours * value * v["rate"] * math.log(10.0) / HOURS_PER_YEAR
    energy = chip_hours * TDP_KW * SERVER_POWER_RATIO * AVERAGE_POWER_FRACTION * PUE * v["usd_per_kwh"]
    return chip_hours * v["price"] + hardware + energy


def run(engine: str, n: int, seed: int = 0) -> tuple[float, float, float]:
    import numpy as np

    if engine == "flopcast":
        from flopcast.uncertainty import Summary, ci, draw

        inputs = {k: ci(lo, hi, kind=kind) for k, (lo, hi, kind) in INTERVALS.items()}
        s = Summary.from_samples(total(draw(inputs, n, rng=seed, method="sobol")), "USD")
        return s.p5, s.median, s.p95
    if engine == "squigglepy":
        import squigglepy as sq

        sq.set_seed(seed)
        dists = {
            k: sq.to(lo, hi) if kind == "lognormal" else sq.norm(lo, hi) for k, (lo, hi, kind) in INTERVALS.items()
        }
        v = {k: sq.sample(d, n=n, verbose=False) for k, d in dists.items()}
    elif engine == "numpy":
        rng = np.random.default_rng(seed)
        v = {}
        for k, (lo, hi, kind) in INTERVALS.items():
            if kind == "lognormal":
                mu, sigma = (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / (2 * Z90)
                v[k] = rng.lognormal(mu, sigma, n)
            else:
                v[k] = rng.normal((lo + hi) / 2, (hi - lo) / (2 * Z90), n)
    else:
        raise SystemExit(f"engine {engine!r} is not one of {', '.join(SAMPLES)}")
    p5, p50, p95 = np.percentile(total(v), [5, 50, 95])
    return float(p5), float(p50), float(p95)


if __name__ == "__main__":
    engine = sys.argv[1] if len(sys.argv) > 1 else "flopcast"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else SAMPLES.get(engine, 0)
    print(" ".join(f"{q:.6g}" for q in run(engine, n)))
