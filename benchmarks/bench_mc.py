"""Monte Carlo benchmark: the GPT-3 cost chain with six uncertain inputs.

The same chain (cloud + amortized hardware + energy, six uncertain inputs) is computed
in five ways at the same precision:

* ``flopcast_sobol``  -- ``flopcast.uncertainty.draw(..., method="sobol")`` + stage functions + ``Summary``
* ``flopcast_random`` -- the same with ``method="random"``
* ``numpy``           -- ``rng.lognormal`` / ``rng.normal`` directly, same formula, ``np.percentile``
* ``squigglepy_expr`` -- the chain built as one squigglepy expression of distribution
  objects and sampled with ``sq.sample(expr, n)``. squigglepy re-samples a distribution
  every time it occurs in an expression, so the shared ``chip_hours`` (3 uses) and the
  depreciation rate (2 uses) are *independent* draws: this is a different (narrower)
  output distribution. Its n is measured against its own converged values, and its bias
  against the true chain is reported separately.
* ``squigglepy_inputs`` -- the correct way in squigglepy: ``sq.sample`` each input once,
  then the same numpy formula.

Precision target: p5, p50 and p95 within 1% of converged values. For each method the
smallest n = 2**k (k = 8..22) is found at which the 95th percentile over 20 seeds of the
maximum relative error of (p5, p50, p95) is <= 1%. Each method is then timed at its own n
(median of repeated ``time.perf_counter`` runs, one core).

Run: ``.venv/bin/python benchmarks/bench_mc.py [--quick]``; writes benchmarks/results_mc.json.
"""

from __future__ import annotations

import contextlib
import os

for _v in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_v] = "1"
with contextlib.suppress(AttributeError, OSError):  # pin to one core so timings are single-core (Linux)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import squigglepy as sq  # noqa: E402

from flopcast import training  # noqa: E402
from flopcast.uncertainty import Summary, ci, draw  # noqa: E402

HERE = Path(__file__).resolve().parent
TARGET_REL_ERR = 0.01
N_SEEDS = 20
SEEDS = [1000 + i for i in range(N_SEEDS)]
ALT_SEEDS = [5000 + i for i in range(N_SEEDS)]  # a disjoint seed set, to show how stable the n estimate is
K_MIN, K_MAX = 8, 22
REFERENCE_K = 22
QUANTILES = (5, 50, 95)

# -- the chain -----------------------------------------------------------------------

#: 90% intervals of the six uncertain inputs (lognormal unless marked normal)
INTERVALS = {
    "chips": (8000.0, 12500.0, "lognormal"),
    "training_time_hours": (177.6, 710.4, "lognormal"),
    "price_usd_per_chip_hour": (0.8, 1.6, "lognormal"),
    "chip_price_usd": (9312.5, 37250.0, "lognormal"),
    "depreciation_oom_per_year": (0.10, 0.18, "normal"),
    "usd_per_kwh": (0.04, 0.113, "lognormal"),
}
TDP_W = 300.0
SERVER_POWER_RATIO = 1.667
AVERAGE_POWER_FRACTION = 0.75
PUE = 1.25
SERVER_OVERHEAD = 1.0
INTERCONNECT_FRACTION = 0.19
YEARS_HELD = 1.2676
HOURS_PER_YEAR = 8766.0  # flopcast.units.HOURS_PER_YEAR (365.25 d)


def total_cost_usd(
    chips, training_time_hours, price_usd_per_chip_hour, chip_price_usd, depreciation_oom_per_year, usd_per_kwh
):
    """Cloud + amortized hardware + energy cost, for numpy arrays (flopcast stage functions)."""
    chip_hours = np.asarray(chips, dtype=float) * training_time_hours
    cloud = training.cloud_cost_usd(chip_hours, price_usd_per_chip_hour)
    hardware = training.amortized_hardware_cost_usd(
        chip_hours,
        chip_price_usd,
        server_overhead=SERVER_OVERHEAD,
        interconnect_fraction=INTERCONNECT_FRACTION,
        years_held=YEARS_HELD,
        depreciation_oom_per_year=depreciation_oom_per_year,
    )
    energy = training.energy_cost_usd(
        chip_hours,
        TDP_W,
        server_power_ratio=SERVER_POWER_RATIO,
        average_power_fraction=AVERAGE_POWER_FRACTION,
        pue=PUE,
        usd_per_kwh=usd_per_kwh,
    )
    return cloud + hardware + energy


