"""Dates and decimal years: the one home of this idea.

A decimal year is the year plus the fraction of it that has passed: 2020-01-01 is
2020.0, 2020-07-02 is 2020.5 (day 183 of 366). Two functions read one:

- :func:`decimal_year` converts data. A missing date (None, NaT, NaN) stays missing
  and becomes NaN, so a column of release dates with gaps converts in one call.
- :func:`parse_year` reads one value a user typed. It names the field in its error,
  refuses a missing value and keeps to the years 1950-2100 (:mod:`flopcast.limits`), where
  a number outside them is almost surely a cost or a count passed as a date.

:func:`date_from_decimal_year` is the inverse: the calendar day a decimal year falls
on, so 2020.999 (within the last day of 2020) is 2020-12-31, and every date comes
back unchanged through ``date_from_decimal_year(decimal_year(d))``.

>>> decimal_year("2020-07-02")
2020.5
>>> date_from_decimal_year(2020.999)
datetime.date(2020, 12, 31)
>>> import math; math.isnan(decimal_year(None))
True
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from flopcast.errors import InvalidInputError, MissingInputError
from flopcast.limits import YEAR_MAX, YEAR_MIN

__all__ = ["YEAR_RANGE", "date_from_decimal_year", "decimal_year", "parse_year", "year_label"]

#: the years a user's date may fall in (:mod:`flopcast.limits`); anything outside is almost surely a mistake
YEAR_RANGE = (float(YEAR_MIN), float(YEAR_MAX))

_HINT = "give 'YYYY-MM-DD', a datetime.date or a decimal year such as 2025.5"


def _datetime64_years(d: np.ndarray) -> np.ndarray:
    d = d.astype("datetime64[s]")
    nat = np.isnat(d)
    year = d.astype("datetime64[Y]")
    start = year.astype("datetime64[s]")
    end = (year + 1).astype("datetime64[s]")
    with np.errstate(invalid="ignore"):
        frac = (d - start).astype(np.float64) / (end - start).astype(np.float64)
        out = year.astype(np.int64).astype(np.float64) + 1970.0 + frac
    return np.asarray(np.where(nat, np.nan, out))


def _one(x: Any, name: str) -> float:
    """One date-like value as a decimal year; NaN where it is missing."""
    if x is None:
        return math.nan
    if isinstance(x, (bool, np.bool_)):
        raise InvalidInputError(f"{name}={x!r} is not a date; {_HINT}")
    if isinstance(x, (int, float, np.integer, np.floating)):
        return float(x)
    if isinstance(x, str):
        s = x.strip()
        if len(s) >= 7 and s[4] == "-":
            try:
                d = np.datetime64(s[:10] if len(s) >= 10 else s, "s")
            except ValueError:
                raise InvalidInputError(f"{name}={x!r} is not a date; {_HINT}") from None
            return float(_datetime64_years(np.asarray(d)))
        try:
            return float(s)
        except ValueError:
            raise InvalidInputError(f"{name}={x!r} is not a date; {_HINT}") from None
    if isinstance(x, dt.datetime) and x.tzinfo is not None:
        x = x.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(x, np.datetime64):  # _datetime64_years converts it to seconds itself
        return float(_datetime64_years(np.asarray(x)))
    if isinstance(x, dt.date):
        return float(_datetime64_years(np.asarray(np.datetime64(x, "s"))))
    if hasattr(x, "to_datetime64"):  # a pandas Timestamp or NaT
        return float(_datetime64_years(np.asarray(x.to_datetime64())))
    raise InvalidInputError(f"{name}={x!r} ({type(x).__name__}) is not a date; {_HINT}")


def decimal_year(when: Any, name: str = "date") -> Any:
    """A date, or a list or array of them, as decimal years; missing dates become NaN.

    Takes ``datetime.date``/``datetime``, numpy ``datetime64``, pandas Timestamps, ISO
    strings ('YYYY-MM-DD' or 'YYYY-MM') and numbers (already decimal years). A scalar
    gives a float, a list or array a float array of the same shape.
    """
    arr = np.asarray(when)
    if arr.dtype.kind == "M":
        out = _datetime64_years(arr)
    elif arr.dtype.kind in "fiu":
        out = arr.astype(np.float64)
    elif arr.dtype.kind == "b":
        raise InvalidInputError(f"{name}={when!r} is not a date (booleans); {_HINT}")
    else:
        flat = [_one(x, name) for x in arr.ravel()] if arr.ndim else [_one(arr.item(), name)]
        out = np.asarray(flat, dtype=np.float64).reshape(arr.shape)
    return float(out) if out.ndim == 0 else out


def parse_year(value: Any, name: str = "date") -> Any:
    """A date a user gave, as a decimal year, or an error that names ``name``.

    Unlike :func:`decimal_year`, a missing value is an error, and so is a year outside
    :data:`YEAR_RANGE` or one that is not finite. A list or array gives a float array.
    """
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value, dtype=object)
        if arr.size == 0:
            raise InvalidInputError(f"{name} is empty; give at least one date")
        return np.array([_parse_one(v, name) for v in arr.ravel()], dtype=float).reshape(arr.shape)
    return _parse_one(value, name)


def _parse_one(value: Any, name: str) -> float:
    if value is None:
        raise MissingInputError(f"{name} is missing; {_HINT}")
    y = _one(value, name)
    if not math.isfinite(y):
        raise InvalidInputError(f"{name}={value!r} is not a finite date; {_HINT}")
    lo, hi = YEAR_RANGE
    if not lo <= y <= hi:
        raise InvalidInputError(f"{name}={value!r} is outside the years {lo:.0f}..{hi:.0f}; {_HINT}")
    return y


def date_from_decimal_year(year: float) -> dt.date:
    """The calendar day a decimal year falls on (the inverse of :func:`decimal_year`)."""
    try:
        y = float(year)
    except (TypeError, ValueError):
        raise InvalidInputError(f"year={year!r} is not a number") from None
    if not math.isfinite(y) or not 1.0 <= y < 10_000.0:
        raise InvalidInputError(f"year={year!r} has no calendar date; give a year between 1 and 9999")
    whole = math.floor(y)
    days = (dt.date(whole + 1, 1, 1) - dt.date(whole, 1, 1)).days if whole < 9999 else 365
    # the small allowance keeps decimal_year's own output on its day despite rounding
    return dt.date(whole, 1, 1) + dt.timedelta(days=math.floor((y - whole) * days + 1e-9))


def year_label(year: float) -> str:
    """A decimal year as an ISO date for display, or with two decimals where it has none."""
    try:
        return date_from_decimal_year(year).isoformat()
    except InvalidInputError:
        return f"{year:.2f}"
