"""The run planner: one training run estimated on each candidate chip, side by side.

Each row is the pipeline's estimate of the same run (:func:`flopcast.pipeline.estimate_run`) on one
chip, on the same draws, so a row's numbers are exactly ``flopcast estimate`` with that chip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flopcast.errors import FlopcastError

if TYPE_CHECKING:
    from flopcast.datasets.database import Database
    from flopcast.pipeline import Settings, TrainingEstimate
    from flopcast.quantities import Quantity
    from flopcast.uncertainty import Summary

#: the outputs a plan row shows, in order (the costs follow, one per method)
PLAN_OUTPUTS = (
    "min_chips",
    "chips",
    "duration_s",
    "chip_hours",
    "peak_power_w",
    "energy_chip_j",
    "energy_facility_j",
    "emissions_kg_co2e",
)


@dataclass
class PlanRow:
    """The run on one chip: the estimate, or why there is none."""

    hardware: str
    estimate: TrainingEstimate | None
    error: str = ""

    def value(self, name: str) -> Summary | None:
        if self.estimate is None:
            return None
        if name.startswith("cost_usd."):
            return self.estimate.cost_usd.get(name.removeprefix("cost_usd."))
        return getattr(self.estimate, name, None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hardware": self.hardware, "error": self.error or None}
        if self.estimate is not None:
            e = self.estimate
            out["name"] = e.hardware
            for k in PLAN_OUTPUTS:
                s = getattr(e, k)
                out[k] = s.to_dict() if s is not None else None
            out["cost_usd"] = {m: s.to_dict() for m, s in e.cost_usd.items()}
            out["skipped_methods"] = dict(e.skipped_methods)
            out["notes"] = list(e.notes)
        return out


@dataclass
class RunPlan:
    """A run on several chips; ``describe`` says what run it is."""

    rows: list[PlanRow]
    methods: tuple[str, ...]
    describe: str
    start_date: dt.date
    dollars: str = ""
    samples: int = 0
    seed: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.describe,
            "start_date": self.start_date.isoformat(),
            "dollars": self.dollars,
            "methods": list(self.methods),
            "samples": self.samples,
            "seed": self.seed,
            "rows": [r.to_dict() for r in self.rows],
            "notes": list(self.notes),
        }


def _describe(params: Any, tokens: Any, compute: Any, chips: Any, hours: Any, utilization: Any) -> str:
    from flopcast.formatting import format_sci
    from flopcast.uncertainty import as_distribution

    def show(name: str, v: Any) -> str:
        d = as_distribution(v, name)
        if d.is_point:
            return format_sci(d.median)
        lo, hi = d.interval(0.9)
        return f"{format_sci(lo)}-{format_sci(hi)}"

    what = (
        f"{show('params', params)} parameters x {show('tokens', tokens)} tokens"
        if compute is None
        else (f"{show('training_compute_flop', compute)} FLOP")
    )
    size = (
        f" on {show('chips', chips)} chips"
        if chips is not None
        else (f" within {show('training_time_hours', hours)} hours" if hours is not None else "")
    )
    mfu = f" at utilization {show('utilization', utilization)}" if utilization is not None else ""
    return what + size + mfu


def plan_run(
    hardware: list[str],
    db: Database,
    *,
    settings: Settings,
    params: Quantity | None = None,
    tokens: Quantity | None = None,
    compute: Quantity | None = None,
    chips: Quantity | None = None,
    hours: Quantity | None = None,
    utilization: Quantity | None = None,
    precision: str | None = None,
    start_date: dt.date,
    organization: str | None = None,
    samples: int = 10_000,
    seed: int | None = 0,
) -> RunPlan:
    """The run on each chip of ``hardware``; a chip the tables cannot cost gets its reason, not a row of zeros.

    Every name must resolve (an unknown chip is an error naming the closest ones, before any work).
    """
    from flopcast.pipeline import RunSpec, estimate_run

    for name in hardware:
        db.hardware.resolve(name)
    rows: list[PlanRow] = []
    dollars = ""
    for name in hardware:
        spec = RunSpec(
            params=params,
            tokens=tokens,
            training_compute_flop=compute,
            hardware=name,
            precision=precision,
            chips=chips,
            training_time_hours=hours,
            utilization=utilization,
            start_date=start_date,
            organization=organization,
        )
        try:
            est = estimate_run(None, db, spec=spec, settings=settings, samples=samples, seed=seed)
        except FlopcastError as exc:
            rows.append(PlanRow(name, None, str(exc)))
            continue
        dollars = dollars or est.dollars
        rows.append(PlanRow(name, est))
    return RunPlan(
        rows,
        settings.methods,
        _describe(params, tokens, compute, chips, hours, utilization),
        start_date,
        dollars,
        samples,
        seed,
    )
