"""``flopcast diffusion``, ``emulate``, ``lag`` and ``trend``: parse, call the library, format."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

import typer

from flopcast.cli import options as opt
from flopcast.cli.parse import console as _console
from flopcast.cli.parse import echo_json, parse_date, print_table
from flopcast.defaults import (
    DEFAULT_COST_METHOD,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
    RANDOM_SAMPLING,
)
from flopcast.errors import InvalidInputError


def _finite_or_none(x):
    import math

    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def _price_performance(text: str | None, data: str | None):
    """None (the cited default), a rate or interval in OOM/year, or 'fit': the slope of the data's chip prices."""
    if text is None:
        return None
    if text == "fit":
        from flopcast.service import database, price_performance_fit

        return price_performance_fit(database(data))
    from flopcast.cli.parse import parse_number

    if ".." in text:
        lo, _, hi = text.partition("..")
        lo_v, hi_v = parse_number("price-performance", lo), parse_number("price-performance", hi)
        if not 0 < lo_v <= hi_v:
            raise InvalidInputError(f"--price-performance={text!r}: need 0 < low <= high (OOM/year)")
        from flopcast.service import as_input

        return as_input((lo_v, hi_v), kind="normal")
    v = parse_number("price-performance", text)
    if v <= 0:
        raise InvalidInputError(f"--price-performance={v:g} must be > 0 (orders of magnitude a year), or 'fit'")
    return v


