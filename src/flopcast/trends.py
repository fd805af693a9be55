"""Log-linear trends over time: fits with intervals, extrapolation and crossings.

A trend is an ordinary least-squares line of ``log10(value)`` on the publication date
in decimal years (2020-07-02 is 2020.5). Its slope is in orders of magnitude (OOM)
per year; ``10**slope`` is the growth factor per year and ``log10(2)/slope`` the
doubling time in years. Every interval comes two ways: ``"analytic"`` (the textbook
OLS formulas with Student-t quantiles, n-2 degrees of freedom) and ``"bootstrap"``
(pairs bootstrap, percentile intervals; the resampled slopes and intercepts are kept
so that derived quantities such as crossing years get intervals too).

The regression primitives (OLS, bootstrap, breakpoint) are in :mod:`flopcast.regression`;
the point masks (frontier at release, above trend, date windows) in :mod:`flopcast.selection`.
Everything here is a plain function of arrays; :class:`TrendFit` only holds the
numbers and derives intervals from them. Importing this module costs numpy only:
scipy (t quantiles) and the uncertainty package (seeded generators) are imported
inside the functions that need them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flopcast.dates import decimal_year, year_label
from flopcast.errors import InvalidInputError, MissingInputError
from flopcast.regression import BreakpointFit, bootstrap_lines, fit_breakpoint, ols_log10

LOG10_2 = math.log10(2.0)
CI_METHODS = ("analytic", "bootstrap")


# ---------------------------------------------------------------------------- validation


def _check_credibility(credibility) -> float:
    if isinstance(credibility, bool) or not isinstance(credibility, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"credibility={credibility!r} must be a number in (0, 1), e.g. 0.9 for 90%")
    c = float(credibility)
    if not (0.0 < c < 1.0):
        raise InvalidInputError(f"credibility={credibility} is outside (0, 1); it is a fraction, e.g. 0.9 for 90%")
    return c


def check_series(dates, values, *, min_points: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Decimal years and log10 values of a series, after checking them."""
    years = np.atleast_1d(decimal_year(dates)).astype(float)
    vals = np.atleast_1d(np.asarray(values, dtype=float))
    if years.ndim != 1 or vals.ndim != 1:
        raise InvalidInputError(f"dates and values must be 1-D; got shapes {years.shape} and {vals.shape}")
    if years.size != vals.size:
        raise InvalidInputError(f"dates has {years.size} entries but values has {vals.size}; they must match")
    if vals.size < min_points:
        raise InvalidInputError(
            f"a trend needs at least {min_points} points; got {vals.size} (n-2 degrees of freedom must be >= 1)"
        )
    bad = np.flatnonzero(~np.isfinite(years))
    if bad.size:
        i = int(bad[0])
        raise InvalidInputError(
            f"dates[{i}]={np.atleast_1d(np.asarray(dates, dtype=object))[i]!r} is missing or not finite "
            f"({bad.size} such); every point needs a date (drop or fill missing dates first)"
        )
    bad = np.flatnonzero(~np.isfinite(vals) | (vals <= 0))
    if bad.size:
        i = int(bad[0])
        raise InvalidInputError(
            f"values[{i}]={vals[i]!r} is not a finite positive number ({bad.size} such); a log-linear trend "
            "needs values > 0 (drop zero, negative or missing values first)"
        )
    if np.ptp(years) == 0:
        raise InvalidInputError(f"all {years.size} dates are the same ({years[0]:.3f}); a trend needs a time span")
    return years, np.log10(vals)


def _t_quantile(credibility: float, dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + credibility / 2.0, dof))


def _scalar_or_array(x: np.ndarray, scalar: bool):
    return float(x) if scalar else x


# ---------------------------------------------------------------------------- the fit


def _interval(estimate, low, high, credibility, method, note=None) -> dict:
    out = {"estimate": estimate, "low": low, "high": high, "credibility": credibility, "method": method}
    if note is not None:
        out["note"] = note
    return out


