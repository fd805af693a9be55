"""The training commands: ``estimate`` (one run), ``costs`` (every selected model) and ``models list|show``.

Registered in the main app (:mod:`flopcast.cli.app`) by name; each command only parses, calls
:mod:`flopcast.service` and formats.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from flopcast.cli import options as opt
from flopcast.cli.parse import echo_json, parse_date
from flopcast.defaults import (
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_DEPRECIATION,
    DEFAULT_METHOD,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
)
from flopcast.service import DEFAULT_EXPERIMENTS, EXPERIMENT_BASES

models_app = typer.Typer(help="The model catalog: list, show.", no_args_is_help=True)


def estimate_cmd(
    name: Annotated[
        str | None,
        typer.Argument(help="A model of the database (see `flopcast models list`), or none for an ad-hoc run."),
    ] = None,
    params: Annotated[
        str | None, typer.Option(help="Parameters used per token (active ones for MoE): 175e9, 175B or 150e9..200e9.")
    ] = None,
    tokens: Annotated[str | None, typer.Option(help="Training tokens (one pass).")] = None,
    epochs: Annotated[str | None, typer.Option(help="Passes over the tokens.")] = None,
    params_active: Annotated[
        str | None, typer.Option(help="Active parameters per token of a mixture-of-experts model.")
    ] = None,
    compute: Annotated[str | None, typer.Option("--compute", help="Training compute in FLOP.")] = None,
    hardware: Annotated[
        str | None, typer.Option(help="Chip, e.g. a100, h100, v100, tpu-v4 (not needed for compute alone).")
    ] = None,
    precision: Annotated[str | None, typer.Option(help="Peak at this precision: bf16, fp16, tf32, fp32, fp8.")] = None,
    chips: Annotated[str | None, typer.Option(help="Number of chips.")] = None,
    hours: Annotated[str | None, typer.Option(help="Wall-clock training time in hours.")] = None,
    days: Annotated[str | None, typer.Option(help="Wall-clock training time in days.")] = None,
    chip_hours: Annotated[str | None, typer.Option(help="Chip-hours, when reported directly.")] = None,
    utilization: Annotated[str | None, typer.Option(help="Model FLOP utilization (MFU), a fraction in (0, 1].")] = None,
    price_per_chip_hour: Annotated[str | None, typer.Option(help="Cloud price, USD per chip-hour.")] = None,
    chip_price: Annotated[str | None, typer.Option(help="Purchase price of one chip in USD.")] = None,
    method: opt.Method = DEFAULT_METHOD,
    cloud_tier: opt.CloudTier = DEFAULT_CLOUD_TIER,
    cloud_vendor: opt.CloudVendor = None,
    depreciation: opt.Depreciation = DEFAULT_DEPRECIATION,
    depreciation_years: opt.DepreciationYears = None,
    cost_of_capital: opt.CostOfCapital = 0.0,
    grid: opt.Grid = None,
    utilization_prior: opt.UtilizationPrior = DEFAULT_UTILIZATION_PRIOR,
    organization: Annotated[
        str | None,
        typer.Option(help="Developer; sets the data-center PUE (and the provider with --cloud-vendor organization)."),
    ] = None,
    start_date: Annotated[
        str | None, typer.Option(help="Training start, YYYY-MM-DD (dates prices and depreciation).")
    ] = None,
    year_dollars: opt.YearDollars = None,
    price_index: opt.PriceIndex = None,
    attention: opt.Attention = DEFAULT_ATTENTION,
    seed: opt.Seed = DEFAULT_SEED,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    sampling: opt.Sampling = DEFAULT_SAMPLING,
    data: opt.Data = None,
    point: Annotated[
        bool, typer.Option("--point", help="Central values only: the published method's point estimate.")
    ] = False,
    sensitivity: Annotated[bool, typer.Option("--sensitivity", help="Show which inputs drive the spread.")] = False,
    experiments: Annotated[
        str,
        typer.Option(
            help="Experiments multiplier of the development lines (shown apart from the final run's cost): "
            + "; ".join(f"{k} ({why})" for k, (_, why) in EXPERIMENT_BASES.items())
            + "."
        ),
    ] = DEFAULT_EXPERIMENTS,
    staff_share: Annotated[
        str | None,
        typer.Option(
            help="R&D staff's share of the total development cost, in (0, 1), a point or low..high "
            "(default 0.29..0.49, Cottier et al. 2024)."
        ),
    ] = None,
    wide: opt.Wide = False,
    as_json: opt.Json = False,
) -> None:
    """Estimate the compute, time, memory and dollar cost of a training run (a database model or your own)."""
    from flopcast.cli.parse import parse_value
    from flopcast.service import sample_count, training_estimate

    samples = sample_count(samples, sampling_precision, sampling)

    result = training_estimate(
        name,
        params=parse_value("params", params),
        tokens=parse_value("tokens", tokens),
        epochs=parse_value("epochs", epochs),
        params_active=parse_value("params-active", params_active),
        compute=parse_value("compute", compute),
        hardware=hardware,
        precision=precision,
        chips=parse_value("chips", chips),
        hours=parse_value("hours", hours),
        days=parse_value("days", days),
        chip_hours=parse_value("chip-hours", chip_hours),
        utilization=parse_value("utilization", utilization, fraction=True),
        price_per_chip_hour=parse_value("price-per-chip-hour", price_per_chip_hour),
        chip_price=parse_value("chip-price", chip_price),
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        organization=organization,
        start_date=parse_date("start-date", start_date),
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
        seed=seed,
        samples=samples,
        sampling=sampling,
        data=data,
        point=point,
        sensitivity=sensitivity,
        max_samples=1_000_000,
        money=opt.money_options(depreciation, depreciation_years, cost_of_capital, grid, utilization_prior),
        experiments=experiments,
        staff_share=_share("staff-share", staff_share),
    )
    if as_json:
        echo_json(result.to_dict())
        return
    from flopcast.reporting.tables import print_estimate

    print_estimate(result, show_sensitivity=sensitivity, wide=wide)


def _share(field: str, text: str | None) -> float | tuple[float, float] | None:
    """A share in (0, 1) as the user wrote it: a point or ``low..high`` (the service checks the range)."""
    from flopcast.cli.parse import parse_number

    if text is None:
        return None
    if ".." in text:
        lo, _, hi = text.partition("..")
        return parse_number(field, lo), parse_number(field, hi)
    return parse_number(field, text)


def costs_cmd(
    data: opt.Data = None,
    top: opt.Top = None,
    since: opt.Since = None,
    until: opt.Until = None,
    domain: opt.Domain = None,
    org: opt.Org = None,
    include_finetunes: opt.IncludeFinetunes = False,
    method: opt.Method = DEFAULT_METHOD,
    cloud_tier: opt.CloudTier = DEFAULT_CLOUD_TIER,
    cloud_vendor: opt.CloudVendor = None,
    depreciation: opt.Depreciation = DEFAULT_DEPRECIATION,
    depreciation_years: opt.DepreciationYears = None,
    cost_of_capital: opt.CostOfCapital = 0.0,
    grid: opt.Grid = None,
    utilization_prior: opt.UtilizationPrior = DEFAULT_UTILIZATION_PRIOR,
    year_dollars: opt.YearDollars = None,
    price_index: opt.PriceIndex = None,
    attention: opt.Attention = DEFAULT_ATTENTION,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    sampling: opt.Sampling = DEFAULT_SAMPLING,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    out: Annotated[
        str | None, typer.Option(help="Write to this file (atomically; - for standard output) instead of the terminal.")
    ] = None,
    wide: opt.Wide = False,
    quiet: opt.Quiet = False,
) -> None:
    """Estimate every selected model of the database, with 90% intervals: each row is `estimate NAME`."""
    from flopcast.errors import InvalidInputError
    from flopcast.service import sample_count

    samples = sample_count(samples, sampling_precision, sampling)

    if fmt not in ("table", "csv", "json"):
        raise InvalidInputError(f"--format={fmt!r} is not one of table, csv, json")
    opt.check_selection(since, until, price_index, year_dollars)
    from flopcast.reporting.output import output_target

    if out is not None:
        output_target(out, label="--out", probe=True)  # a path that cannot be written fails before the work
    from flopcast.cli.progress import working

    options: dict[str, Any] = dict(
        data=data,
        top=top,
        since=since,
        until=until,
        domain=domain,
        org=org,
        include_finetunes=True if include_finetunes else None,
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
        samples=samples,
        seed=seed,
        sampling=sampling,
        money=opt.money_options(depreciation, depreciation_years, cost_of_capital, grid, utilization_prior),
    )
    if fmt == "table" and out is None:
        from flopcast.reporting.tables import print_batch
        from flopcast.service import cost_rows

        with working("Estimating the selected models' costs", quiet=quiet):
            rows = cost_rows(**options)
            batch = rows.stream.collect()  # the table needs every row at once: the rows, not the estimates
        print_batch(batch, rows.reports, wide=wide)
        return
    # csv and json stream: each chunk of rows is written as it comes (a file still atomically), on every core
    from flopcast.reporting.output import batch_csv_pieces, batch_json_pieces, csv_line, json_model, write_pieces
    from flopcast.service import cost_stream

    with working("Estimating the selected models' costs", quiet=quiet, as_json=fmt == "json"):
        stream: Any  # a BatchStream of CSV lines or of JSON models
        if fmt == "json":
            stream = cost_stream(json_model, **options).stream
            pieces = batch_json_pieces(stream)
        else:
            stream = cost_stream(csv_line, keep_skipped=False, row_outputs_only=True, **options).stream
            pieces = batch_csv_pieces(stream)
        if out is not None:
            write_pieces(out, pieces, label="--out")
        else:
            text = "".join(pieces)  # the terminal's: written after the spinner, all at once, as before
    if out is not None:
        from flopcast.formatting import plural

        sys.stderr.write(f"wrote {plural(stream.count, 'model')} to {out} ({stream.source})\n")
    else:
        typer.echo(text, nl=False)


@models_app.command("list")
def models_list(
    search: Annotated[str | None, typer.Option(help="Only models whose key, name or alias contains this.")] = None,
    top: opt.Top = None,
    since: opt.Since = None,
    until: opt.Until = None,
    include_finetunes: Annotated[bool, typer.Option("--include-finetunes", help="Also list fine-tunes.")] = False,
    limit: Annotated[int, typer.Option(help="Show at most this many (newest first); 0 for all.")] = 50,
    data: opt.Data = None,
    wide: opt.Wide = False,
    as_json: opt.Json = False,
) -> None:
    """List the database's models (Epoch's table with the curated overlay): the names `estimate` takes."""
    from flopcast.errors import InvalidInputError
    from flopcast.reporting.tables import print_models, record_row
    from flopcast.service import select_models

    if limit < 0:
        raise InvalidInputError(f"--limit={limit} must be >= 0")
    chosen = select_models(
        data=data, search=search, top=top, since=since, until=until, include_finetunes=include_finetunes, limit=limit
    )
    if as_json:
        echo_json({"source": chosen.source, "total": chosen.total, "models": [record_row(r) for r in chosen.models]})
    else:
        print_models(chosen.models, total=chosen.total, source=chosen.source, wide=wide)


@models_app.command("show")
def models_show(name: str, data: opt.Data = None, as_json: opt.Json = False) -> None:
    """Show one model's facts, each with where it came from (Epoch's row or the curated overlay)."""
    from flopcast.reporting.tables import print_model, record_row
    from flopcast.service import database

    db = database(data)
    r = db.find(name)
    if as_json:
        echo_json(dict(record_row(r), source=db.describe()))
    else:
        print_model(r, source=db.describe())
