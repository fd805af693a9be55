"""Which inputs drive the spread of an output.

Method: Spearman rank correlation between each sampled input and the output, and
each input's share of the explained rank variance (rho squared over the sum of rho
squared). Rank correlation is robust to the heavy tails of lognormal chains and
needs no extra model runs; for a product of independent lognormal factors the share
equals each factor's share of the variance of log(output).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class SensitivityRow:
    input: str
    rank_correlation: float
    share: float


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


def sensitivity(inputs: Mapping[str, ArrayLike], output: ArrayLike) -> list[SensitivityRow]:
    """Rank each uncertain input by how much it drives ``output``.

    ``inputs`` maps names to the sampled arrays (floats for point inputs are
    skipped). Rows come sorted by share, largest first.
    """
    y = np.asarray(output, dtype=float)
    if y.ndim == 0 or np.ptp(y) == 0:
        return []
    ry = _ranks(y)
    ry = (ry - ry.mean()) / ry.std()
    rows = []
    for name, x in inputs.items():
        xa = np.asarray(x, dtype=float)
        if xa.ndim == 0 or xa.shape != y.shape or np.ptp(xa) == 0:
            continue
        rx = _ranks(xa)
        rx = (rx - rx.mean()) / rx.std()
        rows.append((name, float(np.mean(rx * ry))))
    total = sum(r * r for _, r in rows)
    out = [SensitivityRow(n, r, (r * r / total) if total > 0 else 0.0) for n, r in rows]
    return sorted(out, key=lambda row: -row.share)
