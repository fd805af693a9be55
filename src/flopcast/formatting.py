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
    "hours": "hours",
    "fraction": "percent",
    "ratio": "times",
    "USD/chip-hour": "usd_rate",
    "USD/kWh": "usd_rate",
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


#: the cost of each method, wherever a cost is shown
COST_LABELS = {
    "cost_usd.cloud": "Cost, cloud rental",
    "cost_usd.amortized": "Cost, amortized hardware + energy",
    "cost_usd.acquisition": "Cost, hardware acquisition",
}

#: every other field a front-end shows, by area; each front-end adds its own fields in its section
EXTRA_LABELS: dict[str, str] = {
    # -- labels of the CLI --
    # (the inputs of a training estimate have their labels in the web app's section below: one label each)
    # the facts of a database record (`models show`)
    "key": "Key (what `estimate` takes)",
    "publication_date": "Published",
    "organizations": "Organizations",
    "domains": "Domains",
    "aliases": "Also known as",
    "parameters": "Parameters",
    "params_active": "Active parameters per token",
    "training_tokens": "Training tokens",
    "dataset_size": "Dataset size",
    "dataset_unit": "Dataset unit",
    "compute_lower_flop": "Training compute, low",
    "compute_upper_flop": "Training compute, high",
    "confidence": "Epoch's confidence",
    "estimation_method": "How the compute was estimated",
    "base_model": "Base model",
    "finetune_compute_flop": "Fine-tuning compute",
    "post_training_compute_flop": "Post-training compute",
    "compute_rank": "Compute rank when published",
    "training_hardware": "Training hardware",
    "hardware_quantity": "Chips used",
    "training_start_date": "Training start",
    "d_model": "Model width",
    "kv_cache_fraction": "KV cache / multi-head attention's",
    "precision": "Precision",
    "accessibility": "Accessibility",
    "training_power_draw_w": "Training power draw (Epoch)",
    "countries": "Countries",
    "line": "Line of Epoch's table",
    "origin": "Origin",
    "notes": "Notes",
    "is_finetune": "Fine-tune",
    # the factors of `explain A B`
    "factor.compute": "Compute",
    "factor.peak_flop_per_s": "Chip peak FLOP/s",
    "factor.utilization": "Utilization",
    "factor.price_per_chip_hour": "Price per chip-hour",
    "factor.price_per_chip_hour_at_date": "Price per chip-hour on one date",
    "factor.price_date": "Price drift between the runs' dates",
    "factor.memory_chips": "Chips raised for memory",
    "factor.other": "Other (Monte Carlo)",
    "hardware": "Hardware",
    # the quotes of one `mfu measure` run
    "median_step": "Median step",
    "mean_of_steps": "Mean of the steps",
    "total_flop_over_total_time": "Total FLOP / total time (the headline)",
    "including_warmup": "Including the warm-up steps",
    "single_step (first after warm-up)": "One step (the first after warm-up)",
    "best_step": "Best step",
    "first_step (cold)": "First step (cold)",
    # -- labels of the web app --
    "params_per_token": "Parameters active per token",
    "params": "Parameters",
    "tokens": "Training tokens",
    "epochs": "Epochs",
    "n_layers": "Layers",
    "d_attn": "Attention width (model dimension)",
    "context_length": "Context length",
    "flop_convention": "FLOP-counting convention (x 6ND)",
    "peak_flop_per_s": "Peak FLOP/s per chip",
    "training_time_hours": "Training time",
    "utilization": "Utilization (MFU)",
    "price_usd_per_chip_hour": "Cloud price per chip-hour",
    "chip_price_usd": "Purchase price per chip",
    "server_overhead": "Server overhead on the chip price",
    "interconnect_fraction": "Interconnect share of the hardware cost",
    "depreciation_oom_per_year": "Depreciation (orders of magnitude a year)",
    "years_held": "Years the hardware was held before training",
    "tdp_w": "Chip power (TDP)",
    "server_power_ratio": "Server power / chip power",
    "average_power_fraction": "Average power / peak power",
    "pue": "Datacenter PUE",
    "usd_per_kwh": "Electricity price",
    "grid_kg_co2e_per_kwh": "Grid carbon intensity",
    "depreciation_years": "Depreciation life",
    "cost_of_capital": "Cost of capital",
    # -- labels of the HTML report --
    # -- labels of the Python API --
    "comparison.peak_flop_per_s": "Peak FLOP/s per chip (dense)",
    "comparison.memory_bytes": "Memory per chip",
    "comparison.min_chips": "Fewest chips that hold the training state",
    "comparison.price_usd_per_chip_hour": "Cloud price per chip-hour",
    "comparison.usd_per_flop": "Cost per delivered FLOP",
}

#: the one registry of human labels: a field key (``chip_hours``, ``cost_usd.cloud``) -> what people read
LABELS: dict[str, str] = {**OUTPUT_LABELS, **DEPLOYMENT_LABELS, **COST_LABELS, **EXTRA_LABELS}