def diffusion_cmd(
    model: Annotated[
        str | None, typer.Argument(help="Reference model of the database (see `flopcast models list`).")
    ] = None,
    cost: Annotated[
        str | None, typer.Option(help="Reference cost in USD (point or low..high) instead of a MODEL.")
    ] = None,
    compute: Annotated[
        str | None, typer.Option(help="Reference by training compute (FLOP), with --hardware and --date.")
    ] = None,
    hardware: Annotated[str | None, typer.Option(help="Chip for a --compute reference.")] = None,
    price_performance: Annotated[
        str | None,
        typer.Option(
            help="Hardware price-performance rate in OOM/year (point or low..high), or 'fit' to fit it from the data's chip prices."
        ),
    ] = None,
    date: Annotated[str | None, typer.Option(help="Date of the reference cost (YYYY-MM-DD) with --cost.")] = None,
    year: Annotated[int, typer.Option(help="Year to price the reproduction in (mid-year).")] = dt.date.today().year,
    budget: Annotated[
        str | None, typer.Option(help="A budget in USD: when can it afford the reference? (default: the actor presets)")
    ] = None,
    actors: Annotated[str | None, typer.Option(help="CSV of actors (key,name,budget_usd,source,as_of,notes).")] = None,
    actor: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=BUDGET: replace a preset actor's budget (by key or name, e.g. startup=2e7) or add an "
            "actor; repeatable."
        ),
    ] = None,
    frontier_of: Annotated[
        int | None,
        typer.Option(
            help="Reference: the frontier training run of this year, instead of a MODEL (see --frontier-basis)."
        ),
    ] = None,
    frontier_basis: Annotated[
        str,
        typer.Option(
            help="How --frontier-of finds that run: top-model (the costliest of the year's top-10 models by "
            "compute) or trend (the trend of frontier costs, with its 90% prediction interval)."
        ),
    ] = "top-model",
    algorithmic: Annotated[
        bool, typer.Option("--algorithmic", help="Also count algorithmic efficiency (Ho et al. 2024).")
    ] = False,
    emulate: Annotated[
        str | None,
        typer.Option(
            help="Price MODEL's compute-optimal emulation under this fit (hoffmann or besiroglu) instead of the "
            "run itself; with --algorithmic the saving is the larger of the two, never their product."
        ),
    ] = None,
    cost_method: opt.CostMethod = DEFAULT_COST_METHOD,
    data: opt.Data = None,
    plot: Annotated[str | None, typer.Option(help="Write the cost curve to this PNG or SVG file.")] = None,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    as_json: opt.Json = False,
) -> None:
    """What a reference training run costs later, and when each budget can afford it."""
    from flopcast.cli.parse import parse_value
    from flopcast.service import diffusion_analysis, diffusion_reference, sample_count

    samples = sample_count(samples, sampling_precision, RANDOM_SAMPLING)

    if not (2 <= samples <= 1_000_000):
        raise InvalidInputError(f"--samples={samples} is outside 2..1,000,000")
    if plot is not None:
        from flopcast.reporting.plots import check_plot_path

        check_plot_path(plot)  # a plot that cannot be written fails before the work
    ref = diffusion_reference(
        model,
        cost_usd=parse_value("cost", cost) if cost is not None else None,
        date=parse_date("date", date, allow_year=True) if date is not None else None,
        compute_flop=parse_value("compute", compute) if compute is not None else None,
        hardware=hardware,
        cost_method=cost_method,
        samples=samples,
        seed=seed,
        data=data,
        given_as=compute if compute is not None else cost,
        frontier_of=frontier_of,
        frontier_basis=frontier_basis,
    )
    emu = None
    if emulate is not None:
        from flopcast.service import EMULATION_FITS, emulation

        one_fit = [f for f in EMULATION_FITS if f != "both"]
        if emulate not in one_fit:
            raise InvalidInputError(f"emulate={emulate!r} is not one of {', '.join(one_fit)} (one fit to price)")
        if model is None:
            raise InvalidInputError("--emulate needs a database MODEL (the run to emulate), not --cost or --compute")
        if budget is not None:
            raise InvalidInputError("--emulate does not combine with --budget; give the budget as --actor NAME=BUDGET")
        emu = emulation(model, fit=emulate, data=data).first
    who: dict[str, float] | str | list[Any] | None = actors
    if actor:
        from flopcast.service import actors_with

        who = actors_with(actors, dict(_actor_budget(a) for a in actor))
    prob = None
    if budget is not None:
        b = parse_value("budget", budget)
        if isinstance(b, tuple):
            raise InvalidInputError("--budget takes one value, not an interval")
        who = {f"budget ${b:,.0f}": b}
        from flopcast.service import affordability_probability

        prob = affordability_probability(
            ref,
            year,
            b,
            price_performance_oom_per_year=_price_performance(price_performance, data),
            include_algorithmic=algorithmic,
            samples=samples,
            seed=seed,
        )
    d = diffusion_analysis(
        ref,
        year,
        budgets=who,
        price_performance_oom_per_year=_price_performance(price_performance, data),
        include_algorithmic=algorithmic,
        curve_points=60 if plot is not None else 0,
        samples=samples,
        seed=seed,
        emulation=emu,
    )
    repro, table = d.reproduction, d.affordability
    ref_date, label, source = ref.date, ref.label, ref.source
    if plot is not None and d.curve is not None:
        from flopcast.reporting.plots import plot_reproduction

        plot_reproduction(
            d.curve,
            plot,
            title=f"Cost to reproduce {label}",
            budgets=table,
            caption=f"Source: {source}. Hardware price-performance"
            + (" and algorithmic efficiency" if algorithmic else "")
            + ".",
            path_label="--plot",
        )
    if as_json:
        echo_json(
            {
                "reference": label,
                "reference_date": ref_date,
                "source": source,
                "reproduction": repro.to_dict(),
                "affordability": [{k: _finite_or_none(v) for k, v in row.items()} for row in table],
                **({"p_affordable": prob.p_affordable, "budget_usd": prob.budget_usd} if prob is not None else {}),
                **(
                    {"emulation": d.emulation.to_dict(), "double_counting_rule": d.double_counting_rule}
                    if d.emulation is not None
                    else {}
                ),
            }
        )
        return
    from rich.table import Table

    from flopcast.formatting import format_summary, format_usd

    con = _console()
    con.print(f"Reference: {label}, {ref_date} ({source})")
    con.print(
        f"Cost to reproduce in mid-{year}: {format_summary(repro.cost_usd)} "
        f"(falling {repro.rate_oom_per_year.median:.2f} orders of magnitude a year"
        + (", hardware and algorithms)" if algorithmic else ", hardware price-performance)")
    )
    if d.emulation is not None:
        r = d.emulation.compute_ratio
        con.print(
            f"Priced as its compute-optimal emulation ({d.emulation.title}: {r.median:.2f}x less compute, "
            f"90% CI {r.p5:.2f}-{r.p95:.2f})"
            + ("; with algorithms the saving is the larger of the two, not their product" if algorithmic else "")
        )
    t = Table(title="When can each budget afford it? (decimal year, 90% CI)")
    for col in ("actor", "budget", "year", "90% CI", f"P(affordable), mid-{year}"):
        t.add_column(col)
    for row in table:
        yr = "now" if row["affordable_now"] else f"{row['estimate']:.1f}"
        hi = "never" if row["high"] == float("inf") else f"{row['high']:.1f}"
        p = row.get("p_affordable")
        t.add_row(
            row["name"], format_usd(row["budget_usd"]), yr, f"{row['low']:.1f}-{hi}", "-" if p is None else f"{p:.0%}"
        )
    print_table(con, t)
    if prob is not None:
        con.print(
            f"P(a {format_usd(prob.budget_usd)} budget affords it in mid-{year}) = {prob.p_affordable:.1%} "
            "(share of the Monte Carlo costs at or under the budget)"
        )
    if plot:
        con.print(f"wrote {plot}")


