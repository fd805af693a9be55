"""``flopcast hardware``: the chips, their prices at a date, two chips at one date, a run across chips."""

from __future__ import annotations

from typing import Annotated

import typer

from flopcast.cli import options as opt
from flopcast.cli.parse import echo_json, parse_date, parse_value
from flopcast.defaults import (
    DEFAULT_CLOUD_TIER,
    DEFAULT_DEPRECIATION,
    DEFAULT_METHOD,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
)
from flopcast.errors import InvalidInputError

hardware_app = typer.Typer(help="The hardware catalog: list, show, compare, plan.", no_args_is_help=True)

Date = Annotated[str | None, typer.Option("--date", help="Price the chips at this date, YYYY-MM-DD (default: today).")]


@hardware_app.command("list")
def hardware_list(
    all_chips: Annotated[
        bool,
        typer.Option("--all", help="Every chip of the database (Epoch's chip table too), not only the curated ones."),
    ] = False,
    search: Annotated[str | None, typer.Option(help="Only chips whose key or name contains this.")] = None,
    date: Date = None,
    data: opt.Data = None,
    wide: opt.Wide = False,
    as_json: opt.Json = False,
) -> None:
    """List the chips with their market prices at a date: the curated, cited ones (default) or every chip (--all)."""
    from flopcast.reporting.tables import hardware_row, print_hardware_list
    from flopcast.service import database, hardware_list, hardware_prices

    db = database(data)
    when = parse_date("date", date)
    rows = hardware_list(all_chips=all_chips, search=search, db=db)
    priced = [(h, hardware_prices(h, when=when, db=db)) for h in rows]
    if as_json:
        echo_json([dict(hardware_row(h), prices=p.to_dict()) for h, p in priced])
    else:
        print_hardware_list(priced, wide=wide)


@hardware_app.command("show")
def hardware_show(name: str, date: Date = None, data: opt.Data = None, as_json: opt.Json = False) -> None:
    """Show one chip's specs, sources and prices at a date (cloud by tier, purchase per chip and per server)."""
    from flopcast.reporting.tables import hardware_row, print_hardware
    from flopcast.service import hardware_details

    hw, note, prices = hardware_details(name, when=parse_date("date", date), data=data)
    if as_json:
        echo_json(dict(hardware_row(hw), resolved_from=name, note=note, prices=prices.to_dict()))
    else:
        print_hardware(hw, note, prices)


@hardware_app.command("compare")
def hardware_compare(
    a: str,
    b: str,
    params: Annotated[
        str, typer.Option(help="Model parameters whose training state must fit (16 bytes each).")
    ] = "175e9",
    precision: Annotated[str | None, typer.Option(help="Compare peaks at this precision.")] = None,
    price_a: Annotated[
        str | None, typer.Option(help="USD per chip-hour for A (default: the market's price at --date).")
    ] = None,
    price_b: Annotated[str | None, typer.Option(help="USD per chip-hour for B.")] = None,
    utilization: Annotated[str, typer.Option(help="Utilization for cost per delivered FLOP.")] = "1.0",
    cloud_tier: opt.CloudTier = DEFAULT_CLOUD_TIER,
    date: Date = None,
    data: opt.Data = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare chip B with chip A at one date: peak, memory, chips to hold a model, cost per FLOP."""
    from flopcast.service import hardware_comparison

    values = {k: parse_value(k, v) for k, v in (("params", params), ("price-a", price_a), ("price-b", price_b))}
    u = parse_value("utilization", utilization, fraction=True)
    if any(isinstance(v, tuple) for v in (*values.values(), u)):
        raise InvalidInputError("hardware compare takes point values, not intervals")
    result = hardware_comparison(
        a,
        b,
        params=values["params"],
        precision=precision,
        price_a=values["price-a"],
        price_b=values["price-b"],
        utilization=u,
        tier=cloud_tier,
        when=parse_date("date", date),
        data=data,
    )
    if as_json:
        echo_json(result.to_dict())
    else:
        from flopcast.reporting.tables import print_comparison

        print_comparison(result)


@hardware_app.command("plan")
def hardware_plan(
    hardware: Annotated[
        str | None,
        typer.Option(help="Candidate chips, comma-separated (default: h100,h200,b200,mi300x,tpu-v5p)."),
    ] = None,
    params: Annotated[str | None, typer.Option(help="Parameters used per token: 70e9, 70B or 60e9..80e9.")] = None,
    tokens: Annotated[str | None, typer.Option(help="Training tokens.")] = None,
    compute: Annotated[str | None, typer.Option("--compute", help="Training compute in FLOP (instead).")] = None,
    chips: Annotated[str | None, typer.Option(help="Cluster size: the time follows.")] = None,
    days: Annotated[str | None, typer.Option(help="Deadline in days: the chips follow.")] = None,
    utilization: Annotated[str | None, typer.Option(help="MFU, a fraction or an interval such as 0.35..0.45.")] = None,
    precision: Annotated[str | None, typer.Option(help="Peak at this precision: bf16, fp8...")] = None,
    start_date: Annotated[str | None, typer.Option(help="Training start, YYYY-MM-DD (default: today).")] = None,
    organization: Annotated[str | None, typer.Option(help="Developer (sets the data-center PUE).")] = None,
    method: opt.Method = DEFAULT_METHOD,
    cloud_tier: opt.CloudTier = DEFAULT_CLOUD_TIER,
    cloud_vendor: opt.CloudVendor = None,
    depreciation: opt.Depreciation = DEFAULT_DEPRECIATION,
    depreciation_years: opt.DepreciationYears = None,
    cost_of_capital: opt.CostOfCapital = 0.0,
    grid: opt.Grid = None,
    utilization_prior: opt.UtilizationPrior = DEFAULT_UTILIZATION_PRIOR,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    plot: Annotated[str | None, typer.Option(help="Also draw the plan to this PNG or SVG file.")] = None,
    data: opt.Data = None,
    as_json: opt.Json = False,
) -> None:
    """Plan one run on several chips: chips to hold it, time, cost by each method, energy and peak power."""
    from flopcast.service import DEFAULT_PLAN_CHIPS, run_plan, sample_count

    samples = sample_count(samples, sampling_precision, DEFAULT_SAMPLING)

    if plot is not None:
        from flopcast.reporting.plots import check_plot_path

        check_plot_path(plot)
    names = list(hardware.split(",") if hardware is not None else DEFAULT_PLAN_CHIPS)
    plan = run_plan(
        names,
        params=parse_value("params", params),
        tokens=parse_value("tokens", tokens),
        compute=parse_value("compute", compute),
        chips=parse_value("chips", chips),
        days=parse_value("days", days),
        utilization=parse_value("utilization", utilization, fraction=True),
        precision=precision,
        start_date=parse_date("start-date", start_date),
        organization=organization,
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        money=opt.money_options(depreciation, depreciation_years, cost_of_capital, grid, utilization_prior),
        samples=samples,
        seed=seed,
        data=data,
    )
    if plot is not None:
        from flopcast.reporting.plots import plot_plan

        plot_plan(plan, plot, path_label="--plot")
    if as_json:
        echo_json(plan.to_dict())
        return
    from flopcast.reporting.tables import print_plan

    print_plan(plan)
