"""The ``flopcast`` command line. It only parses, calls the library and formats.

Heavy libraries (numpy, scipy, pandas) are imported inside the commands so that
``flopcast --help`` starts fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from flopcast.cli import forecast, web_cmd
from flopcast.cli import options as opt
from flopcast.cli.data_cmd import data_app
from flopcast.cli.mfu_cmd import mfu_app
from flopcast.cli.parse import echo_json, parse_date
from flopcast.errors import FlopcastError
from flopcast.service import METHOD_CHOICES

app = typer.Typer(
    name="flopcast",
    help="AI training compute, hardware and dollar cost, with honest uncertainty.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
hardware_app = typer.Typer(help="The hardware catalog: list, show, compare.", no_args_is_help=True)
models_app = typer.Typer(help="The model catalog: list, show.", no_args_is_help=True)
app.add_typer(hardware_app, name="hardware")
app.add_typer(models_app, name="models")

app.add_typer(data_app, name="data")
app.add_typer(mfu_app, name="mfu")
app.command("diffusion")(forecast.diffusion_cmd)
app.command("emulate")(forecast.emulate_cmd)
app.command("lag")(forecast.lag_cmd)
app.command("trend")(forecast.trend_cmd)
app.command("deploy")(forecast.deploy_cmd)
app.command("report")(web_cmd.report_cmd)
app.command("serve")(web_cmd.serve_cmd)
app.command("validate")(web_cmd.validate_cmd)


@app.command()
def estimate(
    name: Annotated[str | None, typer.Argument(help="A catalog model (see `flopcast models list`), or none for an ad-hoc run.")] = None,
    params: Annotated[str | None, typer.Option(help="Parameters used per token (active ones for MoE): 175e9, 175B or 150e9..200e9.")] = None,
    tokens: Annotated[str | None, typer.Option(help="Training tokens (one pass).")] = None,
    epochs: Annotated[str | None, typer.Option(help="Passes over the tokens.")] = None,
    params_active: Annotated[str | None, typer.Option(help="Active parameters per token of a mixture-of-experts model.")] = None,
    compute: Annotated[str | None, typer.Option("--compute", help="Training compute in FLOP.")] = None,
    hardware: Annotated[str | None, typer.Option(help="Chip, e.g. a100, h100, v100, tpu-v4.")] = None,
    precision: Annotated[str | None, typer.Option(help="Peak at this precision: bf16, fp16, tf32, fp32, fp8.")] = None,
    chips: Annotated[str | None, typer.Option(help="Number of chips.")] = None,
    hours: Annotated[str | None, typer.Option(help="Wall-clock training time in hours.")] = None,
    days: Annotated[str | None, typer.Option(help="Wall-clock training time in days.")] = None,
    chip_hours: Annotated[str | None, typer.Option(help="Chip-hours, when reported directly.")] = None,
    utilization: Annotated[str | None, typer.Option(help="Model FLOP utilization (MFU), a fraction in (0, 1].")] = None,
    price_per_chip_hour: Annotated[str | None, typer.Option(help="Cloud price, USD per chip-hour.")] = None,
    chip_price: Annotated[str | None, typer.Option(help="Purchase price of one chip in USD.")] = None,
    method: Annotated[str, typer.Option(help="cloud, amortized, acquisition or all.")] = "all",
    cloud_tier: Annotated[str, typer.Option(help="on-demand, 1y or 3y (Cottier et al. use 3y).")] = "3y",
    cloud_vendor: Annotated[str | None, typer.Option(help="aws, azure, gcp or lambda (default: from the organization).")] = None,
    organization: Annotated[str | None, typer.Option(help="Developer; picks the cloud vendor and the data-center PUE.")] = None,
    start_date: Annotated[str | None, typer.Option(help="Training start, YYYY-MM-DD (dates prices and depreciation).")] = None,
    year: Annotated[int | None, typer.Option(help="Express dollars in this year's dollars (inflation-adjusted).")] = None,
    price_index: Annotated[str | None, typer.Option(help="Price index CSV (FRED format) for --year.")] = None,
    attention: Annotated[str, typer.Option(help="Attention FLOP: full (Kaplan et al.), causal (halved) or none.")] = "full",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical output.")] = 0,
    samples: Annotated[int, typer.Option(help="Monte Carlo samples (2 to 10,000,000).")] = 10_000,
    sampling: Annotated[str, typer.Option(help="random or sobol (quasi-random).")] = "random",
    data: Annotated[str | None, typer.Option(help="Take NAME from Epoch's database in this folder (or the pulled cache with --data cache).")] = None,
    point: Annotated[bool, typer.Option("--point", help="Central values only: the published method's point estimate.")] = False,
    sensitivity: Annotated[bool, typer.Option("--sensitivity", help="Show which inputs drive the spread.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Estimate the compute, time, memory and dollar cost of a training run."""
    from flopcast.cli.parse import parse_value
    from flopcast.service import training_estimate

    result = training_estimate(
        name, params=parse_value("params", params), tokens=parse_value("tokens", tokens),
        epochs=parse_value("epochs", epochs), params_active=parse_value("params-active", params_active),
        compute=parse_value("compute", compute), hardware=hardware, precision=precision,
        chips=parse_value("chips", chips), hours=parse_value("hours", hours), days=parse_value("days", days),
        chip_hours=parse_value("chip-hours", chip_hours),
        utilization=parse_value("utilization", utilization, fraction=True),
        price_per_chip_hour=parse_value("price-per-chip-hour", price_per_chip_hour),
        chip_price=parse_value("chip-price", chip_price), method=method, cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor, organization=organization, start_date=parse_date("start-date", start_date),
        year=year, price_index=price_index, attention=attention, seed=seed, samples=samples, sampling=sampling,
        data=data, point=point, sensitivity=sensitivity)
    if as_json:
        echo_json(result.to_dict())
        return
    from flopcast.reporting.tables import print_estimate

    print_estimate(result, show_sensitivity=sensitivity)


