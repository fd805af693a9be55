"""Forecast questions: trends with bands, the cost of reproducing a run later, who can afford
it when, how long the frontier takes to be caught up, and the compute-optimal emulation of a model.

Front-ends parse their input into plain values and format what comes back; the work is here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flopcast.defaults import DEFAULT_COST_METHOD, DEFAULT_SAMPLES, DEFAULT_SAMPLING, DEFAULT_SEED
from flopcast.errors import InvalidInputError
from flopcast.limits import YEAR_MAX
from flopcast.methods import METHOD_NAMES
from flopcast.quantities import QuantityInput
from flopcast.service.checks import check_count, check_date, check_params, check_positive, check_year
from flopcast.service.training import _check_sampling, as_input, database, reference_cost, settings, training_estimate

if TYPE_CHECKING:
    import numpy as np

    from flopcast.datasets.database import Database
    from flopcast.lags import Lag
    from flopcast.reproduction import ReproductionCost
    from flopcast.scaling import Emulation
    from flopcast.trends import TrendFit
    from flopcast.uncertainty import Distribution, Summary

#: the most bootstrap resamples of a trend fit (as many as Monte Carlo samples)
MAX_BOOTSTRAP = 1_000_000
TREND_METRICS = ("compute", "cost", "params", "data", "price-performance")


@dataclass
class TrendAnalysis:
    """A fitted trend with the points it was fitted to and everything a front-end shows."""

    fit: TrendFit
    dates: list[Any]
    values: np.ndarray
    labels: list[str]
    title: str
    unit: str
    source: str
    notes: list[str] = field(default_factory=list)
    out: dict[str, Any] = field(default_factory=dict)
    band: dict[str, list[float]] = field(default_factory=dict)

    @property
    def years(self) -> np.ndarray:
        """The points' dates as decimal years."""
        import numpy as np

        from flopcast.dates import decimal_year

        return np.asarray(decimal_year(list(self.dates)), dtype=float).reshape(-1)

    def points(self) -> list[dict[str, Any]]:
        """One ``{year, value, label}`` per point (the web chart's data)."""
        import numpy as np

        values = np.asarray(self.values, dtype=float)
        return [
            {"year": float(y), "value": float(v), "label": lab}
            for y, v, lab in zip(self.years, values, self.labels, strict=True)
        ]