def _actor_budget(text: str) -> tuple[str, float]:
    """``NAME=BUDGET`` of ``--actor``: the name and the budget in USD (the service checks it is positive)."""
    from flopcast.cli.parse import parse_number

    name, sep, value = text.rpartition("=")
    if not sep or not name.strip():
        raise InvalidInputError(f"--actor={text!r} is not NAME=BUDGET; write e.g. --actor startup=2e7")
    return name.strip(), parse_number("actor", value)


def emulate_cmd(
    model: Annotated[str | None, typer.Argument(help="A database model with parameters and tokens.")] = None,
    params: Annotated[str | None, typer.Option(help="Parameters N (e.g. 175e9).")] = None,
    tokens: Annotated[str | None, typer.Option(help="Training tokens D (e.g. 300e9).")] = None,
    fit: Annotated[
        str,
        typer.Option(
            help="Scaling fit: hoffmann (Hoffmann et al. 2022, approach 3), besiroglu (Besiroglu et al. 2024's "
            "refit) or both, side by side."
        ),
    ] = "both",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The compute-optimal model that reaches the same loss, under each Chinchilla fit, with 90% intervals."""
    from flopcast.cli.parse import parse_value
    from flopcast.service import emulation

    n = d = None
    if params is not None or tokens is not None:
        n = parse_value("params", params) if params is not None else None
        d = parse_value("tokens", tokens) if tokens is not None else None
        if isinstance(n, tuple) or isinstance(d, tuple):
            raise InvalidInputError("emulate takes point values for --params and --tokens")
    a = emulation(model, params=n, tokens=d, fit=fit)
    if as_json:
        echo_json(a.to_dict())
        return
    from rich.table import Table

    from flopcast.formatting import format_sci

    ref = a.first.point
    t = Table(
        title=f"Compute-optimal emulation of {a.label} ({format_sci(a.params)} params x {format_sci(a.tokens)} "
        f"tokens, {format_sci(float(ref.compute_ref_flop))} FLOP)"
    )
    for col in ("fit", "loss", "parameters", "tokens", "compute (FLOP)", "less compute"):
        t.add_column(col)

    def cell(point: float, s, fmt) -> str:
        return f"{fmt(point)}\n({fmt(s.p5)} - {fmt(s.p95)})"  # a narrow column wraps between the numbers

    for fe in a.fits.values():
        p = fe.point
        t.add_row(
            fe.name,
            cell(float(p.loss), fe.loss, lambda v: f"{v:.3f}"),
            cell(float(p.params_opt), fe.params_opt, format_sci),
            cell(float(p.tokens_opt), fe.tokens_opt, format_sci),
            cell(float(p.compute_opt_flop), fe.compute_opt_flop, format_sci),
            cell(float(p.compute_ratio), fe.compute_ratio, lambda v: f"{v:.2f}x"),
        )
    con = _console()
    print_table(con, t)
    for fe in a.fits.values():
        con.print(f"{fe.name}: {fe.title} ({fe.point.fit.source})")
    con.print(
        f"Each fit's published parameters, with a 90% interval (in parentheses) over {a.first.draws} bootstrap "
        "parameter draws; the loss is in nats/token (docs/trends.md, 'Compute-optimal emulation')."
    )


def lag_cmd(
    data: opt.Data = None,
    top: Annotated[int, typer.Option(help="Frontier: the N with the most training compute when published.")] = 10,
    since: Annotated[int | None, typer.Option(help="First reference year.")] = None,
    include_finetunes: opt.IncludeFinetunes = False,
    include_previews: Annotated[
        bool,
        typer.Option(
            "--include-previews",
            help="Count previews (a name with the word 'preview') as frontier models and followers.",
        ),
    ] = False,
    date_basis: Annotated[
        str, typer.Option(help="publication, or training_end where a model's training end is known.")
    ] = "publication",
    period: Annotated[int, typer.Option(help="Years per row of the summary.")] = 2,
    bootstrap: Annotated[
        int, typer.Option(help="Bootstrap resamples for the p5-p95 of each median (0: no intervals).")
    ] = 1000,
    exact_compute: Annotated[
        bool,
        typer.Option("--exact-compute", help="Take every training compute as exact (no draws within its confidence)."),
    ] = False,
    counterfactual: Annotated[
        str | None,
        typer.Option(help="Counterfactual timing: followers of this MODEL had they not been sped up (e.g. gpt-3)."),
    ] = None,
    speedup_months: Annotated[
        str | None,
        typer.Option(
            help="With --counterfactual: the speedup in months, a point or low..high (default 1..18, Cottier)."
        ),
    ] = None,
    followers: Annotated[
        str | None,
        typer.Option(
            help="With --counterfactual: followers, comma-separated (default: GPT-3's at Google and DeepMind)."
        ),
    ] = None,
    cost_method: opt.CostMethod = DEFAULT_COST_METHOD,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    wide: opt.Wide = False,
    quiet: opt.Quiet = False,
    as_json: opt.Json = False,
) -> None:
    """Months until another organization, an open-weights and an API model reached each frontier model's compute."""
    from flopcast.service import sample_count

    samples = sample_count(samples, sampling_precision, RANDOM_SAMPLING)

    if top < 1:
        raise InvalidInputError(f"--top={top} must be >= 1")
    if counterfactual is None and (speedup_months is not None or followers is not None):
        raise InvalidInputError("--speedup-months and --followers go with --counterfactual MODEL")
    if counterfactual is not None:
        _lag_counterfactual(
            counterfactual, speedup_months, followers, date_basis, cost_method, samples, seed, data, as_json
        )
        return
    from flopcast.cli.progress import working
    from flopcast.service import lag_analysis

    with working("Finding each frontier model's followers", quiet=quiet, as_json=as_json):
        result = lag_analysis(
            data=data,
            top=top,
            since=since,
            include_finetunes=include_finetunes,
            include_previews=include_previews,
            date_basis=date_basis,
            period=period,
            bootstrap=bootstrap,
            seed=seed,
            compute_uncertainty=not exact_compute,
        )
    if as_json:
        echo_json(result.to_dict())
        return
    from rich.table import Table

    from flopcast.cli.parse import print_table

    con = _console()
    t = Table(
        title=f"Catch-up lags of top-{top} frontier models (months from {date_basis.replace('_', ' ')}): "
        "Kaplan-Meier median \\[p5-p95]" + ("" if wide else "; --wide adds the models not yet caught up")
    )
    kinds = (("other_org", "other org"), ("open_weights", "open weights"), ("api", "API"))
    t.add_column("period", no_wrap=True)
    t.add_column("frontier\nmodels", justify="right", no_wrap=True)
    for _, title in kinds:
        t.add_column(title, no_wrap=True, justify="right")
        if wide:
            t.add_column("not yet", justify="right", no_wrap=True)

    def f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1f}"

    def cell(r: dict, kind: str) -> str:
        med, lo, hi = r[f"{kind}_median_months"], r[f"{kind}_p5_months"], r[f"{kind}_p95_months"]
        if med is None:
            return "> table's end" if r[f"{kind}_not_yet"] else "n/a"
        if lo is None and hi is None:
            return f(med)
        return f"{f(med)}\n[{f(lo)}-{'beyond' if hi is None else f(hi)}]"

    for r in [*result.summary, result.overall]:
        row = ["all " + r["period"] if r.get("overall") else r["period"], str(r["frontier_models"])]
        for kind, _ in kinds:
            row += [cell(r, kind), *([str(r[f"{kind}_not_yet"])] if wide else [])]
        t.add_row(*row)
    print_table(con, t)
    b = result.bootstrap
    how = f"{b['samples']} bootstrap resamples ({b['method']})" if b["samples"] else "no intervals (--bootstrap 0)"
    con.print(
        f"Source: {result.source}. Frontier: {result.selection}. Months = days / 30.4375. Medians are Kaplan-Meier "
        f"estimates (a lag not caught up by the table's last date is censored there); p5-p95 from {how}; "
        "'beyond': more than 5% of resamples had under half caught up. API = API access or open weights."
    )


