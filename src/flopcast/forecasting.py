"""Forecasts of frontier training runs from their components, with every source of spread kept apart.

Stage functions: pure and array-in/array-out, on log10 values. A frontier run is the product of components,
each a log-linear trend in time fitted to the same frontier models:

- ``compute``: training compute, FLOP;
- ``price-performance``: peak FLOP bought per dollar of the cost method (``3600 x peak / $ per chip-hour``);
- ``utilization``: achieved / peak FLOP/s;
- ``duration``: training time, hours;
- ``chip-peak``: peak FLOP/s per chip;
- ``power-per-chip``: facility watts per chip (TDP x server power ratio x PUE).

Each metric is a signed sum of components (:data:`METRICS`): ``cost = compute / (price-performance x
utilization)``, ``chips = compute / (chip-peak x utilization x duration x 3600 s)``, ``power = chips x
power-per-chip``. Ordinary least squares is linear in the data, so on one set of points the components' lines
add up exactly to the metric's own line: the forecast by components equals the trend of the metric when no
prior is given, and a prior on one component moves only that part.

The Monte Carlo draws each source of uncertainty as its own additive term in log10 (so each source's variance
can be reported, Cottier's request that regression and subjective uncertainty be kept apart):

- ``regression``: the lines refitted on a bootstrap resample of the models (:func:`bootstrap_weights`);
- ``measurement``: the lines refitted on points drawn within each model's own 90% interval (errors in the
  variables: a model with a 1-OOM interval moves the line less than its median alone would claim);
- ``largest run``: how far the year's largest run sits above the frontier's trend, drawn from the per-year
  maxima of the residuals (:func:`yearly_max_residuals`; only for the largest run);
- ``subjective``: a prior interval on a component's growth, which replaces that component's fitted growth
  after the last data point (its regression and measurement spread on the growth are then dropped).

Caps (:func:`capped`) clip the compute of a sample at a constraint's level; cost, chips and power scale with
compute, so they are clipped by the same factor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from flopcast.errors import InvalidInputError

__all__ = [
    "COMPONENTS",
    "LOG10_S_PER_HOUR",
    "METRICS",
    "SOURCES",
    "bootstrap_weights",
    "cap_path_log10",
    "capped",
    "component_values",
    "exceedance",
    "first_year_at_least",
    "lines_at_anchor",
    "log10_draws",
    "metric_log10",
    "variance_shares",
    "yearly_max_residuals",
]

COMPONENTS = ("compute", "price-performance", "utilization", "duration", "chip-peak", "power-per-chip")
LOG10_S_PER_HOUR = float(np.log10(3600.0))

#: each metric as ``(constant log10 term, {component: sign})``: log10 metric = constant + sum(sign x component)
METRICS: dict[str, tuple[float, dict[str, int]]] = {
    "compute": (0.0, {"compute": 1}),
    "cost": (0.0, {"compute": 1, "price-performance": -1, "utilization": -1}),
    "chips": (-LOG10_S_PER_HOUR, {"compute": 1, "chip-peak": -1, "utilization": -1, "duration": -1}),
    "power": (
        -LOG10_S_PER_HOUR,
        {"compute": 1, "chip-peak": -1, "utilization": -1, "duration": -1, "power-per-chip": 1},
    ),
}
SOURCES = ("regression", "measurement", "largest run", "subjective")


def log10_draws(low: float, high: float, samples: int, rng: np.random.Generator) -> np.ndarray:
    """log10 of ``samples`` draws from the lognormal whose 90% interval is ``low``-``high``
    (:func:`flopcast.uncertainty.ci`; every draw is ``low`` when ``low == high``)."""
    from flopcast.uncertainty import ci

    dist = ci(low, high, kind="lognormal")
    return np.log10(np.broadcast_to(dist.ppf(rng.random(samples)), (samples,)).astype(float))


def component_values(
    compute_flop,
    cost_usd,
    chip_hours,
    chips,
    power_w,
    peak_flop_per_s,
) -> dict[str, np.ndarray]:
    """log10 of each component for each run, from the quantities the pipeline estimates.

    Utilization is ``compute / (chip-hours x 3600 x peak)``; price-performance, duration and power per chip
    close the identities of :data:`METRICS`, so that :func:`metric_log10` gives back log10 of the cost, the
    chips and the power exactly. Arrays broadcast (a run per column, samples per row).
    """
    c = np.log10(np.asarray(compute_flop, dtype=float))
    h = np.log10(np.asarray(chip_hours, dtype=float))
    f = np.log10(np.asarray(peak_flop_per_s, dtype=float))
    u = c - h - LOG10_S_PER_HOUR - f
    n = np.log10(np.asarray(chips, dtype=float))
    return {
        "compute": c,
        "price-performance": c - u - np.log10(np.asarray(cost_usd, dtype=float)),
        "utilization": u,
        "duration": h - n,
        "chip-peak": f,
        "power-per-chip": np.log10(np.asarray(power_w, dtype=float)) - n,
    }


def metric_log10(metric: str, components: Mapping[str, np.ndarray]) -> np.ndarray:
    """log10 of ``metric`` from log10 components (:data:`METRICS`)."""
    if metric not in METRICS:
        raise InvalidInputError(f"metric={metric!r} is not one of {', '.join(METRICS)}")
    const, signs = METRICS[metric]
    return np.asarray(const + sum(s * np.asarray(components[k], dtype=float) for k, s in signs.items()), dtype=float)


def bootstrap_weights(n: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """``(samples, n)`` counts of each point in a resample of ``n`` points with replacement.

    A resample that draws fewer than two distinct dates has no line; it is drawn again.
    """
    if n < 3:
        raise InvalidInputError(f"a trend needs at least 3 points; got {n}")
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=samples).astype(float)
    bad = (w > 0).sum(axis=1) < 2
    while bad.any():
        w[bad] = rng.multinomial(n, np.full(n, 1.0 / n), size=int(bad.sum()))
        bad = (w > 0).sum(axis=1) < 2
    return w


def lines_at_anchor(years, log10_values, t_anchor: float, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares lines of ``log10_values`` on ``years``: (level at ``t_anchor``, slope per year).

    ``log10_values`` is ``(n,)`` or ``(samples, n)``; ``weights`` ``(n,)`` or ``(samples, n)`` (counts of a
    bootstrap resample; None is 1 each). Each row gives one line.
    """
    x = np.asarray(years, dtype=float)
    y = np.asarray(log10_values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    sw = w.sum(axis=-1, keepdims=True)
    xm = (w * x).sum(axis=-1, keepdims=True) / sw
    ym = (w * y).sum(axis=-1, keepdims=True) / sw
    dx = x - xm
    sxx = (w * dx * dx).sum(axis=-1)
    slope = (w * dx * (y - ym)).sum(axis=-1) / sxx
    level = ym[..., 0] + slope * (t_anchor - xm[..., 0])
    return level, slope


def yearly_max_residuals(years, residuals_log10, min_runs: int = 3) -> np.ndarray:
    """The largest residual of each calendar year with at least ``min_runs`` points: how far each year's top
    run sat above the trend (OOM). A year with one or two runs is left out: its maximum says little about
    the year's largest run. Rows of a 2-D ``residuals_log10`` are handled alike; years are the last axis."""
    x = np.floor(np.asarray(years, dtype=float)).astype(int)
    r = np.asarray(residuals_log10, dtype=float)
    kept = [y for y in np.unique(x) if (x == y).sum() >= min_runs]
    if not kept:
        raise InvalidInputError(
            f"no calendar year has {min_runs} runs to measure the largest run's lead over the trend"
        )
    return np.stack([r[..., x == y].max(axis=-1) for y in kept], axis=-1)


def cap_path_log10(year, cap_year: float, cap_log10, t_anchor: float, anchor_log10):
    """log10 of a cap on a run in ``year``: geometric from the run's level at ``t_anchor`` (feasible by
    definition) to ``cap_log10`` at ``cap_year``, held at the cap after ``cap_year`` (the published scenarios
    go no further). Never below the anchor level. ``cap_log10`` and ``anchor_log10`` broadcast (samples)."""
    t = np.asarray(year, dtype=float)
    cap = np.asarray(cap_log10, dtype=float)
    start = np.asarray(anchor_log10, dtype=float)
    frac = np.clip((t - t_anchor) / max(cap_year - t_anchor, 1e-9), 0.0, 1.0)
    return np.maximum(start + frac * (cap - start), start)


def capped(log10_compute, log10_metric, cap_log10):
    """Clip compute at ``cap_log10`` and every metric proportional to it by the same factor (log10)."""
    cut = np.minimum(0.0, np.asarray(cap_log10, dtype=float) - np.asarray(log10_compute, dtype=float))
    return np.asarray(log10_metric, dtype=float) + cut


def exceedance(log10_samples, threshold) -> np.ndarray:
    """P(value > threshold) per row of samples (last axis samples), for each threshold (``(..., k)``)."""
    s = np.asarray(log10_samples, dtype=float)
    t = np.log10(np.atleast_1d(np.asarray(threshold, dtype=float)))
    return (s[..., None] > t).mean(axis=-2)


def first_year_at_least(years: Sequence[float], probabilities, level: float) -> float | None:
    """The first year whose probability reaches ``level`` (None if none does)."""
    p = np.asarray(probabilities, dtype=float)
    hit = np.flatnonzero(p >= level)
    return round(float(years[int(hit[0])]), 2) if hit.size else None


def variance_shares(parts: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Each source's share of the variance of the sum of its additive terms (last axis samples).

    The terms are drawn independently, so their variances add up to the total's up to sampling noise; the
    shares are normalised to sum to 1.
    """
    v = {k: float(np.var(np.asarray(x, dtype=float), axis=-1).mean()) for k, x in parts.items()}
    total = sum(v.values())
    return {k: (x / total if total > 0 else 0.0) for k, x in v.items()}
