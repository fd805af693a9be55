"""Why one training run cost more than another (``flopcast explain A B``).

The two runs are estimated exactly as ``flopcast estimate NAME`` estimates them (the same
pipeline, options, draws and seed), and the ratio of their median costs is broken into the
factors of :mod:`flopcast.explanation`, taken from each run's central values: compute, the chip's
peak FLOP/s, utilization, the cost per chip-hour and chips raised for memory. Those factors
multiply exactly to the ratio of the central costs; what is left, the ratio of medians over the
ratio of central values, is the "other" factor (1 with ``point``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flopcast.defaults import (
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_COST_METHOD,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
)
from flopcast.errors import InvalidInputError, MissingInputError
from flopcast.service.checks import check_date
from flopcast.service.training import MAX_SAMPLES, MoneyOptions, database, training_estimate

if TYPE_CHECKING:
    from flopcast.datasets.database import Database
    from flopcast.pipeline import TrainingEstimate

#: the factor that closes the product: the Monte Carlo medians against the central values
OTHER = "other"


@dataclass(frozen=True)
class Factor:
    """One factor of a cost ratio: its value, its share of ln(ratio) (None when the ratio is 1) and what it is."""

    name: str
    label: str
    factor: float
    share: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "factor": self.factor, "share": self.share, "label": self.label, "note": self.note}


@dataclass(frozen=True)
class RunCostInputs:
    """One run's inputs to the decomposition, at its central values (SI units, USD)."""

    name: str
    key: str
    hardware: str
    publication_date: dt.date | None
    dollars: str
    training_compute_flop: float
    peak_flop_per_s: float
    #: compute / (peak x chip-hours x 3600): the given or imputed MFU, or the one reported chip-hours imply
    utilization: float
    chip_hours: float
    #: the method's cost over the chip-hours, USD per chip-hour
    price_usd_per_chip_hour: float
    #: the cost, central value and median of the Monte Carlo (the number ``estimate`` prints)
    cost_usd_central: float
    cost_usd_median: float
    chips: float | None
    min_chips: float | None
    #: how much the cost is raised by a chip count raised for memory (1: not raised)
    memory_chip_factor: float = 1.0
    #: the cost per chip-hour had the run started on the common date (``at``)
    price_usd_per_chip_hour_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": self.key,
            "hardware": self.hardware,
            "publication_date": self.publication_date.isoformat() if self.publication_date else None,
            "dollars": self.dollars,
            "training_compute_flop": self.training_compute_flop,
            "peak_flop_per_s": self.peak_flop_per_s,
            "utilization": self.utilization,
            "chip_hours": self.chip_hours,
            "price_usd_per_chip_hour": self.price_usd_per_chip_hour,
            "price_usd_per_chip_hour_at": self.price_usd_per_chip_hour_at,
            "cost_usd_central": self.cost_usd_central,
            "cost_usd_median": self.cost_usd_median,
            "chips": self.chips,
            "min_chips": self.min_chips,
            "memory_chip_factor": self.memory_chip_factor,
        }


