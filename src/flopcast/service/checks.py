"""The service's checks of physically impossible values: one home, so that every front-end gets them.

Each check takes the field's name, as the web API names it (the CLI's option is the same name with
dashes: ``price_per_chip_hour`` is ``--price-per-chip-hour``), and its value, a number or a
``(low, high)`` interval (None passes: the value was not given; a distribution or an array of
samples is checked where it is drawn). It raises :class:`~flopcast.errors.InvalidInputError` with
one line that starts ``name=value`` (the web API reads the field from it) and says what is
allowed. The limits are :mod:`flopcast.limits`. No numpy here: the service stays light to import.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import sys
from collections.abc import Iterator
from typing import Any

from flopcast.errors import InvalidInputError
from flopcast.limits import (
    MAX_CHIPS,
    MAX_CHIPS_PER_INSTANCE,
    MAX_PARAMS,
    MAX_QUANTITY,
    MAX_SHAPE,
    MIN_DURATION_S,
    MIN_QUANTITY,
    YEAR_MAX,
    YEAR_MIN,
)

__all__ = [
    "check_chip_hours",
    "check_chips",
    "check_count",
    "check_date",
    "check_duration",
    "check_fraction",
    "check_params",
    "check_positive",
    "check_shape",
    "check_share",
    "check_year",
]


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _show(v: Any) -> str:
    if not _is_number(v):
        return repr(v)
    # :g, unless it rounds the value or is longer than Python's shortest form (1e-320, a denormal, is 9.99989e-321)
    try:
        shown, exact = f"{v:g}", repr(v)
        return shown if float(shown) == v and len(shown) <= len(exact) else exact
    except OverflowError:  # an int beyond floats
        import decimal  # here: only an error message needs it

        return f"{decimal.Decimal(int(v)).normalize(decimal.Context(prec=6)):g}"


def _e(x: float) -> str:
    """A limit as a user writes it: 1e16, 1e-100."""
    return f"{x:.0e}".replace("e+", "e")


_POSITIVE = f"{_e(MIN_QUANTITY)}..{_e(MAX_QUANTITY)}"


def _bounds(name: str, value: Any) -> Iterator[tuple[str, float]]:
    """``(how to name it, number)`` for a point, or for each end of a ``(low, high)`` interval."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise InvalidInputError(f"{name}={value!r} is not a number or a (low, high) interval")
        lo, hi = value
        given = f"{name}={_show(lo)}..{_show(hi)}: "
        yield f"{given}low {_show(lo)}", _number(name, lo)
        yield f"{given}high {_show(hi)}", _number(name, hi)
    else:
        yield f"{name}={_show(value)}", _number(name, value)


def _number(name: str, v: Any) -> float:
    if not _is_number(v):
        raise InvalidInputError(f"{name}={v!r} is not a number")
    try:
        return float(v)
    except OverflowError:  # an int beyond floats: finite, and above every limit
        return sys.float_info.max if v > 0 else -sys.float_info.max


def _numbers(name: str, value: Any) -> Iterator[tuple[str, float]]:
    """Each number of ``value`` (a point or an interval); None, a distribution or an array of samples gives none
    (those are checked where they are drawn)."""
    if value is None or not (isinstance(value, (str, bool, tuple, list)) or _is_number(value)):
        return iter(())
    return _bounds(name, value)


def _whole(name: str, value: Any, *, high: int, unit: str) -> None:
    """Each number of ``value`` is a whole number of ``unit`` in 1..``high``."""
    for shown, v in _numbers(name, value):
        if not (math.isfinite(v) and v == int(v) and 1 <= v <= high):
            raise InvalidInputError(f"{shown} must be a whole number of {unit} in 1..{high:,}")


def _within(
    name: str,
    value: Any,
    *,
    low: float,
    high: float,
    allowed: str,
    above: str,
    under: str,
    positive: bool = False,
) -> None:
    """Each number of ``value`` is finite (and > 0 with ``positive``) and in ``low``..``high``.

    The message is ``<field=value> is <what is wrong>; <allowed>``: ``above`` names the upper
    limit, ``under`` the whole text after "is under" (the lower limit and what is allowed).
    """
    for shown, v in _numbers(name, value):
        if not math.isfinite(v):
            raise InvalidInputError(f"{shown} is not finite; {allowed}")
        if positive and v <= 0:
            raise InvalidInputError(f"{shown} is not positive; {allowed}")
        if v > high:
            raise InvalidInputError(f"{shown} is above {above}; {allowed}")
        if v < low:
            raise InvalidInputError(f"{shown} is under {under}")


def check_chips(name: str, value: Any, *, per_instance: bool = False) -> None:
    """A whole number of chips in 1..MAX_CHIPS (1..MAX_CHIPS_PER_INSTANCE for one serving instance)."""
    if per_instance:
        _whole(name, value, high=MAX_CHIPS_PER_INSTANCE, unit="chips per instance")
    else:
        _whole(name, value, high=MAX_CHIPS, unit="chips")


