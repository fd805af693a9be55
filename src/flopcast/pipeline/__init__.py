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

from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flopcast.datasets.records import ModelRecord
from flopcast.defaults import (
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_DEPRECIATION,
    DEFAULT_PRECISION,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
)
from flopcast.errors import FlopcastError, InvalidInputError
from flopcast.methods import DEFAULT_EXPERIMENTS
from flopcast.pipeline.draws import Draws
from flopcast.pipeline.evaluate import evaluate
from flopcast.pipeline.resolve import resolve
from flopcast.pipeline.results import ROW_OUTPUTS, BatchResult, TrainingEstimate, flat_row
from flopcast.pipeline.spec import PROVENANCE, InputRecord, NotEstimable, Run, RunSpec, Settings

if TYPE_CHECKING:
    from pathlib import Path

    from flopcast.catalogs.price_index import PriceIndex
    from flopcast.datasets.database import Database
    from flopcast.uncertainty import Distribution

__all__ = [
    "PROVENANCE",
    "ROW_OUTPUTS",
    "BatchResult",
    "BatchRows",
    "BatchStream",
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
    "stream_records",
]

T = TypeVar("T")

#: what a batch's costs are in without ``year_dollars`` (each model's own month)
NOMINAL_DOLLARS = "nominal USD of each model's publication month"


def _resolve_all(
    records: Sequence[ModelRecord], settings: Settings, db: Database
) -> tuple[list[Run], list[dict[str, str]]]:
    """Each record's run, and the records that allow none with the reason (``skipped``), in order."""
    runs: list[Run] = []
    skipped: list[dict[str, str]] = []
    for r in records:
        try:
            runs.append(resolve(r, RunSpec(), settings, db))
        except FlopcastError as exc:
            skipped.append({"model": r.name, "key": r.key, "reason": str(exc)})
    return runs, skipped


def estimate_records(
    records: Sequence[ModelRecord],
    db: Database,
    *,
    settings: Settings | None = None,
    samples: int | None = None,
    sampling_precision: float = DEFAULT_PRECISION,
    seed: int | None = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    selection: str = "",
) -> BatchResult:
    """Estimate every record that allows it; the rest are listed in ``skipped`` with the reason.

    ``samples=None`` draws as many samples as ``sampling_precision`` (the relative error of p5, p50 and p95 at
    95% confidence) takes with ``sampling`` (:func:`flopcast.uncertainty.precision.samples_for_precision`).
    """
    settings = settings or Settings()
    draws = Draws(samples, seed, sampling, precision=sampling_precision)
    runs, skipped = _resolve_all(records, settings, db)
    estimates = evaluate(runs, draws, settings)
    dollars = (
        NOMINAL_DOLLARS
        if settings.year_dollars is None
        else (estimates[0].dollars if estimates else f"{settings.year_dollars} USD")
    )
    return BatchResult(
        estimates, skipped, settings.methods, dollars, db.describe(), draws.samples, seed, sampling, selection
    )


#: records per task of a streamed batch (:func:`stream_records`), at least and at most (unless the batch is
#: smaller): few enough that the rows held at once stay few (memory flat in the number of records) and the
#: workers share the work evenly (four tasks each, where the batch allows), many enough that an evaluation
#: fills its chunks (measured on the embedded database, in process: 128 records per call cost 20% more CPU
#: than one call for all, 512 as little; in process a task is half the most)
STREAM_CHUNK = (256, 1024)


@dataclass
class _Chunk(Generic[T]):
    """One task's share of a streamed batch: its records' items (in order), skips, and first estimate's dollars."""

    items: list[T]
    skipped: list[dict[str, str]]
    dollars: str | None


