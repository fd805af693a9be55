"""The ``flopcast`` command line. It only parses, calls the library and formats.

Heavy libraries (numpy, scipy, pandas) are imported inside the commands so that
``flopcast --help`` starts fast.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Annotated, Any

import typer

from flopcast.cli import explain_cmd, forecast, outlook_cmd, web_cmd
from flopcast.cli import options as opt
from flopcast.cli.data_cmd import data_app
from flopcast.cli.hardware_cmd import hardware_app
from flopcast.cli.mfu_cmd import mfu_app
from flopcast.cli.parse import echo_json, parse_date
from flopcast.defaults import (
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_DEPRECIATION,
    DEFAULT_METHOD,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
)
from flopcast.errors import FlopcastError
from flopcast.service import DEFAULT_EXPERIMENTS, EXPERIMENT_BASES

app = typer.Typer(
    name="flopcast",
    help="AI training compute, hardware and dollar cost, with honest uncertainty.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="The model catalog: list, show.", no_args_is_help=True)
app.add_typer(hardware_app, name="hardware")
app.add_typer(models_app, name="models")

app.add_typer(data_app, name="data")
app.add_typer(mfu_app, name="mfu")
app.command("diffusion")(forecast.diffusion_cmd)
app.command("emulate")(forecast.emulate_cmd)
app.command("lag")(forecast.lag_cmd)
app.command("trend")(forecast.trend_cmd)
app.command("forecast")(outlook_cmd.forecast_cmd)
app.command("deploy")(forecast.deploy_cmd)
app.command("report")(web_cmd.report_cmd)
app.command("serve")(web_cmd.serve_cmd)
app.command("validate")(web_cmd.validate_cmd)
app.command("explain")(explain_cmd.explain_cmd)


@app.command()
def estimate(
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
    samples: opt.Samples = DEFAULT_SAMPLES,
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
    from flopcast.service import training_estimate

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
        money=opt.money_options(depreciation, depreciation_years, cost_of_capital, grid),
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


@app.command()
def costs(
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
    year_dollars: opt.YearDollars = None,
    price_index: opt.PriceIndex = None,
    attention: opt.Attention = DEFAULT_ATTENTION,
    samples: opt.Samples = DEFAULT_SAMPLES,
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

    if fmt not in ("table", "csv", "json"):
        raise InvalidInputError(f"--format={fmt!r} is not one of table, csv, json")
    opt.check_selection(since, until, price_index, year_dollars)
    from flopcast.reporting.output import batch_csv, batch_json, output_target, write_output

    if out is not None:
        output_target(out, label="--out", probe=True)  # a path that cannot be written fails before the work
    from flopcast.cli.progress import working
    from flopcast.service import cost_table

    with working("Estimating the selected models' costs", quiet=quiet, as_json=fmt == "json"):
        table = cost_table(
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
            money=opt.money_options(depreciation, depreciation_years, cost_of_capital, grid),
        )
    result = table.result
    if fmt == "table" and out is None:
        from flopcast.reporting.tables import print_batch

        print_batch(result, table.reports, wide=wide)
        return
    text = batch_json(result) if fmt == "json" else batch_csv(result)
    if out is not None:
        write_output(out, text, label="--out")
        from flopcast.formatting import plural

        sys.stderr.write(f"wrote {plural(len(result.estimates), 'model')} to {out} ({result.source})\n")
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


@functools.cache
def _command() -> Any:
    """The click command typer builds from ``app``, built once: typer rebuilds it from every command's
    signature on each call (about 75 ms), which a process that runs many commands (the tests) pays each time."""
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: a FlopcastError becomes one line on stderr and exit status 2."""
    try:
        rc = _command()(args=argv, standalone_mode=False)
        if isinstance(rc, int) and rc:  # typer.Exit(code) inside a command returns its code here
            sys.exit(rc)
    except FlopcastError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except OSError as exc:
        # a file that a command could not read or write and did not check itself: one line, never a traceback
        # (a closed standard output, `| head`, is click's: it exits 1 quietly)
        sys.stderr.write(f"error: {_os_error_text(exc)}\n")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    except Exception as exc:
        # usage errors of typer's click (e.g. an unknown option): one line, click's exit code
        # typer's NoArgsIsHelpError is matched by name, as typer itself does (its click is vendored)
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            sys.stdout.write(ctx.get_help() + "\n")
            sys.exit(0)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            sys.stderr.write(f"error: {exc.format_message()}\n")
            sys.exit(exc.exit_code)
        raise


def _os_error_text(exc: OSError) -> str:
    """One line for an operating-system error: the path (``exc.filename``) and the reason."""
    import errno

    reason = exc.strerror or str(exc) or type(exc).__name__
    reason = reason[:1].lower() + reason[1:]
    named = [
        repr(os.fsdecode(f)) if isinstance(f, (str, bytes)) else str(f)
        for f in (exc.filename, exc.filename2)
        if f is not None
    ]
    if named:
        return f"reading or writing {' and '.join(named)} failed: {reason}"
    code = f", errno {errno.errorcode[exc.errno]}" if exc.errno is not None and exc.errno in errno.errorcode else ""
    return f"{reason} (reading or writing a file{code})"


if __name__ == "__main__":  # pragma: no cover
    main()
