"""Resolution: a model record and the user's values become a :class:`~flopcast.pipeline.spec.Run`,
each input a distribution with its provenance and source. No numbers are drawn here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flopcast import compute as C
from flopcast import training
from flopcast.catalogs import constants as K
from flopcast.datasets.records import ModelRecord
from flopcast.errors import InvalidInputError, MissingInputError
from flopcast.pipeline.evidence import _compute_interval, _counted, _scaled
from flopcast.pipeline.money import _MoneyInputs
from flopcast.pipeline.spec import (
    _UNITS,
    IMPLIED_MFU_LOW,
    IMPLIED_MFU_WARNING,
    Architecture,
    InputRecord,
    NotEstimable,
    Run,
    RunSpec,
    Settings,
)
from flopcast.uncertainty import Distribution, Point, as_distribution
from flopcast.units import SECONDS_PER_HOUR

if TYPE_CHECKING:
    from flopcast.catalogs import Hardware
    from flopcast.datasets.database import Database
    from flopcast.quantities import Quantity

# ----------------------------------------------------------------------------- resolution


def _conditioned_prior(
    hw: Hardware | None, chips: float | None, precision: str | None
) -> tuple[Distribution, str, float]:
    """The MFU prior conditioned on the chip's generation, the run's chip count and its precision, fitted to the
    reported MFU of the database and of published runs (:func:`flopcast.utilization.prior.utilization_prior_for`)."""
    from flopcast.utilization.prior import utilization_prior_for

    prior = utilization_prior_for(hw, chips=chips, precision=precision)
    return prior.distribution(), prior.source, prior.median


def _cottier_prior(hw: Hardware | None, chips: float | None, precision: str | None) -> tuple[Distribution, str, float]:
    """Cottier et al. 2024's one prior for every run: the median of reported MFU, 0.375, 90% CI 0.10-0.65."""
    c = K.constant("utilization", "default")
    return (
        c.distribution(),
        f"Cottier et al. 2024: median of reported MFU {c.value:g}, 90% CI {c.low:g}-{c.high:g}",
        c.value,
    )


#: the MFU imputed where none is reported, by name (:data:`~flopcast.defaults.UTILIZATION_PRIOR_CHOICES`):
#: (chip, chip count, precision) -> (distribution, source, central value)
UTILIZATION_PRIORS: dict[
    str, Callable[[Hardware | None, float | None, str | None], tuple[Distribution, str, float]]
] = {
    "conditioned": _conditioned_prior,
    "cottier": _cottier_prior,
}


