"""The types of an uncertain number, as every layer takes it.

- :data:`Interval`: a ``(low, high)`` pair, read as a 90% interval.
- :data:`QuantityInput`: what a front-end passes to :mod:`flopcast.service`: a number or
  an :data:`Interval` (``None`` where the value is not given).
- :data:`Quantity`: what the pipeline holds: a number, a
  :class:`~flopcast.uncertainty.Distribution` or an array of samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy as np

    from flopcast.uncertainty.distributions import Distribution

__all__ = ["Interval", "Quantity", "QuantityInput"]

Interval: TypeAlias = tuple[float, float]
QuantityInput: TypeAlias = float | Interval | None
Quantity: TypeAlias = "float | Distribution | np.ndarray"
