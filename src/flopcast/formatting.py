"""Number formatting for people: the one home of how flopcast writes a number, used by the
library's own summaries and by every front-end."""

from __future__ import annotations

import math

_UNIT_STYLE = {
    "FLOP": "sci",
    "FLOP/s": "sci",
    "USD": "usd",
    "s": "duration",
    "bytes": "bytes",
    "chip-hours": "count",
    "chips": "count",
    "": "sci",
}


def format_sci(x: float, digits: int = 2) -> str:
    """``3.1e23`` style; small magnitudes in plain notation."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.{digits + 1}g}"
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    return f"{mant}e{int(exp)}"


def format_usd(x: float) -> str:
    """``$4.3M``, ``$2.1B``, ``$950``."""
    if x is None or math.isnan(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    x = abs(x)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{sign}${x / div:.3g}{suffix}"
    return f"{sign}${x:.3g}"


def format_duration(seconds: float) -> str:
    if seconds is None or math.isnan(seconds):
        return "n/a"
    if abs(seconds) < 1:
        return f"{seconds * 1e3:.3g} ms"
    if abs(seconds) < 120:
        return f"{seconds:.3g} s"
    days = seconds / 86_400
    if days >= 365.25 * 2:
        return f"{days / 365.25:.3g} years"
    if days >= 2:
        return f"{days:.3g} days"
    return f"{seconds / 3600:.3g} hours"


def format_bytes(n: float) -> str:
    if n is None or math.isnan(n):
        return "n/a"
    for div, suffix in ((1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if abs(n) >= div:
            return f"{n / div:.3g} {suffix}"
    return f"{n:.3g} B"


def format_count(n: float) -> str:
    if n is None or math.isnan(n):
        return "n/a"
    if abs(n) >= 1e6:
        return f"{n / 1e6:.3g}M"
    if abs(n) >= 1e4:
        return f"{n / 1e3:.3g}k"
    return f"{n:,.0f}" if abs(n) >= 10 else f"{n:.3g}"


def format_value(x: float, unit: str) -> str:
    style = _UNIT_STYLE.get(unit, "sci")
    if style == "usd":
        return format_usd(x)
    if style == "duration":
        return format_duration(x)
    if style == "bytes":
        return format_bytes(x)
    if style == "count":
        return format_count(x)
    text = format_sci(x)
    return f"{text} {unit}" if unit else text


def format_range(lo: float, hi: float, unit: str) -> str:
    style = _UNIT_STYLE.get(unit, "sci")
    if style == "sci":
        return f"{format_sci(lo)}-{format_sci(hi)}"
    return f"{format_value(lo, unit)}-{format_value(hi, unit)}"


def format_summary(summary, credibility: float = 0.9) -> str:
    """``3.1e23 FLOP (90% CI 2.5e23-3.9e23)``; a point prints as its value alone."""
    head = format_value(summary.median, summary.unit)
    if summary.is_point:
        return head
    if credibility == 0.9:
        lo, hi = summary.p5, summary.p95
    else:
        lo, hi = summary.interval(credibility)
    return f"{head} ({credibility:.0%} CI {format_range(lo, hi, summary.unit)})"