class _Resolver(_MoneyInputs):
    """Builds one :class:`Run`; every rule is a method so the order reads top to bottom."""

    def __init__(self, record: ModelRecord | None, spec: RunSpec, settings: Settings, db: Database) -> None:
        self.r, self.spec, self.s, self.db = record, spec, settings, db
        self.inputs: dict[str, InputRecord] = {}
        self.notes: list[str] = list(record.notes) if record else []
        self.warnings: list[str] = []
        self.skipped: dict[str, str] = {}

    # -- helpers ----------------------------------------------------------------------------
    def add(self, name: str, value: Quantity, provenance: str, source: str = "", central: float | None = None) -> None:
        dist = as_distribution(value, name)
        if central is None:
            central = dist.value if isinstance(dist, Point) else float(dist.median)
        self.inputs[name] = InputRecord(name, dist, _UNITS[name], provenance, source, float(central))

    def user(self, attr: str) -> Any:
        return getattr(self.spec, attr)

    def rec(self, attr: str) -> Any:
        return getattr(self.r, attr) if self.r is not None else None

    def rec_source(self, attr: str) -> str:
        return self.r.source_of(attr) if self.r is not None else ""

    # -- the run ----------------------------------------------------------------------------
    def build(self) -> Run:
        r, spec = self.r, self.spec
        self.name = r.name if r else "custom run"
        self.key = r.key if r else "custom"
        self.pub = spec.publication_date or (r.publication_date if r else None)
        self.organization = spec.organization or (", ".join(r.organizations) if r else "")
        self.finetune = bool(r and r.is_finetune)
        self.precision = spec.precision
        self._hardware()
        self._size_and_data()
        self._compute()
        self._check_compute_routes()
        self._hardware_time()
        self._route()
        self._dates()
        for m in self.s.methods:
            try:
                getattr(self, f"_{m}_inputs")()
            except MissingInputError as exc:
                if self.s.strict_methods:
                    raise
                self.skipped[m] = str(exc)
        methods = tuple(m for m in self.s.methods if m not in self.skipped)
        if self.path is not None:
            self._power_inputs()
        dollars, inflation = self._dollars()
        return Run(
            name=self.name,
            key=self.key,
            hardware=self.hw,
            inputs=self.inputs,
            path=self.path,
            methods=methods,
            skipped_methods=self.skipped,
            record=r,
            publication_date=self.pub,
            start_date=self.start,
            inflation=inflation,
            dollars=dollars,
            notes=self.notes,
            warnings=self.warnings,
            compute_including_base_flop=self.including_base,
            is_finetune=self.finetune,
            source=self.db.describe() if self.db is not None else "user inputs",
            state_precision=training.state_precision(self.precision),
            hardware_provenance=self.hw_provenance if self.hw is not None else "",
            hardware_source=self.hw_source if self.hw is not None else "",
            architecture=self._architecture(),
        )

    def _architecture(self) -> Architecture | None:
        """Heads, KV heads, feed-forward width and vocabulary from the record (the curated catalog's), for the
        memory per rank; None without the heads or without layers, width and context to go with them."""
        r = self.r
        if r is None or not r.n_heads or not all(k in self.inputs for k in ("n_layers", "d_attn", "context_length")):
            return None
        from flopcast.catalogs.models import GATED_FFN

        width = self._central("d_attn")
        return Architecture(
            n_heads=float(r.n_heads),
            kv_ratio=float(r.n_kv_heads or r.n_heads) / float(r.n_heads),
            ffn_ratio=float(r.ffn_hidden or 4.0 * (r.d_model or width)) / width,
            gated_ffn=r.ffn_activation in GATED_FFN,
            vocab=float(r.vocab or 0.0),
        )

    def _hardware(self) -> None:
        """The chip: the user's, else the one the record names, else an imputed one, else none."""
        r, spec, catalog = self.r, self.spec, self.db.hardware
        self.hw, self.hw_override = None, False
        self.hw_provenance, self.hw_source = "", ""
        if spec.hardware is not None:
            self.hw, note = catalog.resolve(spec.hardware)
            if note:
                self.notes.append(note)
            self.hw_provenance, self.hw_source = "user", "given"
            pub = self.pub
            if pub is not None and self.hw.release_date and self.hw.release_date > pub:
                self.notes.append(
                    f"{self.hw.name} was released {self.hw.release_date}, after this model was "
                    f"published ({pub}): a counterfactual run, priced from the chip's first prices"
                )
            named, _ = catalog.match_names(r.training_hardware) if r and r.training_hardware else (None, [])
            if r is not None and (named is None or named.key != self.hw.key):
                self.hw_override = True
                was = named.name if named else "an unknown chip"
                self.notes.append(
                    f"hardware changed from {was} to {self.hw.name}: chip-hours are recomputed from "
                    "compute; the reported chip-hours, chip count and utilization are not used"
                )
            return
        if r is None:
            return
        if r.training_hardware:
            self.hw, notes = catalog.match_names(r.training_hardware)
            self.notes.extend(notes)
            hw = self.hw
            if hw is not None and hw.release_date and r.publication_date and hw.release_date > r.publication_date:
                self.hw = catalog.family_variant_before(hw.family, r.publication_date)
                instead = (
                    f"; costed on {self.hw.name}, the same family released in time" if self.hw else "; it is not used"
                )
                self.warnings.append(
                    f"training_hardware: the database names {hw.name}, released {hw.release_date}, "
                    f"after this model's publication ({r.publication_date}){instead}"
                )
            if self.hw is not None:
                self.hw_provenance, self.hw_source = "reported", self.rec_source("training_hardware")
                return
        hw, why = self.db.imputer.hardware(r)
        if hw is None:
            self.no_hardware_reason = why
            return
        self.hw, self.hw_provenance, self.hw_source = hw, "imputed", why
        self.notes.append(f"hardware (imputed): {hw.name}, {why}")

    def _size_and_data(self) -> None:
        """Parameters, tokens and the shape the attention term needs."""
        r, spec = self.r, self.spec
        sized = any(v is not None for v in (spec.params, spec.params_active, spec.tokens))
        self.user_sized = sized
        p = spec.params_active if spec.params_active is not None else spec.params
        if p is not None:  # the user gave params_active or params
            self.add("params_per_token", p, "user", "given")
        elif not self.finetune and self.rec("params_per_token"):
            attr = "params_active" if self.rec("params_active") else "parameters"
            self.add("params_per_token", self.rec("params_per_token"), "reported", self.rec_source(attr))
        total = spec.params if spec.params is not None else self.rec("parameters")
        if total is not None:
            self.add(
                "params",
                total,
                "user" if spec.params is not None else "reported",
                "given" if spec.params is not None else self.rec_source("parameters"),
            )
        if spec.tokens is not None:
            self.add("tokens", spec.tokens, "user", "given")
            ep = spec.epochs
            self.add(
                "epochs",
                1.0 if ep is None else ep,
                "user" if ep is not None else "default",
                "given" if ep is not None else "one pass over the tokens",
            )
        elif not self.finetune and r is not None and r.training_tokens:
            src = self.rec_source("training_tokens")
            if r.dataset_unit == "words":
                src += "; the dataset size counts words: x4/3 tokens a word"
            self.add("tokens", r.training_tokens, "reported" if r.dataset_unit == "tokens" else "derived", src)
            ep = spec.epochs if spec.epochs is not None else r.epochs
            self.add(
                "epochs",
                1.0 if ep is None else ep,
                "reported" if ep is not None else "default",
                self.rec_source("epochs") if ep is not None else "one pass over the tokens",
            )
        elif self.finetune and r is not None and r.training_tokens:
            self.notes.append(
                "fine-tune: the database's dataset size is not used for 6ND (it may count the base model's data)"
            )
        for attr in ("n_layers", "d_attn", "context_length"):
            v = self.user(attr)
            if v is not None:
                self.add(attr, v, "user", "given")
            elif self.rec(attr) is not None:
                self.add(attr, self.rec(attr), "reported", self.rec_source(attr))
        if "d_attn" not in self.inputs and r is not None and r.d_model is not None and "n_layers" in self.inputs:
            self.add("d_attn", r.d_model, "derived", "d_model (multi-head attention spans the model width)")

    def _compute(self) -> None:
        """The run's own training compute: the user's, else reported (a fine-tune's own), with its evidence."""
        r, spec = self.r, self.spec
        self.including_base = None
        if spec.training_compute_flop is not None:
            self.add("training_compute_flop", spec.training_compute_flop, "user", "given")
            return
        if r is None:
            return
        if self.finetune:
            own = r.finetune_compute_flop or r.post_training_compute_flop
            self.including_base = r.training_compute_flop
            if own:
                attr = "finetune_compute_flop" if r.finetune_compute_flop else "post_training_compute_flop"
                dist, why = _compute_interval(replace(r, compute_lower_flop=None, compute_upper_flop=None), own, False)
                self.add("training_compute_flop", dist, "reported", f"{self.rec_source(attr)}; interval: {why}", own)
                self.notes.append(
                    f"fine-tune of {r.base_model}: the cost is that of its own fine-tuning compute "
                    f"({own:.3g} FLOP)"
                    + (
                        f"; with the base model's, {r.training_compute_flop:.3g} FLOP"
                        if r.training_compute_flop
                        else ""
                    )
                )
            else:
                self.warnings.append(
                    f"finetune_compute_flop: a fine-tune of {r.base_model} with no fine-tuning "
                    "compute in the database; only its own chip-hours or chips x time can cost it"
                )
            return
        if r.training_compute_flop is None:
            return
        if self.user_sized:
            self.notes.append("the database's training compute is not used because parameters or tokens were given")
            return
        dist, why = _compute_interval(r, r.training_compute_flop, _counted(r))
        self.add(
            "training_compute_flop",
            dist,
            "reported",
            f"{self.rec_source('training_compute_flop')}; interval: {why}",
            r.training_compute_flop,
        )

    def _six_nd(self) -> float:
        """The central compute of parameters x tokens (with the attention term when the shape is known)."""
        shape = all(k in self.inputs for k in ("n_layers", "d_attn", "context_length"))
        return float(
            C.training_compute_flop(
                self._central("params_per_token"),
                self._central("tokens"),
                epochs=self._central("epochs"),
                n_layers=self._central("n_layers") if shape else None,
                d_attn=self._central("d_attn") if shape else None,
                context_length=self._central("context_length") if shape else None,
                convention=self.s.convention,
            )
        )

    def _check_compute_routes(self) -> None:
        """A training compute and parameters x tokens that differ by more than 3x: a warning naming both."""
        i = self.inputs
        if not ("training_compute_flop" in i and "params_per_token" in i and "tokens" in i):
            return
        given, counted = self._central("training_compute_flop"), self._six_nd()
        if C.disagrees(given, counted):
            who = "given" if i["training_compute_flop"].provenance == "user" else "reported"
            self.warnings.append(
                f"training_compute_flop: the {who} {given:.3g} FLOP and parameters x tokens ({counted:.3g} FLOP) "
                f"differ by {C.disagreement_ratio(given, counted):.1f}x (more than {C.DISAGREEMENT_FACTOR:g}x); "
                "the training compute is used"
                + (
                    ""
                    if "params_active" in self.spec.given() or self.rec("params_active")
                    else "; a mixture of experts counts its active parameters only"
                )
            )

    def _hardware_time(self) -> None:
        """Chip count, training time and chip-hours: the user's, else the record's (not with a changed chip)."""
        spec = self.spec
        use_record = self.r is not None and not self.hw_override and spec.reported_run
        for attr, name, rec_attr, factor in (
            ("chips", "chips", "hardware_quantity", "reported_chip_count_factor"),
            ("training_time_hours", "training_time_hours", "training_time_hours", "reported_training_time_factor"),
            ("chip_hours", "chip_hours", "chip_hours", "reported_chip_hours_factor"),
        ):
            v = self.user(attr)
            if v is not None:
                self.add(name, v, "user", "given")
                continue
            from_record = use_record or (attr == "training_time_hours" and spec.reported_run)
            rv = self.rec(rec_attr) if from_record else None
            if rv is not None and not (
                attr == "chip_hours" and (spec.chips is not None or spec.training_time_hours is not None)
            ):
                c = K.constant(factor)
                self.add(
                    name,
                    _scaled(rv, c.distribution()),
                    "reported",
                    f"{self.rec_source(rec_attr)}; x{c.low:.3g}-{c.high:.3g} (90%)",
                    rv,
                )
        u = spec.utilization if spec.utilization is not None else (self.rec("utilization") if use_record else None)
        self.u_given = u is not None
        if u is not None:
            prov = "user" if spec.utilization is not None else "reported"
            self.add("utilization", u, prov, "given" if prov == "user" else self.rec_source("utilization"))

    def _route(self) -> None:
        """Which route reaches chip-hours, and the checks between routes."""
        i = self.inputs
        has_compute = "training_compute_flop" in i or ("params_per_token" in i and "tokens" in i)
        if "chip_hours" in i:
            self.path = "chip_hours"
        elif "chips" in i and "training_time_hours" in i:
            self.path = "chips_time"
        elif has_compute and self.hw is not None:
            self.path = "compute"
        else:
            self.path = None
        if self.hw is None:
            why = getattr(self, "no_hardware_reason", "no hardware given (--hardware)")
            if self.path is not None and self.path != "compute":
                raise MissingInputError(f"chip-hours need a chip to cost them: {why}")
            self.path = None
            if not has_compute:
                raise NotEstimable(f"no training compute, parameters x tokens, or hardware x time ({why})")
            self.notes.append(f"compute only, no chip-hours or cost: {why}")
            return
        if self.path is None:
            raise NotEstimable(
                "no training compute, parameters x tokens, chip-hours, or chips x time"
                + (" (a fine-tune without its own compute)" if self.finetune else "")
            )
        self._peak()
        if self.path == "compute" and "utilization" not in i:
            self._impute_utilization("")
        if self.path != "compute" and not has_compute and "utilization" not in i:
            self._impute_utilization(" (sets compute from hardware x time)")
        self.implied = self.path != "compute" and has_compute
        if self.implied:
            self._check_implied_utilization()

    def _impute_utilization(self, why: str) -> None:
        """The MFU where none is reported, by the prior ``Settings.utilization_prior`` names (:data:`UTILIZATION_PRIORS`)."""
        chips = self.inputs.get("chips")
        dist, source, central = UTILIZATION_PRIORS[self.s.utilization_prior](
            self.hw, chips.central if chips is not None else None, self.precision
        )
        self.add("utilization", dist, "imputed", source + why, central)

    def _peak(self) -> None:
        spec, hw = self.spec, self.hw
        assert hw is not None  # _route looks for a peak only with a chip
        if spec.peak_flop_per_s is not None:
            self.add("peak_flop_per_s", spec.peak_flop_per_s, "user", "given")
            return
        precision = spec.precision
        if (
            precision is None
            and self.r is not None
            and not self.hw_override
            and self.r.precision
            and self.r.precision in hw.peak_flop_per_s_by_precision
            and self.r.precision in ("bf16", "fp16", "tf32", "fp32", "fp8")
        ):
            precision = self.r.precision
        self.precision = precision
        if precision is not None:
            peak, p = hw.peak_flop_per_s(precision), precision
        else:
            found = hw.peak_for_cost()
            if found is None:
                raise MissingInputError(
                    f"{hw.name} has no peak FLOP/s in the chip tables; choose a chip that has one (--hardware; see `flopcast hardware list`)"
                )
            peak, p = found
            if p == "int8":
                self.notes.append(f"{hw.name} has no floating-point peak; its INT8 OP/s stands in")
        self.add("peak_flop_per_s", peak, "reported", f"{hw.name} dense {p} peak; {hw.source}")

    def _central(self, name: str) -> float:
        central = self.inputs[name].central
        assert central is not None  # add() sets every input's central value
        return central

    def _check_implied_utilization(self) -> None:
        """Compute against hardware x time: the utilization they imply must be possible."""
        i = self.inputs
        if "training_compute_flop" in i:
            comp, what = self._central("training_compute_flop"), "the training compute"
        else:
            comp, what = self._six_nd(), "parameters x tokens (6ND)"
        chip_hours = (
            self._central("chip_hours")
            if self.path == "chip_hours"
            else self._central("chips") * self._central("training_time_hours")
        )
        peak = self._central("peak_flop_per_s")
        implied = comp / (chip_hours * SECONDS_PER_HOUR * peak)
        hw_what = "chip-hours" if self.path == "chip_hours" else "chips x training time"
        msg = (
            f"{what} ({comp:.3g} FLOP) and {hw_what} ({chip_hours:.3g} chip-hours at {peak:.3g} FLOP/s peak) "
            f"imply {implied:.0%} utilization"
        )
        user_fields = set(self.spec.given())
        if implied > 1:
            if user_fields & {
                "params",
                "params_active",
                "tokens",
                "epochs",
                "training_compute_flop",
                "chips",
                "training_time_hours",
                "chip_hours",
                "hardware",
                "peak_flop_per_s",
            }:
                raise InvalidInputError(
                    msg + "; more than the chips' peak: check --params/--tokens/--compute "
                    "against --chips/--hours/--days/--chip-hours and --hardware"
                )
            self.warnings.append(
                msg + ", more than the chips' peak: the database's compute and hardware "
                "disagree; chip-hours are used for the cost"
            )
        elif implied > IMPLIED_MFU_WARNING:
            self.warnings.append(msg + f", above {IMPLIED_MFU_WARNING:.0%}: check the inputs")
        elif implied < IMPLIED_MFU_LOW:
            self.warnings.append(msg + f", below {IMPLIED_MFU_LOW:.0%}: the two disagree; check the inputs")
        if self.u_given:
            given = self._central("utilization")
            if abs(implied - given) > 0.5 * given:
                self.warnings.append(
                    f"the utilization given ({given:.0%}) differs from the {implied:.0%} that "
                    f"{what} and {hw_what} imply"
                )

    def _dates(self) -> None:
        """Training start (prices and depreciation date from it) and the publication date."""
        spec, r = self.spec, self.r
        gap = int(K.constant("training_start_gap_days").value)
        if spec.start_date is not None:
            self.start = spec.start_date
        elif r is not None and r.training_start_date is not None:
            self.start = r.training_start_date
            self.notes.append(f"training start {self.start}, as set by Cottier et al. 2024 for this model")
        elif self.pub is not None:
            hrs = (
                self._central("training_time_hours")
                if "training_time_hours" in self.inputs
                else K.constant("training_time_hours", "default").value
            )
            self.start = self.pub - dt.timedelta(days=int(hrs // 24) + gap)
        else:
            self.start = dt.date.today()
        if self.pub is None:
            self.pub = self.start
        if self.path is not None and "training_time_hours" not in self.inputs and "chips" not in self.inputs:
            c = K.constant("training_time_hours", "default")
            f = K.constant("training_time_factor")
            self.add(
                "training_time_hours",
                _scaled(c.value, f.distribution()),
                "imputed",
                f"Cottier et al. 2024: {c.value:g} h (33.1 days) when none is reported, x{f.low:g}-{f.high:g}",
                c.value,
            )

    # -- money ------------------------------------------------------------------------------


def resolve(
    record: ModelRecord | None,
    spec: RunSpec | None = None,
    settings: Settings | None = None,
    db: Database | None = None,
) -> Run:
    """The run for ``record`` (None for a run described by ``spec`` alone) on the database ``db``."""
    if db is None:
        from flopcast.datasets.database import load_database

        db = load_database()
    return _Resolver(record, spec or RunSpec(), settings or Settings(), db).build()
