"""One entry point per question, shared by the CLI, the HTML report, the web app and ``validate``.

Front-ends parse their own input (command-line strings, JSON bodies) into plain values, a
number or a ``(low, high)`` 90% interval, and call these functions; they only format what
comes back. Every function estimates through :mod:`flopcast.pipeline` on one database
(:func:`flopcast.datasets.database.load_database`: ``--data DIR``, else the pulled cache when
newer, else the embedded snapshot), so the same inputs give the same numbers everywhere.
The option names and defaults here are the ones every front-end shows (:data:`DEFAULTS`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flopcast.defaults import (
    ATTENTION_CHOICES,
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_COST_METHOD,
    DEFAULT_METHOD,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    SAMPLING_CHOICES,
)
from flopcast.errors import InvalidInputError
from flopcast.methods import METHOD_CHOICES, METHOD_NAMES

TREND_METRICS = ("compute", "cost", "params", "data", "price-performance")
MAX_SAMPLES = 10_000_000

#: the default of every option shared by commands (the CLI, the web API and the report show these)
DEFAULTS = {
    "samples": DEFAULT_SAMPLES,
    "seed": DEFAULT_SEED,
    "sampling": DEFAULT_SAMPLING,
    "method": DEFAULT_METHOD,
    "cost_method": DEFAULT_COST_METHOD,
    "cloud_tier": DEFAULT_CLOUD_TIER,
    "attention": DEFAULT_ATTENTION,
    "year_dollars": None,
    "include_finetunes": False,
}


def as_input(value, fraction: bool = False):
    """A number stays a number; a ``(low, high)`` pair becomes a 90% CI (a beta for fractions below 1)."""
    if isinstance(value, (tuple, list)):
        from flopcast.uncertainty import ci

        lo, hi = value
        return ci(lo, hi, kind="beta" if fraction and lo < hi < 1 else None)
    return value


def database(data: str | None = None, db=None):
    """The database for ``data`` (a folder, "cache", "embedded" or None), or ``db`` when one is given."""
    if db is not None:
        return db
    from flopcast.datasets.database import load_database

    return load_database(data)


def _check_sampling(samples: int, seed: int, sampling: str, max_samples: int) -> None:
    if sampling not in SAMPLING_CHOICES:
        raise InvalidInputError(f"sampling={sampling!r} is not one of {', '.join(SAMPLING_CHOICES)}")
    if isinstance(samples, bool) or not isinstance(samples, int) or not (2 <= samples <= max_samples):
        raise InvalidInputError(f"samples={samples} is outside 2..{max_samples:,}")
    if seed < 0:
        raise InvalidInputError(f"seed={seed} must be >= 0")


def settings(
    db,
    *,
    method: str = DEFAULT_METHOD,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
):
    """The pipeline's settings from the options every command shares (each checked)."""
    from flopcast.pipeline import Settings

    return Settings.from_options(
        db,
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
    )


def training_estimate(
    name: str | None = None,
    *,
    params=None,
    tokens=None,
    epochs=None,
    params_active=None,
    compute=None,
    hardware: str | None = None,
    precision: str | None = None,
    chips=None,
    hours=None,
    days=None,
    chip_hours=None,
    utilization=None,
    price_per_chip_hour=None,
    chip_price=None,
    method: str = DEFAULT_METHOD,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    organization: str | None = None,
    start_date: dt.date | None = None,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
    seed: int = DEFAULT_SEED,
    samples: int = DEFAULT_SAMPLES,
    sampling: str = DEFAULT_SAMPLING,
    data: str | None = None,
    point: bool = False,
    sensitivity: bool = False,
    max_samples: int = MAX_SAMPLES,
    db=None,
):
    """The training estimate behind ``flopcast estimate``: a database model (``name``), a run described by the
    keywords, or a model with overrides. Numbers or ``(low, high)`` 90% intervals in; a TrainingEstimate out."""
    from flopcast.pipeline import RunSpec, estimate_run

    if hours is not None and days is not None:
        raise InvalidInputError("give hours or days, not both")
    if attention not in ATTENTION_CHOICES:
        raise InvalidInputError(f"attention={attention!r} is not one of {', '.join(ATTENTION_CHOICES)}")
    _check_sampling(samples, seed, sampling, max_samples)
    if days is not None:
        hours = tuple(x * 24 for x in days) if isinstance(days, (tuple, list)) else days * 24
    spec = RunSpec(
        params=as_input(params),
        tokens=as_input(tokens),
        epochs=as_input(epochs),
        training_compute_flop=as_input(compute),
        hardware=hardware,
        precision=precision,
        params_active=as_input(params_active),
        chip_hours=as_input(chip_hours),
        chips=as_input(chips),
        organization=organization,
        start_date=start_date,
        training_time_hours=as_input(hours),
        utilization=as_input(utilization, fraction=True),
        price_usd_per_chip_hour=as_input(price_per_chip_hour),
        chip_price_usd=as_input(chip_price),
    )
    if name is None and not spec.given():
        raise InvalidInputError("give a model name (see `flopcast models list`) or describe a run (see --help)")
    db = database(data, db)
    s = settings(
        db,
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
    )
    record = db.find(name) if name is not None else None
    est = estimate_run(
        record,
        db,
        spec=spec,
        settings=s,
        samples=samples,
        seed=seed,
        sampling=sampling,
        keep_samples=not point,
        with_sensitivity=sensitivity and not point,
    )
    return est.point() if point else est


