"""Summaries of sampled outputs: median, mean, percentiles and intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
from numpy.typing import ArrayLike

from flopcast.errors import InvalidInputError
from flopcast.uncertainty.distributions import Distribution, Point


@dataclass(frozen=True, eq=False)
class Summary:
    """A distribution of one output, summarized.

    ``samples`` keeps the draws (or ``None`` for an exact closed form, where
    ``percentile`` uses ``dist``). ``unit`` is the SI unit of every field.
    """

    median: float
    mean: float
    p5: float
    p95: float
    unit: str = ""
    samples: np.ndarray | None = field(default=None, repr=False)
    dist: Distribution | None = field(default=None, repr=False)

    @classmethod
    def from_samples(cls, x: ArrayLike, unit: str = "") -> Summary:
        arr = np.asarray(x, dtype=float)
        if arr.ndim == 0:
            v = float(arr)
            return cls(v, v, v, v, unit, None, None)
        if arr.ndim == 1 and arr.size:
            p5, p50, p95 = row_quantiles(arr[None, :], (0.05, 0.5, 0.95))[:, 0]  # np.percentile's values
        else:
            p5, p50, p95 = np.percentile(arr, [5, 50, 95])
        return cls(float(p50), float(np.mean(arr)), float(p5), float(p95), unit, arr, None)

    @classmethod
    def from_distribution(cls, dist: Distribution, unit: str = "", samples: np.ndarray | None = None) -> Summary:
        """Exact summary of a closed-form distribution (a LogNormal or Point)."""
        p5, p50, p95 = (float(v) for v in dist.ppf(np.array([0.05, 0.5, 0.95])))
        mean = float(dist.value if isinstance(dist, Point) else getattr(dist, "mean", p50))
        return cls(p50, mean, p5, p95, unit, samples, dist)

    @property
    def is_point(self) -> bool:
        return self.p5 == self.p95

    @overload
    def percentile(self, q: float) -> float: ...

    @overload
    def percentile(self, q: Sequence[float]) -> np.ndarray: ...

    @overload
    def percentile(self, q: np.ndarray) -> float | np.ndarray: ...

    def percentile(self, q: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
        """Percentile(s) ``q`` in [0, 100]: a float for a number, an array for a list or an array."""
        qa = np.asarray(q, dtype=float)
        if ((qa < 0) | (qa > 100)).any():
            raise InvalidInputError(f"percentile q={q} is outside [0, 100]")
        if self.dist is not None:
            out = self.dist.ppf(np.clip(qa / 100, 1e-12, 1 - 1e-12))
        elif self.samples is not None:
            out = np.percentile(self.samples, qa)
        else:
            out = np.full(qa.shape, self.median)
        return float(out) if np.ndim(out) == 0 else out

    def interval(self, credibility: float = 0.9) -> tuple[float, float]:
        """Central interval holding ``credibility`` (0.9 = 90%) of the mass."""
        if not (0 < credibility < 1):
            raise InvalidInputError(f"credibility={credibility} is outside (0, 1)")
        lo, hi = self.percentile([50 - 50 * credibility, 50 + 50 * credibility])
        return float(lo), float(hi)

    def to_dict(self) -> dict[str, float]:
        return {"median": self.median, "mean": self.mean, "p5": self.p5, "p95": self.p95}

    def __format__(self, spec: str) -> str:
        from flopcast.formatting import format_summary

        return format_summary(self)

    def __str__(self) -> str:
        return self.__format__("")


def summarize(x: ArrayLike, unit: str = "") -> Summary:
    """Summary of an array of samples (or a scalar)."""
    return Summary.from_samples(x, unit)


#: the quantiles every summary reports: p5, p50 and p95
SUMMARY_QUANTILES = (0.05, 0.5, 0.95)


def quantile_ranks(n: int, q: Sequence[float] = SUMMARY_QUANTILES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(below, above, gamma)`` of numpy's default ("linear", Hyndman and Fan's type 7) quantile of ``n`` samples.

    Quantile ``q`` sits at the virtual index ``h = (n - 1) q`` of the sorted samples: between the order
    statistics ``below = floor(h)`` and ``above = below + 1`` (both ``n - 1`` at the top), at the fraction
    ``gamma = h - floor(h)`` (Hyndman and Fan 1996, "Sample quantiles in statistical packages", definition 7).
    """
    h = (n - 1) * np.asarray(q, dtype=float)
    below = np.floor(h)
    gamma = h - below
    lo = below.astype(np.intp)
    hi = np.where(h >= n - 1, n - 1, lo + 1)
    lo = np.where(h >= n - 1, n - 1, lo)
    return lo, hi, gamma


