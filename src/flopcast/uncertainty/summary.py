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
