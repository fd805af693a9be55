"""``flopcast forecast``: the cost, compute, power or chips of the largest training run (or of the top-N
frontier) for each year to a horizon, as a Monte Carlo over the components of a run.

The points are the frontier runs' medians from the pipeline (the numbers ``costs`` gives); the arithmetic
is :mod:`flopcast.projection` over the stage functions of :mod:`flopcast.forecasting`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flopcast.defaults import DEFAULT_SAMPLES, DEFAULT_SAMPLING, DEFAULT_SEED, DEFAULT_UTILIZATION_PRIOR
from flopcast.errors import InvalidInputError
from flopcast.limits import YEAR_MAX
from flopcast.methods import METHOD_NAMES
from flopcast.service.checks import check_positive, check_year
from flopcast.service.training import MoneyOptions, database, settings

if TYPE_CHECKING:
    from flopcast.datasets.database import Database
    from flopcast.projection import Forecast

FORECAST_METRICS = ("cost", "compute", "power", "chips")
FORECAST_CAPS = ("power", "chips", "data", "latency")
FORECAST_COMPONENTS = ("compute", "price-performance", "utilization", "duration", "chip-peak", "power-per-chip")
#: the start of the fit window of Cottier et al. 2024's headline trend (frontier runs, 2016 on)
DEFAULT_FIT_SINCE = 2016
#: the forecast's own Monte Carlo draws: the default sample count of every command (one name, one default)
DEFAULT_FORECAST_SAMPLES = DEFAULT_SAMPLES
#: the components whose growth the "date moves" table varies (the issue's compute growth and price-performance)
_MOVERS = ("compute", "price-performance")


@dataclass
class FrontierForecast:
    """What ``flopcast forecast`` shows: the forecast and every assumption it rests on."""

    forecast: Forecast
    assumptions: dict[str, Any]
    #: component -> {"low"|"high": {"growth_per_year", "median_year"}}: the first threshold's median crossing
    #: year with that component's growth held at the low and high end of its fitted 90% interval
    date_moves: dict[str, dict[str, dict[str, float | None]]]
    published: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out = self.forecast.to_dict()
        out["assumptions"] = self.assumptions
        out["date_moves"] = self.date_moves
        out["published"] = self.published
        return out


def _priors(priors: Mapping[str, tuple[float, float]] | None) -> list[Any]:
    from flopcast.projection import Prior

    out = []
    for name, pair in (priors or {}).items():
        if name not in FORECAST_COMPONENTS:
            raise InvalidInputError(f"prior {name!r} is not one of {', '.join(FORECAST_COMPONENTS)}")
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InvalidInputError(f"prior {name}={pair!r} must be LOW,HIGH growth factors a year, e.g. 3,5") from None
        out.append(Prior(name, low, high))
    return out


def _caps(names: Sequence[str]) -> dict[str, tuple[float, float | None, float | None]]:
    from flopcast.catalogs.constants import forecast_constant

    chosen = list(FORECAST_CAPS) if "all" in names else list(dict.fromkeys(names))
    out = {}
    for n in chosen:
        if n not in FORECAST_CAPS:
            raise InvalidInputError(f"cap {n!r} is not one of {', '.join(FORECAST_CAPS)} or all")
        c = forecast_constant(f"cap.{n}")
        out[n] = (c.value, c.low, c.high)
    return out


def frontier_forecast(
    metric: str = "cost",
    *,
    until: int = 2032,
    largest: bool = True,
    top: int = 10,
    thresholds: Sequence[float] = (),
    priors: Mapping[str, tuple[float, float]] | None = None,
    caps: Sequence[str] = (),
    fit_since: int | None = DEFAULT_FIT_SINCE,
    fit_until: int | None = None,
    include_finetunes: bool = False,
    cost_method: str = "amortized",
    year_dollars: int | None = None,
    price_index: str | None = None,
    samples: int = DEFAULT_FORECAST_SAMPLES,
    seed: int = DEFAULT_SEED,
    utilization_prior: str = DEFAULT_UTILIZATION_PRIOR,
    data: str | None = None,
    db: Database | None = None,
) -> FrontierForecast:
    """Forecast ``metric`` of the largest run of each year (``largest``) or of the top-``top`` frontier's
    trend, fitted on the top-``top`` runs published ``fit_since``-``fit_until``, to the year ``until``.

    ``thresholds`` (in the metric's unit: USD, FLOP, W or chips) get a probability of being exceeded each
    year and the years at which that probability reaches 5%, 50% and 95%. ``priors`` map a component to a
    ``(low, high)`` 90% interval of its growth a year (``{"compute": (3, 5)}``); ``caps`` names Epoch's 2030
    constraints (power, chips, data, latency, or all).
    """
    from flopcast.catalogs.constants import forecast_constant
    from flopcast.projection import project
    from flopcast.series import frontier_points

    if metric not in FORECAST_METRICS:
        raise InvalidInputError(f"metric={metric!r} is not one of {', '.join(FORECAST_METRICS)}")
    if cost_method not in METHOD_NAMES:
        raise InvalidInputError(f"cost_method={cost_method!r} is not one of {', '.join(METHOD_NAMES)}")
    check_year("until", until, last=YEAR_MAX)
    check_year("fit_since", fit_since)
    check_year("fit_until", fit_until)
    check_year("year_dollars", year_dollars)
    if fit_since is not None and fit_until is not None and fit_since > fit_until:
        raise InvalidInputError(f"fit_since {fit_since} is after fit_until {fit_until}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise InvalidInputError(f"top={top!r} must be a whole number >= 1")
    for t in thresholds:
        check_positive("threshold", t)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 100 <= samples <= 1_000_000:
        raise InvalidInputError(f"samples={samples!r} is outside 100..1,000,000")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(f"seed={seed!r} must be a whole number >= 0")
    prior_list = _priors(priors)
    cap_map = _caps(caps)
    db = database(data, db)
    money = MoneyOptions(utilization_prior=utilization_prior)
    s = settings(db, method=cost_method, year_dollars=year_dollars, price_index=price_index, money=money)
    points = frontier_points(
        db,
        top=top,
        since=fit_since,
        until=fit_until,
        include_finetunes=include_finetunes,
        settings=s,
        samples=DEFAULT_SAMPLES,
        seed=DEFAULT_SEED,
        sampling=DEFAULT_SAMPLING,
    )
    cap_year = forecast_constant("cap.year").value
    kw: dict[str, Any] = dict(largest=largest, caps=cap_map, cap_year=cap_year, seed=seed)
    fc = project(points, metric, until, thresholds=thresholds, priors=prior_list, samples=samples, **kw)
    moves: dict[str, dict[str, dict[str, float | None]]] = {}
    if thresholds:
        from flopcast.projection import Prior

        key = next(iter(fc.crossings))
        for comp in _MOVERS:
            if comp not in fc.growth or any(p.component == comp for p in prior_list):
                continue
            g = fc.growth[comp]
            moves[comp] = {}
            for end in ("low", "high"):
                others = [p for p in prior_list if p.component != comp]
                fixed = Prior(comp, g[end], g[end])
                alt = project(
                    points,
                    metric,
                    until,
                    thresholds=thresholds[:1],
                    priors=[*others, fixed],
                    samples=max(100, samples // 5),
                    **kw,
                )
                moves[comp][end] = {"growth_per_year": g[end], "median_year": alt.crossings[key]["median"]}
    published_growth = forecast_constant("published.frontier_compute_growth")
    assumptions = {
        "selection": f"top {top} by training compute at release"
        + ("" if include_finetunes else ", fine-tunes left out"),
        "target": "the largest run of each year" if largest else f"the trend of the top-{top} frontier",
        "fit_since": fit_since,
        "fit_until": fit_until,
        "cost_method": cost_method,
        "dollars": points.dollars,
        "source": points.source,
        "runs_left_out": points.left_out,
        "value_at": "mid-year (July 1st) of each year",
    }
    published = {
        "frontier_compute_growth": {
            "low": published_growth.low,
            "high": published_growth.high,
            "source": published_growth.source,
            "fitted": fc.growth["compute"]["growth_per_year"],
        },
        "largest_run_above_1e9_usd_by": {
            "year": forecast_constant("published.largest_run_cost_year").value,
            "source": forecast_constant("published.largest_run_cost_year").source,
        },
    }
    return FrontierForecast(forecast=fc, assumptions=assumptions, date_moves=moves, published=published)