def trend_analysis(
    metric: str,
    *,
    data: str | None = None,
    top: int | None = None,
    since: int | None = None,
    until: int | None = None,
    domain: str | None = None,
    org: str | None = None,
    include_finetunes: bool = False,
    above_trend: float | None = None,
    cost_method: str = DEFAULT_COST_METHOD,
    year_dollars: int | None = None,
    price_index: str | None = None,
    extrapolate: int | None = None,
    cross: float | None = None,
    breakpoint: bool = False,
    bootstrap: int = 10_000,
    credibility: float = 0.9,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    band_points: int = 0,
    db: Database | None = None,
) -> TrendAnalysis:
    """The trend behind ``flopcast trend``: costs are the same medians ``costs`` gives for these models."""
    from flopcast.selection import above_trend as above_mask
    from flopcast.series import hardware_series, model_series
    from flopcast.trends import fit_trend

    if metric not in TREND_METRICS:
        raise InvalidInputError(f"metric {metric!r} is not one of {', '.join(TREND_METRICS)}")
    if cost_method not in METHOD_NAMES:
        raise InvalidInputError(f"cost_method={cost_method!r} is not one of {', '.join(METHOD_NAMES)}")
    check_year("since", since)
    check_year("until", until)
    check_year("extrapolate", extrapolate)
    check_year("year_dollars", year_dollars)
    check_positive("cross", cross)
    if above_trend is not None and not (isinstance(above_trend, (int, float)) and math.isfinite(above_trend)):
        raise InvalidInputError(f"above_trend={above_trend!r} is not finite; give orders of magnitude, e.g. 0.5")
    if not isinstance(bootstrap, bool) and isinstance(bootstrap, int) and bootstrap > MAX_BOOTSTRAP:
        raise InvalidInputError(f"bootstrap={bootstrap} is outside 0..{MAX_BOOTSTRAP:,} (0 skips the bootstrap)")
    if since is not None and until is not None and since > until:
        raise InvalidInputError(f"since {since} is after until {until}")
    _check_sampling(samples, seed, sampling, 1_000_000)
    db = database(data, db)
    described = db.describe()
    if metric == "price-performance":
        series = hardware_series(db.hardware, db.price_book, since=since, until=until, source=described)
    else:
        s = settings(db, method=cost_method, year_dollars=year_dollars, price_index=price_index)
        series = model_series(
            db,
            metric,
            top=top,
            since=since,
            until=until,
            domain=domain,
            org=org,
            include_finetunes=include_finetunes,
            settings=s,
            samples=samples,
            seed=seed,
            sampling=sampling,
        )
    dates, values, labels = series.dates, series.values, series.labels
    if above_trend is not None:
        keep = above_mask(dates, values, above_trend)
        dates = [d for d, k in zip(dates, keep, strict=True) if k]
        values = values[keep]
        labels = [x for x, k in zip(labels, keep, strict=True) if k]
    fit = fit_trend(
        dates,
        values,
        credibility=credibility,
        bootstrap=bootstrap,
        seed=seed,
        breakpoint=breakpoint,
        labels=labels,
        metric=series.title,
        unit=series.unit,
    )
    out = fit.to_dict()
    out["source"] = described
    out["notes"] = series.notes
    out["n_models"] = len(dates)
    if metric == "cost":
        out.update(samples=samples, seed=seed, sampling=sampling, cost_method=cost_method)
    selection = {
        "top": top,
        "since": since,
        "until": until,
        "domain": domain,
        "org": org,
        "above_trend": above_trend,
        "include_finetunes": include_finetunes,
    }
    out["selection"] = {k: v for k, v in selection.items() if v is not None}
    if metric != "price-performance":
        from flopcast.selection import top_meaning

        out["selection"]["meaning"] = top_meaning(top, include_finetunes)
    if extrapolate is not None:
        out["extrapolation"] = fit.predict(float(extrapolate) + 0.5)
    if cross is not None:
        out["crossing"] = dict(fit.crossing_year(cross), value=cross)
    band = trend_band(fit, dates, extrapolate, band_points) if band_points else {}
    return TrendAnalysis(
        fit=fit,
        dates=list(dates),
        values=values,
        labels=list(labels),
        title=series.title,
        unit=series.unit,
        source=described,
        notes=list(series.notes),
        out=out,
        band=band,
    )


def trend_band(
    fit: TrendFit,
    dates: Sequence[Any],
    extrapolate: int | None = None,
    points: int = 80,
    *,
    also: Sequence[float] = (),
    margin: float = 0.0,
) -> dict[str, list[float]]:
    """The fitted line with its confidence and prediction bands on a grid of ``points`` years.

    The grid spans the points and the fit, mid-``extrapolate`` and any years in ``also``
    (e.g. a model to place on the chart), widened by ``margin`` years on each side.
    """
    import numpy as np

    from flopcast.dates import decimal_year

    years = [float(y) for y in np.atleast_1d(decimal_year(list(dates)))]
    extra = [float(y) for y in also if y is not None and np.isfinite(y)]
    lo = min([*years, fit.start_year, *extra]) - margin
    hi = max([*years, fit.end_year, *extra, *([extrapolate + 0.5] if extrapolate else [])]) + margin
    band = fit.predict(np.linspace(lo, hi, points))
    return {
        k: np.asarray(band[k], dtype=float).tolist()
        for k in ("year", "median", "line_low", "line_high", "pred_low", "pred_high")
    }


