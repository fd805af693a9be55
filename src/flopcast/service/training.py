"""Training questions: one model's estimate, the table of many, a diffusion reference's cost,
and the histograms the charts draw. The shared options and their defaults (:data:`DEFAULTS`)
live here too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from flopcast.defaults import (
    ATTENTION_CHOICES,
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_COST_METHOD,
    DEFAULT_DEPRECIATION,
    DEFAULT_METHOD,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
    SAMPLING_CHOICES,
)
from flopcast.errors import InvalidInputError
from flopcast.methods import DEFAULT_EXPERIMENTS, check_experiments
from flopcast.quantities import Interval, QuantityInput
from flopcast.service.checks import (
    check_chip_hours,
    check_chips,
    check_count,
    check_date,
    check_duration,
    check_fraction,
    check_params,
    check_positive,
    check_share,
    check_year,
)

if TYPE_CHECKING:
    import numpy as np

    from flopcast.datasets.database import Database
    from flopcast.datasets.parsing import ParseReport
    from flopcast.datasets.records import ModelRecord
    from flopcast.pipeline import BatchResult, BatchStream, Settings, TrainingEstimate
    from flopcast.uncertainty import Distribution, Summary

MAX_SAMPLES = 10_000_000

T = TypeVar("T")

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


@overload
def as_input(value: None, fraction: bool = False, *, kind: str | None = None) -> None: ...
@overload
def as_input(
    value: float | Interval | list[float], fraction: bool = False, *, kind: str | None = None
) -> float | Distribution: ...
@overload
def as_input(
    value: QuantityInput | list[float], fraction: bool = False, *, kind: str | None = None
) -> float | Distribution | None: ...
def as_input(
    value: QuantityInput | list[float], fraction: bool = False, *, kind: str | None = None
) -> float | Distribution | None:
    """A number stays a number; a ``(low, high)`` pair becomes a 90% CI (a beta for fractions below 1).

    ``kind`` ("lognormal", "normal" or "beta") picks the interval's distribution instead; by default a
    lognormal for positive bounds (:func:`flopcast.uncertainty.ci`). ``(x, x)`` is the point ``x``.
    """
    if isinstance(value, (tuple, list)):
        from flopcast.uncertainty import ci

        lo, hi = value
        if kind is None and fraction and lo < hi < 1:
            kind = "beta"
        return ci(lo, hi, kind=kind)
    return value


def days_to_hours(days: QuantityInput | list[float]) -> QuantityInput:
    """A time in days (a number or a ``(low, high)`` interval) in hours."""
    if isinstance(days, (tuple, list)):
        lo, hi = days
        return (lo * 24, hi * 24)
    return None if days is None else days * 24


def database(data: str | None = None, db: Database | None = None) -> Database:
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
    db: Database,
    *,
    method: str = DEFAULT_METHOD,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
    money: MoneyOptions | None = None,
) -> Settings:
    """The pipeline's settings from the options every command shares (each checked)."""
    from flopcast.pipeline import Settings

    m = money or MoneyOptions()
    return Settings.from_options(
        db,
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
        depreciation=m.depreciation,
        depreciation_years=m.depreciation_years,
        cost_of_capital=m.cost_of_capital,
        grid=m.grid,
        utilization_prior=m.utilization_prior,
    )


@dataclass(frozen=True)
class MoneyOptions:
    """How hardware is depreciated and which grid a run draws from (the options ``estimate``, ``costs`` and
    ``hardware plan`` share).

    - ``depreciation``: ``price-performance`` (Cottier et al.'s 0.14 OOM/year, the default) or ``straight-line``
    - ``depreciation_years``: the straight-line book life (default 5; hyperscalers book 4-6)
    - ``cost_of_capital``: an annual rate such as 0.08 (default 0, as Cottier et al.)
    - ``grid``: a region of the grid-intensity catalog (``us``, ``eu``, ``france``...) or kg CO2e per kWh
      (default: the developer's country, else the world average)
    - ``utilization_prior``: the MFU imputed where none is reported: ``conditioned`` (the default: on the chip's
      generation, the chip count and the precision, fitted to reported MFU) or ``cottier`` (Cottier et al.'s one
      prior for every run, median 0.375, 90% CI 0.10-0.65)
    """

    depreciation: str = DEFAULT_DEPRECIATION
    depreciation_years: float | None = None
    cost_of_capital: float = 0.0
    grid: str | float | None = None
    utilization_prior: str = DEFAULT_UTILIZATION_PRIOR