def label(key: str) -> str:
    """The human label of a field (:data:`LABELS`). A key with no label is shown with its words spaced
    ("chip_hours" -> "chip hours"), never raw; ``tests`` walk every label a front-end shows."""
    if key in LABELS:
        return LABELS[key]
    return key.replace("cost_usd.", "cost, ").replace("_", " ").replace(".", " ")


def plural(n: float, singular: str, plural_form: str | None = None) -> str:
    """``1 instance``, ``2 instances``, ``1.5 days``; the count formatted as a whole number where it is one."""
    word = singular if n == 1 else (plural_form or singular + "s")
    text = f"{n:,.0f}" if float(n).is_integer() else f"{n:g}"
    return f"{text} {word}"


def deployment_label(key: str, duration_days: float | None = None) -> str:
    """The label of a serving output; the total names its period ("$ over 30 days", "$ over 1 day")."""
    if key == "usd_total" and duration_days is not None:
        return f"$ over {plural(duration_days, 'day')}"
    return LABELS.get(key) or label(key)


def deployment_rows(keys, duration_days: float | None = None) -> list[tuple[str, str]]:
    """``(key, label)`` of the serving outputs to show, one row a number, in the order of ``keys``.

    Over a year (365.25 +- 1 days) the total is the year's: it is labelled "$ over 365 days (a year)" and
    "$ a year" is left out; over one day the total, "$ over 1 day", is "$ a day", which is left out the same way.
    Every front-end (CLI, web, report) shows the rows this gives."""
    d = duration_days
    same = {"usd_per_year": d is not None and abs(d - 365.25) <= 1, "usd_per_day": d == 1}
    rows = []
    for k in keys:
        if same.get(k) and "usd_total" in keys:
            continue
        name = deployment_label(k, d)
        if k == "usd_total" and same["usd_per_year"]:
            name += " (a year)"
        rows.append((k, name))
    return rows


#: a training plan's outputs (``flopcast plan``; the keys of ``TrainingPlan.to_dict()``) and what they are called, in
#: the order every front-end shows them; the cost by each method follows (:func:`plan_rows`)
PLAN_OUTPUT_LABELS = {
    "training_compute_flop": "Training compute",
    "duration_s": "Wall-clock time (failures included)",
    "chip_hours": "Chip-hours (chips x wall-clock)",
    "mfu": "MFU (of the steps)",
    "hfu": "HFU (recompute included)",
    "effective_utilization": "Effective utilization (x goodput)",
    "goodput": "Goodput (time not lost to failures)",
}


def plan_rows(plan) -> list[tuple[str, str, object]]:
    """``(key, label, summary)`` of a training plan's outputs (a ``flopcast.layout_plan.TrainingPlan``), one row a
    number: :data:`PLAN_OUTPUT_LABELS`, then ``cost_usd.METHOD`` for each method. The web app and the report show
    these rows, with the labels ``flopcast plan`` prints."""
    rows: list[tuple[str, str, object]] = []
    for key, name in PLAN_OUTPUT_LABELS.items():
        s = plan.estimate.training_compute_flop if key == "training_compute_flop" else getattr(plan, key)
        rows.append((key, name, s))
    rows += [(f"cost_usd.{m}", label(f"cost_usd.{m}"), s) for m, s in plan.cost_usd.items()]
    return rows


def plan_texts(plan) -> dict[str, str]:
    """The sentences of a training plan, as ``flopcast plan`` prints them: ``title`` (the model, the chip, the
    precision and the layout), ``binding`` (what binds), ``memory_title`` and ``memory_total`` (the most-loaded rank's
    memory and whether it fits), and ``step`` (bubble, exposed communication, the MFU ceiling, the fewest chips, the
    MFU's source, the dollars and the samples)."""
    mem, t, est = plan.memory, plan.time, plan.estimate
    return {
        "title": f"{plan.model} on {plan.hardware} ({plan.precision}): {plan.layout.describe()}",
        "binding": f"Bound by {plan.binding}: {plan.binding_detail}.",
        "memory_title": "Memory of the most-loaded rank (a first pipeline stage), of "
        + format_value(mem.capacity_bytes, "bytes"),
        "memory_total": f"{format_value(mem.total_bytes, 'bytes')} ({'fits' if mem.fits else 'does not fit'})",
        "step": (
            f"Per step: pipeline bubble {t.bubble_share:.1%}, exposed communication {t.comm_share:.1%} (the most MFU "
            f"this layout allows with the kernels at peak: {plan.mfu_ceiling:.0%}). Fewest chips that hold the run in "
            f"any layout: {plan.fewest_chips:,}. MFU: {plan.mfu_source}. Dollars: {est.dollars}. "
            f"Samples: {est.samples:,} (seed {est.seed})."
        ),
    }


