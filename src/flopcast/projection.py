"""The forecast behind ``flopcast forecast``: a Monte Carlo over the components of frontier training runs.

Orchestration: it wires the stage functions of :mod:`flopcast.forecasting` over the points of
:func:`flopcast.series.frontier_points` and fills a :class:`Forecast`. Every value is log10 inside; the
sources of spread are drawn as separate additive terms (see :mod:`flopcast.forecasting`), so the variance
each contributes is reported beside the forecast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from flopcast.errors import InvalidInputError
from flopcast.forecasting import (
    COMPONENTS,
    METRICS,
    bootstrap_weights,
    cap_path_log10,
    capped,
    component_values,
    exceedance,
    first_year_at_least,
    lines_at_anchor,
    log10_draws,
    metric_log10,
    variance_shares,
    yearly_max_residuals,
)

if TYPE_CHECKING:
    from flopcast.series import FrontierPoints

__all__ = ["UNITS", "Forecast", "ForecastYear", "Prior", "project", "threshold_key"]

UNITS = {"compute": "FLOP", "cost": "USD", "chips": "chips", "power": "W"}
#: the growth factors a year a prior may take: a thousandfold rise or fall a year, far beyond any trend observed
PRIOR_MIN, PRIOR_MAX = 1e-3, 1e3
#: years between the grid points the crossing dates are read from
_GRID_STEP_YEARS = 0.05


@dataclass(frozen=True)
class Prior:
    """A subjective 90% interval on a component's growth, as a factor a year (``Prior("compute", 3, 5)``:
    compute grows 3-5x a year). It replaces the fitted growth after the last data point."""

    component: str
    low: float
    high: float

    def __post_init__(self) -> None:
        if self.component not in COMPONENTS:
            raise InvalidInputError(f"prior {self.component!r} is not one of {', '.join(COMPONENTS)}")
        for side in ("low", "high"):
            v = getattr(self, side)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise InvalidInputError(
                    f"prior {self.component} {side}={v!r} must be a growth factor a year > 0 (e.g. 4 for x4)"
                )
            if not PRIOR_MIN <= v <= PRIOR_MAX:
                raise InvalidInputError(
                    f"prior {self.component} {side}={v:g} is outside {PRIOR_MIN:g}..{PRIOR_MAX:g} (a growth factor a "
                    "year: 4 for x4, 0.5 for halving)"
                )
        if self.low > self.high:
            raise InvalidInputError(f"prior {self.component}: low {self.low:g} is above high {self.high:g}")

    def draws_oom_per_year(self, samples: int, rng: np.random.Generator) -> np.ndarray:
        """Growth in OOM a year: normal in log10 with the interval as its 5th and 95th percentiles."""
        return log10_draws(self.low, self.high, samples, rng)


@dataclass
class ForecastYear:
    """One year of a forecast: the value at mid-year, its interval, and the chance of passing each threshold."""

    year: int
    median: float
    p5: float
    p95: float
    p_exceeds: dict[str, float]
    #: share of the variance of log10(value) from each source of spread (sums to 1)
    variance: dict[str, float]
    #: probability that a cap binds this year (None without caps)
    p_capped: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "year": self.year,
            "median": self.median,
            "p5": self.p5,
            "p95": self.p95,
            "p_exceeds": self.p_exceeds,
            "variance": self.variance,
        }
        if self.p_capped is not None:
            d["p_capped"] = self.p_capped
        return d


@dataclass
class Forecast:
    """A forecast of the largest training run (or the top-N frontier's trend), year by year."""

    metric: str
    unit: str
    #: "largest" (the largest run of each year) or "top N" (the trend of the top-N frontier)
    target: str
    years: list[ForecastYear]
    #: threshold -> {"p5": year, "median": year, "p95": year}: when the chance of passing it reaches 5%, 50%
    #: and 95% (None past the horizon)
    crossings: dict[str, dict[str, float | None]]
    #: component (and the metric) -> {"oom_per_year", "growth_per_year", "low", "high"} as fitted (90%, bootstrap)
    growth: dict[str, dict[str, float]]
    #: the last data point, decimal year: the forecast's origin
    anchor_year: float
    first_data_year: float
    n_runs: int
    runs: list[str]
    priors: list[Prior] = field(default_factory=list)
    caps: list[dict[str, Any]] = field(default_factory=list)
    #: the median level of the target at the anchor (the threshold floor)
    anchor_value: float = 0.0
    #: the runs fitted: ``{year, value, label}`` with the metric's median (the chart's points)
    points: list[dict[str, Any]] = field(default_factory=list)
    #: the forecast from the last data point on, every quarter year: ``{year, median, p5, p95}`` lists
    curve: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    samples: int = 0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "target": self.target,
            "anchor_year": self.anchor_year,
            "anchor_value": self.anchor_value,
            "first_data_year": self.first_data_year,
            "n_runs": self.n_runs,
            "runs": self.runs,
            "growth": self.growth,
            "priors": [{"component": p.component, "low": p.low, "high": p.high} for p in self.priors],
            "caps": self.caps,
            "crossings": self.crossings,
            "years": [y.to_dict() for y in self.years],
            "points": self.points,
            "curve": self.curve,
            "notes": self.notes,
            "samples": self.samples,
            "seed": self.seed,
        }


