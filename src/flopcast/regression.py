"""Regression primitives of the trends: ordinary least squares of log10(value) on decimal
years, pairs-bootstrap lines, and a two-segment (breakpoint) fit compared by BIC.

Plain functions of numpy arrays; :mod:`flopcast.trends` builds fits with intervals on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flopcast.dates import decimal_year, year_label
from flopcast.errors import InvalidInputError

#: candidate break years step through the inner part of the time span in this step
BREAK_STEP_YEARS = 0.05
#: candidate break years cover the inner fraction of the time span
BREAK_INNER_FRACTION = 0.8
#: points needed on each side of a break
BREAK_MIN_POINTS = 3
_BOOT_CHUNK_CELLS = 2_000_000  # (resamples x points) drawn at once: bounds memory, not results


def ols_log10(years: np.ndarray, log10_values: np.ndarray) -> tuple[float, float, float, float, float]:
    """OLS of ``log10_values`` on ``years`` around the mean year.

    Returns ``(slope, intercept_at_t_ref, t_ref, sxx, sse)``.
    """
    t_ref = float(np.mean(years))
    xc = years - t_ref
    ybar = float(np.mean(log10_values))
    sxx = float(xc @ xc)
    slope = float(xc @ (log10_values - ybar)) / sxx
    resid = log10_values - ybar - slope * xc
    return slope, ybar, t_ref, sxx, float(resid @ resid)


def bootstrap_lines(
    years: np.ndarray,
    log10_values: np.ndarray,
    resamples: int,
    rng,
    t_ref: float,
    sigmas_log10: np.ndarray | None = None,
):
    """Pairs bootstrap: slopes and intercepts at ``t_ref`` of ``resamples`` refits.

    With ``sigmas_log10`` (each point's own uncertainty, the log10 sd of its 90% interval), each resampled
    point is also drawn within its interval: ``y + z x sigma``, z standard normal (errors in the variables:
    the lines then carry the points' own uncertainty as well as their scatter).

    Vectorized: draws an index matrix (chunk, n) and computes every slope with array
    operations. Resamples whose dates are all equal (no slope) are redrawn.
    """
    n = years.size
    slopes = np.empty(resamples)
    intercepts = np.empty(resamples)
    chunk = max(1, _BOOT_CHUNK_CELLS // n)
    for lo in range(0, resamples, chunk):
        hi = min(lo + chunk, resamples)
        idx = rng.integers(0, n, size=(hi - lo, n))
        for _ in range(1000):  # redraw degenerate rows; ends fast unless n is tiny
            x = years[idx]
            degenerate = np.ptp(x, axis=1) == 0
            if not degenerate.any():
                break
            idx[degenerate] = rng.integers(0, n, size=(int(degenerate.sum()), n))
        else:  # pragma: no cover - needs ~1000 degenerate draws in a row
            raise InvalidInputError("the bootstrap kept drawing resamples with a single date; add points")
        y = log10_values[idx]
        if sigmas_log10 is not None:
            y = y + rng.standard_normal(idx.shape) * sigmas_log10[idx]
        xm = x.mean(axis=1, keepdims=True)
        ym = y.mean(axis=1, keepdims=True)
        xc = x - xm
        b = np.einsum("ij,ij->i", xc, y - ym) / np.einsum("ij,ij->i", xc, xc)
        slopes[lo:hi] = b
        intercepts[lo:hi] = ym[:, 0] + b * (t_ref - xm[:, 0])
    return slopes, intercepts


# ---------------------------------------------------------------------------- breakpoint


@dataclass(frozen=True)
class BreakpointFit:
    """A continuous two-segment line (joined at ``break_year``) against the single line.

    Slopes are in OOM/year of log10(value); BIC = n ln(SSE/n) + k ln(n) with k = 2 for
    the single line and 4 for the piecewise line (two slopes, level, break year).
    """

    break_year: float
    slope_before_oom_per_year: float
    slope_after_oom_per_year: float
    #: log10 of the fitted value at the break year
    log10_at_break: float
    sse_single_log10_sq: float
    sse_piecewise_log10_sq: float
    bic_single: float
    bic_piecewise: float
    candidates: int

    @property
    def preferred(self) -> str:
        """``"piecewise"`` when its BIC is lower, else ``"single"``."""
        return "piecewise" if self.bic_piecewise < self.bic_single else "single"

    @property
    def growth_before_per_year(self) -> float:
        return 10.0**self.slope_before_oom_per_year

    @property
    def growth_after_per_year(self) -> float:
        return 10.0**self.slope_after_oom_per_year

    def predict_log10(self, year):
        """log10 of the piecewise line at ``year`` (dates or decimal years; vectorized)."""
        x = np.asarray(decimal_year(year), dtype=float) - self.break_year
        out = self.log10_at_break + np.where(
            x < 0, self.slope_before_oom_per_year * x, self.slope_after_oom_per_year * x
        )
        return float(out) if np.ndim(out) == 0 else out

    def to_dict(self) -> dict:
        return {
            "break_year": self.break_year,
            "break_date": year_label(self.break_year),
            "growth_before_per_year": self.growth_before_per_year,
            "growth_after_per_year": self.growth_after_per_year,
            "oom_before_per_year": self.slope_before_oom_per_year,
            "oom_after_per_year": self.slope_after_oom_per_year,
            "bic_single": self.bic_single,
            "bic_piecewise": self.bic_piecewise,
            "preferred": self.preferred,
        }


def _bic(sse: float, n: int, k: int) -> float:
    return n * math.log(max(sse, 1e-300) / n) + k * math.log(n)


def fit_breakpoint(years: np.ndarray, log10_values: np.ndarray, sse_single: float | None = None) -> BreakpointFit:
    """Best continuous piecewise-linear fit over a grid of break years (by SSE), with BICs.

    Candidates step by :data:`BREAK_STEP_YEARS` through the inner
    :data:`BREAK_INNER_FRACTION` of the span and need :data:`BREAK_MIN_POINTS` points
    strictly on each side. All candidates are solved at once (stacked 3x3 normal equations).
    """
    years = np.asarray(years, dtype=float)
    y = np.asarray(log10_values, dtype=float)
    n = years.size
    lo, hi = float(years.min()), float(years.max())
    margin = (1.0 - BREAK_INNER_FRACTION) / 2.0 * (hi - lo)
    grid = np.arange(lo + margin, hi - margin + 1e-12, BREAK_STEP_YEARS)
    before = (years[None, :] < grid[:, None]).sum(axis=1)
    after = (years[None, :] > grid[:, None]).sum(axis=1)
    grid = grid[(before >= BREAK_MIN_POINTS) & (after >= BREAK_MIN_POINTS)]
    if grid.size == 0:
        raise InvalidInputError(
            f"breakpoint=True needs a break year in the inner {BREAK_INNER_FRACTION:.0%} of the span with at least "
            f"{BREAK_MIN_POINTS} points on each side; these {n} points ({lo:.2f}-{hi:.2f}) allow none"
        )
    # Design per candidate: [1, min(x - b, 0), max(x - b, 0)]; the two hinge columns never overlap,
    # so the stacked 3x3 normal equations are built from sums without materializing (K, n, 3).
    ybar = float(y.mean())
    yc = y - ybar
    d = years[None, :] - grid[:, None]  # (K, n)
    m = np.minimum(d, 0.0)
    p = np.maximum(d, 0.0)
    sm, sp = m.sum(axis=1), p.sum(axis=1)
    smm, spp = np.einsum("kn,kn->k", m, m), np.einsum("kn,kn->k", p, p)
    zero = np.zeros_like(sm)
    XtX = np.stack(
        [np.stack([np.full_like(sm, n), sm, sp], -1), np.stack([sm, smm, zero], -1), np.stack([sp, zero, spp], -1)],
        axis=1,
    )  # (K, 3, 3)
    Xty = np.stack([np.full_like(sm, yc.sum()), m @ yc, p @ yc], axis=-1)  # (K, 3)
    beta = np.linalg.solve(XtX, Xty[..., None])[..., 0]  # (K, 3)
    sse = np.maximum(float(yc @ yc) - np.einsum("ki,ki->k", beta, Xty), 0.0)
    beta[:, 0] += ybar
    best = int(np.argmin(sse))
    if sse_single is None:
        sse_single = ols_log10(years, y)[4]
    return BreakpointFit(
        break_year=float(grid[best]),
        slope_before_oom_per_year=float(beta[best, 1]),
        slope_after_oom_per_year=float(beta[best, 2]),
        log10_at_break=float(beta[best, 0]),
        sse_single_log10_sq=float(sse_single),
        sse_piecewise_log10_sq=float(sse[best]),
        bic_single=_bic(sse_single, n, 2),
        bic_piecewise=_bic(float(sse[best]), n, 4),
        candidates=int(grid.size),
    )


__all__ = ["BreakpointFit", "bootstrap_lines", "fit_breakpoint", "ols_log10"]