def format_sci(x: float, digits: int = 2) -> str:
    """``3.1e23`` style; small magnitudes in plain notation."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        # "2,020", never "2.02e+03": the plain notation holds every magnitude below 1e4
        return f"{x:.{digits + 1}g}" if abs(x) < 10 ** (digits + 1) else f"{x:,.0f}"
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
    if abs(n) >= 1e12:
        return f"{n / 1e12:.3g}T"
    if abs(n) >= 1e9:
        return f"{n / 1e9:.3g}B"
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


#: units of things counted one by one: a whole count under a million is written exactly (``12,288``, ``10,000``)
_EXACT_UNITS = ("", "parameters", "tokens", "chips", "instances", "chip-hours")
#: counted units whose name follows the number (``175B parameters``, ``2,048 tokens``)
_NAMED_COUNTS = ("parameters", "tokens", "instances")


def _whole(x: float, unit: str) -> bool:
    """Whether :func:`format_value` writes ``x`` exactly: a count of ``unit`` under a million that is whole (to
    a millionth: a count drawn around a whole number, 9,999.9999995 chips, is that number)."""
    if unit not in _EXACT_UNITS or x is None or (isinstance(x, float) and math.isnan(x)):
        return False
    r = round(x)
    return abs(x) < 1e6 and abs(x - r) <= 1e-6 * max(abs(x), 1.0) and (r != 0 or bool(unit))


def format_value(x: float, unit: str) -> str:
    """A number with its unit, as every front-end writes it: SI prefixes, durations in the largest sensible
    unit, dollars with k/M/B/T, whole counts under a million exact (d_model ``12,288``, ``10,000`` chips)."""
    if unit in _EXACT_UNITS and x is not None and not (isinstance(x, float) and math.isnan(x)):
        r = round(x)
        if _whole(x, unit):
            # a count drawn around a whole number (9,999.9999995 chips) is that number
            word = unit if unit in _NAMED_COUNTS else ""
            if word and r == 1:
                word = word[:-1]
            return f"{r:,}" + (f" {word}" if word else "")
        if unit in _NAMED_COUNTS:
            return f"{format_count(x)} {unit}"
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
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if style == "hours":
        return format_duration(x * 3600.0)
    if style == "percent":
        return f"{x:.1%}" if abs(x) >= 0.001 else f"{x * 100:.2g}%"
    if style == "times":
        return f"{x:.3g}x"
    if style == "usd_rate":
        return format_usd(x) + "/" + unit.split("/", 1)[1]
    text = format_sci(x)
    if text == "1" and unit in _COUNTED_UNITS:
        unit = unit[:-1]  # "1 instance", never "1 instances"
    return f"{text} {unit}" if unit else text


#: units that count things: one of them is written in the singular
_COUNTED_UNITS = ("instances", "tokens", "parameters", "chips", "requests", "models", "steps", "days", "years")


def format_range(lo: float, hi: float, unit: str) -> str:
    """An interval, ``lo-hi``, its ends in one style (:func:`format_ends`) and a shared unit written once."""
    style = _UNIT_STYLE.get(unit, "sci")
    if style == "sci":
        return f"{format_sci(lo)}-{format_sci(hi)}"
    return _joined(*format_ends(lo, hi, unit))


def format_ends(lo: float, hi: float, unit: str) -> tuple[str, str]:
    """The two ends of an interval, each as :func:`format_value` writes it, in one style: where one end of a count
    is written in full and the other with a suffix, both are written in full under a million (``9,000`` and
    ``11,111`` chips, not ``9,000`` and ``11.1k``), else both with suffixes (``900k`` and ``1.2M``)."""
    a, b = format_value(lo, unit), format_value(hi, unit)
    if unit in _EXACT_UNITS and _compact(a) != _compact(b):
        if max(abs(lo), abs(hi)) < 1e6:
            return format_value(float(round(lo)), unit), format_value(float(round(hi)), unit)
        word = f" {unit}" if unit in _NAMED_COUNTS else ""
        a, b = (f"{x / 1e3:.3g}k" if 1e3 <= abs(x) < 1e4 else format_count(x) for x in (lo, hi))
        return a + word, b + word
    return a, b


def _compact(text: str) -> bool:
    """Whether a count is written with a k/M/B/T suffix (``11.1k``) rather than in full (``9,000``)."""
    number = text.split(" ", 1)[0]
    return number[-1:] in ("k", "M", "B", "T")


def _joined(a: str, b: str) -> str:
    """``a-b``, the unit the two ends share written once: ``11.8-18.5 days``, ``$0.96-$1.46/chip-hour``;
    ends in different units keep both (``959 MWh-1.18 GWh``). No space inside, so a number never splits."""
    for sep in (" ", "/"):
        if sep in a and sep in b:
            (na, ua), (nb, ub) = (
                a.rsplit(sep, 1) if sep == " " else a.split(sep, 1),
                (b.rsplit(sep, 1) if sep == " " else b.split(sep, 1)),
            )
            if ua == ub and " " not in na and " " not in nb:
                return f"{na}-{nb}{sep}{ua}"
    return f"{a}-{b}"


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


def format_display(x: float | None, unit: str) -> str:
    """The web app's name for :func:`format_value`: one formatter for every front-end."""
    return format_value(x, unit)  # type: ignore[arg-type]
