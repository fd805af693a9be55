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
    "W": "power",
    "J": "energy",
    "kg CO2e": "emissions",
    "": "sci",
}


#: what a training estimate's outputs are called in tables and reports
OUTPUT_LABELS = {
    "training_compute_flop": "Training compute",
    "compute_from_params_flop": "  from parameters x tokens",
    "compute_including_base_flop": "  with the base model's",
    "implied_utilization": "Utilization implied",
    "chip_hours": "Chip-hours",
    "duration_s": "Wall-clock time",
    "chips": "Chips",
    "memory_bytes": "Training memory",
    "min_chips": "Fewest chips that hold it",
    "peak_power_w": "Peak power (facility)",
    "energy_chip_j": "Energy, chip-level (TDP x hours)",
    "energy_facility_j": "Energy, facility-level",
    "emissions_kg_co2e": "Emissions",
}


#: what the serving outputs are called wherever they are shown (CLI, web, report)
DEPLOYMENT_LABELS = {
    "tokens_per_s_per_instance": "Output tokens/s per instance",
    "time_per_output_token_s": "Time per output token",
    "time_to_first_token_s": "Time to first token",
    "latency_per_token_s": "Time per decode step",
    "tokens_per_day": "Output tokens a day",
    "prompt_tokens_per_day": "Prompt tokens a day",
    "instances": "Instances",
    "prefill_instances": "  of which prefill instances",
    "fleet_load_factor": "Fleet load factor",
    "usd_per_million_tokens": "$ per million tokens (prompt and output)",
    "usd_per_million_output_tokens": "$ per million output tokens",
    "usd_per_day": "$ a day",
    "usd_per_year": "$ a year",
    "usd_total": "$ over the period",
}


def deployment_label(key: str, duration_days: float | None = None) -> str:
    """The label of a serving output; the total names its period ("$ over 30 days", "$ over 1 day")."""
    if key == "usd_total" and duration_days is not None:
        return f"$ over {duration_days:g} day" + ("" if duration_days == 1 else "s")
    return DEPLOYMENT_LABELS.get(key, key)


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


_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _prefixed(x: float, unit: str) -> str:
    """``x`` with the largest SI prefix it reaches, three significant figures: ``2.04 TB``, ``700 W``."""
    if x is None or math.isnan(x):
        return "n/a"
    for div, prefix in _PREFIXES:
        if abs(x) >= div:
            return f"{x / div:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def format_bytes(n: float) -> str:
    return _prefixed(n, "B")


def format_count(n: float) -> str:
    if n is None or math.isnan(n):
        return "n/a"
    if abs(n) >= 1e6:
        return f"{n / 1e6:.3g}M"
    if abs(n) >= 1e4:
        return f"{n / 1e3:.3g}k"
    return f"{n:,.0f}" if abs(n) >= 10 else f"{n:.3g}"


def format_power(watts: float) -> str:
    """``22.6 MW``, ``700 W``."""
    return _prefixed(watts, "W")


def format_energy(joules: float) -> str:
    """Energy in watt-hours, as grids and model cards count it: 1,287 MWh is written ``1.29 GWh``."""
    return _prefixed(joules / 3600.0 if joules is not None else joules, "Wh")


def format_emissions(kg: float) -> str:
    """``552 tCO2e``, ``1,551 tCO2e``, ``12 kg CO2e``, ``1.2 MtCO2e``."""
    if kg is None or math.isnan(kg):
        return "n/a"
    if abs(kg) >= 1e9:
        return f"{kg / 1e9:.3g} MtCO2e"
    if abs(kg) >= 1e6:
        return f"{kg / 1e3:,.0f} tCO2e"
    if abs(kg) >= 1e3:
        return f"{kg / 1e3:.3g} tCO2e"
    return f"{kg:.3g} kg CO2e"


def format_value(x: float, unit: str) -> str:
    style = _UNIT_STYLE.get(unit, "sci")
    if style == "power":
        return format_power(x)
    if style == "energy":
        return format_energy(x)
    if style == "emissions":
        return format_emissions(x)
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
