"""Parsing numbers and intervals typed on the command line (no heavy imports)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from flopcast.errors import InvalidInputError

if TYPE_CHECKING:
    import datetime as dt

_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


def parse_number(field: str, text: str) -> float:
    """``175e9``, ``175B``, ``1.5T``, ``0.4``; suffixes k, M, B/G, T (case-insensitive)."""
    raw = text.strip().replace("_", "").replace(",", "")
    mult = 1.0
    if raw and raw[-1].lower() in _SUFFIX and not raw.lower().endswith("e"):
        mult, raw = _SUFFIX[raw[-1].lower()], raw[:-1]
    try:
        v = float(raw) * mult
    except ValueError:
        raise InvalidInputError(
            f"--{field}={text!r} is not a number; give a value like 175e9 or 175B, or an interval low..high"
        ) from None
    if math.isnan(v) or math.isinf(v):
        raise InvalidInputError(f"--{field}={text!r} is not finite; give a finite positive number")
    return v


def parse_value(field: str, text: str | None, *, fraction: bool = False):
    """A point (float) or a 90% interval ``low..high`` (tuple). Checks sign and range."""
    if text is None:
        return None
    if ".." in text:
        lo_s, _, hi_s = text.partition("..")
        lo, hi = parse_number(field, lo_s), parse_number(field, hi_s)
        if lo > hi:
            raise InvalidInputError(f"--{field}={text!r}: low {lo:g} is greater than high {hi:g}; write low..high")
        _check(field, lo, fraction)
        _check(field, hi, fraction)
        return (lo, hi)
    v = parse_number(field, text)
    _check(field, v, fraction)
    return v


def parse_point(field: str, text: str | None, *, fraction: bool = False) -> float | None:
    """One number (:func:`parse_value` refusing an interval ``low..high``); None stays None."""
    v = parse_value(field, text, fraction=fraction)
    if isinstance(v, tuple):
        raise InvalidInputError(f"--{field}={text!r}: give one number here, not an interval")
    return v


def _check(field: str, v: float, fraction: bool) -> None:
    if fraction and not (0 < v <= 1):
        raise InvalidInputError(f"--{field}={v:g} is outside (0, 1]; it is a fraction of peak FLOP/s")
    if v <= 0:
        raise InvalidInputError(f"--{field}={v:g} must be > 0")


def parse_date(field: str, text: str | None, *, allow_year: bool = False) -> dt.date | None:
    """``YYYY-MM-DD`` (or, with ``allow_year``, ``YYYY`` meaning mid-year) -> date; None stays None."""
    if text is None:
        return None
    import datetime as dt

    try:
        if allow_year and len(text) == 4:
            return dt.date(int(text), 7, 1)
        return dt.date.fromisoformat(text)
    except ValueError:
        hint = "YYYY-MM-DD or a year" if allow_year else "YYYY-MM-DD"
        raise InvalidInputError(f"--{field}={text!r} is not a date; write {hint}") from None


def json_default(o):
    """JSON for dates and numpy values."""
    import datetime as dt

    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def echo_json(obj) -> None:
    """Print ``obj`` as indented JSON. NaN and infinity are not valid JSON: a result holding one is refused
    with a one-line error naming the field (:func:`flopcast.reporting.output.to_json`), before anything is printed."""
    import typer

    from flopcast.reporting.output import to_json

    typer.echo(to_json(obj, default=json_default))


def console(stderr: bool = False):
    """The terminal every command prints to: its own width (COLUMNS wins), 120 columns for a pipe or a file,
    no soft wrapping (:func:`flopcast.reporting.tables.terminal_console`)."""
    from flopcast.reporting.tables import terminal_console

    return terminal_console(stderr=stderr)


def print_table(con, table) -> None:
    """Print a rich table fitted to the terminal with no number broken (:func:`flopcast.reporting.tables.print_table`)."""
    from flopcast.reporting.tables import print_table as fitted

    fitted(con, table)