# flopcast inputs
FC_INPUTS = {k: ci(lo, hi, kind=kind) for k, (lo, hi, kind) in INTERVALS.items()}

# plain-numpy parameters, derived independently of flopcast
_Z90 = statistics.NormalDist().inv_cdf(0.95)


def _np_params(lo, hi, kind):
    if kind == "lognormal":
        return (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / (2 * _Z90)
    return (lo + hi) / 2, (hi - lo) / (2 * _Z90)


NP_PARAMS = {k: (_np_params(lo, hi, kind), kind) for k, (lo, hi, kind) in INTERVALS.items()}

# squigglepy inputs (sq.to: lognormal when low > 0; the rate is explicitly normal)
SQ_INPUTS = {k: (sq.to(lo, hi) if kind == "lognormal" else sq.norm(lo, hi)) for k, (lo, hi, kind) in INTERVALS.items()}


def _sq_expression():
    """The chain as a squigglepy expression. Every leaf occurrence is re-sampled independently."""
    d = SQ_INPUTS
    chip_hours = d["chips"] * d["training_time_hours"]  # built once, used three times below
    rate = d["depreciation_oom_per_year"]  # used twice
    cloud = chip_hours * d["price_usd_per_chip_hour"]
    value = d["chip_price_usd"] * (10 ** (-rate * YEARS_HELD)) * (SERVER_OVERHEAD / (1 - INTERCONNECT_FRACTION))
    hardware = chip_hours * value * (rate * (math.log(10.0) / HOURS_PER_YEAR))
    kw = TDP_W / 1000.0 * SERVER_POWER_RATIO * AVERAGE_POWER_FRACTION * PUE
    energy = chip_hours * d["usd_per_kwh"] * kw
    return cloud + hardware + energy


SQ_EXPR = _sq_expression()

# -- the methods: run(n, seed) -> (p5, p50, p95) --------------------------------------


def run_flopcast_sobol(n, seed):
    v = draw(FC_INPUTS, n, rng=seed, method="sobol")
    s = Summary.from_samples(total_cost_usd(**v), "USD")
    return s.p5, s.median, s.p95


def run_flopcast_random(n, seed):
    v = draw(FC_INPUTS, n, rng=seed, method="random")
    s = Summary.from_samples(total_cost_usd(**v), "USD")
    return s.p5, s.median, s.p95


def run_numpy(n, seed):
    rng = np.random.default_rng(seed)
    v = {}
    for k, ((a, b), kind) in NP_PARAMS.items():
        v[k] = rng.lognormal(a, b, n) if kind == "lognormal" else rng.normal(a, b, n)
    return tuple(np.percentile(total_cost_usd(**v), QUANTILES))


def run_squigglepy_expr(n, seed):
    sq.set_seed(seed)
    x = sq.sample(SQ_EXPR, n=n, verbose=False)
    return tuple(np.percentile(x, QUANTILES))


def run_squigglepy_inputs(n, seed):
    sq.set_seed(seed)
    v = {k: sq.sample(d, n=n, verbose=False) for k, d in SQ_INPUTS.items()}
    return tuple(np.percentile(total_cost_usd(**v), QUANTILES))


METHODS = {
    "flopcast_sobol": run_flopcast_sobol,
    "flopcast_random": run_flopcast_random,
    "numpy": run_numpy,
    "squigglepy_expr": run_squigglepy_expr,
    "squigglepy_inputs": run_squigglepy_inputs,
}

# -- measurement ----------------------------------------------------------------------


def max_rel_err(q, ref):
    return max(abs(a / b - 1.0) for a, b in zip(q, ref, strict=True))


def required_n(run, ref, k_min=K_MIN, k_max=K_MAX, seeds=SEEDS):
    """Smallest n = 2**k whose 95th-percentile-over-seeds max relative error is <= 1%."""
    trail = []
    for k in range(k_min, k_max + 1):
        n = 2**k
        errs = [max_rel_err(run(n, s), ref) for s in seeds]
        q95 = float(np.percentile(errs, 95))
        trail.append({"n": n, "err_p95_over_seeds": q95, "err_median_over_seeds": float(np.median(errs))})
        if q95 <= TARGET_REL_ERR:
            return n, trail
    return None, trail


def time_call(fn, *args, reps=15, min_total_s=0.0):
    fn(*args)  # warm-up (lazy imports, caches)
    ts = []
    t_start = time.perf_counter()
    while len(ts) < reps or time.perf_counter() - t_start < min_total_s:
        t0 = time.perf_counter()
        fn(*args)
        ts.append(time.perf_counter() - t0)
    return {"median_ms": 1e3 * statistics.median(ts), "min_ms": 1e3 * min(ts), "reps": len(ts)}


def flopcast_breakdown(n, seed=0, reps=15):
    """Median ms of each phase of the flopcast-sobol pipeline, and the draw's own parts."""
    from scipy import special
    from scipy.stats import qmc

    phases = {}
    phases["draw"] = time_call(lambda: draw(FC_INPUTS, n, rng=seed, method="sobol"), reps=reps)["median_ms"]
    v = draw(FC_INPUTS, n, rng=seed, method="sobol")
    phases["formula"] = time_call(lambda: total_cost_usd(**v), reps=reps)["median_ms"]
    x = total_cost_usd(**v)
    phases["summary"] = time_call(lambda: Summary.from_samples(x, "USD"), reps=reps)["median_ms"]
    m = max(int(np.ceil(np.log2(n))), 1)
    inside = {
        "qmc.Sobol(d=6, scramble=True) constructor": time_call(
            lambda: qmc.Sobol(d=6, scramble=True, seed=np.random.default_rng(seed)), reps=reps
        )["median_ms"],
        "Sobol.random_base2": time_call(
            lambda: qmc.Sobol(d=6, scramble=True, seed=np.random.default_rng(seed)).random_base2(m), reps=reps
        )["median_ms"],
    }
    inside["Sobol.random_base2"] -= inside["qmc.Sobol(d=6, scramble=True) constructor"]
    u = np.random.default_rng(seed).random(n)
    inside["ppf (ndtri + exp) x6"] = 6 * time_call(lambda: np.exp(1.0 + 0.5 * special.ndtri(u)), reps=reps)["median_ms"]
    return phases, inside


def _short_paths(line: str) -> str:
    """Profiler rows name files by absolute path; print them relative to the repository or the library folder."""
    line = line.replace(str(HERE.parent) + os.sep, "")
    line = re.sub(r"\S*/site-packages/", "site-packages/", line)
    return re.sub(r"\S*/lib/python3\.\d+/", "stdlib/", line)


def profile_lines(fn, *args, top=12, reps=20):
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(reps):
        fn(*args)
    pr.disable()
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(top)
    lines = [_short_paths(ln.rstrip()) for ln in buf.getvalue().splitlines() if ln.strip()]
    # keep the header row and the table
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return [f"(cProfile, {reps} calls, sorted by tottime)", *lines[start : start + top + 1]]


def check_squigglepy_resampling(n=200_000, seed=7):
    """Does squigglepy correlate repeated uses of one distribution object in an expression?"""
    a = sq.to(1, 10)
    sq.set_seed(seed)
    ratio = sq.sample(a / a, n=n, verbose=False)
    ch = SQ_INPUTS["chips"] * SQ_INPUTS["training_time_hours"]
    sq.set_seed(seed)
    diff = sq.sample(ch - ch, n=n, verbose=False)
    return {
        "a/a for a=sq.to(1,10): fraction of samples != 1": float(np.mean(np.abs(ratio - 1) > 1e-12)),
        "a/a: sd of log": float(np.std(np.log(ratio))),
        "a/a: expected sd of log if resampled (sqrt(2)*sigma)": math.sqrt(2) * a.norm_sd,
        "chip_hours - chip_hours: sd (0 if correlated)": float(np.std(diff)),
        "resamples_repeated_uses": bool(np.mean(np.abs(ratio - 1) > 1e-12) > 0.5),
    }


COLD_SNIPPETS = {
    "import flopcast.uncertainty": "from flopcast.uncertainty import draw, ci",
    "import squigglepy": "import squigglepy",
}


def cold_start(runs=5):
    """Fresh-process costs: imports, and the first draw (sobol imports scipy.stats.qmc lazily)."""
    import subprocess

    code = r"""
import time, json
t0 = time.perf_counter()
from flopcast.uncertainty import draw, ci
t1 = time.perf_counter()
inp = {"a": ci(1, 2), "b": ci(3, 4)}
draw(inp, 8192, rng=1, method=METHOD)
t2 = time.perf_counter()
draw(inp, 8192, rng=2, method=METHOD)
t3 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2]))
"""
    sq_code = "import time; t0 = time.perf_counter(); import squigglepy; print((time.perf_counter() - t0))"
    out = {}
    for method in ("random", "sobol"):
        rows = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", code.replace("METHOD", repr(method))],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(runs)
        ]
        out[method] = {
            "import_flopcast_uncertainty_ms": 1e3 * statistics.median(r[0] for r in rows),
            "first_draw_ms": 1e3 * statistics.median(r[1] for r in rows),
            "second_draw_ms": 1e3 * statistics.median(r[2] for r in rows),
        }
    out["import_squigglepy_ms"] = 1e3 * statistics.median(
        float(subprocess.run([sys.executable, "-c", sq_code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    )
    out["note"] = f"median of {runs} fresh processes; draw of 2 inputs, n=8192"
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=15, help="timing repetitions (>= 15)")
    ap.add_argument("--out", default=str(HERE / "results_mc.json"))
    args = ap.parse_args(argv)
    args.reps = max(args.reps, 15)
    t_all = time.perf_counter()
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731

    # sanity: the three parameterizations agree
    for k, (_lo, _hi, kind) in INTERVALS.items():
        (a, b), _ = NP_PARAMS[k]
        d, s = FC_INPUTS[k], SQ_INPUTS[k]
        fa, fb = (d.mu, d.sigma) if kind == "lognormal" else (d.mean, d.sd)
        sa, sb = (s.norm_mean, s.norm_sd) if kind == "lognormal" else (s.mean, s.sd)
        assert (
            abs(fa - a) < 1e-9 * max(1, abs(a))
            and abs(fb - b) < 1e-9
            and abs(sa - a) < 1e-6 * max(1, abs(a))
            and abs(sb - b) < 1e-6
        ), (k, (fa, fb), (a, b), (sa, sb))

    # converged values
    n_ref = 2**REFERENCE_K
    log(f"reference values at n=2**{REFERENCE_K} ...")
    t0 = time.perf_counter()
    ref = run_flopcast_sobol(n_ref, 0)
    ref_numpy = run_numpy(n_ref, 0)
    ref_sq_expr = run_squigglepy_expr(n_ref, 0)
    log(f"  done in {time.perf_counter() - t0:.1f} s")
    reference = {
        "n": n_ref,
        "flopcast_sobol_seed0": dict(zip(("p5", "p50", "p95"), ref, strict=True)),
        "numpy_seed0": dict(zip(("p5", "p50", "p95"), ref_numpy, strict=True)),
        "numpy_vs_sobol_max_rel_diff": max_rel_err(ref_numpy, ref),
        "squigglepy_expr_seed0": dict(zip(("p5", "p50", "p95"), ref_sq_expr, strict=True)),
        "squigglepy_expr_bias_vs_true": {
            q: a / b - 1.0 for q, a, b in zip(("p5", "p50", "p95"), ref_sq_expr, ref, strict=True)
        },
    }
    resampling = check_squigglepy_resampling()

    # required n
    results = {}
    for name, run in METHODS.items():
        t0 = time.perf_counter()
        target = ref_sq_expr if name == "squigglepy_expr" else ref
        n, trail = required_n(run, target)
        results[name] = {
            "n": n,
            "log2_n": int(math.log2(n)) if n else None,
            "reference": "own converged values (biased chain)" if name == "squigglepy_expr" else "true",
            "search": trail,
        }
        # robustness of the 20-seed estimate: repeat the search with a disjoint seed set
        n_alt, _ = required_n(run, target, seeds=ALT_SEEDS)
        n_40, _ = required_n(run, target, seeds=SEEDS + ALT_SEEDS)
        results[name]["n_alt_seed_set"] = n_alt
        results[name]["n_40_seeds"] = n_40
        log(f"{name:18s} n={n} (other seed set: {n_alt}, both: {n_40})  ({time.perf_counter() - t0:.1f} s)")

    # timing at each method's own n
    for name, run in METHODS.items():
        n = results[name]["n"]
        results[name]["timing"] = time_call(run, n, 12345, reps=args.reps, min_total_s=0.3)
        n_40 = results[name]["n_40_seeds"]
        results[name]["timing_at_n_40_seeds"] = (
            results[name]["timing"] if n_40 == n else time_call(run, n_40, 12345, reps=args.reps, min_total_s=0.3)
        )
        log(
            f"{name:18s} {results[name]['timing']['median_ms']:.2f} ms at n={n}, "
            f"{results[name]['timing_at_n_40_seeds']['median_ms']:.2f} ms at n={n_40}"
        )
    # and at a common n (flopcast-sobol's), for a per-sample comparison
    n_common = results["flopcast_sobol"]["n"]
    at_common = {
        name: time_call(run, n_common, 12345, reps=args.reps, min_total_s=0.3)["median_ms"]
        for name, run in METHODS.items()
    }

    base = results["flopcast_sobol"]["timing"]["median_ms"]
    ratios = {name: r["timing"]["median_ms"] / base for name, r in results.items()}
    base_40 = results["flopcast_sobol"]["timing_at_n_40_seeds"]["median_ms"]
    ratios_40 = {name: r["timing_at_n_40_seeds"]["median_ms"] / base_40 for name, r in results.items()}
    phases, inside_draw = flopcast_breakdown(n_common, reps=args.reps)
    prof = profile_lines(run_flopcast_sobol, n_common, 1)
    cold = cold_start()

    out = {
        "benchmark": "GPT-3 cost chain, six uncertain inputs (cloud + amortized hardware + energy)",
        "inputs_90pct_ci": {k: {"low": lo, "high": hi, "kind": kind} for k, (lo, hi, kind) in INTERVALS.items()},
        "target": {
            "max_rel_err_of_p5_p50_p95": TARGET_REL_ERR,
            "over_seeds_percentile": 95,
            "seeds": N_SEEDS,
            "n_grid": f"2**{K_MIN}..2**{K_MAX}",
        },
        "reference": reference,
        "squigglepy_resampling_check": resampling,
        "methods": results,
        "time_ratio_vs_flopcast_sobol": ratios,
        "time_ratio_vs_flopcast_sobol_at_n_40_seeds": ratios_40,
        "median_ms_at_common_n": {"n": n_common, **at_common},
        "flopcast_sobol_breakdown_ms": {"n": n_common, "phases": phases, "inside_draw": inside_draw, "profile": prof},
        "cold_start": cold,
        "targets_met": {
            "flopcast_sobol_le_50ms": base <= 50.0,
            "flopcast_sobol_ge_5x_faster_than_squigglepy_expr": ratios["squigglepy_expr"] >= 5.0,
            "flopcast_sobol_ge_5x_faster_than_squigglepy_inputs": ratios["squigglepy_inputs"] >= 5.0,
            "at_n_40_seeds": {
                "flopcast_sobol_le_50ms": base_40 <= 50.0,
                "flopcast_sobol_ge_5x_faster_than_squigglepy_expr": ratios_40["squigglepy_expr"] >= 5.0,
                "flopcast_sobol_ge_5x_faster_than_squigglepy_inputs": ratios_40["squigglepy_inputs"] >= 5.0,
            },
        },
        "timing": {
            "clock": "time.perf_counter",
            "reps_min": args.reps,
            "statistic": "median",
            "threads": 1,
            "cpu_affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        },
        "wall_s": None,
    }
    out["wall_s"] = time.perf_counter() - t_all
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    log(f"wrote {args.out} ({out['wall_s']:.0f} s)")
    return out


if __name__ == "__main__":
    main()
