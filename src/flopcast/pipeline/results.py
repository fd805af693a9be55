"""The typed results: :class:`TrainingEstimate` for one run, :class:`BatchResult` for many."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from flopcast.defaults import (
    DEFAULT_SAMPLING,
)
from flopcast.pipeline.spec import InputRecord
from flopcast.uncertainty import Summary
from flopcast.uncertainty.sensitivity import SensitivityRow

if TYPE_CHECKING:
    from flopcast.pipeline.development import DevelopmentCost

# ----------------------------------------------------------------------------- results


@dataclass(eq=False)
class TrainingEstimate:
    """Result of a training-cost estimate. All values in SI units and USD."""

    name: str
    key: str
    hardware: str
    training_compute_flop: Summary
    chip_hours: Summary | None
    duration_s: Summary | None
    chips: Summary | None
    memory_bytes: Summary | None
    min_chips: Summary | None
    cost_usd: dict[str, Summary]
    #: values of the published method with every input at its central value
    central: dict[str, float]
    compute_from_params_flop: Summary | None = None
    compute_including_base_flop: Summary | None = None
    implied_utilization: Summary | None = None
    dollars: str = ""
    inputs: list[InputRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_methods: dict[str, str] = field(default_factory=dict)
    sensitivity: dict[str, list[SensitivityRow]] = field(default_factory=dict)
    samples: int = 0
    seed: int | None = None
    sampling: str = DEFAULT_SAMPLING
    #: the database and its date, or "user inputs"
    source: str = ""
    publication_date: dt.date | None = None
    is_finetune: bool = False
    organization: str = ""
    domain: str = ""
    #: where the chip came from ("reported", "imputed", "user"; "" for compute only)
    hardware_provenance: str = ""
    #: the facility power the cluster needs at full load, W (chips x TDP x server power ratio x PUE)
    peak_power_w: Summary | None = None
    #: chip-hours x TDP, J (the model-card convention)
    energy_chip_j: Summary | None = None
    #: chip energy x server power ratio x average power fraction x PUE, J (Cottier et al.'s)
    energy_facility_j: Summary | None = None
    #: facility energy x grid carbon intensity, kg CO2e
    emissions_kg_co2e: Summary | None = None
    #: the database's own figure for the power draw (Epoch's "Training power draw (W)"), W
    reported_power_w: float | None = None
    #: development beyond the final run (experiments, R&D staff): separate lines, never in ``cost_usd``
    development: DevelopmentCost | None = None

    _OPTIONAL = (
        "compute_from_params_flop",
        "compute_including_base_flop",
        "chip_hours",
        "implied_utilization",
        "duration_s",
        "chips",
        "memory_bytes",
        "min_chips",
        "peak_power_w",
        "energy_chip_j",
        "energy_facility_j",
        "emissions_kg_co2e",
    )

    def outputs(self) -> dict[str, Summary]:
        out = {"training_compute_flop": self.training_compute_flop}
        for name in self._OPTIONAL:
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for method, s in self.cost_usd.items():
            out[f"cost_usd.{method}"] = s
        return out

    @property
    def provenance(self) -> dict[str, str]:
        out = {"hardware": self.hardware_provenance} if self.hardware_provenance else {}
        out.update({r.name: r.provenance for r in self.inputs})
        return out

    def imputed_inputs(self) -> list[str]:
        return [k for k, v in self.provenance.items() if v == "imputed"]

    def to_dict(self, *, inputs: bool = True) -> dict:
        out: dict[str, Any] = {
            "name": self.name,
            "key": self.key,
            "hardware": self.hardware,
            "source": self.source,
            "publication_date": self.publication_date.isoformat() if self.publication_date else None,
            "organization": self.organization,
            "domain": self.domain,
            "is_finetune": self.is_finetune,
            "dollars": self.dollars,
            "samples": self.samples,
            "seed": self.seed,
            "sampling": self.sampling,
            "reported_power_w": self.reported_power_w,
        }
        for k, s in self.outputs().items():
            if not k.startswith("cost_usd."):
                out[k] = dict(s.to_dict(), central=self.central.get(k))
        out["cost_usd"] = {
            m: dict(s.to_dict(), central=self.central.get(f"cost_usd.{m}")) for m, s in self.cost_usd.items()
        }
        out["skipped_methods"] = dict(self.skipped_methods)
        out["provenance"] = self.provenance
        if inputs:
            out["inputs"] = [r.to_dict() for r in self.inputs]
        out["notes"], out["warnings"] = list(self.notes), list(self.warnings)
        if self.development is not None:
            out["development"] = self.development.to_dict()
        if self.sensitivity:
            out["sensitivity"] = {
                k: [{"input": r.input, "rank_correlation": r.rank_correlation, "share": r.share} for r in rows]
                for k, rows in self.sensitivity.items()
            }
        return out

    def to_frame(self):
        """One row per output: unit, median, mean, p5, p95, central value."""
        import pandas as pd

        rows = [
            dict(output=k, unit=s.unit, **s.to_dict(), central=self.central.get(k)) for k, s in self.outputs().items()
        ]
        return pd.DataFrame(rows).set_index("output")

    def point(self) -> TrainingEstimate:
        """This estimate with every output at the published method's point value (inputs at their central values)."""

        def pt(k: str, s: Summary) -> Summary:
            v = self.central.get(k, s.median)
            return Summary(v, v, v, v, s.unit)

        out: dict[str, Any] = {
            n: pt(n, getattr(self, n))
            for n in ("training_compute_flop", *self._OPTIONAL)
            if getattr(self, n) is not None
        }
        costs = {m: pt(f"cost_usd.{m}", s) for m, s in self.cost_usd.items()}
        dev = self.development.point() if self.development is not None else None
        return replace(self, cost_usd=costs, samples=1, sensitivity={}, development=dev, **out)

    def summary(self) -> str:
        from flopcast.formatting import format_summary

        lines = [f"{self.name} on {self.hardware}"]
        for k, s in self.outputs().items():
            lines.append(f"  {k}: {format_summary(s)}")
        if self.development is not None:
            lines += [f"  development.{k}: {format_summary(s)}" for k, s in self.development.lines().items()]
        lines += [f"  note: {n}" for n in self.notes] + [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda v: f"{v:.4g}")