def threshold_key(t: float) -> str:
    """A threshold as a JSON key, in the shortest form a user types: 1e9, 2.5e9, 1e28, 1000."""
    text = f"{t:g}"
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else text


def project(
    points: FrontierPoints,
    metric: str,
    until: int,
    *,
    largest: bool = True,
    thresholds: Sequence[float] = (),
    priors: Sequence[Prior] = (),
    caps: Mapping[str, tuple[float, float | None, float | None]] | None = None,
    cap_year: float = 2030.0,
    samples: int = 10_000,
    seed: int = 0,
) -> Forecast:
    """Forecast ``metric`` ("compute", "cost", "chips", "power") for each year to ``until``.

    ``caps`` maps a constraint's name to ``(value, low, high)`` of the compute it allows by ``cap_year``
    (a 90% lognormal interval, or a point without ``low``/``high``). ``thresholds`` are in the metric's unit.
    """
    if metric not in METRICS:
        raise InvalidInputError(f"metric={metric!r} is not one of {', '.join(METRICS)}")
    if isinstance(samples, bool) or not isinstance(samples, int) or not 100 <= samples <= 1_000_000:
        raise InvalidInputError(f"samples={samples!r} is outside 100..1,000,000")
    seen = [p.component for p in priors]
    if len(set(seen)) < len(seen):
        raise InvalidInputError(f"prior: each component at most once; got {', '.join(seen)}")
    rng = np.random.default_rng(seed)
    x = np.asarray(points.years, dtype=float)
    n = x.size
    t0 = float(x.max())
    if not isinstance(until, int) or isinstance(until, bool) or until < math.floor(t0) + 1:
        raise InvalidInputError(f"until={until!r} must be a year after the last data point ({t0:.1f})")
    med = points.medians
    names = ("compute_flop", "cost_usd", "chip_hours", "chips", "power_w", "peak_flop_per_s")

    def comps(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return component_values(*(values[k] for k in names))

    central = comps(med)
    lvl0, b0 = {}, {}
    for k in COMPONENTS:
        lvl0[k], b0[k] = lines_at_anchor(x, central[k], t0)
    # regression: the lines on bootstrap resamples of the runs
    w = bootstrap_weights(n, samples, rng)
    reg = {k: lines_at_anchor(x, central[k], t0, w) for k in COMPONENTS}
    # measurement: the lines on points drawn within each run's own interval (one normal per run and sample,
    # shared by its quantities: a run's compute, cost and chips move together, as they do in its estimate)
    z = rng.standard_normal((samples, n))
    drawn = {k: 10.0 ** (np.log10(med[k]) + z * points.sigmas_log10[k]) for k in names}
    meas_comps = comps(drawn)
    meas = {k: lines_at_anchor(x, meas_comps[k], t0) for k in COMPONENTS}
    prior_by = {p.component: p for p in priors}
    const, signs = METRICS[metric]

    # the metric's own central line and the largest run's offset above it
    m_pts = metric_log10(metric, central)
    m_lvl0 = const + sum(s * lvl0[k] for k, s in signs.items())
    m_b0 = sum(s * b0[k] for k, s in signs.items())
    offsets = np.zeros(1)
    if largest:
        offsets = yearly_max_residuals(x, m_pts - (m_lvl0 + m_b0 * (x - t0)))
    off0 = float(np.median(offsets))
    off_draw = (rng.choice(offsets, size=samples) - off0) if largest else np.zeros(samples)

    grid = np.arange(math.floor(t0) + 0.5, until + 0.5 + 1e-9, _GRID_STEP_YEARS)
    grid = grid[grid >= t0]
    report_years = list(range(math.floor(t0) + 1, until + 1))
    ty = np.array([y + 0.5 for y in report_years])
    ts = np.unique(np.concatenate([[t0], grid, ty]))
    dt = ts - t0

    prior_draws = {k: p.draws_oom_per_year(samples, rng) for k, p in prior_by.items()}

    def terms(k: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Component ``k``'s (level, slope) deviations at the anchor by source, each ``(samples,)``."""
        rl, rb = reg[k][0] - lvl0[k], reg[k][1] - b0[k]
        ml, mb = meas[k][0] - lvl0[k], meas[k][1] - b0[k]
        zero = np.zeros(samples)
        out = {"regression": (rl, rb), "measurement": (ml, mb)}
        if k in prior_draws:  # the prior replaces the fitted growth: only the level keeps its spread
            out = {"regression": (rl, zero), "measurement": (ml, zero), "subjective": (zero, prior_draws[k] - b0[k])}
        return out

    src: dict[str, list[np.ndarray]] = {}
    for k, sign in signs.items():
        for name, (lv, sl) in terms(k).items():
            acc = src.setdefault(name, [np.zeros(samples), np.zeros(samples)])
            acc[0] += sign * lv
            acc[1] += sign * sl
    if largest:
        src["largest run"] = [off_draw, np.zeros(samples)]
    level_all = np.sum([v[0] for v in src.values()], axis=0)
    slope_all = np.sum([v[1] for v in src.values()], axis=0)
    total = (m_lvl0 + m_b0 * dt + off0)[:, None] + level_all[None, :] + np.outer(dt, slope_all)

    p_capped = None
    cap_rows: list[dict[str, Any]] = []
    notes: list[str] = []
    unused = [k for k in prior_by if k not in signs]
    if unused:
        notes.append(f"{metric} does not depend on {', '.join(unused)}: that prior changes nothing here")
    if caps:
        # the run's compute, with the same draws; the largest run's offset is taken to be its compute's
        c_lvl, c_b = lvl0["compute"], b0["compute"]
        ct = terms("compute")
        c_level = sum(v[0] for v in ct.values()) + (off_draw if largest else 0.0)
        c_slope = sum(v[1] for v in ct.values())
        compute_total = (c_lvl + c_b * dt + (off0 if largest else 0.0))[:, None] + c_level + np.outer(dt, c_slope)
        anchor_c = c_lvl + (off0 if largest else 0.0) + c_level  # each sample's own start (feasible)
        cap_draw = np.full(samples, np.inf)
        for name, (value, low, high) in caps.items():
            draw = (
                log10_draws(value, value, samples, rng)
                if low is None or high is None
                else log10_draws(low, high, samples, rng)
            )
            cap_draw = np.minimum(cap_draw, draw)
            cap_rows.append({"name": name, "value_flop": value, "low_flop": low, "high_flop": high, "year": cap_year})
        path = cap_path_log10(ts[:, None], cap_year, cap_draw[None, :], t0, anchor_c[None, :])
        p_cap_ts = (compute_total > path).mean(axis=1)
        total = capped(compute_total, total, path)
        p_capped = {float(t): float(p) for t, p in zip(ts, p_cap_ts, strict=True)}
        if until > cap_year:
            notes.append(f"the caps are estimates for {cap_year:.0f}; after {cap_year:.0f} they are held flat")

    thr = [float(t) for t in thresholds]
    anchor_value = float(10.0 ** np.median(total[0]))  # ts[0] is the last data point
    for t in thr:
        if not (math.isfinite(t) and t > anchor_value):
            from flopcast.formatting import format_value

            raise InvalidInputError(
                f"threshold={threshold_key(t)} is not above the {'largest run' if largest else 'frontier trend'}'s "
                f"{metric} at the last data point ({t0:.1f}: {format_value(anchor_value, UNITS[metric])}); "
                "give a higher threshold"
            )
    exceed = exceedance(total, thr) if thr else np.zeros((ts.size, 0))
    index = {round(float(t), 6): i for i, t in enumerate(ts)}
    years = []
    for y in report_years:
        i = index[round(y + 0.5, 6)]
        q5, q50, q95 = np.quantile(total[i], [0.05, 0.5, 0.95])
        shares = variance_shares({k: v[0] + v[1] * (y + 0.5 - t0) for k, v in src.items()})
        years.append(
            ForecastYear(
                year=y,
                median=float(10.0**q50),
                p5=float(10.0**q5),
                p95=float(10.0**q95),
                p_exceeds={threshold_key(t): float(exceed[i, j]) for j, t in enumerate(thr)},
                variance=shares,
                p_capped=None if p_capped is None else p_capped[float(ts[i])],
            )
        )
    crossings = {}
    for j, t in enumerate(thr):
        crossings[threshold_key(t)] = {
            label: first_year_at_least(list(ts), exceed[:, j], level)
            for label, level in (("p5", 0.05), ("median", 0.5), ("p95", 0.95))
        }

    quarter = sorted({0, *(np.flatnonzero(np.diff(np.floor((ts - t0) * 4)) > 0) + 1), ts.size - 1})
    q = np.quantile(total[quarter], [0.5, 0.05, 0.95], axis=1)
    curve = {
        "year": [round(float(t), 4) for t in ts[quarter]],
        **{k: [float(v) for v in 10.0 ** q[i]] for i, k in enumerate(("median", "p5", "p95"))},
    }

    growth = {}
    for k in (*COMPONENTS, *([metric] if metric != "compute" else [])):
        if k == metric:
            b, bs = m_b0, sum(s * reg[c][1] for c, s in signs.items())
        else:
            b, bs = b0[k], reg[k][1]
        lo, hi = np.quantile(bs, [0.05, 0.95])
        growth[k] = {
            "oom_per_year": float(b),
            "growth_per_year": float(10.0**b),
            "low": float(10.0**lo),
            "high": float(10.0**hi),
        }
    ahead = until + 0.5 - t0
    notes.insert(
        0,
        f"extrapolates {ahead:.1f} years past the last data point ({t0:.1f}); the fit spans "
        f"{float(x.min()):.1f}-{t0:.1f}",
    )
    if ahead > t0 - float(x.min()):
        notes.append("the forecast reaches further ahead than the data reach back: treat its far years with care")
    return Forecast(
        metric=metric,
        unit=UNITS[metric],
        target="largest" if largest else "top",
        years=years,
        crossings=crossings,
        growth=growth,
        anchor_year=t0,
        first_data_year=float(x.min()),
        n_runs=n,
        runs=list(points.labels),
        priors=list(priors),
        caps=cap_rows,
        anchor_value=anchor_value,
        points=[
            {"year": float(t), "value": float(10.0**v), "label": lab}
            for t, v, lab in zip(x, m_pts, points.labels, strict=True)
        ],
        curve=curve,
        notes=notes,
        samples=samples,
        seed=seed,
    )