def training_estimate(
    name: str | None = None,
    *,
    params: QuantityInput = None,
    tokens: QuantityInput = None,
    epochs: QuantityInput = None,
    params_active: QuantityInput = None,
    compute: QuantityInput = None,
    hardware: str | None = None,
    precision: str | None = None,
    chips: QuantityInput = None,
    hours: QuantityInput = None,
    days: QuantityInput = None,
    chip_hours: QuantityInput = None,
    utilization: QuantityInput = None,
    price_per_chip_hour: QuantityInput = None,
    chip_price: QuantityInput = None,
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
    db: Database | None = None,
    money: MoneyOptions | None = None,
    experiments: str | None = DEFAULT_EXPERIMENTS,
    staff_share: QuantityInput = None,
) -> TrainingEstimate:
    """The training estimate behind ``flopcast estimate``: a database model (``name``), a run described by the
    keywords, or a model with overrides. Numbers or ``(low, high)`` 90% intervals in; a TrainingEstimate out.

    The numeric inputs and their units (each a number or a ``(low, high)`` 90% interval; None leaves
    the database's value, or the default):

    - ``params``: parameters (used per token; the active ones of a mixture of experts)
    - ``params_active``: active parameters per token of a mixture of experts
    - ``tokens``: training tokens (one pass over the data)
    - ``epochs``: passes over the tokens
    - ``compute``: training compute, FLOP
    - ``chips``: number of chips
    - ``hours``, ``days``: wall-clock training time, in hours or in days (one of them)
    - ``chip_hours``: chip-hours (chips x hours)
    - ``utilization``: model FLOP utilization (MFU), a fraction of peak in (0, 1]
    - ``price_per_chip_hour``: cloud price, USD per chip-hour
    - ``chip_price``: purchase price of one chip, USD
    - ``staff_share``: R&D staff's share of the total development cost, in (0, 1) (default Cottier et al.'s
      0.29-0.49)

    ``experiments`` (``per-model``, Cottier et al.'s multiplier, or ``lab-wide``, Epoch's; None: no lines)
    sets the development lines beyond the final run, ``.development``; ``cost_usd`` is the final run alone.
    """
    from flopcast.pipeline import RunSpec, estimate_run

    if hours is not None and days is not None:
        raise InvalidInputError("give hours or days, not both")
    if attention not in ATTENTION_CHOICES:
        raise InvalidInputError(f"attention={attention!r} is not one of {', '.join(ATTENTION_CHOICES)}")
    _check_sampling(samples, seed, sampling, max_samples)
    check_params("params", params)
    check_params("params_active", params_active)
    check_count("tokens", tokens, unit="tokens", one="token")
    check_positive("epochs", epochs)
    check_count("compute", compute, unit="FLOP", one="FLOP")
    check_chips("chips", chips)
    check_duration("hours", hours, unit_s=3600.0, unit="hours")
    check_duration("days", days, unit_s=86400.0, unit="days")
    check_chip_hours("chip_hours", chip_hours)
    check_fraction("utilization", utilization, what="a fraction of peak FLOP/s")
    check_positive("price_per_chip_hour", price_per_chip_hour)
    check_positive("chip_price", chip_price)
    check_date("start_date", start_date)
    check_year("year_dollars", year_dollars)
    check_share("staff_share", staff_share, what="R&D staff's share of the total development cost")
    if experiments is not None:
        check_experiments(experiments)
    if days is not None:
        hours = days_to_hours(days)
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
        money=money,
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
        development=experiments,
        staff_share=as_input(staff_share, kind="beta") if isinstance(staff_share, (tuple, list)) else staff_share,
    )
    return est.point() if point else est


