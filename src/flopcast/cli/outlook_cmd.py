"""``flopcast forecast METRIC``: the largest training run (or the top-N frontier) year by year, by components."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from flopcast.cli import options as opt
from flopcast.cli.parse import console as _console
from flopcast.cli.parse import echo_json
from flopcast.defaults import DEFAULT_UTILIZATION_PRIOR, RANDOM_SAMPLING
from flopcast.errors import InvalidInputError

_UNIT_OF = {"cost": "USD", "compute": "FLOP", "power": "W", "chips": "chips"}


def _prior(text: str) -> tuple[str, tuple[float, float]]:
    from flopcast.cli.parse import parse_value

    name, sep, rest = text.partition("=")
    if not sep or ".." not in rest:
        raise InvalidInputError(
            f"--prior={text!r} must be COMPONENT=LOW..HIGH (growth factors a year at 90%), e.g. compute=3..5"
        )
    value = parse_value(f"prior {name.strip()}", rest)
    assert isinstance(value, tuple)
    return name.strip(), value


def _fmt(x: float, unit: str) -> str:
    from flopcast.formatting import format_value

    return format_value(x, unit)


def forecast_cmd(
    metric: Annotated[str, typer.Argument(help="cost, compute, power or chips.")],
    largest: Annotated[
        bool, typer.Option("--largest", help="The largest run of each year (the default; --top N replaces it).")
    ] = False,
    top: Annotated[
        int | None,
        typer.Option(help="Forecast the trend of the top-N frontier instead of the largest run (fitted on it)."),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option(help="The chance of exceeding this value each year (repeatable; e.g. 1e9 for $1B, 1e28 FLOP)."),
    ] = None,
    until: Annotated[int, typer.Option(help="The last year to forecast (at most 2100).")] = 2032,
    fit_since: Annotated[int | None, typer.Option(help="First publication year of the runs fitted.")] = 2016,
    fit_until: Annotated[int | None, typer.Option(help="Last publication year of the runs fitted.")] = None,
    prior: Annotated[
        list[str] | None,
        typer.Option(
            help="A subjective 90% interval on a component's growth a year, COMPONENT=LOW..HIGH (repeatable): "
            "compute, price-performance, utilization, duration, chip-peak, power-per-chip; e.g. compute=4..5."
        ),
    ] = None,
    cap: Annotated[
        str | None,
        typer.Option(
            help="Epoch's 2030 constraints to cap compute by: power, chips, data, latency, or all (comma list)."
        ),
    ] = None,
    include_finetunes: opt.IncludeFinetunes = False,
    cost_method: opt.CostMethod = "amortized",
    year_dollars: opt.YearDollars = None,
    price_index: opt.PriceIndex = None,
    samples: Annotated[
        int | None,
        typer.Option(help="Monte Carlo samples of the forecast (default 8,192), or give --sampling-precision."),
    ] = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = 0,
    utilization_prior: opt.UtilizationPrior = DEFAULT_UTILIZATION_PRIOR,
    data: opt.Data = None,
    plot: Annotated[str | None, typer.Option(help="Write the chart to this PNG or SVG file.")] = None,
    wide: opt.Wide = False,
    quiet: opt.Quiet = False,
    as_json: opt.Json = False,
) -> None:
    """The largest training run's cost, compute, power or chips each year, with the chance of passing each threshold.

    A Monte Carlo over compute growth, price-performance, utilization and duration, fitted on the frontier runs."""
    from flopcast.cli.parse import parse_number
    from flopcast.service import frontier_forecast, sample_count

    samples = sample_count(samples, sampling_precision, RANDOM_SAMPLING)

    if largest and top is not None:
        raise InvalidInputError("--largest and --top N are alternatives; give one")
    if top is not None and top < 1:
        raise InvalidInputError(f"--top={top} must be >= 1")
    thresholds = [parse_number("threshold", t) for t in threshold or []]
    if plot is not None:
        from flopcast.reporting.plots import check_plot_path

        check_plot_path(plot)  # a plot that cannot be written fails before the work
    pairs = [_prior(p) for p in prior or []]
    priors = dict(pairs)
    if len(priors) < len(pairs):
        raise InvalidInputError("--prior: give each component at most once")
    caps = [] if cap is None else [c.strip() for c in cap.split(",") if c.strip()]
    if cap is not None and not caps:
        raise InvalidInputError(f"--cap={cap!r} names no constraint; give power, chips, data, latency or all")
    from flopcast.cli.progress import working

    with working(f"Forecasting the {metric} of the frontier", quiet=quiet, as_json=as_json):
        result = frontier_forecast(
            metric,
            until=until,
            largest=top is None,
            top=top or 10,
            thresholds=thresholds,
            priors=priors,
            caps=caps,
            fit_since=fit_since,
            fit_until=fit_until,
            include_finetunes=include_finetunes,
            cost_method=cost_method,
            year_dollars=year_dollars,
            price_index=price_index,
            samples=samples,
            seed=seed,
            utilization_prior=utilization_prior,
            data=data,
        )
    if plot is not None:
        from flopcast.reporting.plots import plot_forecast

        plot_forecast(result, plot, path_label="--plot")
    if as_json:
        echo_json(result.to_dict())
        return
    _print(result, metric, wide=wide)


def _print(result: Any, metric: str, wide: bool = False) -> None:
    from rich.table import Table

    from flopcast.cli.parse import print_table

    fc, unit = result.forecast, _UNIT_OF[metric]
    con = _console()
    what = "largest run" if fc.target == "largest" else "top-frontier trend"
    dollars = result.assumptions["dollars"]
    if dollars.startswith("nominal"):
        dollars = (
            "nominal USD of each year"  # the fitted runs are in their own months' dollars, the forecast in its year's
        )
    title = f"{metric.capitalize()} of the {what}" + (f" ({dollars})" if metric == "cost" else "")
    t = Table(title=title, title_justify="left")
    t.add_column("year", no_wrap=True)
    t.add_column("median", justify="right", no_wrap=True)
    t.add_column("90% interval", justify="right", no_wrap=True)
    for k in fc.crossings:
        t.add_column(f"P(> {_fmt(float(k), unit)})", justify="right", no_wrap=True)
    t.add_column("sources of spread (share of variance)" if wide else "largest source of spread")
    from flopcast.formatting import format_range

    for y in fc.years:
        ranked = sorted(y.variance, key=y.variance.get, reverse=True) if y.variance else []
        shown = ranked if wide else ranked[:1]
        t.add_row(
            str(y.year),
            _fmt(y.median, unit),
            format_range(y.p5, y.p95, unit),
            *(f"{p:.0%}" for p in y.p_exceeds.values()),
            ", ".join(f"{k} {y.variance[k]:.0%}" for k in shown),
        )
    print_table(con, t)
    for k, c in fc.crossings.items():
        when = "past the horizon" if c["median"] is None else f"{c['median']:.1f}"
        early = "n/a" if c["p5"] is None else f"{c['p5']:.1f}"
        late = "past the horizon" if c["p95"] is None else f"{c['p95']:.1f}"
        con.print(f"passes {_fmt(float(k), unit)}: median {when} (5% chance by {early}, 95% by {late})")
    g = fc.growth
    parts = [f"{k} x{v['growth_per_year']:.2f} ({v['low']:.2f}-{v['high']:.2f})" for k, v in g.items()]
    con.print("growth a year, fitted (90% bootstrap): " + "; ".join(parts))
    pub = result.published["frontier_compute_growth"]
    con.print(
        f"frontier compute growth: x{g['compute']['growth_per_year']:.2f} a year fitted here; Epoch published "
        f"{pub['low']:g}-{pub['high']:g}x ({pub['source']})"
    )
    for comp, ends in result.date_moves.items():
        lo, hi = ends.get("low", {}), ends.get("high", {})

        def yr(d: dict) -> str:
            return "past the horizon" if d.get("median_year") is None else f"{d['median_year']:.1f}"

        con.print(
            f"with {comp} growth at x{lo.get('growth_per_year', 0):.2f}: {yr(lo)}; at x{hi.get('growth_per_year', 0):.2f}: "
            f"{yr(hi)} (first threshold's median year)"
        )
    a = result.assumptions
    con.print(
        f"Runs: {fc.n_runs} ({a['selection']}, {a['fit_since'] or 'first'}-{a['fit_until'] or 'last'}); "
        f"{a['cost_method']} cost; {fc.samples:,} samples, seed {fc.seed}. Source: {a['source']}."
    )
    for n in fc.notes:
        con.print(f"note: {n}")