@dataclass
class CostTable:
    """The estimates behind ``flopcast costs``, with what the selection was."""

    result: object
    selection: str
    reports: list = field(default_factory=list)


def cost_table(
    *,
    data: str | None = None,
    top: int | None = None,
    since: int | None = None,
    until: int | None = None,
    domain: str | None = None,
    org: str | None = None,
    include_finetunes: bool | None = None,
    method: str = DEFAULT_METHOD,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    max_samples: int = 1_000_000,
    db=None,
) -> CostTable:
    """Every selected model's estimate: ``estimate NAME`` for each, on the same draws.

    Fine-tunes are left out of a frontier selection (``top``) unless ``include_finetunes``; a plain
    listing keeps them (each flagged ``is_finetune``).
    """
    from flopcast.pipeline import estimate_records
    from flopcast.selection import select, top_meaning

    _check_sampling(samples, seed, sampling, max_samples)
    db = database(data, db)
    s = settings(
        db,
        method=method,
        cloud_tier=cloud_tier,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
    )
    chosen = select(
        db.records, since=since, until=until, domain=domain, org=org, top=top, include_finetunes=include_finetunes
    )
    if not chosen:
        raise InvalidInputError(f"the filters leave no models (of {len(db.records)} in {db.describe()})")
    what = top_meaning(top, include_finetunes)
    res = estimate_records(chosen, db, settings=s, samples=samples, seed=seed, sampling=sampling, selection=what)
    return CostTable(res, what, list(db.reports))


@dataclass
class TrendAnalysis:
    """A fitted trend with the points it was fitted to and everything a front-end shows."""

    fit: object
    dates: list
    values: object
    labels: list
    title: str
    unit: str
    source: str
    notes: list = field(default_factory=list)
    out: dict = field(default_factory=dict)
    band: dict = field(default_factory=dict)


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
    db=None,
) -> TrendAnalysis:
    """The trend behind ``flopcast trend``: costs are the same medians ``costs`` gives for these models."""
    from flopcast.series import hardware_series, model_series
    from flopcast.trends import above_trend as above_mask
    from flopcast.trends import fit_trend

    if metric not in TREND_METRICS:
        raise InvalidInputError(f"metric {metric!r} is not one of {', '.join(TREND_METRICS)}")
    if cost_method not in METHOD_NAMES:
        raise InvalidInputError(f"cost_method={cost_method!r} is not one of {', '.join(METHOD_NAMES)}")
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


def trend_band(fit, dates, extrapolate: int | None = None, points: int = 80) -> dict:
    """The fitted line and its confidence and prediction bands on a grid over the points (and the extrapolation)."""
    import numpy as np

    from flopcast.dates import decimal_year

    years = [float(decimal_year(d)) for d in dates]
    lo = min(years + [fit.start_year])
    hi = max(years + [fit.end_year] + ([extrapolate + 0.5] if extrapolate else []))
    band = fit.predict(np.linspace(lo, hi, points))
    return {
        k: np.asarray(band[k], dtype=float).tolist()
        for k in ("year", "median", "line_low", "line_high", "pred_low", "pred_high")
    }


def reference_cost(
    model: str,
    *,
    cost_method: str = DEFAULT_COST_METHOD,
    data: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    db=None,
):
    """``(cost Summary, publication date, estimate)`` of a database model, for the diffusion questions."""
    est = training_estimate(model, method=cost_method, samples=samples, seed=seed, sampling=sampling, data=data, db=db)
    return est.cost_usd[cost_method], est.publication_date, est


__all__ = [
    "ATTENTION_CHOICES",
    "DEFAULTS",
    "METHOD_CHOICES",
    "METHOD_NAMES",
    "SAMPLING_CHOICES",
    "TREND_METRICS",
    "as_input",
    "cost_table",
    "database",
    "reference_cost",
    "settings",
    "training_estimate",
    "trend_analysis",
    "trend_band",
]