def price_performance_fit(db: Database) -> Distribution:
    """The hardware price-performance rate (OOM/year) fitted to the database's chip prices, as a normal."""
    from flopcast.series import hardware_series
    from flopcast.trends import fit_trend
    from flopcast.uncertainty import Normal

    s = hardware_series(db.hardware, db.price_book)
    fit = fit_trend(s.dates, s.values, bootstrap=0)
    return Normal(fit.slope_oom_per_year, fit.slope_se_oom_per_year)


def _describe(value: QuantityInput) -> str:
    return f"{value[0]:g}..{value[1]:g}" if isinstance(value, tuple) else f"{value:g}"


@dataclass(frozen=True)
class Reference:
    """The run a diffusion question starts from: its cost, date, a label and the source."""

    cost: Summary | Distribution | float
    date: dt.date
    label: str
    source: str


def diffusion_reference(
    model: str | None = None,
    *,
    cost_usd: QuantityInput = None,
    date: dt.date | None = None,
    compute_flop: QuantityInput = None,
    hardware: str | None = None,
    cost_method: str = DEFAULT_COST_METHOD,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    data: str | None = None,
    db: Database | None = None,
    given_as: str | None = None,
) -> Reference:
    """The reference of ``flopcast diffusion``: a database model, a cost on a date, or a run by compute.

    ``compute_flop`` needs ``hardware`` and ``date`` (the run's start), and is costed by the same
    pipeline as ``flopcast estimate``. ``given_as`` is the value as the user wrote it, for the label.
    """
    if cost_method not in METHOD_NAMES:
        raise InvalidInputError(f"cost_method={cost_method!r} is not one of {', '.join(METHOD_NAMES)}")
    check_date("date", date)
    check_positive("cost", cost_usd)
    check_count("compute", compute_flop, unit="FLOP", one="FLOP")
    if compute_flop is not None:
        if model is not None or cost_usd is not None:
            raise InvalidInputError("give one of MODEL, --cost or --compute")
        if hardware is None or date is None:
            raise InvalidInputError("--compute needs --hardware and --date (the run's start)")
        est = training_estimate(
            None,
            compute=compute_flop,
            hardware=hardware,
            start_date=date,
            method=cost_method,
            samples=samples,
            seed=seed,
            data=data,
            db=db,
        )
        what = given_as or _describe(compute_flop)
        return Reference(
            est.cost_usd[cost_method], date, f"a {what}-FLOP run on {est.hardware} ({cost_method} cost)", est.source
        )
    if model is None:
        if cost_usd is None or date is None:
            raise InvalidInputError("give a MODEL, --cost and --date, or --compute, --hardware and --date")
        what = given_as or _describe(cost_usd)
        return Reference(as_input(cost_usd), date, f"reference costing {what} USD on {date}", "given")
    if cost_usd is not None:
        raise InvalidInputError("give a MODEL or --cost, not both")
    summary, when, est = reference_cost(model, cost_method=cost_method, data=data, samples=samples, seed=seed, db=db)
    return Reference(summary, when, f"{est.name} ({cost_method} cost, {est.dollars})", est.source)


@dataclass
class DiffusionAnalysis:
    """What ``flopcast diffusion`` shows: the reference, its cost at the target date, when each budget
    affords it, and (on request) the cost curve over the years."""

    reference: Reference
    target: dt.date
    reproduction: ReproductionCost
    affordability: list[dict[str, Any]]
    include_algorithmic: bool
    curve: ReproductionCost | None = None


