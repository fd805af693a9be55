"""Rich tables for people. Formatting only: every number comes from the library."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from flopcast.formatting import OUTPUT_LABELS, format_bytes, format_sci, format_summary, format_usd


def _console() -> Console:
    return Console(soft_wrap=False, width=120)


def print_estimate(result, show_sensitivity: bool = False) -> None:
    con = _console()
    title = f"{result.name} on {result.hardware}" if result.hardware else f"{result.name} (compute only)"
    table = Table(title=title, show_lines=False)
    table.add_column("quantity")
    table.add_column("median (90% CI)", justify="left")
    table.add_column("point estimate", justify="right")
    for key, s in result.outputs().items():
        if key.startswith("cost_usd."):
            continue
        central = result.central.get(key)
        table.add_row(OUTPUT_LABELS.get(key, key), format_summary(s), _fmt_central(central, s.unit))
    for method, s in result.cost_usd.items():
        table.add_row(
            f"Cost, {method}", format_summary(s), _fmt_central(result.central.get(f"cost_usd.{method}"), "USD")
        )
    con.print(table)
    _print_development(con, result)
    sampled = (
        f"Samples: {result.samples:,} ({result.sampling}, seed {result.seed})"
        if result.samples > 1
        else "Point estimate only (--point)"
    )
    con.print(
        f"Source: {result.source}. Dollars: {result.dollars}. {sampled}. Point estimate: every input at its "
        "central value (the published method)."
    )
    if result.reported_power_w:
        from flopcast.formatting import format_power

        con.print(
            f"Epoch's database gives a training power draw of {format_power(result.reported_power_w)} "
            "(its method: chips x TDP x server overhead x PUE; see docs/power.md)."
        )
    for m, why in result.skipped_methods.items():
        con.print(f"[yellow]{m} cost skipped:[/yellow] {why}")
    for n in result.notes:
        con.print(f"[dim]note:[/dim] {n}")
    for w in result.warnings:
        con.print(f"[yellow]warning:[/yellow] {w}")
    inputs = Table(title="Inputs", show_lines=False)
    for col in ("input", "value", "provenance", "source"):
        inputs.add_column(col, overflow="fold")
    for r in result.inputs:
        shown = f"{r.central:.4g}" if result.samples == 1 else r.value.describe()
        inputs.add_row(r.name, shown, r.provenance, r.source)
    con.print(inputs)
    if show_sensitivity:
        for output, rows in result.sensitivity.items():
            t = Table(title=f"What drives the spread of {output}")
            t.add_column("input")
            t.add_column("rank correlation", justify="right")
            t.add_column("share", justify="right")
            for row in rows:
                if row.share >= 0.005:
                    t.add_row(row.input, f"{row.rank_correlation:+.2f}", f"{row.share:.0%}")
            con.print(t)


#: the development lines of ``estimate`` (flopcast.pipeline.development), in order
DEVELOPMENT_LABELS = {
    "final_run_usd": "Final run",
    "experiments_usd": "Experiments",
    "rd_staff_usd": "R&D staff",
    "total_usd": "Total development",
}


def _print_development(con, result) -> None:
    """The development cost beyond the final run: a table of its own, never mixed into the cost rows."""
    dev = getattr(result, "development", None)
    if dev is None:
        return
    from flopcast.formatting import format_summary

    t = Table(title=f"Development cost beyond the final run ({dev.cost_method} method)", show_lines=False)
    t.add_column("line")
    t.add_column("median (90% CI)", justify="left")
    t.add_column("point estimate", justify="right")
    for key, s in dev.lines().items():
        t.add_row(DEVELOPMENT_LABELS[key], format_summary(s), _fmt_central(dev.central.get(key), "USD"))
    con.print(t)
    m, sh = dev.experiments_multiplier, dev.staff_share
    con.print(
        f"Experiments: final run x (multiplier - 1), multiplier {format_summary(m)} ({dev.experiments}); "
        f"R&D staff: (final run + experiments) x s / (1 - s), staff share s {format_summary(sh)} "
        "(Cottier et al. 2024, arXiv 2405.21015). The cost rows above are the final run alone."
    )


def _fmt_central(v, unit):
    from flopcast.formatting import format_value

    return "" if v is None else format_value(v, unit)


def hardware_row(h) -> dict:
    return {
        "key": h.key,
        "name": h.name,
        "family": h.family,
        "family_default": h.family_default,
        "manufacturer": h.manufacturer,
        "type": h.type,
        "release_date": h.release_date,
        "release_price_usd": h.release_price_usd,
        "peak_flop_per_s": dict(h.peak_flop_per_s_by_precision),
        "memory_bytes": h.memory_bytes,
        "memory_bandwidth_bytes_per_s": h.memory_bandwidth_bytes_per_s,
        "interconnect_bandwidth_bytes_per_s": h.interconnect_bandwidth_bytes_per_s,
        "tdp_w": h.tdp_w,
        "aliases": list(h.aliases),
        "source": h.source,
        "as_of": h.as_of,
        "notes": h.notes,
    }


def _price_cell(e, per: str = "/h") -> str:
    """``$2.10/h (1.7-2.6)``; a missing price reads as missing, never as zero."""
    if e is None:
        return "missing"
    mark = " ~" if e.extrapolated else ""
    if per == "/h":
        return f"${e.median_usd:.2f}{per} ({e.low_usd:.2f}-{e.high_usd:.2f}){mark}"
    return f"{format_usd(e.median_usd)} ({format_usd(e.low_usd)}-{format_usd(e.high_usd)}){mark}"


def print_hardware_list(priced) -> None:
    """``priced``: (Hardware, ChipPrices) pairs."""
    when = priced[0][1].when if priced else None
    t = Table(title=f"Hardware catalog (dense peak FLOP/s; market prices on {when})")
    for col in ("key", "name", "bf16/fp16", "fp8", "memory", "TDP", "released", "cloud 3y", "buy (chip)"):
        t.add_column(col)
    for h, prices in priced:
        p = h.peak_flop_per_s_by_precision
        t.add_row(
            h.key + (" *" if h.family_default else ""),
            h.name,
            format_sci(p.get("bf16", p.get("fp16"))),
            format_sci(p["fp8"]) if "fp8" in p else "",
            format_bytes(h.memory_bytes),
            f"{h.tdp_w:g} W" if h.tdp_w else "missing",
            str(h.release_date or ""),
            _price_cell(prices.cloud.get("3y")),
            _price_cell(prices.purchase_chip, per="")
            if prices.purchase_chip is not None or prices.purchase_server is None
            else _price_cell(prices.purchase_server, per="") + " (server)",
        )
    con = _console()
    con.print(t)
    con.print("* the variant a bare family name (a100, v100, h100...) resolves to")
    con.print(
        "Prices: median (90% interval) of the dated quotes nearest the date, moved to it along the price-performance "
        "trend; ~ marks a price with no quote within a year (the trend's); (server) a whole server's price per chip "
        "where no chip price is quoted. `hardware show KEY` lists every tier."
    )


def print_hardware(h, note: str = "", prices=None) -> None:
    con = _console()
    t = Table(title=h.name, show_header=False)
    t.add_column("field")
    t.add_column("value", overflow="fold")
    for prec, v in h.peak_flop_per_s_by_precision.items():
        t.add_row(f"peak {prec} (dense)", f"{format_sci(v)} {'OP/s' if prec == 'int8' else 'FLOP/s'}")
    t.add_row("memory", format_bytes(h.memory_bytes) if h.memory_bytes else "missing")
    t.add_row(
        "memory bandwidth",
        f"{format_bytes(h.memory_bandwidth_bytes_per_s)}/s" if h.memory_bandwidth_bytes_per_s else "missing",
    )
    t.add_row(
        "scale-up interconnect",
        f"{format_bytes(h.interconnect_bandwidth_bytes_per_s)}/s"
        if h.interconnect_bandwidth_bytes_per_s
        else "missing",
    )
    t.add_row("TDP", f"{h.tdp_w:g} W" if h.tdp_w else "missing")
    t.add_row("released", str(h.release_date or "missing"))
    if h.release_price_usd:
        t.add_row("release price", format_usd(h.release_price_usd))
    t.add_row("aliases", ", ".join(h.aliases))
    t.add_row("source", h.source)
    t.add_row("as of", h.as_of)
    t.add_row("notes", h.notes)
    con.print(t)
    if note:
        con.print(f"[dim]note:[/dim] {note}")
    if prices is None:
        return
    pt = Table(title=f"Prices on {prices.when} (median and 90% interval)")
    for col in ("price", "value", "from"):
        pt.add_column(col, overflow="fold")
    for tier, e in prices.cloud.items():
        pt.add_row(
            f"cloud {tier}, per chip-hour", _price_cell(e), e.describe() if e else prices.missing[f"cloud {tier}"]
        )
    for label, e, key in (
        ("purchase, per chip", prices.purchase_chip, "purchase (chip)"),
        ("purchase, whole server per chip", prices.purchase_server, "purchase (server)"),
    ):
        pt.add_row(label, _price_cell(e, per=""), e.describe() if e else prices.missing[key])
    con.print(pt)


def print_comparison(c) -> None:
    con = _console()
    t = Table(title=f"{c.b} vs {c.a}, priced on {c.date} ({c.tier})")
    t.add_column("")
    t.add_column(c.a)
    t.add_column(c.b)
    t.add_column("ratio (B/A)", justify="right")
    t.add_row(
        f"peak ({c.precision_a} / {c.precision_b}, dense)",
        f"{format_sci(c.peak_flop_per_s_a)} FLOP/s",
        f"{format_sci(c.peak_flop_per_s_b)} FLOP/s",
        f"{c.peak_flop_per_s_ratio:.2f}x",
    )
    t.add_row(
        "memory",
        format_bytes(c.memory_bytes_a),
        format_bytes(c.memory_bytes_b),
        f"{c.memory_bytes_ratio:.2f}x" if c.memory_bytes_ratio else "",
    )
    t.add_row(
        f"chips to hold {format_sci(c.params)}-parameter training state ({format_bytes(c.training_memory_bytes)})",
        format_sci(c.min_chips_a),
        format_sci(c.min_chips_b),
        "",
    )
    t.add_row(
        "price per chip-hour",
        _usd(c.price_usd_per_chip_hour_a, c.price_source_a),
        _usd(c.price_usd_per_chip_hour_b, c.price_source_b),
        "",
    )
    t.add_row(
        f"USD per 1e18 FLOP at {c.utilization:.0%} utilization",
        format_usd(c.usd_per_flop_a * 1e18) if c.usd_per_flop_a else "n/a",
        format_usd(c.usd_per_flop_b * 1e18) if c.usd_per_flop_b else "n/a",
        f"{c.cost_per_flop_advantage:.2f}x cheaper" if c.cost_per_flop_advantage else "",
    )
    con.print(t)


def _usd(v, src):
    return f"missing ({src})" if v is None else f"${v:.2f} ({src})"


def _two_lines(s) -> str:
    """A summary as its median over its 90% interval, for narrow table cells."""
    from flopcast.formatting import format_range, format_value

    if s is None:
        return "-"
    head = format_value(s.median, s.unit)
    return head if s.is_point else f"{head}\n({format_range(s.p5, s.p95, s.unit)})"


def print_plan(plan) -> None:
    """A run planned across chips (:class:`flopcast.planning.RunPlan`): one column per chip."""
    from flopcast.planning import PLAN_OUTPUTS

    con = _console()
    t = Table(title=f"The run on each chip: {plan.describe}", show_lines=True)
    t.add_column("median (90% interval)")
    for r in plan.rows:
        t.add_column(r.estimate.hardware if r.estimate is not None else r.hardware, justify="right")
    for k in PLAN_OUTPUTS:
        t.add_row(OUTPUT_LABELS[k], *(_two_lines(r.value(k)) if r.estimate is not None else "-" for r in plan.rows))
    for m in plan.methods:
        t.add_row(
            f"Cost, {m}",
            *(
                (_two_lines(r.estimate.cost_usd[m]) if m in r.estimate.cost_usd else "skipped")
                if r.estimate is not None
                else "-"
                for r in plan.rows
            ),
        )
    con.print(t)
    con.print(
        f"Training start {plan.start_date}. Dollars: {plan.dollars}. Samples: {plan.samples:,} (seed {plan.seed}). "
        "Each column is `flopcast estimate` with that chip."
    )
    for r in plan.rows:
        if r.estimate is None:
            con.print(f"[yellow]{r.hardware}:[/yellow] {r.error}")
            continue
        for m, why in r.estimate.skipped_methods.items():
            con.print(f"[yellow]{r.estimate.hardware}: {m} cost skipped:[/yellow] {why}")
        for n in r.estimate.notes:
            con.print(f"[dim]{r.estimate.hardware}: note:[/dim] {n}")


def record_row(r) -> dict:
    """A database record as JSON: its facts and, field by field, where each came from."""
    from dataclasses import asdict

    d = asdict(r)
    for k in ("organizations", "domains", "aliases", "estimation_method", "training_hardware", "notes"):
        d[k] = list(d[k])
    d["is_finetune"] = r.is_finetune
    return d


def print_models(rows, total: int | None = None, source: str = "") -> None:
    t = Table(title=f"Models ({len(rows):,} of {total:,})" if total is not None else "Models")
    for col in ("key", "name", "date", "parameters", "compute (FLOP)", "hardware", "origin"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(
            r.key if r.key != r.name else "",
            r.name,
            str(r.publication_date or ""),
            format_sci(r.parameters) if r.parameters else "",
            format_sci(r.training_compute_flop) if r.training_compute_flop else "",
            ", ".join(r.training_hardware),
            r.origin + (", fine-tune" if r.is_finetune else ""),
        )
    con = _console()
    con.print(t)
    if source:
        con.print(
            f"Source: {source}. `flopcast estimate NAME` takes a key or a name; "
            "origin 'epoch+curated' rows carry cited corrections."
        )


def print_model(r, source: str = "") -> None:
    t = Table(title=r.name, show_header=False)
    t.add_column("field")
    t.add_column("value", overflow="fold")
    t.add_column("source", overflow="fold")
    for k, v in record_row(r).items():
        if v in (None, "", [], {}) or k in ("sources", "name"):
            continue
        shown = format_sci(v) if isinstance(v, float) else ", ".join(v) if isinstance(v, list) else str(v)
        t.add_row(k, shown, r.sources.get(k, ""))
    _console().print(t)
    if source:
        _console().print(f"Source: {source}.")


def print_batch(result, reports=()) -> None:
    con = _console()
    rows = result.rows()
    t = Table(title=f"Training cost estimates: {len(rows):,} models ({result.dollars})")
    for col in ("model", "date", "compute", "hardware"):
        t.add_column(col, overflow="fold")
    for m in result.methods:
        t.add_column(f"{m} (90% CI)", overflow="fold")
    t.add_column("imputed")
    for row in rows:
        cells = [row["model"], row["publication_date"], format_sci(row["training_compute_flop"]), row["hardware"]]
        for m in result.methods:
            v = row.get(f"cost_{m}_usd")
            cells.append(
                "n/a"
                if v is None
                else f"{format_usd(v)} ({format_usd(row[f'cost_{m}_usd_p5'])}-{format_usd(row[f'cost_{m}_usd_p95'])})"
            )
        cells.append(row["imputed_inputs"].replace(";", ", "))
        t.add_row(*cells)
    con.print(t)
    con.print(
        f"Source: {result.source}. Models: {result.selection}. Samples per model: {result.samples:,} "
        f"({result.sampling}, seed {result.seed}). Not estimated: {len(result.skipped):,} (no compute, "
        "parameters x tokens or chip-hours; --format json lists each with its reason)."
    )
    for rep in reports:
        con.print(f"[dim]parse report:[/dim] {rep.summary()}")