@app.command()
def costs(
    data: opt.Data = None,
    top: opt.Top = None,
    since: opt.Since = None,
    until: opt.Until = None,
    domain: opt.Domain = None,
    org: opt.Org = None,
    method: Annotated[str, typer.Option(help="cloud, amortized, acquisition or all.")] = "all",
    year_dollars: opt.YearDollars = None,
    price_index: opt.PriceIndex = None,
    samples: Annotated[int, typer.Option(help="Monte Carlo samples per model (2 to 1,000,000).")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    out: Annotated[str | None, typer.Option(help="Write to this file (atomically) instead of the terminal.")] = None,
) -> None:
    """Estimate the training cost of every selected model in a database, with 90% intervals."""
    from flopcast.errors import InvalidInputError

    if method not in METHOD_CHOICES:
        raise InvalidInputError(f"--method={method!r} is not one of {', '.join(METHOD_CHOICES)}")
    if fmt not in ("table", "csv", "json"):
        raise InvalidInputError(f"--format={fmt!r} is not one of table, csv, json")
    if not (2 <= samples <= 1_000_000):
        raise InvalidInputError(f"--samples={samples} is outside 2..1,000,000")
    opt.check_selection(since, until, price_index, year_dollars)
    from flopcast.batch import estimate_batch, select
    from flopcast.datasets.source import load_database, resolve_source

    source = resolve_source(data)
    db = load_database(source)
    chosen = select(db.records, since=since, until=until, domain=domain, org=org, top=top)
    if not chosen:
        raise InvalidInputError(f"the filters leave no models (of {len(db.records)} in {source.describe()})")
    index = opt.price_index_for(year_dollars, price_index)
    result = estimate_batch(chosen, hardware=db.hardware, price_book=db.price_book,
                            methods=("cloud", "amortized", "acquisition") if method == "all" else (method,),
                            samples=samples, seed=seed, target_year=year_dollars, price_index=index,
                            source=source.describe())
    from flopcast.reporting.output import batch_csv, batch_json, write_text_atomic

    if fmt == "table" and out is None:
        from flopcast.reporting.tables import print_batch

        print_batch(result, db.reports)
        return
    text = batch_csv(result) if fmt == "csv" else batch_json(result) if fmt == "json" else batch_csv(result)
    if out is not None:
        write_text_atomic(out, text)
        sys.stderr.write(f"wrote {len(result.rows)} models to {out} ({source.describe()})\n")
    else:
        typer.echo(text, nl=False)


@hardware_app.command("list")
def hardware_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the chips in the catalog."""
    from flopcast.catalogs import bundled_hardware
    from flopcast.reporting.tables import hardware_row, print_hardware_list

    rows = list(bundled_hardware())
    if as_json:
        echo_json([hardware_row(h) for h in rows])
    else:
        print_hardware_list(rows)


@hardware_app.command("show")
def hardware_show(name: str, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show one chip's specs and sources."""
    from flopcast.catalogs import bundled_hardware
    from flopcast.reporting.tables import hardware_row, print_hardware

    hw, note = bundled_hardware().resolve(name)
    if as_json:
        echo_json(dict(hardware_row(hw), resolved_from=name, note=note))
    else:
        print_hardware(hw, note)


@hardware_app.command("compare")
def hardware_compare(
    a: str,
    b: str,
    params: Annotated[str, typer.Option(help="Model parameters whose training state must fit (16 bytes each).")] = "175e9",
    precision: Annotated[str | None, typer.Option(help="Compare peaks at this precision.")] = None,
    price_a: Annotated[str | None, typer.Option(help="USD per chip-hour for A (default: catalog on-demand price).")] = None,
    price_b: Annotated[str | None, typer.Option(help="USD per chip-hour for B.")] = None,
    utilization: Annotated[str, typer.Option(help="Utilization for cost per delivered FLOP.")] = "1.0",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare chip B with chip A: peak, memory, chips to hold a model, cost per FLOP."""
    from flopcast.cli.parse import parse_value
    from flopcast.comparison import compare_hardware
    from flopcast.errors import InvalidInputError

    values = {k: parse_value(k, v) for k, v in (("params", params), ("price-a", price_a), ("price-b", price_b))}
    u = parse_value("utilization", utilization, fraction=True)
    if any(isinstance(v, tuple) for v in (*values.values(), u)):
        raise InvalidInputError("hardware compare takes point values, not intervals")
    result = compare_hardware(a, b, params=values["params"], precision=precision, price_a=values["price-a"],
                              price_b=values["price-b"], utilization=u)
    if as_json:
        echo_json(result.to_dict())
    else:
        from flopcast.reporting.tables import print_comparison

        print_comparison(result)


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the models in the catalog."""
    from flopcast.catalogs import bundled_models
    from flopcast.reporting.tables import model_row, print_models

    rows = list(bundled_models())
    if as_json:
        echo_json([model_row(m) for m in rows])
    else:
        print_models(rows)


@models_app.command("show")
def models_show(name: str, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show one model's published facts and sources."""
    from flopcast.catalogs import get_model
    from flopcast.reporting.tables import model_row, print_model

    m = get_model(name)
    if as_json:
        echo_json(model_row(m))
    else:
        print_model(m)


def main(argv: list[str] | None = None) -> None:
    """Entry point: a FlopcastError becomes one line on stderr and exit status 2."""
    try:
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int) and rc:  # typer.Exit(code) inside a command returns its code here
            sys.exit(rc)
    except FlopcastError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    except Exception as exc:
        # usage errors of typer's click (e.g. an unknown option): one line, click's exit code
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stdout.write(exc.ctx.get_help() + "\n")
            sys.exit(0)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            sys.stderr.write(f"error: {exc.format_message()}\n")
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