def diffusion_analysis(
    reference: Reference,
    year: int,
    *,
    budgets: Mapping[str, float] | str | None = None,
    price_performance_oom_per_year: float | Distribution | None = None,
    include_algorithmic: bool = False,
    curve_points: int = 0,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> DiffusionAnalysis:
    """The cost of reproducing ``reference`` in mid-``year`` and the year each budget affords it.

    ``budgets`` is None (the actor presets), a CSV of actors, or ``{label: USD}``. With
    ``curve_points``, the cost on that many dates from the reference to four years past ``year``.
    """
    from flopcast.reproduction import affordability_table, cost_to_reproduce

    _check_sampling(samples, seed, "random", 1_000_000)
    # the cost is priced in mid-year, and a date runs to the first day of YEAR_MAX (flopcast.dates)
    check_year("year", year, last=YEAR_MAX - 1, why=f"the cost is priced in mid-year; dates end on {YEAR_MAX}-01-01")
    if isinstance(budgets, Mapping):
        for usd in budgets.values():
            check_positive("budget", usd)
    check_positive("price_performance", price_performance_oom_per_year)
    target = dt.date(year, 7, 1)
    kw: dict[str, Any] = dict(
        price_performance_oom_per_year=price_performance_oom_per_year,
        include_algorithmic=include_algorithmic,
        samples=samples,
        seed=seed,
    )
    repro = cost_to_reproduce(reference.cost, reference.date, target, **kw)
    table = affordability_table(reference.cost, reference.date, budgets, **kw)
    curve = None
    if curve_points:
        import numpy as np

        from flopcast.dates import decimal_year

        start = float(decimal_year(reference.date))
        years = np.linspace(start, min(max(year, start + 1) + 4, YEAR_MAX), curve_points)
        curve = cost_to_reproduce(reference.cost, reference.date, years, **kw)
    return DiffusionAnalysis(reference, target, repro, table, include_algorithmic, curve)


def emulation(
    model: str | None = None,
    *,
    params: float | None = None,
    tokens: float | None = None,
    data: str | None = None,
    db: Database | None = None,
) -> tuple[Emulation, str]:
    """``(emulation, label)``: the compute-optimal model reaching the loss of a database model
    (its parameters and tokens x epochs) or of ``params`` x ``tokens``."""
    from flopcast.scaling import emulate

    check_params("params", params)
    check_count("tokens", tokens, unit="tokens", one="token")
    if model is not None:
        if params is not None or tokens is not None:
            raise InvalidInputError("give a MODEL or --params and --tokens, not both")
        m = database(data, db).find(model)
        if not (m.params_per_token and m.training_tokens):
            raise InvalidInputError(
                f"{m.name} has no parameter count and token count in the database; give --params and --tokens"
            )
        return emulate(m.params_per_token, m.training_tokens * (m.epochs or 1.0)), m.name
    if params is None or tokens is None:
        raise InvalidInputError("give a MODEL, or both --params and --tokens")
    return emulate(params, tokens), f"N={params:.3g}, D={tokens:.3g}"


@dataclass
class LagAnalysis:
    """What ``flopcast lag`` shows: each frontier model's catch-up lags, their medians by period,
    what the frontier selection means and the database it was read from."""

    lags: list[Lag]
    summary: list[dict[str, Any]]
    selection: str
    source: str
    top: int
    date_basis: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "date_basis": self.date_basis,
            "top": self.top,
            "selection": self.selection,
            "lags": [x.to_dict() for x in self.lags],
            "summary": self.summary,
        }


def lag_analysis(
    *,
    data: str | None = None,
    top: int = 10,
    since: int | None = None,
    include_finetunes: bool = False,
    date_basis: str = "publication",
    period: int = 2,
    db: Database | None = None,
) -> LagAnalysis:
    """Months until another organization, and an open-weights model, reached the training compute of
    each of the ``top`` frontier models (referenced from ``since`` on), with the medians by ``period``
    years of reference date. ``date_basis`` is "publication", or "training_end" where a model's
    training end is known."""
    from flopcast.lags import catch_up_lags, summarize_lags
    from flopcast.selection import top_meaning

    check_year("since", since)
    db = database(data, db)
    lags = catch_up_lags(db.records, top=top, since=since, date_basis=date_basis, include_finetunes=include_finetunes)
    summary = summarize_lags(lags, period)
    return LagAnalysis(
        lags=lags,
        summary=summary,
        selection=top_meaning(top, include_finetunes),
        source=db.describe(),
        top=top,
        date_basis=date_basis,
    )