@dataclass
class BatchResult:
    """Estimates for many records, and the records that could not be estimated (with the reason)."""

    estimates: list[TrainingEstimate]
    skipped: list[dict]
    methods: tuple[str, ...]
    dollars: str
    source: str
    samples: int
    seed: int | None
    sampling: str
    selection: str = ""

    def rows(self) -> list[dict]:
        """One flat row per model (the CSV columns of ``costs``)."""
        return [flat_row(e, self.methods) for e in self.estimates]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "dollars": self.dollars,
            "samples": self.samples,
            "seed": self.seed,
            "sampling": self.sampling,
            "methods": list(self.methods),
            "selection": self.selection,
            "models": [e.to_dict(inputs=False) for e in self.estimates],
            "skipped": self.skipped,
        }


#: the power columns of a flat row (each with _p5 and _p95)
POWER_COLUMNS = ("peak_power_w", "energy_chip_j", "energy_facility_j", "emissions_kg_co2e")
#: the outputs whose summaries a flat row reads, besides every method's cost (``cost_usd.<method>``; the compute
#: from parameters x tokens for whether there is one): a batch that only makes flat rows (``costs`` as a table or
#: CSV) summarizes these alone
ROW_OUTPUTS = frozenset(("training_compute_flop", "chip_hours", *POWER_COLUMNS, "compute_from_params_flop"))


def flat_row(e: TrainingEstimate, methods: Sequence[str]) -> dict:
    row = {
        "model": e.name,
        "key": e.key,
        "publication_date": e.publication_date.isoformat() if e.publication_date else "",
        "organization": e.organization,
        "domain": e.domain,
        "hardware": e.hardware,
        "is_finetune": e.is_finetune,
    }
    for k in ("training_compute_flop", "chip_hours"):
        s = getattr(e, k)
        row[k], row[f"{k}_p5"], row[f"{k}_p95"] = (s.median, s.p5, s.p95) if s is not None else (None, None, None)
    comp = next((r for r in e.inputs if r.name == "training_compute_flop"), None)
    row["compute_source"] = (
        comp.provenance
        if comp is not None
        else (
            "derived (parameters x tokens)" if e.compute_from_params_flop is not None else "derived (hardware x time)"
        )
    )
    for m in methods:
        s = e.cost_usd.get(m)
        row[f"cost_{m}_usd"], row[f"cost_{m}_usd_p5"], row[f"cost_{m}_usd_p95"] = (
            (s.median, s.p5, s.p95) if s is not None else (None, None, None)
        )
    for k in POWER_COLUMNS:
        s = getattr(e, k)
        row[k], row[f"{k}_p5"], row[f"{k}_p95"] = (s.median, s.p5, s.p95) if s is not None else (None, None, None)
    row["reported_power_w"] = e.reported_power_w
    row["imputed_inputs"] = ";".join(e.imputed_inputs())
    row["notes"] = "; ".join(
        [*e.notes, *e.warnings, *(f"{m} cost skipped: {why}" for m, why in e.skipped_methods.items())]
    )
    return row