def lerp_quantiles(a: np.ndarray, b: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Interpolate between the order statistics ``a`` and ``b`` as :func:`numpy.quantile` does, bit for bit.

    ``a + (b - a) gamma``, written as ``b - (b - a)(1 - gamma)`` where ``gamma >= 0.5`` (numpy's ``_lerp``, which
    keeps the result monotone and exact at both ends).
    """
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def median(x: ArrayLike) -> float:
    """``np.median(x)`` of a 1-D array, bit for bit, without the numpy.ma import np.median makes (~15 ms)."""
    arr = np.asarray(x, dtype=float).ravel()
    return float(row_quantiles(arr[None, :], (0.5,))[0, 0]) if arr.size else float("nan")


def row_quantiles(
    x: np.ndarray,
    q: Sequence[float] = SUMMARY_QUANTILES,
    *,
    scratch: bool = False,
    orders: np.ndarray | None = None,
) -> np.ndarray:
    """The quantiles ``q`` of each row of the 2-D array ``x``: a ``(len(q), rows)`` array.

    Bit for bit ``np.quantile(x, q, axis=1)`` (the "linear" method, :func:`quantile_ranks`): every path
    below finds the exact order statistics, so the result never depends on which path a row took.

    * ``orders``: a ``(k, samples)`` array of sample orders (permutations of the sample index, such as
      the ranks of one input's uniforms) to try first. A row that is sorted along one of them (an
      output that depends on one input only, monotonically: compute from a reported compute, chips from a
      chip count) is read off in that order, one gather instead of a selection; the rest go to the
      partition. Which order to try is found on one row, at 64 ranks of every order at once.
    * The rest: one ``np.partition`` of the block at the order statistics it needs. A block of positive
      finite numbers (every cost, compute and energy is one) is partitioned as the integers of its bit
      patterns, which order the same way (IEEE 754: for non-negative doubles the bit pattern is monotone
      in the value) and partition about 1.4x faster than doubles.

    ``scratch``: ``x`` is not needed in sample order afterwards, so a writeable ``x`` is partitioned in
    place (no copy).
    """
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 2:
        raise InvalidInputError(f"row_quantiles takes a 2-D array (rows x samples), not shape {arr.shape}")
    m, n = arr.shape
    if m == 0 or n == 0:
        return np.quantile(arr, q, axis=1) if n else np.full((len(q), m), np.nan)
    lo, hi, gamma = quantile_ranks(n, q)
    g = gamma[:, None]
    out = np.empty((len(q), m))
    rest = np.arange(m)
    if orders is not None and len(orders) and n > 2:
        # one row's samples at 64 ranks of every order: only an order that sorts them is tried on the block
        d = np.diff(arr[0][orders[:, :: max(1, n // 64)]], axis=1)
        up, down = (d >= 0).all(axis=1), (d <= 0).all(axis=1)
        for i in np.flatnonzero(up | down):
            if rest.size == 0:
                break
            perm = orders[i] if up[i] else orders[i][::-1]
            y = np.take(arr if rest.size == m else arr[rest], perm, axis=1)
            ok = (y[:, 1:] >= y[:, :-1]).all(axis=1)  # False for a row with a NaN: numpy's rules below
            if ok.any():
                out[:, rest[ok]] = lerp_quantiles(y[:, lo][ok].T, y[:, hi][ok].T, g)
                rest = rest[~ok]
    if rest.size:
        out[:, rest] = _partitioned_quantiles(arr if rest.size == m else arr[rest], q, lo, hi, g, scratch)
    return out


def _partitioned_quantiles(
    arr: np.ndarray, q: Sequence[float], lo: np.ndarray, hi: np.ndarray, g: np.ndarray, scratch: bool
) -> np.ndarray:
    # the distinct ranks, sorted (as np.unique gives them; np.unique imports numpy.ma, ~15 ms of a command)
    kth = np.array(sorted(set(np.concatenate([lo, hi]).tolist())), dtype=np.intp)
    lo_min, hi_max = arr.min(), arr.max()
    if not (lo_min > 0 and hi_max < np.inf):
        if not (lo_min > -np.inf and hi_max < np.inf):  # NaN or infinite values: numpy's own rules
            return np.quantile(arr, q, axis=1)
        part = np.partition(arr, kth, axis=1)
    else:
        part = arr if scratch and arr.flags.writeable and arr.flags.c_contiguous else np.array(arr, order="C")
        part.view(np.int64).partition(kth, axis=1)
    return lerp_quantiles(part[:, lo].T, part[:, hi].T, g)