@dataclass
class CostExplanation:
    """cost(A) / cost(B) of two final training runs, as a product of factors (``flopcast explain A B``)."""

    a: RunCostInputs
    b: RunCostInputs
    method: str
    #: the ratio of the two median costs (``estimate``'s numbers); with ``point``, of the central costs
    ratio: float
    #: the ratio of the two central (point-estimate) costs
    central_ratio: float
    factors: list[Factor]
    at: dt.date | None = None
    point: bool = False
    samples: int = DEFAULT_SAMPLES
    seed: int = DEFAULT_SEED
    sampling: str = DEFAULT_SAMPLING
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def product(self) -> float:
        """The product of the factors (the ratio, by construction)."""
        return math.prod(f.factor for f in self.factors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.name,
            "b": self.b.name,
            "method": self.method,
            "ratio": self.ratio,
            "central_ratio": self.central_ratio,
            "factors": [f.to_dict() for f in self.factors],
            "at": self.at.isoformat() if self.at else None,
            "point": self.point,
            "runs": [self.a.to_dict(), self.b.to_dict()],
            "samples": self.samples,
            "seed": self.seed,
            "sampling": self.sampling,
            "source": self.source,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [f"{self.method} cost of {self.a.name} / {self.b.name} = {self.ratio:.4g}"]
        for f in self.factors:
            share = "" if f.share is None else f" ({f.share:+.0%} of the log-ratio)"
            lines.append(f"  x{f.factor:.4g}  {f.label}{share}")
        return "\n".join(lines)


def _central(est: TrainingEstimate, key: str) -> float | None:
    return est.central.get(key)


def _input_central(est: TrainingEstimate, name: str) -> float | None:
    rec = next((r for r in est.inputs if r.name == name), None)
    if rec is None:
        return None
    return rec.central if rec.central is not None else rec.value.median


def _run_inputs(est: TrainingEstimate, method: str, at_est: TrainingEstimate | None) -> RunCostInputs:
    from flopcast.explanation import cost_per_chip_hour_usd, implied_utilization

    cost = est.cost_usd.get(method)
    if cost is None:
        why = est.skipped_methods.get(method, "its inputs do not allow it")
        raise MissingInputError(f"{est.name} has no {method} cost: {why}")
    compute, chip_hours = _central(est, "training_compute_flop"), _central(est, "chip_hours")
    peak, cost_central = _input_central(est, "peak_flop_per_s"), _central(est, f"cost_usd.{method}")
    if compute is None or chip_hours is None or peak is None or cost_central is None:
        raise MissingInputError(f"{est.name} has no chip-hours on a chip to break its cost down (give --hardware)")
    price_at = None
    if at_est is not None:
        cost_at, hours_at = _central(at_est, f"cost_usd.{method}"), _central(at_est, "chip_hours")
        if cost_at is None or hours_at is None:  # pragma: no cover - the same run, another date
            raise MissingInputError(f"{est.name} has no {method} cost at the common date")
        price_at = float(cost_per_chip_hour_usd(cost_at, hours_at))
    return RunCostInputs(
        name=est.name,
        key=est.key,
        hardware=est.hardware,
        publication_date=est.publication_date,
        dollars=est.dollars,
        training_compute_flop=compute,
        peak_flop_per_s=peak,
        utilization=float(implied_utilization(compute, peak, chip_hours)),
        chip_hours=chip_hours,
        price_usd_per_chip_hour=float(cost_per_chip_hour_usd(cost_central, chip_hours)),
        cost_usd_central=cost_central,
        cost_usd_median=cost.median,
        chips=_central(est, "chips"),
        min_chips=_central(est, "min_chips"),
        # the pipeline never raises a run's chips for memory: cloud and amortized costs are chip-hours x a rate,
        # and acquisition prices the reported (or default-time) cluster; min_chips is reported beside it
        memory_chip_factor=1.0,
        price_usd_per_chip_hour_at=price_at,
    )


_LABELS = {
    "compute": "compute (training FLOP, A / B)",
    "peak_flop_per_s": "chip peak FLOP/s (B / A: a faster chip is cheaper)",
    "utilization": "utilization, MFU (B / A)",
    "price_per_chip_hour": "price per chip-hour at each run's date",
    "memory_chips": "chips raised for memory",
}
_RATE = {
    "cloud": "the cloud price",
    "amortized": "hardware depreciation + energy",
    "acquisition": "the cluster's purchase price over the run's chip-hours",
}


def cost_explanation(
    a: str,
    b: str,
    *,
    method: str = DEFAULT_COST_METHOD,
    at: dt.date | None = None,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    point: bool = False,
    data: str | None = None,
    db: Database | None = None,
    money: MoneyOptions | None = None,
    max_samples: int = MAX_SAMPLES,
) -> CostExplanation:
    """Why the final training run of model ``a`` cost more (or less) than that of ``b``: cost(a) / cost(b) of
    one cost ``method`` (the default ``amortized``, as ``trend`` and ``diffusion``) as a product of factors.

    Each run is ``training_estimate(name, method=method, ...)``: the ratio is that of the medians ``flopcast
    estimate`` prints (of the point estimates with ``point``). ``at``: also price both runs as if they had
    started training on this date (the pipeline's ``start_date``), which splits the price factor into the
    chips' prices on one day and the drift between the runs' own dates. The explained ratio stays the
    runs' own.
    """
    import numpy as np

    from flopcast.explanation import cost_ratio_factors, log_shares, residual_factor, split_price_factor
    from flopcast.methods import METHOD_NAMES

    if method not in METHOD_NAMES:
        raise InvalidInputError(
            f"method={method!r} is not one of {', '.join(METHOD_NAMES)} (explain breaks down one cost method)"
        )
    check_date("at", at)
    db = database(data, db)
    ra, rb = db.find(a), db.find(b)
    if ra is rb or (ra.key, ra.name) == (rb.key, rb.name):
        raise InvalidInputError(f"b={b!r} is the same model as a={a!r} ({ra.name}); give two different models")
    opts: dict[str, Any] = dict(
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        year_dollars=year_dollars,
        price_index=price_index,
        attention=attention,
        samples=samples,
        seed=seed,
        sampling=sampling,
        point=point,
        max_samples=max_samples,
        db=db,
        money=money,
    )
    ests = [_estimate(n, tag, opts) for n, tag in ((a, "a"), (b, "b"))]
    at_ests: list[TrainingEstimate | None] = [None, None]
    if at is not None:  # central values are all the split needs
        at_opts = dict(opts, point=True, samples=2)
        at_ests = [training_estimate(n, start_date=at, **at_opts) for n in (a, b)]
    ia, ib = (_run_inputs(e, method, x) for e, x in zip(ests, at_ests, strict=True))
    ratio = ia.cost_usd_median / ib.cost_usd_median
    central_ratio = ia.cost_usd_central / ib.cost_usd_central
    raw = cost_ratio_factors(
        compute_flop_a=ia.training_compute_flop,
        compute_flop_b=ib.training_compute_flop,
        peak_flop_per_s_a=ia.peak_flop_per_s,
        peak_flop_per_s_b=ib.peak_flop_per_s,
        utilization_a=ia.utilization,
        utilization_b=ib.utilization,
        price_usd_per_chip_hour_a=ia.price_usd_per_chip_hour,
        price_usd_per_chip_hour_b=ib.price_usd_per_chip_hour,
        memory_chip_factor_a=ia.memory_chip_factor,
        memory_chip_factor_b=ib.memory_chip_factor,
    )
    values: dict[str, float] = {k: float(v) for k, v in raw.items()}
    labels = dict(_LABELS)
    labels["price_per_chip_hour"] = f"price per chip-hour at each run's date ({method}: {_RATE.get(method, method)})"
    if at is not None:
        assert ia.price_usd_per_chip_hour_at is not None and ib.price_usd_per_chip_hour_at is not None
        chips, dates = split_price_factor(
            values["price_per_chip_hour"], ia.price_usd_per_chip_hour_at, ib.price_usd_per_chip_hour_at
        )
        price = values.pop("price_per_chip_hour")
        memory = values.pop("memory_chips")
        values["price_per_chip_hour_at_date"] = float(chips)
        values["price_date"] = float(dates)
        values["memory_chips"] = memory
        labels["price_per_chip_hour_at_date"] = f"price per chip-hour, both runs starting {at} ({method})"
        labels["price_date"] = "price change from that date to each run's own date"
        assert math.isclose(values["price_per_chip_hour_at_date"] * values["price_date"], price, rel_tol=1e-12)
    values[OTHER] = float(residual_factor(ratio, values))
    labels[OTHER] = (
        "other: none (point estimates, an exact product)"
        if point
        else "other: Monte Carlo (ratio of the median costs / ratio of the central costs)"
    )
    names = list(values)
    shares = log_shares(np.array([values[n] for n in names]), ratio)
    notes = {
        "memory_chips": "the pipeline never raises a run's chip count for memory "
        f"(fewest chips that hold it: {_count(ia.min_chips)} for A, {_count(ib.min_chips)} for B)",
        "utilization": "compute / (peak x chip-hours x 3600): the given or imputed MFU, or the one reported "
        "chips, time or chip-hours imply",
        "price_per_chip_hour": "the method's cost / chip-hours"
        + ("" if ia.dollars == ib.dollars else f" ({ia.dollars} against {ib.dollars})"),
    }
    factors = [
        Factor(n, labels[n], values[n], None if math.isnan(s) else float(s), notes.get(n, ""))
        for n, s in zip(names, shares.tolist(), strict=True)
    ]
    out_notes: list[str] = []
    if not math.isclose(math.prod(v for k, v in values.items() if k != OTHER), central_ratio, rel_tol=1e-9):
        out_notes.append("the named factors do not multiply to the ratio of the central costs")  # pragma: no cover
    if ia.dollars != ib.dollars:
        out_notes.append(
            f"costs in {ia.dollars} (A) and {ib.dollars} (B); --year-dollars puts both in one year's dollars"
        )
    for tag, e in (("A", ests[0]), ("B", ests[1])):
        out_notes += [f"{tag}: {n}" for n in e.notes]
    for tag, x in (("A", at_ests[0]), ("B", at_ests[1])):
        if x is not None:
            out_notes += [f"{tag} starting {at}: {n}" for n in x.notes]
    return CostExplanation(
        a=ia,
        b=ib,
        method=method,
        ratio=ratio,
        central_ratio=central_ratio,
        factors=factors,
        at=at,
        point=point,
        samples=ests[0].samples,
        seed=seed,
        sampling=sampling,
        source=db.describe(),
        notes=out_notes,
    )


def _estimate(name: str, tag: str, opts: dict[str, Any]) -> TrainingEstimate:
    """``training_estimate(name, **opts)``; a run that cannot be costed says which of the two it is."""
    try:
        return training_estimate(name, **opts)
    except MissingInputError as exc:
        raise MissingInputError(f"{tag}={name!r} cannot be costed: {exc}") from exc


def _count(x: float | None) -> str:
    return "unknown" if x is None else f"{x:,.0f}"
