"""The one estimation pipeline: a model record (or a user's run) in, a typed estimate out.

Every front-end estimates through here: ``estimate NAME`` is the batch of one, so it is
exactly NAME's row of ``costs``, with the same inputs, the same imputation and, for the same
seed and sample count, the same numbers. Two steps:

1. :func:`resolve` turns a :class:`~flopcast.datasets.records.ModelRecord` and the user's values
   (:class:`RunSpec`) into a :class:`Run`: each input a distribution with its unit,
   provenance (``reported``, ``derived``, ``imputed``, ``default`` or ``user``) and source,
   the route to chip-hours, the cost methods the inputs allow, and notes. No numbers are
   drawn here and no algorithm lives here: the stage functions of :mod:`flopcast.compute`,
   :mod:`flopcast.training` and :mod:`flopcast.methods` do the arithmetic.
2. :func:`evaluate` draws every input slot once per sample index (:class:`Draws`, shared by
   all runs of a call, so a run's numbers do not depend on the other runs), passes
   (models x samples) arrays through the stage functions in chunks, and summarizes each run
   into a :class:`TrainingEstimate`.

The evidence sets each interval (docs/methods.md, "Intervals from the evidence"):
published parameters and tokens give compute only the spread between counting conventions;
otherwise Epoch's bounds, else its confidence level, else Cottier et al.'s x1/3-3.
Reported chip-hours, chip counts and training times get narrow intervals; imputed ones wide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from flopcast.datasets.records import ModelRecord
from flopcast.defaults import (
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_DEPRECIATION,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
)
from flopcast.errors import FlopcastError, InvalidInputError
from flopcast.methods import DEFAULT_EXPERIMENTS
from flopcast.pipeline.draws import Draws
from flopcast.pipeline.evaluate import evaluate
from flopcast.pipeline.resolve import resolve
from flopcast.pipeline.results import BatchResult, TrainingEstimate, flat_row
from flopcast.pipeline.spec import PROVENANCE, InputRecord, NotEstimable, Run, RunSpec, Settings

if TYPE_CHECKING:
    from pathlib import Path

    from flopcast.catalogs.price_index import PriceIndex
    from flopcast.datasets.database import Database
    from flopcast.uncertainty import Distribution

__all__ = [
    "PROVENANCE",
    "BatchResult",
    "Draws",
    "InputRecord",
    "NotEstimable",
    "Run",
    "RunSpec",
    "Settings",
    "TrainingEstimate",
    "estimate",
    "estimate_records",
    "estimate_run",
    "evaluate",
    "flat_row",
    "resolve",
]


def estimate_records(
    records: Sequence[ModelRecord],
    db: Database,
    *,
    settings: Settings | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    selection: str = "",
) -> BatchResult:
    """Estimate every record that allows it; the rest are listed in ``skipped`` with the reason."""
    settings = settings or Settings()
    draws = Draws(samples, seed, sampling)
    runs: list[Run] = []
    skipped: list[dict[str, str]] = []
    for r in records:
        try:
            runs.append(resolve(r, RunSpec(), settings, db))
        except FlopcastError as exc:
            skipped.append({"model": r.name, "key": r.key, "reason": str(exc)})
    estimates = evaluate(runs, draws, settings)
    dollars = (
        "nominal USD of each model's publication month"
        if settings.year_dollars is None
        else (estimates[0].dollars if estimates else f"{settings.year_dollars} USD")
    )
    return BatchResult(
        estimates, skipped, settings.methods, dollars, db.describe(), draws.samples, seed, sampling, selection
    )


def estimate_run(
    record: ModelRecord | None,
    db: Database,
    *,
    spec: RunSpec | None = None,
    settings: Settings | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    keep_samples: bool = True,
    with_sensitivity: bool = False,
    development: str | None = None,
    staff_share: float | Distribution | None = None,
    experiments_multiplier: float | Distribution | None = None,
) -> TrainingEstimate:
    """One run: the batch of one (the same draws as any batch with these samples, seed and sampling).

    ``development`` (a key of :data:`~flopcast.pipeline.development.EXPERIMENT_BASES`, e.g. ``"per-model"``)
    adds the development lines beyond the final run (:mod:`flopcast.pipeline.development`), drawn on the
    same sample indices; ``staff_share`` and ``experiments_multiplier`` replace the catalog's. None: no lines.
    """
    settings = settings or Settings()
    if development is not None:
        from flopcast.methods import check_experiments

        check_experiments(development)
    run = resolve(record, spec, settings, db)
    draws = Draws(samples, seed, sampling)
    est = evaluate(
        [run], draws, settings, keep_samples=keep_samples or development is not None, with_sensitivity=with_sensitivity
    )[0]
    if development is not None:
        from flopcast.pipeline.development import development_cost

        est.development = development_cost(
            est, draws, experiments=development, staff_share=staff_share, experiments_multiplier=experiments_multiplier
        )
        if not keep_samples:
            est = _drop_samples(est)
    return est


def _drop_samples(est: TrainingEstimate) -> TrainingEstimate:
    """``est`` without the sample arrays it kept only to draw its development lines on."""
    from dataclasses import replace

    def bare(s):
        return None if s is None else replace(s, samples=None)

    out = {n: bare(getattr(est, n)) for n in ("training_compute_flop", *TrainingEstimate._OPTIONAL)}
    return replace(est, cost_usd={m: bare(s) for m, s in est.cost_usd.items()}, **out)


def estimate(
    model: str | ModelRecord | None = None,
    *,
    data: str | None = None,
    db: Database | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    with_sensitivity: bool = False,
    point: bool = False,
    methods: str | Sequence[str] | None = None,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index: PriceIndex | str | Path | None = None,
    attention: str = DEFAULT_ATTENTION,
    depreciation: str = DEFAULT_DEPRECIATION,
    depreciation_years: float | None = None,
    cost_of_capital: float = 0.0,
    grid: str | float | None = None,
    experiments: str | None = DEFAULT_EXPERIMENTS,
    staff_share: float | Distribution | None = None,
    **run: Any,
) -> TrainingEstimate:
    """Estimate a training run: a database model by name, a run described by keywords, or both.

    Keywords that are fields of :class:`RunSpec` (``params``, ``tokens``, ``hardware``, ``chips``,
    ``utilization``, ``price_usd_per_chip_hour``...) take a number, ``ci(low, high)`` or another
    distribution. The result is the same as ``flopcast estimate`` with the same values, and as
    that model's row of ``flopcast costs`` for the same samples and seed. ``cloud_vendor`` picks whose
    prices (``market`` by default, ``organization`` for Cottier et al.'s rule, a kind or a provider);
    ``depreciation``, ``depreciation_years`` and ``cost_of_capital`` set the amortized method's
    capital charge; ``grid`` the grid of the emissions (a region or kg CO2e per kWh). ``experiments``
    (``per-model``, Cottier et al.'s multiplier, or ``lab-wide``, Epoch's; None: none) and ``staff_share``
    set the development lines beyond the final run, ``.development`` (never part of ``cost_usd``).

    >>> round(estimate("gpt-3").training_compute_flop.median / 1e23, 2)
    3.14
    """
    from flopcast.datasets.database import load_database

    names = {f.name for f in fields(RunSpec)}
    unknown = sorted(set(run) - names)
    if unknown:
        raise InvalidInputError(f"unknown argument(s) {', '.join(unknown)}; a run takes {', '.join(sorted(names))}")
    db = db if db is not None else load_database(data)
    settings = Settings.from_options(
        db,
        method=methods,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
        depreciation=depreciation,
        depreciation_years=depreciation_years,
        cost_of_capital=cost_of_capital,
        grid=grid,
    )
    record = db.find(model) if isinstance(model, str) else model
    est = estimate_run(
        record,
        db,
        spec=RunSpec(**run),
        settings=settings,
        samples=samples,
        seed=seed,
        sampling=sampling,
        keep_samples=not point,
        with_sensitivity=with_sensitivity and not point,
        development=experiments,
        staff_share=staff_share,
    )
    return est.point() if point else est