@dataclass
class CostTable:
    """The estimates behind ``flopcast costs``, with what the selection was."""

    result: BatchResult
    selection: str
    reports: list[ParseReport] = field(default_factory=list)


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
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    max_samples: int = 1_000_000,
    db: Database | None = None,
    money: MoneyOptions | None = None,
) -> CostTable:
    """Every selected model's estimate: ``estimate NAME`` for each, on the same draws.

    Fine-tunes are left out of a frontier selection (``top``) unless ``include_finetunes``; a plain
    listing keeps them (each flagged ``is_finetune``). :func:`cost_stream` gives the same rows one chunk at a time.
    """
    chosen, db, s, what = _cost_selection(**locals())
    from flopcast.pipeline import estimate_records

    res = estimate_records(chosen, db, settings=s, samples=samples, seed=seed, sampling=sampling, selection=what)
    return CostTable(res, what, list(db.reports))


@dataclass
class CostStream(Generic[T]):
    """The rows behind ``flopcast costs``, streamed: ``stream`` yields ``form(estimate, methods)`` chunk by chunk."""

    stream: BatchStream[T]
    selection: str
    reports: list[ParseReport] = field(default_factory=list)


def cost_rows(**options: Any) -> CostStream[dict]:
    """:func:`cost_stream` of each model's flat row (the CSV's columns, :func:`flopcast.pipeline.flat_row`):
    ``.stream.collect()`` holds the rows of :meth:`BatchResult.rows`, not the estimates."""
    from flopcast.pipeline import flat_row

    return cost_stream(flat_row, row_outputs_only=True, **options)


def cost_stream(
    form: Callable[[TrainingEstimate, tuple[str, ...]], T],
    *,
    keep_skipped: bool = True,
    row_outputs_only: bool = False,
    **options: Any,
) -> CostStream[T]:
    """:func:`cost_table` (the same options) as a stream of ``form(estimate, methods)``, in the database's order
    (``form`` runs where the estimate is made, in a worker process for a large batch: e.g.
    :func:`flopcast.pipeline.flat_row`).

    Memory stays flat in the number of models (no estimate is kept), and a large batch runs on every core
    (:mod:`flopcast.pipeline.parallel`; ``FLOPCAST_WORKERS=1`` keeps it in process). The numbers are
    :func:`cost_table`'s, byte for byte. ``keep_skipped=False`` counts the models not estimated without
    holding them (a CSV does not list them). ``row_outputs_only``: ``form`` reads only what a flat row reads
    (:func:`flopcast.pipeline.flat_row`: the CSV's and the table's columns), so only those outputs are summarized
    (:data:`~flopcast.pipeline.results.ROW_OUTPUTS`); the others are None in the estimates ``form`` gets.
    """
    from flopcast.pipeline import ROW_OUTPUTS, stream_records

    chosen, db, s, what = _cost_selection(**options)
    samples, seed, sampling = (options.get(k, DEFAULTS[k]) for k in ("samples", "seed", "sampling"))
    stream = stream_records(
        chosen,
        db,
        form,
        settings=s,
        samples=samples,
        seed=seed,
        sampling=sampling,
        selection=what,
        keep_skipped=keep_skipped,
        outputs=ROW_OUTPUTS if row_outputs_only else None,
    )
    return CostStream(stream, what, list(db.reports))


def _cost_selection(
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
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    max_samples: int = 1_000_000,
    db: Database | None = None,
    money: MoneyOptions | None = None,
) -> tuple[list[ModelRecord], Database, Settings, str]:
    """The checked options of :func:`cost_table`: the chosen records, the database, the settings, the selection."""
    from flopcast.selection import select, top_meaning

    _check_sampling(samples, seed, sampling, max_samples)
    check_year("since", since)
    check_year("until", until)
    check_year("year_dollars", year_dollars)
    db = database(data, db)
    s = settings(
        db,
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
        money=money,
    )
    chosen = select(
        db.records, since=since, until=until, domain=domain, org=org, top=top, include_finetunes=include_finetunes
    )
    if not chosen:
        raise InvalidInputError(f"the filters leave no models (of {len(db.records)} in {db.describe()})")
    return chosen, db, s, top_meaning(top, include_finetunes)


@dataclass
class ModelSelection:
    """The models behind ``flopcast models list``: newest first, at most the limit, with how many matched."""

    models: list[ModelRecord]
    total: int
    source: str


