"""``flopcast explain A B``: why one training run cost more than another, as a product of factors."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from flopcast.cli import options as opt
from flopcast.cli.parse import console as _console
from flopcast.cli.parse import echo_json, parse_date
from flopcast.defaults import (
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_COST_METHOD,
    DEFAULT_DEPRECIATION,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
)
from flopcast.service import METHOD_NAMES


def explain_cmd(
    a: Annotated[str, typer.Argument(help="A database model (see `flopcast models list`): the numerator.")],
    b: Annotated[str, typer.Argument(help="Another database model: the denominator.")],
    cost_method: Annotated[
        str,
        typer.Option(
            "--method",
            help=f"The one cost method to break down: {', '.join(METHOD_NAMES)} (the default is trend's and diffusion's).",
        ),
    ] = DEFAULT_COST_METHOD,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Also price both runs as if they had started training on this date, YYYY-MM-DD: splits the price "
            "factor into the chips' prices on one day and the drift between the runs' own dates.",
        ),
    ] = None,
    cloud_tier: opt.CloudTier = DEFAULT_CLOUD_TIER,
    cloud_vendor: opt.CloudVendor = None,
    depreciation: opt.Depreciation = DEFAULT_DEPRECIATION,
    depreciation_years: opt.DepreciationYears = None,
    cost_of_capital: opt.CostOfCapital = 0.0,
    year_dollars: opt.YearDollars = None,
    price_index: opt.PriceIndex = None,
    attention: opt.Attention = DEFAULT_ATTENTION,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    sampling: opt.Sampling = DEFAULT_SAMPLING,
    point: Annotated[
        bool, typer.Option("--point", help="Explain the point estimates (every input at its central value).")
    ] = False,
    plot: Annotated[str | None, typer.Option(help="Also draw the factors as a waterfall to this PNG or SVG.")] = None,
    data: opt.Data = None,
    wide: opt.Wide = False,
    quiet: opt.Quiet = False,
    as_json: opt.Json = False,
) -> None:
    """Why the final training run of A cost more than B's: cost(A)/cost(B) as compute x peak x utilization x price."""
    from flopcast.cli.progress import working
    from flopcast.service import cost_explanation, sample_count

    samples = sample_count(samples, sampling_precision, sampling)

    if plot is not None:
        from flopcast.reporting.plots import check_plot_path

        check_plot_path(plot)
    with working(f"Estimating {a} and {b}", quiet=quiet, as_json=as_json):
        ex = cost_explanation(
            a,
            b,
            method=cost_method,
            at=parse_date("at", at),
            cloud_tier=cloud_tier,
            cloud_vendor=cloud_vendor,
            year_dollars=year_dollars,
            price_index=price_index,
            attention=attention,
            samples=samples,
            seed=seed,
            sampling=sampling,
            point=point,
            data=data,
            max_samples=1_000_000,
            money=opt.money_options(depreciation, depreciation_years, cost_of_capital, None),
        )
    if plot is not None:
        from flopcast.reporting.plots import plot_cost_waterfall

        plot_cost_waterfall(ex, plot, path_label="--plot")
    if as_json:
        echo_json(ex.to_dict())
        return
    _print_explanation(ex, wide=wide)
    if plot is not None:
        _console().print(f"wrote {plot}")


def _print_explanation(ex: Any, wide: bool = False) -> None:
    from rich.table import Table

    from flopcast.cli.parse import print_table
    from flopcast.formatting import format_sci, format_usd, format_value, label

    con = _console()
    what = "point estimate" if ex.point else "median"
    con.print(
        f"{ex.method} cost of {ex.a.name}: {format_usd(ex.a.cost_usd_median)} ({what}); of {ex.b.name}: "
        f"{format_usd(ex.b.cost_usd_median)}. Ratio x{ex.ratio:.3g}."
    )
    t = Table(title=f"Why {ex.a.name} cost {ex.ratio:.3g}x as much as {ex.b.name} ({ex.method})")
    t.add_column("factor")
    t.add_column("x", justify="right", no_wrap=True)
    t.add_column("share of\nln(ratio)", justify="right", no_wrap=True)
    t.add_column("A", justify="right", no_wrap=True)
    t.add_column("B", justify="right", no_wrap=True)
    cells = {
        "compute": (format_sci(ex.a.training_compute_flop) + " FLOP", format_sci(ex.b.training_compute_flop) + " FLOP"),
        "peak_flop_per_s": (f"{ex.a.peak_flop_per_s / 1e12:.4g} TFLOP/s", f"{ex.b.peak_flop_per_s / 1e12:.4g} TFLOP/s"),
        "utilization": (f"{ex.a.utilization:.1%}", f"{ex.b.utilization:.1%}"),
        "price_per_chip_hour": (f"${ex.a.price_usd_per_chip_hour:.3g}/h", f"${ex.b.price_usd_per_chip_hour:.3g}/h"),
        "memory_chips": (f"x{ex.a.memory_chip_factor:g}", f"x{ex.b.memory_chip_factor:g}"),
    }
    if ex.a.price_usd_per_chip_hour_at is not None:
        cells["price_per_chip_hour_at_date"] = (
            f"${ex.a.price_usd_per_chip_hour_at:.3g}/h",
            f"${ex.b.price_usd_per_chip_hour_at:.3g}/h",
        )
    for f in ex.factors:
        ca, cb = cells.get(f.name, ("", ""))
        share = "" if f.share is None else f"{f.share if abs(f.share) >= 0.005 else 0.0:.0%}"  # no "-0%"
        t.add_row(f.label if wide else label(f"factor.{f.name}"), f"{f.factor:.3g}", share, ca, cb)
    t.add_row("product = cost ratio", f"{ex.product():.3g}", "100%", format_usd(ex.a.cost_usd_median),
              format_usd(ex.b.cost_usd_median), style="bold")  # fmt: skip
    print_table(con, t)
    con.print(
        f"A: {ex.a.hardware}, {format_value(ex.a.chip_hours, 'chip-hours')} chip-hours, {ex.a.dollars}. "
        f"B: {ex.b.hardware}, {format_value(ex.b.chip_hours, 'chip-hours')} chip-hours, {ex.b.dollars}."
    )
    con.print(f"Source: {ex.source}. Samples: {ex.samples:,} ({ex.sampling}, seed {ex.seed}).")
    if wide:
        for f in ex.factors:
            if f.note:
                con.print(f"{label(f'factor.{f.name}')}: {f.note}")
    else:
        con.print("--wide spells out each factor and how it is made.")
    for n in ex.notes:
        con.print(f"note: {n}")