class BatchStream(Generic[T]):
    """A batch whose estimates come chunk by chunk, in the records' order, each turned into
    ``form(estimate, methods)`` (e.g. :func:`flat_row`), where the estimate is made: in a worker process for a
    large batch, so that only the (small, picklable) forms travel and are held.

    The numbers are those of :func:`estimate_records` with the same arguments, whatever the chunking and the
    number of worker processes (:mod:`flopcast.pipeline.parallel`): every run is evaluated on the same
    :class:`Draws`, and a run's numbers do not depend on the other runs. Read it once (:meth:`chunks` or
    iteration); ``skipped`` (unless not ``keep_skipped``: a CSV lists no skips), ``skipped_count`` and ``count``
    grow as it is read, ``dollars`` is known before the first item. ``outputs``: the outputs ``form`` reads, the
    only ones summarized besides the compute and the costs (:func:`evaluate`; e.g.
    :data:`~flopcast.pipeline.results.ROW_OUTPUTS` for :func:`flat_row`); None: all.
    """

    def __init__(
        self,
        records: Sequence[ModelRecord],
        db: Database,
        form: Callable[[TrainingEstimate, tuple[str, ...]], T],
        *,
        settings: Settings | None = None,
        samples: int | None = None,
        sampling_precision: float = DEFAULT_PRECISION,
        seed: int | None = DEFAULT_SEED,
        sampling: str = DEFAULT_SAMPLING,
        selection: str = "",
        workers: int | None = None,
        keep_skipped: bool = True,
        outputs: AbstractSet[str] | None = None,
    ):
        from flopcast.pipeline.parallel import worker_count

        self.settings = settings or Settings()
        self.draws = Draws(samples, seed, sampling, precision=sampling_precision)  # before any fork: shared
        self.records, self.db, self.form = list(records), db, form
        self.methods, self.source, self.selection = self.settings.methods, db.describe(), selection
        self.samples, self.seed, self.sampling = self.draws.samples, seed, sampling
        self.workers = worker_count(len(self.records)) if workers is None else max(1, workers)
        lo, hi = STREAM_CHUNK
        self.chunk = max(lo, min(hi, -(-len(self.records) // (4 * self.workers)))) if self.workers > 1 else hi // 2
        self.skipped: list[dict[str, str]] = []
        self.keep_skipped = keep_skipped
        self.outputs = outputs
        self.count = self.skipped_count = 0
        year = self.settings.year_dollars
        self._dollars: str | None = NOMINAL_DOLLARS if year is None else None
        self._buffer: list[_Chunk[T]] = []
        self._source: Iterator[_Chunk[T]] | None = None
        self._started = False

    def _task(self, i: int) -> _Chunk[T]:
        """Resolve and evaluate the ``i``-th ``chunk`` of records (in a worker or in process)."""
        self.draws.forget()  # what the previous chunk kept: memory flat in the number of records
        runs, skipped = _resolve_all(self.records[i * self.chunk : (i + 1) * self.chunk], self.settings, self.db)
        estimates = evaluate(runs, self.draws, self.settings, outputs=self.outputs)
        return _Chunk(
            [self.form(e, self.methods) for e in estimates], skipped, estimates[0].dollars if estimates else None
        )

    def _pull(self) -> _Chunk[T] | None:
        if self._source is None:
            from flopcast.pipeline.parallel import ordered_map

            tasks = -(-len(self.records) // self.chunk)
            self._source = ordered_map(self._task, tasks, self.workers)
        chunk = next(self._source, None)
        if chunk is not None and self._dollars is None and chunk.dollars is not None:
            self._dollars = chunk.dollars
        return chunk

    @property
    def dollars(self) -> str:
        """What the costs are in (:attr:`BatchResult.dollars`); reads ahead to the first estimate if it must."""
        while self._dollars is None:
            chunk = self._pull()
            if chunk is None:
                self._dollars = f"{self.settings.year_dollars} USD"
                break
            self._buffer.append(chunk)
        return self._dollars

    def chunks(self) -> Iterator[list[T]]:
        """Each task's items, in the records' order (a single pass)."""
        if self._started:
            raise RuntimeError("a BatchStream is read once")
        self._started = True
        try:
            while True:
                chunk = self._buffer.pop(0) if self._buffer else self._pull()
                if chunk is None:
                    return
                self.skipped_count += len(chunk.skipped)
                if self.keep_skipped:
                    self.skipped.extend(chunk.skipped)
                self.count += len(chunk.items)
                yield chunk.items
        finally:
            self.close()

    def __iter__(self) -> Iterator[T]:
        for items in self.chunks():
            yield from items

    def collect(self) -> BatchRows[T]:
        """Every item, held (what a table that needs all rows at once takes: rows, never the estimates)."""
        items = list(self)
        return BatchRows(
            items,
            self.skipped,
            self.methods,
            self.dollars,
            self.source,
            self.samples,
            self.seed,
            self.sampling,
            self.selection,
        )

    def close(self) -> None:
        """Stop the worker processes (if any) of a stream left unread."""
        src = self._source
        if src is not None and hasattr(src, "close"):
            src.close()


@dataclass
class BatchRows(Generic[T]):
    """A read :class:`BatchStream`: its items (with :func:`flat_row`, the rows of :meth:`BatchResult.rows`)
    and what :class:`BatchResult` says of the batch, without the estimates."""

    items: list[T]
    skipped: list[dict[str, str]]
    methods: tuple[str, ...]
    dollars: str
    source: str
    samples: int
    seed: int | None
    sampling: str
    selection: str = ""

    def rows(self) -> list[T]:
        return self.items


def stream_records(
    records: Sequence[ModelRecord],
    db: Database,
    form: Callable[[TrainingEstimate, tuple[str, ...]], T],
    **options: Any,
) -> BatchStream[T]:
    """:func:`estimate_records` as a stream: ``form(estimate, methods)`` for each record that allows an estimate, chunk
    by chunk, in the records' order, on every core for a large batch (:mod:`flopcast.pipeline.parallel`).

    The options are :class:`BatchStream`'s (those of :func:`estimate_records`, and ``workers``). Memory stays
    flat in the number of records: only a few chunks' items are held at once, never the estimates.
    """
    return BatchStream(records, db, form, **options)


def estimate_run(
    record: ModelRecord | None,
    db: Database,
    *,
    spec: RunSpec | None = None,
    settings: Settings | None = None,
    samples: int | None = None,
    sampling_precision: float = DEFAULT_PRECISION,
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
    draws = Draws(samples, seed, sampling, precision=sampling_precision)
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
    samples: int | None = None,
    sampling_precision: float = DEFAULT_PRECISION,
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
    utilization_prior: str = DEFAULT_UTILIZATION_PRIOR,
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
    capital charge; ``grid`` the grid of the emissions (a region or kg CO2e per kWh); ``utilization_prior`` the MFU
    where none is reported (``conditioned`` on the chip, chip count and precision, or ``cottier``). ``experiments``
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
        utilization_prior=utilization_prior,
    )
    record = db.find(model) if isinstance(model, str) else model
    est = estimate_run(
        record,
        db,
        spec=RunSpec(**run),
        settings=settings,
        samples=samples,
        sampling_precision=sampling_precision,
        seed=seed,
        sampling=sampling,
        keep_samples=not point,
        with_sensitivity=with_sensitivity and not point,
        development=experiments,
        staff_share=staff_share,
    )
    return est.point() if point else est
