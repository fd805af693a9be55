"""Rich tables for people. Formatting only: every number comes from the library.

Every table is printed by :func:`print_table`, which fits it to the terminal without breaking a number:
columns of numbers and of names to type are ``no_wrap`` (never narrowed), text columns wrap at spaces, and
only a column with ``overflow="fold"`` (long names, sources, URLs) is cut inside a word, and only when the
table cannot fit otherwise. The default tables are compact; ``wide=True`` (``--wide``) adds provenance and
sources.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.table import Table

from flopcast.formatting import (
    format_bytes,
    format_count,
    format_range,
    format_sci,
    format_usd,
    format_value,
    label,
    plural,
)

#: the width of output that goes to a pipe or a file when COLUMNS does not say (a terminal's own width wins)
PIPE_WIDTH = 120
#: the narrowest a folding column (a name, a source) is cut to before the table is let overflow
_FOLD_FLOOR = 8


def terminal_console(stderr: bool = False) -> Console:
    """The console a command prints to: the terminal's width (rich's detection, which honours COLUMNS), or
    :data:`PIPE_WIDTH` columns for a pipe or a file when COLUMNS is not set. No soft wrapping: a long line
    wraps at spaces, never inside a number."""
    stream = sys.stderr if stderr else sys.stdout
    width = None
    if not os.environ.get("COLUMNS", "").strip().isdigit() and not _isatty(stream):
        width = PIPE_WIDTH
    return Console(soft_wrap=False, width=width, stderr=stderr)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _console() -> Console:
    return terminal_console()


def fit_table(table: Table, width: int) -> int:
    """Set the columns' widths so that ``table`` fits ``width`` columns with no number broken; returns the
    width the table needs (more than ``width`` when even its narrowest layout does not fit).

    Rich alone narrows the widest columns first, below their longest word, and so splits "$1.08B" into
    "$1.08" and "B". Here a ``no_wrap`` column keeps its full width, a wrapping column narrows to its
    longest word, and a folding column (``overflow="fold"``) goes below that, to :data:`_FOLD_FLOOR`, only
    when the rest is not enough."""
    con = Console(width=10_000, soft_wrap=False)
    opts = con.options.update_width(10_000)
    extra = table._extra_width
    ranges = [table._measure_column(con, opts, c) for c in table.columns]
    widths = [r.maximum for r in ranges]
    avail = width - extra
    if sum(widths) <= avail:
        return sum(widths) + extra
    pads = [table._get_padding_width(c._index) for c in table.columns]
    word = [r.maximum if c.no_wrap else r.minimum for r, c in zip(ranges, table.columns, strict=True)]
    fold = [
        min(w, p + _FOLD_FLOOR) if c.overflow == "fold" and not c.no_wrap else w
        for w, p, c in zip(word, pads, table.columns, strict=True)
    ]
    for floor in (word, fold):
        excess = sum(widths) - avail
        while excess > 0:
            shrinkable = [i for i, w in enumerate(widths) if w > floor[i]]
            if not shrinkable:
                break
            i = max(shrinkable, key=lambda j: widths[j])
            widths[i] -= 1
            excess -= 1
    for c, w, p in zip(table.columns, widths, pads, strict=True):
        c.width = max(1, w - p)
    return sum(widths) + extra


def print_table(con: Console, table: Table) -> None:
    """Print ``table`` fitted to ``con`` (:func:`fit_table`); a table that cannot fit is printed at the width
    it needs (the terminal then wraps its lines) rather than with its numbers cut."""
    width = con.width
    need = fit_table(table, width)
    if need <= width:
        con.print(table)
        return
    con.width = need  # rich clamps print(width=) to the console's own width
    try:
        con.print(table)
    finally:
        con.width = width


def _num(col: str, **kw) -> dict:
    return dict(header=col, no_wrap=True, **kw)


def _summary_cells(s) -> tuple[str, str]:
    """(median, 90% interval) of a summary; a point has no interval."""
    head = format_value(s.median, s.unit)
    return head, "" if s.is_point else format_range(s.p5, s.p95, s.unit)


def _summary_table(title: str, first: str) -> Table:
    t = Table(title=title, show_lines=False)
    t.add_column(first)
    t.add_column("median", justify="right", no_wrap=True)
    t.add_column("90% CI", justify="left", no_wrap=True)
    t.add_column("point estimate", justify="right", no_wrap=True)
    return t


#: units an input is counted in (written whole, or with k, M, B, T), and those written in scientific notation
_COUNTED = ("parameters", "tokens", "")
_SCIENTIFIC = ("FLOP", "FLOP/s", "OOM/year", "years", "kg CO2e/kWh")


def _input_number(x: float, unit: str) -> str:
    if unit in _COUNTED:
        text = f"{x:,.0f}" if float(x).is_integer() and abs(x) < 1e6 else format_count(x)
        return f"{text} {unit}".rstrip()
    if unit in _SCIENTIFIC:
        return f"{format_sci(x, 3)} {unit}"
    return format_value(x, unit)


def _input_value(r, point: bool) -> str:
    """An input as people read it: its value in its unit, or its 90% interval and distribution."""
    if point or r.value.is_point:
        return _input_number(r.central if r.central is not None else r.value.median, r.unit)
    lo, hi = r.value.interval(0.9)
    if r.unit in _COUNTED or r.unit in _SCIENTIFIC:
        a, b = _input_number(lo, r.unit), _input_number(hi, r.unit)
        shown = f"{a.removesuffix(' ' + r.unit)}-{b}" if r.unit else f"{a}-{b}"
    else:
        shown = format_range(lo, hi, r.unit)
    return f"{shown} ({type(r.value).__name__.lower()})"


def print_estimate(result, show_sensitivity: bool = False, wide: bool = False) -> None:
    con = _console()
    title = f"{result.name} on {result.hardware}" if result.hardware else f"{result.name} (compute only)"
    table = _summary_table(title, "quantity")
    for key, s in result.outputs().items():
        if key.startswith("cost_usd."):
            continue
        table.add_row(label(key), *_summary_cells(s), _fmt_central(result.central.get(key), s.unit))
    for method, s in result.cost_usd.items():
        table.add_row(
            label(f"cost_usd.{method}"),
            *_summary_cells(s),
            _fmt_central(result.central.get(f"cost_usd.{method}"), "USD"),
        )
    print_table(con, table)
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
        con.print(f"[yellow]{label(f'cost_usd.{m}')} skipped:[/yellow] {why}")
    for n in result.notes:
        con.print(f"[dim]note:[/dim] {n}")
    for w in result.warnings:
        con.print(f"[yellow]warning:[/yellow] {w}")
    inputs = Table(title="Inputs" + ("" if wide else " (--wide adds each one's source)"), show_lines=False)
    inputs.add_column("input")
    inputs.add_column("value", no_wrap=True)
    inputs.add_column("provenance")
    # --wide: each input's source by number, the sources listed whole below the table (a URL is never cut)
    numbered: dict[str, int] = {}
    if wide:
        inputs.add_column("source", justify="right", no_wrap=True)
    for r in result.inputs:
        cells = [label(r.name), _input_value(r, result.samples == 1), r.provenance]
        if wide:
            n = numbered.setdefault(r.source, len(numbered) + 1) if r.source else None
            cells.append(f"[{n}]" if n else "")
        inputs.add_row(*cells)
    print_table(con, inputs)
    if numbered:
        con.print("Sources:")
        import textwrap

        for src, n in numbered.items():
            # wrapped at spaces only: a URL longer than the line stays whole (the terminal wraps it, unbroken)
            lines = textwrap.wrap(f"[{n}] {src}", con.width, break_long_words=False, break_on_hyphens=False)
            for line in lines:
                con.print(line, markup=False, highlight=False, no_wrap=True, crop=False, overflow="ignore")
    if show_sensitivity:
        for output, rows in result.sensitivity.items():
            t = Table(title=f"What drives the spread of {label(output).strip()}")
            t.add_column("input")
            t.add_column("rank correlation", justify="right", no_wrap=True)
            t.add_column("share", justify="right", no_wrap=True)
            for row in rows:
                if row.share >= 0.005:
                    t.add_row(label(row.input), f"{row.rank_correlation:+.2f}", f"{row.share:.0%}")
            print_table(con, t)


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

    t = _summary_table(f"Development cost beyond the final run ({dev.cost_method} method)", "line")
    for key, s in dev.lines().items():
        t.add_row(DEVELOPMENT_LABELS[key], *_summary_cells(s), _fmt_central(dev.central.get(key), "USD"))
    print_table(con, t)
    m, sh = dev.experiments_multiplier, dev.staff_share
    con.print(
        f"Experiments: final run x (multiplier - 1), multiplier {format_summary(m)} ({dev.experiments}); "
        f"R&D staff: (final run + experiments) x s / (1 - s), staff share s {format_summary(sh)} "
        "(Cottier et al. 2024, arXiv 2405.21015). The cost rows above are the final run alone."
    )


def _fmt_central(v, unit):
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


def _stacked(cell: str) -> str:
    """``$2.10/h (1.7-2.6) ~`` as the median over its interval, for a narrow column."""
    head, sep, rest = cell.partition(" (")
    return f"{head}\n({rest}" if sep else cell


def print_hardware_list(priced, wide: bool = False) -> None:
    """``priced``: (Hardware, ChipPrices) pairs. Compact: the key to type, the bf16 peak, memory and prices;
    ``wide`` adds the name, the fp8 peak, the TDP and the release date."""
    when = priced[0][1].when if priced else None
    t = Table(title=f"Hardware catalog (dense peak FLOP/s; market prices on {when})")
    t.add_column("key", no_wrap=True)
    if wide:
        t.add_column("name", overflow="fold")
    t.add_column("bf16/fp16", no_wrap=True, justify="right")
    if wide:
        t.add_column("fp8", no_wrap=True, justify="right")
    t.add_column("memory", no_wrap=True, justify="right")
    if wide:
        t.add_column("TDP", no_wrap=True, justify="right")
        t.add_column("released", no_wrap=True)
    t.add_column("cloud 3y", no_wrap=True)
    t.add_column("buy (chip)")
    for h, prices in priced:
        p = h.peak_flop_per_s_by_precision
        buy = (
            _price_cell(prices.purchase_chip, per="")
            if prices.purchase_chip is not None or prices.purchase_server is None
            else _price_cell(prices.purchase_server, per="") + " (server)"
        )
        cells = [h.key + (" *" if h.family_default else "")]
        if wide:
            cells.append(h.name)
        cells.append(format_sci(p.get("bf16", p.get("fp16"))))
        if wide:
            cells.append(format_sci(p["fp8"]) if "fp8" in p else "")
        cells.append(format_bytes(h.memory_bytes))
        if wide:
            cells += [f"{h.tdp_w:g} W" if h.tdp_w else "missing", str(h.release_date or "")]
        cells += [_stacked(_price_cell(prices.cloud.get("3y"))), _stacked(buy)]
        t.add_row(*cells)
    con = _console()
    print_table(con, t)
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
    print_table(con, t)
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
    for name, e, key in (
        ("purchase, per chip", prices.purchase_chip, "purchase (chip)"),
        ("purchase, whole server per chip", prices.purchase_server, "purchase (server)"),
    ):
        pt.add_row(name, _price_cell(e, per=""), e.describe() if e else prices.missing[key])
    print_table(con, pt)


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
    print_table(con, t)


def _usd(v, src):
    return f"missing ({src})" if v is None else f"${v:.2f} ({src})"


def _two_lines(s) -> str:
    """A summary as its median over its 90% interval, for narrow table cells."""
    from flopcast.formatting import format_ends, format_value

    if s is None:
        return "-"
    head = format_value(s.median, s.unit)
    if s.is_point:
        return head
    # the ends apart, so that a narrow column wraps between them and never inside a number
    lo, hi = format_ends(s.p5, s.p95, s.unit)
    return f"{head}\n({lo} - {hi})"


def print_plan(plan) -> None:
    """A run planned across chips (:class:`flopcast.planning.RunPlan`): one column per chip."""
    from flopcast.planning import PLAN_OUTPUTS

    con = _console()
    t = Table(title=f"The run on each chip: {plan.describe}", show_lines=True)
    t.add_column("median (90% interval)")
    for r in plan.rows:
        t.add_column(r.estimate.hardware if r.estimate is not None else r.hardware, justify="right")
    for k in PLAN_OUTPUTS:
        t.add_row(label(k), *(_two_lines(r.value(k)) if r.estimate is not None else "-" for r in plan.rows))
    for m in plan.methods:
        t.add_row(
            label(f"cost_usd.{m}"),
            *(
                (_two_lines(r.estimate.cost_usd[m]) if m in r.estimate.cost_usd else "skipped")
                if r.estimate is not None
                else "-"
                for r in plan.rows
            ),
        )
    print_table(con, t)
    con.print(
        f"Training start {plan.start_date}. Dollars: {plan.dollars}. Samples: {plan.samples:,} (seed {plan.seed}). "
        "Each column is `flopcast estimate` with that chip."
    )
    for r in plan.rows:
        if r.estimate is None:
            con.print(f"[yellow]{r.hardware}:[/yellow] {r.error}")
            continue
        for m, why in r.estimate.skipped_methods.items():
            con.print(f"[yellow]{r.estimate.hardware}: {label(f'cost_usd.{m}')} skipped:[/yellow] {why}")
        for n in r.estimate.notes:
            con.print(f"[dim]{r.estimate.hardware}: note:[/dim] {n}")


def print_training_plan(plan) -> None:
    """A training run planned on one chip (:class:`flopcast.layout_plan.TrainingPlan`): the layout, the memory of
    the most-loaded rank term by term, the time and utilizations, the cost, and what binds (the rows and sentences
    of :func:`flopcast.formatting.plan_rows` and :func:`~flopcast.formatting.plan_texts`, which the web app and the
    report show too)."""
    from flopcast.formatting import plan_rows, plan_texts

    con = _console()
    text = plan_texts(plan)
    con.print(f"[bold]{text['title']}[/bold]")
    con.print(text["binding"])
    m = Table(title=text["memory_title"])
    m.add_column("term")
    m.add_column("bytes", justify="right", no_wrap=True)
    for k, v in plan.memory.terms().items():
        m.add_row(k, format_value(v, "bytes"))
    m.add_row("[bold]total[/bold]", f"[bold]{text['memory_total']}[/bold]")
    print_table(con, m)
    r = Table(title="Time, utilization and cost")
    r.add_column("quantity")
    r.add_column("median", justify="right", no_wrap=True)
    r.add_column("90% CI", justify="left", no_wrap=True)
    for _, name, s in plan_rows(plan):
        r.add_row(name, *_summary_cells(s))
    print_table(con, r)
    con.print(text["step"])
    if plan.alternatives:
        a = Table(title="Other layouts that fit, in order")
        a.add_column("layout")
        a.add_column("memory per rank", justify="right", no_wrap=True)
        a.add_column("overhead", justify="right", no_wrap=True)
        for c in plan.alternatives:
            a.add_row(c.layout.describe(), format_value(c.memory.total_bytes, "bytes"), f"{c.overhead:+.0%}")
        print_table(con, a)
    for n in plan.notes:
        con.print(f"[dim]note:[/dim] {n}")


def record_row(r) -> dict:
    """A database record as JSON: its facts and, field by field, where each came from."""
    from dataclasses import asdict

    d = asdict(r)
    for k in ("organizations", "domains", "aliases", "estimation_method", "training_hardware", "notes"):
        d[k] = list(d[k])
    d["is_finetune"] = r.is_finetune
    return d


def print_models(rows, total: int | None = None, source: str = "", wide: bool = False) -> None:
    """The models: compact, the key and the name (what `estimate` takes), the date and the compute; ``wide``
    adds the parameters, the hardware and where each row comes from."""
    t = Table(title=f"Models ({len(rows):,} of {total:,})" if total is not None else "Models")
    t.add_column("key", no_wrap=True)  # the names to type: never cut
    t.add_column("name", overflow="fold")  # cut inside a word only when nothing else fits: the key is the name to type
    t.add_column("date", no_wrap=True)
    if wide:
        t.add_column("para-\nmeters", no_wrap=True, justify="right")
    t.add_column("compute\n(FLOP)", no_wrap=True, justify="right")
    if wide:
        t.add_column("hardware", overflow="fold")
        t.add_column("origin")
    for r in rows:
        compute = format_sci(r.training_compute_flop) if r.training_compute_flop else ""
        cells = [r.key if r.key != r.name else "", r.name + (" (fine-tune)" if r.is_finetune and not wide else "")]
        cells.append(str(r.publication_date or ""))
        if wide:
            cells.append(format_sci(r.parameters) if r.parameters else "")
        cells.append(compute)
        if wide:
            cells += [", ".join(r.training_hardware), r.origin + (", fine-tune" if r.is_finetune else "")]
        t.add_row(*cells)
    con = _console()
    print_table(con, t)
    if source:
        con.print(
            f"Source: {source}. `flopcast estimate NAME` takes a key or a name; "
            + (
                "origin 'epoch+curated' rows carry cited corrections."
                if wide
                else "--wide adds the parameters, the hardware and each row's origin."
            )
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
        t.add_row(label(k), shown, r.sources.get(k, ""))
    con = _console()
    print_table(con, t)
    if source:
        con.print(f"Source: {source}.")


def _interval_cell(row: dict, m: str) -> str:
    """A method's cost as the median over its 90% interval. The interval's ends are apart ("$5.1M - $1.35B"),
    so that a narrow column wraps between them, never inside a number."""
    v = row.get(f"cost_{m}_usd")
    if v is None:
        return "n/a"
    return f"{format_usd(v)}\n{format_usd(row[f'cost_{m}_usd_p5'])} - {format_usd(row[f'cost_{m}_usd_p95'])}"


def print_batch(result, reports=(), wide: bool = False) -> None:
    """``costs``: per model its compute and each method's cost (median over its 90% interval); ``wide`` adds
    the key, the date, the hardware and the imputed inputs."""
    con = _console()
    rows = result.rows()
    t = Table(
        title=f"Training cost estimates: {plural(len(rows), 'model')} ({result.dollars}); each cost is the "
        "median over its 90% CI",
        show_lines=wide,
    )
    t.add_column("model")  # wraps at spaces: a name to type is never cut inside a word
    if wide:
        t.add_column("key", no_wrap=True)
        t.add_column("date", no_wrap=True)
    t.add_column("compute\n(FLOP)", no_wrap=True, justify="right")
    if wide:
        t.add_column("hardware", overflow="fold")
    for m in result.methods:
        t.add_column(m, justify="right")
    if wide:
        t.add_column("imputed")
    for row in rows:
        cells = [row["model"]]
        if wide:
            key = row.get("key") or ""
            cells += [key if key != row["model"] else "", row["publication_date"]]
        cells.append(format_sci(row["training_compute_flop"]))
        if wide:
            cells.append(row["hardware"])
        cells += [_interval_cell(row, m) for m in result.methods]
        if wide:
            cells.append(", ".join(label(k) for k in row["imputed_inputs"].split(";") if k))
        t.add_row(*cells)
    print_table(con, t)
    con.print(
        f"Source: {result.source}. Models: {result.selection}. Samples per model: {result.samples:,} "
        f"({result.sampling}, seed {result.seed}). Not estimated: {len(result.skipped):,} (no compute, "
        "parameters x tokens or chip-hours; --format json lists each with its reason)."
        + ("" if wide else " --wide adds each model's key, date, hardware and imputed inputs.")
    )
    for rep in reports:
        con.print(f"[dim]parse report:[/dim] {rep.summary()}")
