"""What the pages show, as strings made by :mod:`flopcast.formatting` (the one formatter of every front-end).

The API's numeric fields stay as they are for scripts; each response of a page's request also carries a
``display`` dict of labelled, formatted rows, so the browser never formats a number of its own. Error messages of
the request models are rewritten here in the CLI's words (``params=-5 must be > 0``), one per field.
"""

from __future__ import annotations

import math
import re
from typing import Any

from flopcast.formatting import (
    deployment_rows,
    format_count,
    format_display,
    format_ends,
    format_sci,
    format_usd,
    label,
    plan_rows,
    plan_texts,
    plural,
)

#: between the ends of an interval (the page keeps each end on one line)
DASH = " \u2013 "

#: what each form field is called on the page (the labels the CLI's flags have there); a message of the service
#: that names ``--flag`` is shown with these words
FIELD_LABELS = {
    "model": "Model",
    "params": "Parameters",
    "tokens": "Training tokens",
    "compute": "Training compute",
    "hardware": "Hardware",
    "chips": "Chips",
    "days": "Days",
    "utilization": "Utilization (MFU)",
    "price_per_chip_hour": "Price per chip-hour",
    "chip_price": "Chip price",
    "method": "Method",
    "samples": "Samples",
    "scenario": "Scenario",
    "tokens_per_day": "Output tokens a day",
    "requests_per_s": "Requests a second",
    "prompt_tokens": "Prompt tokens a request",
    "output_tokens": "Output tokens a request",
    "ttft_s": "Time to first token",
    "tpot_s": "Time per output token",
    "precision": "Precision",
    "batch": "Batch",
    "tp": "Tensor-parallel degree",
    "ep": "Expert-parallel degree",
    "draft_tokens": "Draft tokens a step",
    "acceptance": "Draft acceptance rate",
    "cache_hit": "Prefix-cache hit rate",
    "metric": "Metric",
    "top": "Top N",
    "since": "Since",
    "until": "Until",
    "extrapolate": "Extrapolate to",
    "cost_method": "Cost method",
    "a": "Chip a",
    "b": "Chip b",
    "seq_len": "Sequence length",
    "n_layers": "Layers",
    "d_model": "Model width",
    "n_heads": "Attention heads",
    "n_kv_heads": "KV heads",
    "ffn_hidden": "Feed-forward width",
    "ffn_activation": "Feed-forward activation",
    "vocab": "Vocabulary",
    "global_batch_tokens": "Global batch, tokens",
    "pp": "Pipeline stages",
    "dp": "Data-parallel degree",
    "zero": "ZeRO stage",
    "micro_batch": "Micro-batch",
    "recompute": "Recompute",
    "start_date": "Start date",
    "organization": "Organization",
}

_BOUND_WORDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
_BOUND_CTX = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _shown(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return repr(v).lower() if v is not None else "null"
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:g}"
    if isinstance(v, str):
        return repr(v[:40])
    return str(v)[:40]


def cli_error(field: str, err: dict) -> str:
    """One pydantic error as the CLI says it: ``params=-5 must be > 0``, ``utilization=1.5 must be <= 1``."""
    kind = err.get("type", "")
    value = err.get("input")
    ctx = err.get("ctx") or {}
    given = f"{field}={_shown(value)}"
    if kind in _BOUND_WORDS:
        return f"{given} must be {_BOUND_WORDS[kind]} {_shown(ctx.get(_BOUND_CTX[kind]))}"
    if kind == "finite_number":
        return f"{given} is not finite; give a finite positive number"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        whole = "a whole number" if kind.startswith("int") else "a number"
        return f"{given} is not {whole}; give a value like 175e9, or an interval [low, high]"
    if kind == "literal_error":
        return f"{given} is not one of {ctx.get('expected', '')}"
    if kind == "extra_forbidden":
        return f"{field} is not an input of this request ({err.get('msg', '')})"
    if kind == "missing":
        return f"{field} is missing"
    if kind == "value_error":
        return f"{field}: {str(err.get('msg', '')).removeprefix('Value error, ')}"
    return f"{field}: {err.get('msg', '')}"


