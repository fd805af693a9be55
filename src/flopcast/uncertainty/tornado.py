"""Each input's swing in the output's own unit: the rows of a tornado chart, from a sensitivity ranking.

Method. For an output that is a product of independent lognormal factors, log(output) is normal with
variance sigma^2 = sum_i sigma_i^2, and an input's share of that variance is the squared rank correlation
that :func:`flopcast.uncertainty.sensitivity.sensitivity` reports, normalized (its ``share``). Moving input
``i`` from its 5th to its 95th percentile with every other input at its median moves the output by the
factor exp(2 z sigma_i), z = 1.645, with sigma_i = sqrt(share_i) sigma and sigma = ln(p95 / p5) / (2 z).
So the output at the input's low and high ends is

    median x (p95 / p5) ** (-/+ sign_i x sqrt(share_i) / 2)

where ``sign_i`` is the sign of the rank correlation. Every number comes from the output's median and
90% interval and the sensitivity rows, with no extra model runs; outside a product of lognormals it is
the first-order (log-linear) approximation of the same one-at-a-time swing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flopcast.errors import InvalidInputError


@dataclass(frozen=True)
class SwingRow:
    """One bar of a tornado chart: the output with ``input`` at its 5th and at its 95th percentile."""

    input: str
    #: the output with this input at its 5th percentile (others at their medians), in the output's unit
    at_input_p5: float
    #: the output with this input at its 95th percentile
    at_input_p95: float
    share: float

    @property
    def low(self) -> float:
        return min(self.at_input_p5, self.at_input_p95)

    @property
    def high(self) -> float:
        return max(self.at_input_p5, self.at_input_p95)

    @property
    def swing(self) -> float:
        """high - low, in the output's unit (dollars for a cost)."""
        return self.high - self.low


def swings(rows: Sequence, median: float, p5: float, p95: float, *, min_share: float = 0.0) -> list[SwingRow]:
    """The swing of each sensitivity row (``input``, ``rank_correlation``, ``share``) around ``median``,
    largest first; rows with a share below ``min_share`` are left out."""
    for name, v in (("median", median), ("p5", p5), ("p95", p95)):
        if not np.isfinite(v) or v <= 0:
            raise InvalidInputError(f"{name}={v!r} must be a finite number > 0 (a swing is taken in log space)")
    if not p5 <= median <= p95:
        raise InvalidInputError(f"p5={p5!r}, median={median!r}, p95={p95!r} must satisfy p5 <= median <= p95")
    ratio = p95 / p5
    out = []
    for r in rows:
        if r.share < min_share or r.share <= 0:
            continue
        half = np.sign(r.rank_correlation) * np.sqrt(r.share) / 2.0
        out.append(SwingRow(r.input, float(median * ratio**-half), float(median * ratio**half), float(r.share)))
    return sorted(out, key=lambda s: -s.swing)