def _lag_counterfactual(
    model: str,
    speedup_text: str | None,
    followers_text: str | None,
    date_basis: str,
    cost_method: str,
    samples: int,
    seed: int,
    data: str | None,
    as_json: bool,
) -> None:
    from flopcast.cli.parse import parse_value
    from flopcast.service import lag_counterfactual

    speedup = parse_value("speedup-months", speedup_text)
    names = None
    if followers_text is not None:
        names = [n.strip() for n in followers_text.split(",") if n.strip()]
        if not names:
            raise InvalidInputError(f"--followers={followers_text!r} names no model; give names separated by commas")
    res = lag_counterfactual(
        model,
        followers=names,
        speedup_months=speedup,
        date_basis=date_basis,
        cost_method=cost_method,
        samples=samples,
        seed=seed,
        data=data,
    )
    if as_json:
        echo_json(res.to_dict())
        return
    from rich.table import Table

    from flopcast.formatting import format_usd

    s = res.speedup_months
    con = _console()
    t = Table(
        title=(
            f"Counterfactual timing after {res.reference} ({res.reference_date}): followers "
            f"{s['p50']:.1f} months later (90% CI {s['p5']:.1f}-{s['p95']:.1f})"
        )
    )
    for col in (
        "follower",
        "published",
        "lag (months)",
        "counterfactual lag (speedup p5-p95)",
        "cost to reproduce then",
        "counterfactual cost (speedup p5-p95)",
    ):
        t.add_column(col)
    d = res.to_dict()
    for row in d["followers"]:
        cl, cc = row["counterfactual_lag_months"], row["counterfactual_cost_usd"]
        t.add_row(
            row["follower"],
            row["publication_date"],
            f"{row['lag_months']:.1f}",
            f"{cl['p50']:.1f} [{cl['p5']:.1f}-{cl['p95']:.1f}]",
            format_usd(row["cost_usd"]["central"]),
            f"{format_usd(cc['p50']['central'])} [{format_usd(cc['p5']['central'])}-{format_usd(cc['p95']['central'])}]",
        )
    print_table(con, t)
    con.print(
        f"Speedup: {res.speedup} ({res.speedup_source}). Cost: {res.cost_source}, brought to each date at the hardware "
        "price-performance rate (as `flopcast diffusion`); central values. Source: " + res.source + "."
    )