def select_models(
    *,
    data: str | None = None,
    search: str | None = None,
    top: int | None = None,
    since: int | None = None,
    until: int | None = None,
    include_finetunes: bool = False,
    limit: int = 50,
    db: Database | None = None,
) -> ModelSelection:
    """The database's models that pass the filters, newest first (undated last), at most ``limit`` (0: all).

    ``search`` keeps models whose key, name or an alias contains it (case-insensitive). Fine-tunes are
    left out of a frontier selection (``top``) unless ``include_finetunes`` or a ``search`` is given;
    a plain listing keeps them.
    """
    from flopcast.selection import select

    if limit < 0:
        raise InvalidInputError(f"limit={limit} must be >= 0")
    check_year("since", since)
    check_year("until", until)
    db = database(data, db)
    rows = select(
        db.records, since=since, until=until, top=top, include_finetunes=True if include_finetunes or search else None
    )
    if search:
        q = search.lower()
        rows = [r for r in rows if any(q in n.lower() for n in (r.key, r.name, *r.aliases))]
    rows.sort(key=lambda r: (r.publication_date is not None, r.publication_date), reverse=True)
    total = len(rows)
    if limit:
        rows = rows[:limit]
    return ModelSelection(rows, total, db.describe())


def reference_cost(
    model: str,
    *,
    cost_method: str = DEFAULT_COST_METHOD,
    data: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    db: Database | None = None,
) -> tuple[Summary, dt.date, TrainingEstimate]:
    """``(cost Summary, publication date, estimate)`` of a database model, for the diffusion questions."""
    est = training_estimate(
        model, method=cost_method, samples=samples, seed=seed, sampling=sampling, data=data, db=db, experiments=None
    )
    assert est.publication_date is not None  # the pipeline dates every run (from its start at the latest)
    return est.cost_usd[cost_method], est.publication_date, est


def histogram(samples: np.ndarray | None, bins: int = 60) -> dict[str, list[float]] | None:
    """Counts over log10-spaced bins of the positive samples (the charts' data); None without samples."""
    if samples is None:
        return None
    import numpy as np

    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    if x.size == 0:
        return None
    lx = np.log10(x)
    lo, hi = float(lx.min()), float(lx.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    counts, edges = np.histogram(lx, bins=bins, range=(lo, hi))
    return {"log10_edges": edges.tolist(), "counts": counts.tolist()}


@dataclass(frozen=True)
class CostSwing:
    """One input's swing of a cost: the cost with that input at its 5th and at its 95th percentile, the others at
    their medians, USD (``cost_at_p5_usd`` may exceed ``cost_at_p95_usd`` when the cost falls as the input rises)."""

    input: str
    cost_at_p5_usd: float
    cost_at_p95_usd: float
    share: float
    rank_correlation: float
    provenance: str

    @property
    def swing_usd(self) -> float:
        return abs(self.cost_at_p95_usd - self.cost_at_p5_usd)


def cost_swings(estimate: TrainingEstimate, method: str, min_share: float = 0.0) -> list[CostSwing]:
    """The tornado of a cost: each uncertain input's swing in dollars, largest first (needs ``sensitivity=True``).

    The rows of :func:`flopcast.uncertainty.tornado.swings` (the report's), from the cost's median and 90% interval
    and its sensitivity ranking: for a product of lognormal factors, input i alone at its 5th (95th) percentile,
    the others at their medians, gives median x (p95 / p5)^(-/+ sign_i sqrt(share_i) / 2). Each row carries the
    input's provenance, so that a front-end can say which inputs are derived. Rows with a share below
    ``min_share`` are left out.
    """
    from flopcast.uncertainty.tornado import swings

    rows = estimate.sensitivity.get(f"cost_usd.{method}")
    if not rows or method not in estimate.cost_usd:
        return []
    s = estimate.cost_usd[method]
    provenance = {r.name: r.provenance for r in estimate.inputs}
    sign = {r.input: r.rank_correlation for r in rows}
    return [
        CostSwing(w.input, w.at_input_p5, w.at_input_p95, w.share, sign[w.input], provenance.get(w.input, ""))
        for w in swings(rows, s.median, s.p5, s.p95, min_share=min_share)
    ]