_UNION_BRANCH = re.compile(r"^(constrained-|list\[|literal\[|function-|str|float|int|bool|json-or-python)")


def request_errors(errors: list[dict]) -> list[dict]:
    """pydantic's errors, one per field, in the CLI's words; ``loc`` is ``[where, field]``.

    A field typed "a number or an interval" fails both ways; the branch its value was meant for is kept (a list:
    the interval's error, anything else: the number's), and its branch name is dropped from ``loc``.
    """
    by_field: dict[tuple, list[dict]] = {}
    for e in errors:
        loc = list(e.get("loc", ()))
        two = len(loc) >= 2 and loc[0] in ("body", "query")
        head = (loc[0], loc[1]) if two else tuple(loc)
        by_field.setdefault(head, []).append({**e, "branch": loc[2:] if two else []})
    out = []
    for head, errs in by_field.items():
        if len(head) != 2 or not isinstance(head[1], str):
            for e in errs:
                out.append({"loc": list(head), "msg": e.get("msg", ""), "type": e.get("type", "")})
            continue
        value = errs[0].get("input")
        meant = (
            "list["
            if isinstance(value, list)
            else "str"
            if isinstance(value, str)
            else "float"
            if isinstance(value, float | int)
            else ""
        )

        def fits(e: dict, meant: str = meant) -> bool:
            b = e["branch"]
            if not (b and isinstance(b[0], str) and _UNION_BRANCH.match(b[0])):
                return True  # not a branch of a union
            return b[0].startswith("list[") if meant == "list[" else (meant in b[0] and not b[0].startswith("list["))

        keep = [e for e in errs if fits(e)]
        if not keep and meant == "str":  # a string where a number was wanted: the number's error
            keep = [e for e in errs if "float" in str(e["branch"][:1]) or "int" in str(e["branch"][:1])]
        e = (keep or errs)[0]
        field = head[1]
        if e["branch"] and isinstance(e["branch"][-1], int):  # one end of an interval
            field = f"{field}[{e['branch'][-1]}]"
        out.append({"loc": list(head), "msg": cli_error(field, e), "type": e.get("type", "")})
    return out


_FLAG = re.compile(r"--([a-z][a-z0-9-]*)")


def flag_field(msg: str) -> str | None:
    """The first form field a service message names by its CLI flag (``--params`` -> ``params``)."""
    for m in _FLAG.finditer(msg):
        key = m.group(1).replace("-", "_")
        if key in FIELD_LABELS:
            return key
    return None


