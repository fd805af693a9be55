"""One entry point per question, shared by the CLI, the HTML report and the web app.

Front-ends parse their own input (command-line strings, JSON bodies) into plain values, a
number or a ``(low, high)`` 90% interval, and call these functions; they only format what
comes back. So the same inputs give the same numbers everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flopcast.errors import InvalidInputError

METHOD_CHOICES = ("cloud", "amortized", "acquisition", "all")
ATTENTION_CHOICES = ("full", "causal", "none")
SAMPLING_CHOICES = ("random", "sobol")
TREND_METRICS = ("compute", "cost", "params", "data", "price-performance")
TREND_COST_METHODS = ("amortized", "cloud", "acquisition")


def as_input(value, fraction: bool = False):
    """A number stays a number; a ``(low, high)`` pair becomes a 90% CI (a beta for fractions below 1)."""
    if isinstance(value, (tuple, list)):
        from flopcast.uncertainty import ci

        lo, hi = value
        return ci(lo, hi, kind="beta" if fraction and lo < hi < 1 else None)
    return value


def training_estimate(name: str | None = None, *, params=None, tokens=None, epochs=None, params_active=None,
                      compute=None, hardware: str | None = None, precision: str | None = None, chips=None,
                      hours=None, days=None, chip_hours=None, utilization=None, price_per_chip_hour=None,
                      chip_price=None, method: str = "all", cloud_tier: str = "3y", cloud_vendor: str | None = None,
                      organization: str | None = None, start_date: dt.date | None = None, year: int | None = None,
                      price_index: str | None = None, attention: str = "full", seed: int = 0,
                      samples: int = 10_000, sampling: str = "random", data: str | None = None, point: bool = False,
                      sensitivity: bool = False, max_samples: int = 10_000_000, db=None):
    """The training-cost estimate behind ``flopcast estimate``: numbers or ``(low, high)`` intervals in.

    ``db`` reuses a database already loaded (from ``data``) instead of reading it again.
    """
    if hours is not None and days is not None:
        raise InvalidInputError("give hours or days, not both")
    if method not in METHOD_CHOICES:
        raise InvalidInputError(f"method={method!r} is not one of {', '.join(METHOD_CHOICES)}")
    if attention not in ATTENTION_CHOICES:
        raise InvalidInputError(f"attention={attention!r} is not one of {', '.join(ATTENTION_CHOICES)}")
    if sampling not in SAMPLING_CHOICES:
        raise InvalidInputError(f"sampling={sampling!r} is not one of {', '.join(SAMPLING_CHOICES)}")
    if not (2 <= samples <= max_samples):
        raise InvalidInputError(f"samples={samples} is outside 2..{max_samples:,}")
    if seed < 0:
        raise InvalidInputError(f"seed={seed} must be >= 0")
    if days is not None:
        hours = tuple(x * 24 for x in days) if isinstance(days, (tuple, list)) else days * 24
    kwargs = dict(
        params=as_input(params), tokens=as_input(tokens), training_compute_flop=as_input(compute), hardware=hardware,
        precision=precision, params_active=as_input(params_active), chip_hours=as_input(chip_hours),
        chips=as_input(chips), organization=organization, start_date=start_date,
        training_time_hours=as_input(hours), utilization=as_input(utilization, fraction=True),
        price_usd_per_chip_hour=as_input(price_per_chip_hour), chip_price_usd=as_input(chip_price),
    )
    if epochs is not None:
        kwargs["epochs"] = as_input(epochs)
    if name is None and all(v is None for v in kwargs.values()):
        raise InvalidInputError("give a model name (see `flopcast models list`) or describe a run (see --help)")
    if price_index is not None and year is None:
        raise InvalidInputError("a price index needs a year: the year whose dollars to express costs in")
    if year is not None:
        from flopcast.catalogs.price_index import index_for

        kwargs["price_index"] = index_for(year, price_index)
    from flopcast.chain import estimate as run_estimate
    from flopcast.compute import FlopConvention

    extra = {}
    if data is not None:
        if name is None:
            raise InvalidInputError("a database (--data) needs a model NAME to look up in it")
        from flopcast.datasets.source import database_model, load_database, resolve_source

        if db is None:
            source = resolve_source(None if data == "cache" else data)
            if source.kind == "bundled":
                raise InvalidInputError("--data cache: nothing is cached; run `flopcast data pull` or give a folder")
            db = load_database(source)
        name, db_notes = database_model(db, name)
        extra = dict(hardware_catalog=db.hardware, price_book=db.price_book, source=db.source.describe(),
                     extra_notes=db_notes)
    convention = FlopConvention(count_attention=attention != "none", causal_halving=attention == "causal")
    return run_estimate(
        name, samples=samples, seed=seed, sampling=sampling, uncertainty=not point, with_sensitivity=sensitivity,
        methods=None if method == "all" else (method,), cloud_tier=cloud_tier, cloud_vendor=cloud_vendor,
        target_year=year, convention=convention, **extra,
        **{k: v for k, v in kwargs.items() if v is not None},
    )


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


def trend_analysis(metric: str, *, data: str | None = None, top: int | None = None, since: int | None = None,
                   until: int | None = None, domain: str | None = None, org: str | None = None,
                   above_trend: float | None = None, method: str = "amortized", year_dollars: int | None = None,
                   price_index: str | None = None, extrapolate: int | None = None, cross: float | None = None,
                   breakpoint: bool = False, bootstrap: int = 10_000, credibility: float = 0.9,
                   samples: int = 2_000, seed: int = 0, db=None) -> TrendAnalysis:
    """The trend behind ``flopcast trend``; ``db`` reuses a database already loaded."""
    from flopcast.datasets.source import load_database, resolve_source
    from flopcast.series import hardware_series, model_series
    from flopcast.trends import above_trend as above_mask
    from flopcast.trends import fit_trend

    if metric not in TREND_METRICS:
        raise InvalidInputError(f"metric {metric!r} is not one of {', '.join(TREND_METRICS)}")
    if method not in TREND_COST_METHODS:
        raise InvalidInputError(f"method={method!r} is not one of {', '.join(TREND_COST_METHODS)}")
    if since is not None and until is not None and since > until:
        raise InvalidInputError(f"since {since} is after until {until}")
    if price_index is not None and year_dollars is None:
        raise InvalidInputError("a price index needs year_dollars (--year-dollars)")
    if db is None:
        src = resolve_source(data)
        db = load_database(src)
        described = src.describe()
    else:
        described = db.source.describe()
    if metric == "price-performance":
        series = hardware_series(db.hardware, db.price_book, since=since, until=until, source=described)
    else:
        from flopcast.catalogs.price_index import index_for

        index = index_for(year_dollars, price_index)
        series = model_series(db.records, metric, top=top, since=since, until=until, domain=domain, org=org, db=db,
                              method=method, samples=samples, seed=seed, target_year=year_dollars, price_index=index,
                              source=described)
    dates, values, labels = series.dates, series.values, series.labels
    if above_trend is not None:
        keep = above_mask(dates, values, above_trend)
        dates = [d for d, k in zip(dates, keep, strict=True) if k]
        values = values[keep]
        labels = [x for x, k in zip(labels, keep, strict=True) if k]
    fit = fit_trend(dates, values, credibility=credibility, bootstrap=bootstrap, seed=seed, breakpoint=breakpoint,
                    labels=labels, metric=series.title, unit=series.unit)
    out = fit.to_dict()
    out["source"] = described
    out["notes"] = series.notes
    selection = {"top": top, "since": since, "until": until, "domain": domain, "org": org, "above_trend": above_trend}
    out["selection"] = {k: v for k, v in selection.items() if v is not None}
    if extrapolate is not None:
        out["extrapolation"] = fit.predict(float(extrapolate) + 0.5)
    if cross is not None:
        out["crossing"] = dict(fit.crossing_year(cross), value=cross)
    return TrendAnalysis(fit=fit, dates=list(dates), values=values, labels=list(labels), title=series.title,
                         unit=series.unit, source=described, notes=list(series.notes), out=out)