def check_shape(name: str, value: Any, *, unit: str) -> None:
    """A whole number of ``unit`` (layers, width, context tokens) in 1..MAX_SHAPE."""
    _whole(name, value, high=MAX_SHAPE, unit=unit)


def check_duration(name: str, value: Any, *, unit_s: float, unit: str, what: str = "a training run") -> None:
    """A duration of at least MIN_DURATION_S and at most MAX_QUANTITY ``unit`` (each of ``unit_s`` seconds)."""
    allowed = f"{what} lasts from 1 s to {_e(MAX_QUANTITY)} {unit}"
    _within(
        name,
        value,
        low=MIN_DURATION_S / unit_s,
        high=MAX_QUANTITY,
        allowed=allowed,
        above=f"{_e(MAX_QUANTITY)} {unit}",
        under=f"1 second; {what} lasts at least 1 s",
    )


def check_chip_hours(name: str, value: Any) -> None:
    """Chip-hours of at least one chip for MIN_DURATION_S, and at most MAX_QUANTITY."""
    allowed = f"give chip-hours from 1 chip for 1 s ({1 / 3600:.3g}) to {_e(MAX_QUANTITY)}"
    _within(
        name,
        value,
        low=MIN_DURATION_S / 3600.0,
        high=MAX_QUANTITY,
        allowed=allowed,
        above=f"{_e(MAX_QUANTITY)} chip-hours",
        under=f"1 chip-second; {allowed}",
    )


def check_params(name: str, value: Any) -> None:
    """A parameter count in 1..MAX_PARAMS."""
    allowed = f"give a parameter count in 1..{_e(MAX_PARAMS)}"
    _within(
        name,
        value,
        low=1,
        high=MAX_PARAMS,
        allowed=allowed,
        above=f"{_e(MAX_PARAMS)} parameters",
        under=f"1 parameter; {allowed}",
    )


def check_count(name: str, value: Any, *, unit: str, one: str) -> None:
    """A count of ``unit`` (tokens, FLOP; ``one`` is the singular) in 1..MAX_QUANTITY."""
    allowed = f"give a number of {unit} in 1..{_e(MAX_QUANTITY)}"
    _within(name, value, low=1, high=MAX_QUANTITY, allowed=allowed, above=_e(MAX_QUANTITY), under=f"1 {one}; {allowed}")


def check_positive(name: str, value: Any) -> None:
    """A positive number in MIN_QUANTITY..MAX_QUANTITY (a price, a rate, a budget)."""
    allowed = f"give a positive number in {_POSITIVE}"
    _within(
        name,
        value,
        low=MIN_QUANTITY,
        high=MAX_QUANTITY,
        allowed=allowed,
        above=_e(MAX_QUANTITY),
        under=f"{_e(MIN_QUANTITY)}; {allowed}",
        positive=True,
    )


def check_fraction(name: str, value: Any, *, what: str) -> None:
    """A fraction in (0, 1], at least MIN_QUANTITY."""
    for shown, v in _numbers(name, value):
        if not (math.isfinite(v) and 0 < v <= 1):
            raise InvalidInputError(f"{shown} is outside (0, 1]; it is {what}")
        if v < MIN_QUANTITY:
            raise InvalidInputError(f"{shown} is under {_e(MIN_QUANTITY)}; it is {what}, in {_e(MIN_QUANTITY)}..1")


def check_share(name: str, value: Any, *, what: str) -> None:
    """A share strictly inside (0, 1), each end of an interval too, and an interval's low <= high."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = value
        if _is_number(lo) and _is_number(hi) and lo > hi:
            raise InvalidInputError(f"{name}={_show(lo)}..{_show(hi)}: low is greater than high; write low..high")
    for shown, v in _numbers(name, value):
        if not (math.isfinite(v) and 0 < v < 1):
            raise InvalidInputError(f"{shown} is outside (0, 1); it is {what}")


def check_year(name: str, value: Any, *, last: int = YEAR_MAX, why: str = "") -> None:
    """A whole year in YEAR_MIN..``last`` (YEAR_MAX unless a reason, ``why``, ends it sooner)."""
    span = f"{YEAR_MIN}..{last}" + (f" ({why})" if why else "")
    for shown, v in _numbers(name, value):
        if not (math.isfinite(v) and v == int(v)):
            raise InvalidInputError(f"{shown} is not a whole year in {span}")
        if not YEAR_MIN <= v <= last:
            raise InvalidInputError(f"{shown} is outside {span}")


def check_date(name: str, value: Any) -> None:
    """A date from the first day of YEAR_MIN to the first day of YEAR_MAX (:mod:`flopcast.dates`' range)."""
    if not isinstance(value, dt.date):
        return  # None, or what flopcast.dates reads (a decimal year, a string) and checks itself
    day = value.date() if isinstance(value, dt.datetime) else value
    first, last = dt.date(YEAR_MIN, 1, 1), dt.date(YEAR_MAX, 1, 1)
    if not first <= day <= last:
        raise InvalidInputError(f"{name}={value.isoformat()} is outside {first}..{last}")