def trend_cmd(
    metric: Annotated[str, typer.Argument(help="compute, cost, params, data or price-performance.")],
    data: opt.Data = None,
    top: opt.Top = None,
    since: opt.Since = None,
    until: opt.Until = None,
    domain: opt.Domain = None,
    org: opt.Org = None,
    include_finetunes: opt.IncludeFinetunes = False,
    above_trend: Annotated[
        float | None, typer.Option(help="Keep points at least this many OOM above the all-points trend.")
    ] = None,
    cost_method: opt.CostMethod = DEFAULT_COST_METHOD,
    year_dollars: opt.YearDollars = None,
    price_index: opt.PriceIndex = None,
    extrapolate: Annotated[int | None, typer.Option(help="Extrapolate the trend to this year.")] = None,
    cross: Annotated[str | None, typer.Option(help="When does the trend reach this value (e.g. 1e9 for $1B)?")] = None,
    breakpoint: Annotated[bool, typer.Option("--breakpoint", help="Also fit two segments and compare by BIC.")] = False,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples (0 to skip).")] = 10_000,
    medians_only: Annotated[
        bool,
        typer.Option(
            "--medians-only",
            help="Bootstrap the points' medians alone (by default each resampled cost or compute is also drawn "
            "within its own 90% interval).",
        ),
    ] = False,
    credibility: Annotated[float, typer.Option(help="Interval credibility.")] = 0.9,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    sampling: opt.Sampling = DEFAULT_SAMPLING,
    utilization_prior: opt.UtilizationPrior = DEFAULT_UTILIZATION_PRIOR,
    plot: Annotated[str | None, typer.Option(help="Write the chart to this PNG or SVG file.")] = None,
    quiet: opt.Quiet = False,
    as_json: opt.Json = False,
) -> None:
    """Fit a log-linear trend of a metric against publication date, with intervals and extrapolation."""
    from flopcast.cli.parse import parse_value
    from flopcast.service import sample_count, trend_analysis

    samples = sample_count(samples, sampling_precision, sampling)

    target = None
    if cross is not None:
        target = parse_value("cross", cross)
        if isinstance(target, tuple):
            raise InvalidInputError("--cross takes one value, not an interval")
    opt.check_selection(since, until, price_index, year_dollars)
    if plot is not None:
        from flopcast.reporting.plots import check_plot_path

        check_plot_path(plot)  # a plot that cannot be written fails before the work
    from flopcast.cli.progress import working

    with working(f"Fitting the {metric} trend", quiet=quiet, as_json=as_json):
        t = trend_analysis(
            metric,
            data=data,
            top=top,
            since=since,
            until=until,
            domain=domain,
            org=org,
            include_finetunes=include_finetunes,
            above_trend=above_trend,
            cost_method=cost_method,
            year_dollars=year_dollars,
            price_index=price_index,
            extrapolate=extrapolate,
            cross=target,
            breakpoint=breakpoint,
            bootstrap=bootstrap,
            credibility=credibility,
            samples=samples,
            seed=seed,
            sampling=sampling,
            within_intervals=not medians_only,
            utilization_prior=utilization_prior,
        )
    fit, dates, values, labels, out = t.fit, t.dates, t.values, t.labels, t.out
    series_title, series_unit, series_notes, source_desc = t.title, t.unit, t.notes, t.source
    if plot is not None:
        from flopcast.reporting.plots import plot_trend

        sel = ", ".join(f"{k} {v}" for k, v in out["selection"].items() if k != "meaning") or "all models"
        plot_trend(
            fit,
            dates,
            values,
            plot,
            labels=labels,
            extrapolate_to=extrapolate,
            title=f"{series_title}: x{fit.growth_per_year()['estimate']:.2f} per year ({sel})",
            caption=f"Source: {source_desc}. "
            + " ".join(
                [*series_notes, *([f"Models: {out['selection']['meaning']}."] if "meaning" in out["selection"] else [])]
            ),
            path_label="--plot",
        )
    if as_json:
        echo_json(out)
        return
    con = _console()
    con.print(fit.summary())
    shown = {k: v for k, v in out["selection"].items() if k != "meaning"}
    con.print(
        f"Models: {out['n_models']} ({', '.join(f'{k}={v}' for k, v in shown.items()) or 'all'}). "
        f"Source: {source_desc}."
    )
    if "meaning" in out["selection"]:
        con.print(f"Selection: {out['selection']['meaning']}.")
    if metric == "cost" and top is not None:
        con.print(
            "Published: Cottier et al. 2024, frontier (top-10) amortized cost x2.4 a year since 2016 "
            "(90% CI x2.0-x2.9)."
        )
    for n in series_notes:
        con.print(f"note: {n}")
    from flopcast.formatting import format_value

    if extrapolate is not None:
        e = out["extrapolation"]
        u = series_unit
        con.print(
            f"mid-{extrapolate}: {format_value(e['median'], u)} (trend {credibility:.0%} CI "
            f"{format_value(e['line_low'], u)}-{format_value(e['line_high'], u)}; a new model "
            f"{format_value(e['pred_low'], u)}-{format_value(e['pred_high'], u)})"
        )
    if target is not None:
        c = out["crossing"]
        hi = "never (some resampled trends do not cross)" if c["high"] is None else f"{c['high']:.1f}"
        lo = "n/a" if c["low"] is None else f"{c['low']:.1f}"
        con.print(
            f"crosses {format_value(target, series_unit)} in {c['estimate']:.1f} ({credibility:.0%} CI {lo}-{hi})"
        )
    if plot:
        con.print(f"wrote {plot}")