_KEY = re.compile(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(\.[a-z0-9][a-z0-9-]*)?\b")


def speak(msg: str) -> str:
    """A message of the library with its field keys in people's words: ``training_compute_flop: the given ...``
    becomes ``Training compute: the given ...`` (keys with a label in :data:`flopcast.formatting.LABELS`)."""
    from flopcast.formatting import LABELS

    def one(m: re.Match[str]) -> str:
        key, variant = m.group(0), m.group(2)
        if key in LABELS:
            return LABELS[key].strip()
        base = m.group(1)
        name = LABELS[base].strip() if base in LABELS else FIELD_LABELS.get(base)
        if name is None:
            return key
        return f"{name} ({variant[1:]})" if variant else name

    return _KEY.sub(one, msg)


# -- the training estimate --------------------------------------------------------------------------------------


def _row(key: str, s: Any, name: str | None = None) -> dict:
    unit = s.unit
    point = s.p5 == s.p95
    return {
        "key": key,
        "label": name or label(key),
        "median": format_display(s.median, unit),
        "interval": "" if point else DASH.join(format_ends(s.p5, s.p95, unit)),
    }


#: derived inputs: what each is computed from, said beside its swing
DERIVED_FROM = {
    "chip_hours": "training compute / (peak FLOP/s x utilization), or chips x training time",
    "training_compute_flop": "parameters x tokens x the FLOP convention, or chip-hours x peak FLOP/s x utilization",
    "years_held": "the hardware's acquisition date and the training start",
    "chips": "chip-hours / training time",
    "training_time_hours": "chip-hours / chips",
}


def estimate_display(est: Any, swings: dict[str, list[Any]]) -> dict:
    """The rows of the result table, the inputs, the cost swings (tornado) and the notes, as strings."""
    rows = [_row(k, s) for k, s in est.outputs().items()]
    skipped = [
        {"key": f"cost_usd.{m}", "label": label(f"cost_usd.{m}"), "median": "not estimated", "interval": why}
        for m, why in est.skipped_methods.items()
    ]
    inputs = []
    for r in est.inputs:
        d = r.to_dict()
        lo, hi = d.get("p5"), d.get("p95")
        inputs.append(
            {
                "key": r.name,
                "label": label(r.name),
                "median": format_display(d["median"], r.unit),
                "interval": DASH.join(format_ends(lo, hi, r.unit)) if lo is not None else "",
                "provenance": r.provenance,
                "source": speak(r.source),
            }
        )
    tornado = {}
    for method, ws in swings.items():
        tornado[method] = {
            "title": f"What moves the {label('cost_usd.' + method).lower()} (each input alone from its 5th to its "
            f"95th percentile, the others at their medians)",
            "median": est.cost_usd[method].median,
            "median_text": format_usd(est.cost_usd[method].median),
            "rows": [
                {
                    "key": w.input,
                    "label": label(w.input),
                    "low_usd": w.cost_at_p5_usd,
                    "high_usd": w.cost_at_p95_usd,
                    "low": format_usd(w.cost_at_p5_usd),
                    "high": format_usd(w.cost_at_p95_usd),
                    "swing": format_usd(w.swing_usd),
                    "share": f"{100 * w.share:.0f}%",
                    "derived": DERIVED_FROM.get(w.input, "") if w.provenance in ("derived", "imputed", "") else "",
                }
                for w in ws
            ],
        }
    development = None
    if est.development is not None:
        names = {"final_run_usd": "Final run", "experiments_usd": "Experiments", "rd_staff_usd": "R&D staff",
                 "total_usd": "Total development"}  # fmt: skip
        development = {
            "title": f"Development cost beyond the final run ({est.development.cost_method} method)",
            "rows": [_row(k, s, names.get(k)) for k, s in est.development.lines().items()],
        }
    title = est.name + (f" on {est.hardware}" if est.hardware else "")
    return {
        "title": title,
        "rows": rows + skipped,
        "inputs": inputs,
        "tornado": tornado,
        "skipped": [f"{label('cost_usd.' + m)}: not estimated, {speak(why)}" for m, why in est.skipped_methods.items()],
        "warnings": [speak(w) for w in est.warnings],
        "notes": [speak(n) for n in est.notes],
        "histogram_labels": {m: label(f"cost_usd.{m}") for m in est.cost_usd},
        "development": development,
        "reported_power": format_display(est.reported_power_w, "W") if est.reported_power_w else None,
    }


def log_ticks(histograms: dict[str, dict | None], unit: str = "USD") -> list[list[float | str]]:
    """Ticks of a log10 axis over what a set of log10 histograms spans, ``[[log10 x, label], ...]``: 1, 2, 3 and 5
    times each power of ten (``[6.0, "$1M"], [6.301, "$2M"], ...``); the page keeps those that have room."""
    edges = [e for h in histograms.values() if h for e in (h["log10_edges"][0], h["log10_edges"][-1])]
    if not edges:
        return []
    out: list[list[float | str]] = []
    for k in range(math.floor(min(edges)), math.ceil(max(edges)) + 1):
        for m in (1, 2, 3, 5):
            x = m * 10.0**k
            if min(edges) <= math.log10(x) <= max(edges):
                out.append([math.log10(x), format_display(x, unit)])
    return out


# -- the training plan ------------------------------------------------------------------------------------------


def plan_display(plan: Any) -> dict:
    """A training plan (:func:`flopcast.service.training_plan`) as the page shows it, in ``flopcast plan``'s words
    (:func:`flopcast.formatting.plan_texts`, :func:`flopcast.formatting.plan_rows`): the title and what binds, the
    layout, the memory of the most-loaded rank term by term, the outputs with their 90% intervals, the alternative
    layouts and the notes."""
    lay = plan.layout
    texts = plan_texts(plan)
    layout = [
        ("Tensor parallelism", f"{lay.tp:,}" + (" + sequence parallelism" if lay.sp else "")),
        ("Pipeline stages", f"{lay.pp:,}"),
        ("Data parallelism", f"{lay.dp:,}"),
        ("ZeRO stage", f"{lay.zero}" + (" (FSDP full shard)" if lay.zero == 3 else "")),
        ("Micro-batch", f"{plural(lay.micro_batch, 'sequence')} x {plural(lay.n_micro, 'micro-batch', 'micro-batches')}"
         " a step"),
        ("Recompute", lay.recompute),
        ("Chips", f"{lay.chips:,}"),
    ]  # fmt: skip
    memory = [{"label": k, "value": format_display(v, "bytes")} for k, v in plan.memory.terms().items()]
    return {
        "title": texts["title"],
        "binding": texts["binding"],
        "layout": [{"label": k, "value": v} for k, v in layout],
        "memory_title": texts["memory_title"],
        "memory": memory,
        "memory_total": texts["memory_total"],
        "fits": bool(plan.memory.fits),
        "rows": [_row(key, s, name) for key, name, s in plan_rows(plan)],
        "step": speak(texts["step"]),
        "alternatives": [
            {
                "layout": c.layout.describe(),
                "memory": format_display(c.memory.total_bytes, "bytes"),
                "overhead": f"{c.overhead:+.0%}",
            }
            for c in plan.alternatives
        ],
        "notes": [speak(n) for n in plan.notes],
    }


# -- serving ----------------------------------------------------------------------------------------------------

_DEPLOY_UNITS = {
    "tokens_per_s_per_instance": "",
    "tokens_per_day": "tokens",
    "prompt_tokens_per_day": "tokens",
    "instances": "instances",
    "prefill_instances": "instances",
    "fleet_load_factor": "fraction",
}


def deploy_display(out: dict) -> dict:
    rows = []
    days = out.get("duration_days")
    shown = [
        k
        for k in (
            "tokens_per_s_per_instance",
            "time_per_output_token_s",
            "time_to_first_token_s",
            "tokens_per_day",
            "prompt_tokens_per_day",
            "instances",
            "prefill_instances",
            "fleet_load_factor",
            "usd_per_million_tokens",
            "usd_per_million_output_tokens",
            "usd_per_day",
            "usd_per_year",
            "usd_total",
        )
        if isinstance(out.get(k), dict) and "median" in out[k]
    ]
    for key, name in deployment_rows(shown, days):  # one number, one row, as the CLI and the report show it
        s = out[key]
        unit = "USD" if key.startswith("usd") else "s" if key.endswith("_s") else _DEPLOY_UNITS.get(key, "")
        point = s["p5"] == s["p95"]
        if unit == "instances":  # whole instances: "1 instance", "1 to 2 instances"
            text = plural(round(s["median"]), "instance")
            interval = "" if point else f"{round(s['p5']):,}{DASH}{plural(round(s['p95']), 'instance')}"
        elif key == "tokens_per_s_per_instance":  # a rate of whole tokens: "2,637", "11.1k"
            text = format_count(s["median"])
            interval = "" if point else f"{format_count(s['p5'])}{DASH}{format_count(s['p95'])}"
        else:
            text = format_display(s["median"], unit)
            interval = "" if point else DASH.join(format_ends(s["p5"], s["p95"], unit))
        rows.append({"key": key, "label": name, "median": text, "interval": interval})
    plan = out.get("plan") or {}
    texts = {
        "request": f"requests of {round(out.get('prompt_tokens') or 0):,} prompt and "
        f"{plural(round(out.get('output_tokens') or 0), 'output token')}",
    }
    unconstrained = plan.get("unconstrained") or {}
    if unconstrained.get("usd_per_day") is not None:
        texts["unconstrained_usd_per_day"] = format_usd(unconstrained["usd_per_day"])
    vs = (out.get("vs_training") or {}).get("ratio")
    if vs:
        texts["vs_training"] = f"{100 * vs['median']:.0f}% (90% CI {100 * vs['p5']:.0f}%\u2013{100 * vs['p95']:.0f}%)"
    return {
        "rows": rows,
        "texts": texts,
        "notes": [speak(n) for n in out.get("notes", [])],
        "histogram_labels": {"usd_per_million_tokens": label("usd_per_million_tokens")},
    }


# -- hardware ---------------------------------------------------------------------------------------------------


def compare_display(d: dict) -> dict:
    def ratio(x: float | None) -> str:
        return f"{x:.2f}x" if x else "-"

    price = f"Cloud price per chip-hour ({d['tier']} market price on {d['date']})"
    return {
        "head": ["", d["a"], d["b"], "b / a"],
        "rows": [
            ["Peak FLOP/s (dense)", format_display(d["peak_flop_per_s_a"], "FLOP/s"),
             format_display(d["peak_flop_per_s_b"], "FLOP/s"), ratio(d["peak_flop_per_s_ratio"])],
            ["Memory", format_display(d["memory_bytes_a"], "bytes"), format_display(d["memory_bytes_b"], "bytes"),
             ratio(d["memory_bytes_ratio"])],
            [f"Fewest chips that hold the training state of {format_display(d['params'], 'parameters')}",
             format_display(d["min_chips_a"], "chips"), format_display(d["min_chips_b"], "chips"), ""],
            [price, format_usd(d["price_usd_per_chip_hour_a"]) if d["price_usd_per_chip_hour_a"] else "-",
             format_usd(d["price_usd_per_chip_hour_b"]) if d["price_usd_per_chip_hour_b"] else "-", ""],
            ["Cheaper per FLOP", "", "", ratio(d["cost_per_flop_advantage"])],
        ],
    }  # fmt: skip


# -- trends -----------------------------------------------------------------------------------------------------


def trend_display(out: dict) -> dict:
    unit = out.get("unit", "")
    values = [p["value"] for p in out.get("points", []) if p.get("value") and p["value"] > 0]
    band = out.get("band") or {}
    values += [v for k in ("pred_low", "pred_high") for v in band.get(k, []) if v and v > 0]
    ticks = {}
    if values:
        lo, hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
        # dollars as dollars ("$10M"); other units as powers of ten ("1e24"), the unit named in the axis title
        ticks = {
            str(k): format_display(10.0**k, unit) if unit == "USD" else format_sci(10.0**k, digits=1)
            for k in range(lo, hi + 1)
        }
    g = out.get("growth_per_year") or {}
    rows = []
    if g:
        rows.append(["Growth a year", f"x{g['estimate']:.2f}", f"x{g['low']:.2f}{DASH}x{g['high']:.2f}"])
    rows.append(["Models in the fit", f"{out.get('n_models', 0):,}", ""])
    ex = out.get("extrapolation")
    if ex:
        rows.append([f"Trend in {math.floor(ex['year'])}", format_display(ex["median"], unit),
                     DASH.join(format_ends(ex['line_low'], ex['line_high'], unit))])  # fmt: skip
    return {
        "rows": rows,
        "y_ticks": ticks,
        "y_title": f"{out.get('title', '')} ({'US dollars' if unit == 'USD' else unit}, log scale)",
        "points": [format_display(p["value"], unit) for p in out.get("points", [])],
    }
