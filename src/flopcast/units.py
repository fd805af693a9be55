"""Unit constants and input checks.

flopcast works in SI base units inside: FLOP, FLOP/s, bytes, seconds, USD, watts.
Conversions to TFLOP/s, GB, hours or "$4.3M" happen only in :mod:`flopcast.reporting`.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from flopcast.errors import InvalidInputError

#: What the array-in/array-out stage functions take and return: a float (an int or numpy's
#: float64 is one) or an array of Monte Carlo samples; arrays and floats broadcast together.
FloatOrArray: TypeAlias = "float | np.ndarray"

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86_400.0
HOURS_PER_YEAR = 8766.0  # 365.25 days, the figure Cottier et al. 2024 amortize over
DAYS_PER_YEAR = 365.25
BYTES_PER_GB = 1e9
W_PER_KW = 1000.0

#: Bytes per value for the numeric formats flopcast knows.
BYTES_PER_VALUE = {
    "fp32": 4.0,
    "tf32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "fp4": 0.5,
    "int8": 1.0,
    "int4": 0.5,
}


def _distinct(arr: np.ndarray) -> np.ndarray:
    """``arr`` without the repeats of a broadcast view: along an axis of stride 0 every slice is the same
    memory, so checking one checks them all (a sample row shared by every model is checked once, not once a model).
    """
    if arr.ndim and 0 in arr.strides and arr.size > 1:
        return arr[tuple(slice(0, 1) if st == 0 else slice(None) for st in arr.strides)]
    return arr


def check_positive(name: str, value: ArrayLike, *, allow_zero: bool = False, what: str = "") -> None:
    """Raise InvalidInputError unless every element of ``value`` is finite and > 0 (>= 0)."""
    arr = _distinct(np.asarray(value, dtype=float))
    if arr.size == 0:
        return
    lo, hi = arr.min(), arr.max()  # two reductions, no temporary arrays; a NaN makes both NaN
    if (lo >= 0 if allow_zero else lo > 0) and hi < math.inf:
        return
    extra = f"; {what}" if what else ""
    if np.isnan(arr).any():
        raise InvalidInputError(f"{name}=nan is not a number; give a finite positive value{extra}")
    if np.isinf(arr).any():
        raise InvalidInputError(f"{name}={_show(arr[np.isinf(arr)])} is infinite; give a finite positive value{extra}")
    bad = arr < 0 if allow_zero else arr <= 0
    if bad.any():
        allowed = ">= 0" if allow_zero else "> 0"
        raise InvalidInputError(f"{name}={_show(arr[bad])} is not allowed; it must be {allowed}{extra}")


def check_fraction(name: str, value: ArrayLike, *, what: str = "a fraction") -> None:
    """Raise InvalidInputError unless every element lies in (0, 1]."""
    arr = _distinct(np.asarray(value, dtype=float))
    if arr.size == 0 or (arr.min() > 0 and arr.max() <= 1):  # the common case: two reductions, no temporaries
        return
    if np.isnan(arr).any():
        raise InvalidInputError(f"{name}=nan is not a number; it must lie in (0, 1], {what}")
    bad = (arr <= 0) | (arr > 1)
    if bad.any():
        raise InvalidInputError(f"{name}={_show(arr[bad])} is outside (0, 1]; it is {what}")


def _show(arr: np.ndarray) -> str:
    v = float(np.ravel(arr)[0])
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return f"{v:g}"
