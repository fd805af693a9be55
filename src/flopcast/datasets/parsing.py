"""Cell-level parsing for Epoch AI's CSV tables, and the reports that collect what failed.

A cell that cannot be parsed never raises: the parsers here return ``(None, reason)`` and
the caller records a :class:`ParseIssue` (file, line, column, value, reason) in the file's
:class:`ParseReport`. Numbers may be written ``1.5e+23``, ``1,234,567``, ``$15000.00`` or
(where allowed) ``47%``; dates ``2020-05-28``, ``2020-05``, ``2020`` or Airtable's
``6/18/2025 11:40am``; multi-valued cells are comma-separated with CSV-quoted items.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re

from flopcast.datasets.reports import ParseIssue, ParseReport

__all__ = [
    "MAX_VALUE_CHARS",
    "ParseIssue",
    "ParseReport",
    "normalize_name",
    "parse_date",
    "parse_number",
    "split_list",
]

MAX_VALUE_CHARS = 80


# --------------------------------------------------------------------------- reports

# ParseIssue and ParseReport live in flopcast.datasets.reports (a cached database loads them without this module)


class _Sink:
    """Collects issues for one record: file label, current line."""

    __slots__ = ("file", "issues", "line", "warnings")

    def __init__(self, file: str, issues: list[ParseIssue], warnings: list[ParseIssue]):
        self.file = file
        self.line = 0
        self.issues = issues
        self.warnings = warnings

    def issue(self, column: str, value: str, reason: str) -> None:
        self.issues.append(ParseIssue(self.file, self.line, column, _trunc(value), reason))

    def warn(self, column: str, value: str, reason: str) -> None:
        self.warnings.append(ParseIssue(self.file, self.line, column, _trunc(value), reason))


def _trunc(value: str) -> str:
    value = str(value)
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 3] + "..."


# --------------------------------------------------------------------------- cell parsers

_NUM = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def parse_number(
    raw: str | None,
    *,
    percent: bool = False,
    positive: bool = False,
    unit_interval: bool = False,
) -> tuple[float | None, str | None]:
    """``(value, None)`` for a number or an empty cell (value None), ``(None, reason)`` otherwise.

    Accepts ``1.5e+23``, ``175000000000.0``, ``1,234,567`` (groups of three), ``$15000.00``,
    ``$1,234``; with ``percent`` also ``47%`` (-> 0.47). ``positive`` rejects zero and
    negatives; ``unit_interval`` rejects values outside (0, 1].
    """
    if raw is None:
        return None, None
    s = raw.strip()
    if not s:
        return None, None
    t = s
    is_percent = False
    if t.endswith("%"):
        if not percent:
            return None, "a percentage is not allowed in this column"
        t = t[:-1].rstrip()
        is_percent = True
    if t.startswith("$"):
        t = t[1:].lstrip()
    elif t[:1] in "+-" and t[1:2] == "$":
        t = t[0] + t[2:].lstrip()
    if "," in t:
        if not _GROUPED.fullmatch(t):
            return None, "not a number (a comma that is not a thousands separator)"
        t = t.replace(",", "")
    if not _NUM.fullmatch(t):
        if _NONFINITE.fullmatch(t):
            return None, "not a finite number"
        return None, "not a number"
    v = float(t)
    if not math.isfinite(v):
        return None, "not a finite number (too large for a float)"
    if is_percent:
        v /= 100.0
    if unit_interval and not 0.0 < v <= 1.0:
        hint = f"; if it is a percentage write {s}% or {v / 100:g}" if 1.0 < v <= 100.0 and not is_percent else ""
        return None, f"utilization {v:g} is outside (0, 1]{hint}"
    if positive and v <= 0:
        return None, f"must be positive, got {v:g}"
    return v, None


_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"(\d{4})")
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[aApP][mM])?)?")


def parse_date(raw: str | None) -> tuple[dt.date | None, str | None]:
    """``(date, None)``, ``(None, None)`` for an empty cell, or ``(None, reason)``.

    Accepts ``2020-05-28``, ``2020-05-28 14:03`` (time dropped), ``2020-05`` (first of the
    month), ``2020`` (1 January) and Airtable's ``6/18/2025 11:40am`` (month/day/year).
    """
    if raw is None:
        return None, None
    s = raw.strip()
    if not s:
        return None, None
    try:
        m = _ISO_DAY.fullmatch(s)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None
        m = _ISO_MONTH.fullmatch(s)
        if m:
            return dt.date(int(m[1]), int(m[2]), 1), None
        m = _YEAR.fullmatch(s)
        if m:
            return dt.date(int(m[1]), 1, 1), None
        m = _US.fullmatch(s)
        if m:
            return dt.date(int(m[3]), int(m[1]), int(m[2])), None
    except ValueError as exc:
        return None, f"invalid date ({exc})"
    return None, "not a date (expected YYYY-MM-DD, YYYY-MM, YYYY or M/D/YYYY)"


def normalize_name(name: str) -> str:
    """Lowercase and keep only letters and digits (Unicode-aware): the duplicate/lookup key."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


_HYPHEN_BREAK = re.compile(r"-[ \t]*[\r\n]\s*")


def _clean_text(s: str) -> str:
    """Collapse any whitespace run (tabs, newlines, no-break spaces) to one space; join ``-\\n``."""
    if "-\n" in s or "-\r" in s or "- \n" in s:
        s = _HYPHEN_BREAK.sub("-", s)
    return " ".join(s.split())


def split_list(cell: str | None) -> tuple[str, ...]:
    """Items of a multi-valued cell: comma-separated; an item holding a comma is double-quoted.

    ``University of Cambridge,"NERSC, Lawrence Berkeley National Laboratory"`` gives two
    items. Whitespace inside items is collapsed; empty items and repeats are dropped.
    """
    if not cell:
        return ()
    s = cell.strip()
    if not s:
        return ()
    if '"' in s:
        try:
            items = next(csv.reader([s], skipinitialspace=True))
        except (csv.Error, StopIteration):
            items = s.replace('"', "").split(",")
    else:
        items = s.split(",")
    out: list[str] = []
    for item in items:
        item = _clean_text(item)
        if item and item not in out:
            out.append(item)
    return tuple(out)