@dataclass(frozen=True, eq=False)
class TrendFit:
    """A log-linear trend: OLS of log10(value) on the date in decimal years.

    The line is ``log10(value) = intercept_log10 + slope_oom_per_year * (year - t_ref_year)``,
    where ``t_ref_year`` is the mean date (centering keeps the intercept and slope
    uncorrelated and the arithmetic well conditioned). ``value`` is in ``unit``.
    """

    metric: str
    unit: str
    #: number of points (models) fitted
    n: int
    start_year: float
    end_year: float
    #: reference year of the intercept: the mean date of the points
    t_ref_year: float
    slope_oom_per_year: float
    #: log10 of the line's value (in ``unit``) at ``t_ref_year``
    intercept_log10: float
    slope_se_oom_per_year: float
    #: residual standard deviation of log10(value), in OOM (n-2 degrees of freedom)
    residual_sd_log10: float
    #: sum over points of (x - mean x)^2, years^2
    sxx_year2: float
    credibility: float
    #: t-based interval of the slope at ``credibility``
    slope_ci_analytic_oom_per_year: tuple[float, float]
    #: percentile interval of the bootstrap slopes at ``credibility`` (None when bootstrap=0)
    slope_ci_bootstrap_oom_per_year: tuple[float, float] | None
    bootstrap_slopes_oom_per_year: np.ndarray | None = field(default=None, repr=False)
    #: bootstrap intercepts: log10 of each resampled line at ``t_ref_year``
    bootstrap_intercepts_log10: np.ndarray | None = field(default=None, repr=False)
    #: the points fitted: decimal years and log10 of the values (None on a fit built without them)
    years: np.ndarray | None = field(default=None, repr=False)
    log10_values: np.ndarray | None = field(default=None, repr=False)
    labels: tuple[str, ...] | None = field(default=None, repr=False)
    breakpoint: BreakpointFit | None = None
    #: each point's own uncertainty (log10 sd of its 90% interval) that the bootstrap drew within; None: none
    measurement_sd_log10: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ basics

    @property
    def dof(self) -> int:
        return self.n - 2

    @property
    def intercept_log10_at_year0(self) -> float:
        """log10 of the line at year 0 (what ``numpy.polyfit`` reports as the intercept)."""
        return self.intercept_log10 - self.slope_oom_per_year * self.t_ref_year

    @property
    def bootstrap_resamples(self) -> int:
        return 0 if self.bootstrap_slopes_oom_per_year is None else int(self.bootstrap_slopes_oom_per_year.size)

    def _cred(self, credibility) -> float:
        return self.credibility if credibility is None else _check_credibility(credibility)

    def slope_interval(self, method: str = "analytic", credibility: float | None = None) -> tuple[float, float]:
        """(low, high) of the slope in OOM/year by ``"analytic"`` (t) or ``"bootstrap"`` (percentile)."""
        c = self._cred(credibility)
        if method == "analytic":
            if c == self.credibility:
                return self.slope_ci_analytic_oom_per_year
            half = _t_quantile(c, self.dof) * self.slope_se_oom_per_year
            return (self.slope_oom_per_year - half, self.slope_oom_per_year + half)
        if method == "bootstrap":
            if self.bootstrap_slopes_oom_per_year is None:
                raise MissingInputError(
                    "method='bootstrap' needs bootstrap resamples; this fit used bootstrap=0 (use method='analytic')"
                )
            if c == self.credibility and self.slope_ci_bootstrap_oom_per_year is not None:
                return self.slope_ci_bootstrap_oom_per_year
            lo, hi = np.quantile(self.bootstrap_slopes_oom_per_year, [0.5 - c / 2, 0.5 + c / 2])
            return (float(lo), float(hi))
        raise InvalidInputError(f"method={method!r} is not one of {', '.join(CI_METHODS)}")

    # ------------------------------------------------------------------ rates

    def oom_per_year(self, method: str = "analytic", credibility: float | None = None) -> dict:
        """The slope in orders of magnitude per year, with its interval."""
        c = self._cred(credibility)
        lo, hi = self.slope_interval(method, c)
        return _interval(self.slope_oom_per_year, lo, hi, c, method)

    def growth_per_year(self, method: str = "analytic", credibility: float | None = None) -> dict:
        """The growth factor per year (``10**slope``; 2.4 means x2.4 a year), with its interval."""
        c = self._cred(credibility)
        lo, hi = self.slope_interval(method, c)
        return _interval(10.0**self.slope_oom_per_year, 10.0**lo, 10.0**hi, c, method)

    def doubling_time_years(self, method: str = "analytic", credibility: float | None = None) -> dict:
        """Years for the trend to double (``log10(2)/slope``), with its interval.

        The low end comes from the high slope and vice versa. Where the slope or its
        interval reaches zero or below there is no finite doubling time: that end is
        None, and ``note`` says why.
        """
        c = self._cred(credibility)
        lo, hi = self.slope_interval(method, c)
        b = self.slope_oom_per_year
        est = LOG10_2 / b if b > 0 else None
        low = LOG10_2 / hi if hi > 0 else None
        high = LOG10_2 / lo if lo > 0 else None
        note = ""
        if b <= 0:
            note = f"the fitted slope ({b:.3g} OOM/year) does not grow, so nothing doubles"
        elif lo <= 0:
            note = (
                f"the {c:.0%} interval of the slope reaches {lo:.3g} OOM/year (no growth), so the doubling "
                "time has no upper bound"
            )
        return _interval(est, low, high, c, method, note)

    # ------------------------------------------------------------------ prediction

    def predict(self, year, credibility: float | None = None) -> dict:
        """The trend at ``year`` (dates or decimal years; vectorized), in ``unit`` (not log).

        ``median`` is the line; ``line_low``/``line_high`` the confidence interval of
        the line (where the trend itself is); ``pred_low``/``pred_high`` the
        prediction interval for one new model at that date. Both use t quantiles with
        n-2 degrees of freedom.
        """
        c = self._cred(credibility)
        x = np.asarray(decimal_year(year), dtype=float)
        scalar = x.ndim == 0
        if not np.isfinite(x).all():
            raise InvalidInputError(f"year={year!r} has missing or non-finite entries")
        xc = x - self.t_ref_year
        mid = self.intercept_log10 + self.slope_oom_per_year * xc
        t = _t_quantile(c, self.dof)
        s = self.residual_sd_log10
        lev = 1.0 / self.n + xc**2 / self.sxx_year2
        half_line = t * s * np.sqrt(lev)
        boot_a = self.bootstrap_intercepts_log10
        if (
            self.measurement_sd_log10 is not None
            and self.bootstrap_slopes_oom_per_year is not None
            and boot_a is not None
        ):
            # the lines refitted within each point's own interval: where they spread wider than the t band,
            # the band is theirs (half the width of their central interval, in log10)
            lines = boot_a[:, None] + np.outer(self.bootstrap_slopes_oom_per_year, np.ravel(xc))
            lo, hi = np.quantile(lines, [0.5 - c / 2, 0.5 + c / 2], axis=0)
            half_line = np.maximum(half_line, ((hi - lo) / 2).reshape(np.shape(xc)))
        half_pred = np.sqrt(half_line**2 + (t * s) ** 2)
        out: dict[str, Any] = {
            "year": x,
            "median": 10.0**mid,
            "line_low": 10.0 ** (mid - half_line),
            "line_high": 10.0 ** (mid + half_line),
            "pred_low": 10.0 ** (mid - half_pred),
            "pred_high": 10.0 ** (mid + half_pred),
        }
        out = {k: _scalar_or_array(v, scalar) for k, v in out.items()}
        out["credibility"] = c
        return out

    def crossing_year(self, value: float, credibility: float | None = None, method: str | None = None) -> dict:
        """The decimal year at which the fitted line reaches ``value`` (in ``unit``).

        ``estimate`` solves the OLS line. The interval is, by default, from the
        bootstrap lines (``method="bootstrap"``): a resampled line whose slope does not
        have the sign of the fitted one never reaches ``value`` in the trend's
        direction; if more than (1-credibility)/2 of them never do, the far end of the
        interval is None and ``note`` says so. ``method="analytic"`` inverts the
        t-based confidence band of the line (Fieller's interval); it is unbounded when
        the slope is not distinguishable from zero at that credibility. Without
        bootstrap resamples the analytic method is used.
        """
        c = self._cred(credibility)
        v = float(value)
        if not (math.isfinite(v) and v > 0):
            raise InvalidInputError(f"value={value!r} must be a finite positive number in {self.unit or 'the unit'}")
        target = math.log10(v)
        b, a = self.slope_oom_per_year, self.intercept_log10
        est = self.t_ref_year + (target - a) / b if b != 0 else None
        if method is None:
            method = "bootstrap" if self.bootstrap_slopes_oom_per_year is not None else "analytic"
        if method == "bootstrap":
            if self.bootstrap_slopes_oom_per_year is None:
                raise MissingInputError("method='bootstrap' needs a fit with bootstrap > 0 (or use method='analytic')")
            return self._crossing_bootstrap(target, est, c)
        if method == "analytic":
            return self._crossing_analytic(target, est, c)
        raise InvalidInputError(f"method={method!r} is not one of {', '.join(CI_METHODS)}")

    def _crossing_bootstrap(self, target: float, est: float | None, c: float) -> dict:
        bs, ba = self.bootstrap_slopes_oom_per_year, self.bootstrap_intercepts_log10
        assert bs is not None and ba is not None  # crossing_year calls this only with bootstrap resamples
        direction = np.sign(self.slope_oom_per_year)
        if direction == 0:
            return _interval(None, None, None, c, "bootstrap", "the fitted slope is zero; the line never crosses")
        # A resampled line with a slope of the other sign (or zero) never reaches the value going
        # forward in time: its crossing year is "never", ranked after every finite year.
        crosses = np.sign(bs) == direction
        never_year = np.finfo(float).max
        with np.errstate(divide="ignore", invalid="ignore"):
            years = np.where(crosses, self.t_ref_year + (target - ba) / bs, never_year)
        q_lo, q_hi = (float(q) for q in np.quantile(years, [0.5 - c / 2, 0.5 + c / 2]))
        lo: float | None = q_lo
        hi: float | None = q_hi
        never = float(np.mean(~crosses))
        tail = (1.0 - c) / 2.0
        note = ""
        if never > tail or q_hi > 1e300:
            hi = None
            note = (
                f"{never:.1%} of bootstrap lines never reach the value (their slope has the other sign), "
                f"more than the {tail:.1%} upper tail, so the interval has no upper end"
            )
        if q_lo > 1e300:
            lo = None
        return _interval(est, lo, hi, c, "bootstrap", note)

    def _crossing_analytic(self, target: float, est: float | None, c: float) -> dict:
        b, a = self.slope_oom_per_year, self.intercept_log10
        t = _t_quantile(c, self.dof)
        s2t2 = (t * self.residual_sd_log10) ** 2
        d = a - target
        qa = b * b - s2t2 / self.sxx_year2
        qb = b * d
        qc = d * d - s2t2 / self.n
        if qa <= 0:
            return _interval(
                est,
                None,
                None,
                c,
                "analytic",
                f"the slope is not distinguishable from zero at {c:.0%}; the crossing year is unbounded",
            )
        root = math.sqrt(max(qb * qb - qa * qc, 0.0))
        r1, r2 = (-qb - root) / qa, (-qb + root) / qa
        return _interval(est, self.t_ref_year + r1, self.t_ref_year + r2, c, "analytic", "")

    # ------------------------------------------------------------------ output

    def to_dict(self) -> dict:
        """A JSON-ready dict (no NaN or infinity: unbounded ends are None)."""
        return {
            "metric": self.metric,
            "unit": self.unit,
            "n_models": self.n,
            "start": year_label(self.start_year),
            "end": year_label(self.end_year),
            "start_year": self.start_year,
            "end_year": self.end_year,
            "t_ref_year": self.t_ref_year,
            "credibility": self.credibility,
            "intercept_log10_at_t_ref": self.intercept_log10,
            "growth_per_year": self.growth_per_year(),
            "oom_per_year": self.oom_per_year(),
            "doubling_time_years": self.doubling_time_years(),
            "residual_sd_log10": self.residual_sd_log10,
            "intervals": {
                m: {
                    "growth_per_year": self.growth_per_year(m),
                    "oom_per_year": self.oom_per_year(m),
                    "doubling_time_years": self.doubling_time_years(m),
                }
                for m in CI_METHODS
                if m == "analytic" or self.bootstrap_slopes_oom_per_year is not None
            },
            "bootstrap_resamples": self.bootstrap_resamples,
            "bootstrap_within_intervals": self.measurement_sd_log10 is not None,
            "breakpoint": None if self.breakpoint is None else self.breakpoint.to_dict(),
        }

    def summary(self) -> str:
        c = self.credibility
        g = self.growth_per_year()
        o = self.oom_per_year()
        dtm = self.doubling_time_years()

        def yrs(x):
            return "unbounded" if x is None else f"{x * 12:.3g} months" if x < 2 else f"{x:.3g} years"

        head = self.metric or "Trend"
        unit = f" ({self.unit})" if self.unit else ""
        lines = [
            f"{head}{unit}: {self.n} points, {year_label(self.start_year)} to {year_label(self.end_year)}",
            f"  growth      x{g['estimate']:.3g}/year ({c:.0%} CI x{g['low']:.3g}-x{g['high']:.3g}, t-based)",
            f"  slope       {o['estimate']:.3g} OOM/year ({o['low']:.3g} to {o['high']:.3g})",
            f"  doubling    {yrs(dtm['estimate'])} ({yrs(dtm['low'])} to {yrs(dtm['high'])})",
        ]
        if self.bootstrap_slopes_oom_per_year is not None:
            gb = self.growth_per_year("bootstrap")
            lines.append(
                f"  bootstrap   x{gb['low']:.3g}-x{gb['high']:.3g}/year ({self.bootstrap_resamples:,} resamples"
                + (", each point drawn within its own 90% interval)" if self.measurement_sd_log10 is not None else ")")
            )
        lines.append(f"  scatter     residual sd {self.residual_sd_log10:.3g} OOM")
        if dtm.get("note"):
            lines.append(f"  note        {dtm['note']}")
        if self.breakpoint is not None:
            bp = self.breakpoint
            lines.append(
                f"  breakpoint  {bp.break_year:.2f}: x{bp.growth_before_per_year:.3g}/year before, "
                f"x{bp.growth_after_per_year:.3g}/year after; BIC single {bp.bic_single:.1f}, "
                f"piecewise {bp.bic_piecewise:.1f} -> {bp.preferred}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def fit_trend(
    dates,
    values,
    *,
    credibility: float = 0.9,
    bootstrap: int = 10_000,
    seed=0,
    breakpoint: bool = False,
    labels=None,
    metric: str = "",
    unit: str = "",
    sigmas_log10=None,
) -> TrendFit:
    """Fit ``log10(values)`` against the dates (decimal years) by OLS, with intervals.

    ``dates``: dates, datetime64, ISO strings or decimal years; ``values``: positive
    numbers in ``unit``. ``bootstrap`` is the number of pairs-bootstrap resamples (0
    skips it), drawn from ``seed`` (an int, a numpy Generator or None). With
    ``breakpoint=True`` a continuous two-segment line is fitted too and compared by BIC.
    ``sigmas_log10`` (one per point: the log10 sd of its own 90% interval, e.g. a cost estimate's) makes the
    bootstrap draw each resampled point within its interval, so the bootstrap intervals, the crossing dates
    and the band of :meth:`TrendFit.predict` carry the points' own uncertainty (errors in the variables).
    """
    from flopcast.uncertainty.sampling import make_rng  # the uncertainty package imports scipy.stats

    c = _check_credibility(credibility)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise InvalidInputError(f"bootstrap={bootstrap!r} must be a whole number >= 0 (0 skips the bootstrap)")
    years, y = check_series(dates, values)
    n = years.size
    if labels is not None:
        labels = tuple("" if lab is None else str(lab) for lab in labels)
        if len(labels) != n:
            raise InvalidInputError(f"labels has {len(labels)} entries but there are {n} points; they must match")
    sig = None
    if sigmas_log10 is not None:
        sig = np.asarray(sigmas_log10, dtype=float).reshape(-1)
        if sig.size != n or not np.all(np.isfinite(sig)) or np.any(sig < 0):
            raise InvalidInputError(f"sigmas_log10 must be {n} finite values >= 0, one per point")
    slope, intercept, t_ref, sxx, sse = ols_log10(years, y)
    s = math.sqrt(sse / (n - 2))
    se = s / math.sqrt(sxx)
    half = _t_quantile(c, n - 2) * se
    boot_b = boot_a = boot_ci = None
    if bootstrap > 0:
        boot_b, boot_a = bootstrap_lines(years, y, int(bootstrap), make_rng(seed), t_ref, sig)
        lo, hi = np.quantile(boot_b, [0.5 - c / 2, 0.5 + c / 2])
        boot_ci = (float(lo), float(hi))
    bp = fit_breakpoint(years, y, sse) if breakpoint else None
    return TrendFit(
        metric=str(metric),
        unit=str(unit),
        n=n,
        start_year=float(years.min()),
        end_year=float(years.max()),
        t_ref_year=t_ref,
        slope_oom_per_year=slope,
        intercept_log10=intercept,
        slope_se_oom_per_year=se,
        residual_sd_log10=s,
        sxx_year2=sxx,
        credibility=c,
        slope_ci_analytic_oom_per_year=(slope - half, slope + half),
        slope_ci_bootstrap_oom_per_year=boot_ci,
        bootstrap_slopes_oom_per_year=boot_b,
        bootstrap_intercepts_log10=boot_a,
        years=years,
        log10_values=y,
        labels=labels,
        breakpoint=bp,
        measurement_sd_log10=sig if bootstrap > 0 else None,
    )