def deploy_cmd(
    model: Annotated[
        str | None, typer.Argument(help="A catalog model (e.g. llama-3-70b), or none with --params.")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            help="A bundled scenario (twitter-1pct, one-million-developers, 150m-words-per-day, chat-assistant) or a TOML file."
        ),
    ] = None,
    tokens_per_day: Annotated[
        str | None, typer.Option(help="Generated (output) tokens a day, point or low..high, instead of a scenario.")
    ] = None,
    requests_per_second: Annotated[
        str | None,
        typer.Option(help="Requests a second (point or low..high), each of --prompt-tokens and --output-tokens."),
    ] = None,
    prompt_tokens: Annotated[
        float | None, typer.Option(help="Prompt tokens of a request (default 70, LMSYS-Chat-1M's mean).")
    ] = None,
    output_tokens: Annotated[
        float | None, typer.Option(help="Output tokens of a request (default 215, LMSYS-Chat-1M's mean).")
    ] = None,
    ttft: Annotated[
        str | None,
        typer.Option(help="Target time to first token, seconds, or none (default 2, MLPerf's server target)."),
    ] = None,
    tpot: Annotated[
        str | None,
        typer.Option(help="Target time per output token, seconds, or none (default 0.2, MLPerf's server target)."),
    ] = None,
    params: Annotated[str | None, typer.Option(help="Parameters of an ad-hoc model.")] = None,
    params_active: Annotated[str | None, typer.Option(help="Active parameters per token (MoE).")] = None,
    hardware: Annotated[
        str | None, typer.Option(help="Chip, or chips a,b,c to choose from (default: every chip with a price).")
    ] = None,
    chips: Annotated[int | None, typer.Option(help="Chips per instance (default: searched).")] = None,
    tp: Annotated[int | None, typer.Option(help="Tensor-parallel degree of attention (default: searched).")] = None,
    ep: Annotated[int | None, typer.Option(help="Expert-parallel degree, MoE models (default: every chip).")] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weights: bf16, fp16, fp8, fp4, int8, int4 or fp32 (default: searched).")
    ] = None,
    kv_precision: Annotated[
        str | None,
        typer.Option(help="KV cache: bf16, fp16, fp8, fp4 or int8 (default: fp8 with 8-bit or 4-bit weights)."),
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="Sequences decoding at once per instance, 1 to 65,536 (default: searched).")
    ] = None,
    kv_fraction: Annotated[
        float | None,
        typer.Option(
            help="KV cache relative to multi-head attention (GQA: KV heads / heads; default: the catalog model's, else 1)."
        ),
    ] = None,
    context: Annotated[
        int | None,
        typer.Option(help="A fixed mean decode context in tokens (default: prompt + (output - 1) / 2)."),
    ] = None,
    cache_hit: Annotated[float, typer.Option(help="Prefix-cache hit rate of prompt tokens, [0, 1).")] = 0.0,
    draft_tokens: Annotated[int, typer.Option(help="Speculative decoding: draft tokens a step (0 to 16).")] = 0,
    acceptance: Annotated[float, typer.Option(help="Speculative decoding: acceptance rate of a draft token.")] = 0.0,
    draft_cost: Annotated[
        float, typer.Option(help="Speculative decoding: a draft token's time over a step's (e.g. 0.05).")
    ] = 0.0,
    price_per_chip_hour: Annotated[
        str | None, typer.Option(help="USD per chip-hour (point or low..high; default: the market's on-demand price).")
    ] = None,
    owned: Annotated[
        bool,
        typer.Option("--owned", help="Price owned hardware (amortized purchase plus energy) instead of cloud rental."),
    ] = False,
    load_factor: Annotated[
        str | None,
        typer.Option(
            help="Average load of the fleet over its capacity, (0, 1] or low..high (default 0.82, 0.6..0.95)."
        ),
    ] = None,
    days: Annotated[float | None, typer.Option(help="Duration in days (default: the scenario's, else 365).")] = None,
    overlap: Annotated[
        str, typer.Option(help="none (memory, compute and communication time add up) or full (the largest).")
    ] = "none",
    parallelism: Annotated[
        str,
        typer.Option(
            help="tensor, pipeline (naive layer split: one chip busy at a time) or zero (sharded weights gathered every step)."
        ),
    ] = "tensor",
    weight_kernel: Annotated[
        str,
        typer.Option(
            help="fused (each stored weight read once) or dequantize (quantized weights expanded to 16-bit before each GEMM)."
        ),
    ] = "fused",
    prefill: Annotated[
        str | None,
        typer.Option(
            help="shared (prompts read between decode steps) or separate (on prefill instances of their own; "
            "default: the cheaper)."
        ),
    ] = None,
    vs_training: Annotated[
        bool, typer.Option("--vs-training", help="Compare with the cost of developing the model, on one basis.")
    ] = False,
    api_price: Annotated[
        str | None, typer.Option(help="API price in USD per 1k tokens, to compare with self-hosting.")
    ] = None,
    frontier: Annotated[
        bool, typer.Option("--frontier", help="Also print the frontier of throughput against latency.")
    ] = False,
    plot: Annotated[str | None, typer.Option(help="Draw the frontier to this PNG or SVG file.")] = None,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    wide: opt.Wide = False,
    quiet: opt.Quiet = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The cheapest way to serve a model for a load within latency targets, with 90% intervals."""
    from flopcast.cli.parse import parse_value
    from flopcast.service import deployment_estimate, sample_count

    samples = sample_count(samples, sampling_precision, RANDOM_SAMPLING)

    if not (2 <= samples <= 1_000_000):
        raise InvalidInputError(f"--samples={samples} is outside 2..1,000,000")
    if days is not None and not days > 0:
        raise InvalidInputError(f"--days={days:g} must be > 0")
    if plot is not None:
        from flopcast.reporting.plots import check_plot_path

        check_plot_path(plot)
    if prefill is not None and prefill not in ("shared", "separate"):
        raise InvalidInputError(f"--prefill={prefill!r} is not one of shared, separate")

    from flopcast.cli.parse import parse_point as point

    def target(field: str, text: str | None) -> float | None:
        if text is not None and text.strip().lower() in ("none", "inf", "off"):
            return math.inf
        return point(field, text)

    # an interval low..high is a 90% CI (a beta for --load-factor below 1): the service's as_input
    from flopcast.cli.progress import working

    with working("Planning the deployment", quiet=quiet, as_json=as_json):
        est = deployment_estimate(
            model,
            params=point("params", params),
            params_active=point("params-active", params_active),
            hardware=hardware,
            chips=chips,
            tp=tp,
            ep=ep,
            precision=precision,
            kv_precision=kv_precision,
            batch=batch,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            context=context,
            cache_hit=cache_hit,
            draft_tokens=draft_tokens,
            acceptance=acceptance,
            draft_cost=draft_cost,
            kv_fraction=kv_fraction,
            tokens_per_day=parse_value("tokens-per-day", tokens_per_day),
            requests_per_s=parse_value("requests-per-second", requests_per_second),
            scenario=scenario,
            duration_days=days,
            ttft_s=target("ttft", ttft),
            tpot_s=target("tpot", tpot),
            price_usd_per_chip_hour=parse_value("price-per-chip-hour", price_per_chip_hour),
            owned=owned,
            load_factor=parse_value("load-factor", load_factor, fraction=True),
            overlap=overlap,
            parallelism=parallelism,
            weight_kernel=weight_kernel,
            disaggregated=None if prefill is None else prefill == "separate",
            vs_training=vs_training,
            api_usd_per_1k_tokens=parse_value("api-price", api_price),
            samples=samples,
            seed=seed,
        )
    if plot is not None:
        from flopcast.reporting.plots import plot_serving_frontier

        plot_serving_frontier(est, plot, path_label="--plot")
    if as_json:
        echo_json(est.to_dict())
        return
    _print_deployment(est, frontier, wide=wide)
    if plot:
        _console().print(f"wrote {plot}")


def _print_deployment(est: Any, frontier: bool, wide: bool = False) -> None:
    """The deployment as the terminal shows it: the table, the plan, the notes, the comparisons."""
    from rich.table import Table

    from flopcast.cli.parse import print_table
    from flopcast.formatting import deployment_rows, format_bytes, format_range, format_value, plural

    con = _console()
    t = Table(title=f"Serving {est.model}: {est.configuration}" + (f" ({est.scenario})" if est.scenario else ""))
    t.add_column("quantity")
    t.add_column("median", justify="right", no_wrap=True)
    t.add_column("90% CI", no_wrap=True)
    outputs = est.outputs()
    for k, name in deployment_rows(list(outputs), est.duration_days):  # one number, one row
        s = outputs[k]
        t.add_row(name, format_value(s.median, s.unit), "" if s.is_point else format_range(s.p5, s.p95, s.unit))
    print_table(con, t)
    con.print(
        f"Requests of {est.prompt_tokens:,.0f} prompt and {est.output_tokens:,.0f} output tokens (mean decode context "
        f"{est.context:,.0f}). Memory per instance {format_bytes(est.memory_per_instance_bytes)}; at least "
        f"{plural(est.min_chips_to_fit, 'chip')} {'holds' if est.min_chips_to_fit == 1 else 'hold'} it. "
        + (f"Price: {est.price_source}." if wide else "--wide says where the price comes from.")
    )
    p = est.plan or {}
    if p.get("fixed"):
        verdict = "meets" if p["meets_targets"] else "misses"
        con.print(f"Every choice was given, so this configuration alone: it {verdict} {p['targets']['text']}.")
    elif p:
        head = f"Planner: {p['feasible']:,} of {p['searched']:,} configurations fit; the cheapest within {p['targets']['text']}"
        if p["binding"]:
            u = p["unconstrained"]
            con.print(
                f"{head}. The target binds ({', '.join(p['binding'])}): without it, {u['configuration']} would cost "
                f"{format_value(u['usd_per_day'], 'USD')} a day at {format_value(u['time_per_output_token_s'], 's')} a token."
            )
        else:
            con.print(f"{head}; no target binds (the cheapest configuration meets them).")
    if frontier and p.get("frontier"):
        f = Table(title="Frontier: on each chip, no configuration is both faster and cheaper (central efficiencies)")
        f.add_column("configuration")
        for col in ("time per\noutput token", "tokens/s\nper chip", "$/Mtok at\ncapacity"):
            f.add_column(col, justify="right", no_wrap=True)
        for r in p["frontier"]:
            f.add_row(
                f"{r['chips']} x {r['hardware']}, TP{r['tp']}" + (f" EP{r['ep']}" if r["ep"] > 1 else "")
                + f", {r['precision']}, batch {r['batch']}",
                format_value(r["time_per_output_token_s"], "s"),
                f"{r['output_tokens_per_s_per_chip']:,.0f}",
                format_value(r["usd_per_million_tokens_at_capacity"], "USD"),
            )  # fmt: skip
        print_table(con, f)
    for n in est.notes:
        con.print(f"note: {n}")
    if est.api:
        a = est.api
        con.print(
            f"Through the API: ${a['usd_total']['median']:,.0f} (90% CI ${a['usd_total']['p5']:,.0f}-"
            f"${a['usd_total']['p95']:,.0f}); self-hosted / API = {a['ratio_self_hosted_to_api']['median']:.2f}"
        )
    if est.vs_training:
        v = est.vs_training
        r = v["ratio"]
        con.print(
            f"Deployment / development cost: {r['median']:.0%} (90% CI {r['p5']:.0%}-{r['p95']:.0%}); "
            + ", ".join(f"{k} = {p:.2f}" for k, p in v["probabilities"].items())
            + f". Basis: {v['basis']}. {v['published']}."
        )
        assert est.lifetime is not None  # the deployment sets it with vs_training
        sh = est.lifetime["compute_share"]
        con.print(
            "Compute over the lifetime: "
            + ", ".join(f"{k} {s['median']:.0%}" for k, s in sh.items())
            + " (Facebook 2021: 10:20:70; Google 2022: about 3/5 inference)."
        )
        imp = est.lifetime.get("implied_by_published_shares", {})
        if imp:
            con.print(
                "Those splits imply a lifetime of inference of "
                + " and ".join(
                    f"{format_value(v['inference_flop']['median'], 'FLOP')} ({k.replace('_', ' ')}; this deployment is "
                    f"{v['this_deployment_over_implied']['median']:.0%} of it)"
                    for k, v in imp.items()
                )
                + "."
            )