def extrapolate(fit: TrendFit, year, credibility: float | None = None) -> dict:
    """The trend carried to ``year``: the same as ``fit.predict(year, credibility)``."""
    return fit.predict(year, credibility)


def crossing_from(value_usd, date, oom_per_year, target, oom_low=None, oom_high=None) -> dict:
    """Decimal year when ``value_usd`` (at ``date``) growing ``oom_per_year`` reaches ``target``.

    ``oom_low``/``oom_high`` bound the rate: the faster rate gives the early end
    (``low``), the slower the late end (``high``). A rate <= 0 never reaches a higher
    target (None). Works for any unit; the name follows the common use (dollars).
    """
    v, tgt = float(value_usd), float(target)
    for name, x in (("value_usd", v), ("target", tgt)):
        if not (math.isfinite(x) and x > 0):
            raise InvalidInputError(f"{name}={x!r} must be a finite positive number")
    start = float(decimal_year(date))
    if not math.isfinite(start):
        raise InvalidInputError(f"date={date!r} is missing or not finite")
    gap = math.log10(tgt / v)

    def at(rate):
        if rate is None:
            return None
        rate = float(rate)
        if not math.isfinite(rate):
            raise InvalidInputError(f"oom_per_year={rate!r} must be finite")
        if gap == 0:
            return start
        if rate == 0 or (gap > 0) != (rate > 0):
            return None
        return start + gap / rate

    if oom_low is not None and oom_high is not None and float(oom_low) > float(oom_high):
        raise InvalidInputError(f"oom_low={oom_low} is above oom_high={oom_high}")
    # growing towards a higher target, the faster rate (oom_high) arrives first; falling towards
    # a lower target, the more negative rate (oom_low) does
    early, late = (oom_high, oom_low) if gap >= 0 else (oom_low, oom_high)
    return {"estimate": at(oom_per_year), "low": at(early), "high": at(late)}


__all__ = [
    "TrendFit",
    "crossing_from",
    "extrapolate",
    "fit_trend",
]
