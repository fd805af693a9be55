"""Development cost beyond the final run: experiments and R&D staff, drawn on the estimate's sample indices.

The final run's cost is the pipeline's (never changed here). On top of it, for one cost method (the
amortized one where the estimate has it: Cottier et al.'s shares are of amortized hardware + energy):

- experiments = final x (m - 1), ``m`` the experiments multiplier (:data:`EXPERIMENT_BASES` names which);
- development compute (hardware + energy of experiments and final run) = final x m;
- R&D staff = development compute x s / (1 - s), ``s`` staff's share of the total (``rd_staff_share``);
- total development = development compute + staff = development compute / (1 - s).

``m`` and ``s`` are drawn once per sample index from a uniform block of their own (seeded from the call's
seed), so the estimate's own draws, and every number it had before, stay as they were; sample ``i`` of
every development line uses sample ``i`` of the final run. Multipliers drawn below 1 (1.6% of Cottier's
lognormal 1.2-4x) are taken as 1: experiments cannot cost less than nothing. docs/methods.md,
"Development cost beyond the final run".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from flopcast import training
from flopcast.catalogs import constants as K
from flopcast.methods import DEFAULT_EXPERIMENTS, EXPERIMENT_BASES, check_experiments
from flopcast.uncertainty import Distribution, Point, Summary
from flopcast.uncertainty.sampling import make_rng, uniforms

if TYPE_CHECKING:
    from flopcast.pipeline.draws import Draws
    from flopcast.pipeline.results import TrainingEstimate

#: the development lines, in the order outputs list them
LINES = ("final_run_usd", "experiments_usd", "rd_staff_usd", "total_usd")
#: the block's own slots (never the pipeline's SLOTS: adding to those would move every Sobol draw)
DEV_SLOTS = ("experiments_multiplier", "rd_staff_share")
#: mixed into the call's seed for the block's uniforms
_BLOCK_KEY = 0x646576
#: ``SeedSequence([seed, _BLOCK_KEY]).generate_state(1)[0]`` for the default seed, written out so that an estimate
#: does not import numpy.random (about 12 ms of a command) to derive it; tests/test_development.py checks it
_BLOCK_SEEDS = {0: 2009783790}


@dataclass(eq=False)
class DevelopmentCost:
    """A model's development cost beyond its final run (USD), each line a median with its 90% interval.

    Separate from the final-run cost of :class:`~flopcast.pipeline.TrainingEstimate` (``cost_usd``), which
    ``estimate``, ``costs`` and the trends use unchanged.
    """

    #: the cost method the lines are built on (amortized where the estimate has it)
    cost_method: str
    #: where the experiments multiplier comes from (a key of :data:`EXPERIMENT_BASES`)
    experiments: str
    final_run_usd: Summary
    experiments_usd: Summary
    rd_staff_usd: Summary
    total_usd: Summary
    experiments_multiplier: Summary
    staff_share: Summary
    #: every line with every input at its central value
    central: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def lines(self) -> dict[str, Summary]:
        return {k: getattr(self, k) for k in LINES}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cost_method": self.cost_method, "experiments": self.experiments}
        for k, s in self.lines().items():
            out[k] = dict(s.to_dict(), central=self.central.get(k))
        for k in ("experiments_multiplier", "staff_share"):
            out[k] = dict(getattr(self, k).to_dict(), central=self.central.get(k))
        out["sources"] = dict(self.sources)
        return out

    def point(self) -> DevelopmentCost:
        """Every line at its central value."""

        def pt(k: str, s: Summary) -> Summary:
            v = self.central.get(k, s.median)
            return Summary(v, v, v, v, s.unit)

        names = (*LINES, "experiments_multiplier", "staff_share")
        points: dict[str, Any] = {k: pt(k, getattr(self, k)) for k in names}
        return replace(self, **points)

    def summary(self) -> str:
        from flopcast.formatting import format_summary

        lines = [f"development cost ({self.cost_method} method, experiments {self.experiments})"]
        lines += [f"  {k}: {format_summary(s)}" for k, s in self.lines().items()]
        return "\n".join(lines)


def _block(draws: Draws) -> np.ndarray:
    """(len(DEV_SLOTS), samples) uniforms of their own, from the call's seed."""
    seed = draws.seed
    if isinstance(seed, int):
        s: int | np.random.Generator = _BLOCK_SEEDS.get(seed) or int(
            np.random.SeedSequence([seed, _BLOCK_KEY]).generate_state(1)[0]
        )
    else:
        s = make_rng(seed)
    return np.ascontiguousarray(uniforms(len(DEV_SLOTS), draws.samples, s, draws.sampling).T)


def _summary(x: np.ndarray, unit: str) -> Summary:
    if x.size == 1 or np.all(x == x.flat[0]):
        v = float(x.flat[0])
        return Summary(v, v, v, v, unit)
    return Summary.from_samples(x, unit)


def base_method(est: TrainingEstimate) -> str | None:
    """The method the development lines are built on: amortized where present, else the first."""
    if "amortized" in est.cost_usd:
        return "amortized"
    return next(iter(est.cost_usd), None)


def development_cost(
    est: TrainingEstimate,
    draws: Draws,
    *,
    experiments: str = DEFAULT_EXPERIMENTS,
    staff_share: float | Distribution | None = None,
    experiments_multiplier: float | Distribution | None = None,
) -> DevelopmentCost | None:
    """The development lines of ``est`` (None when it has no cost), on the sample indices of ``draws``.

    ``staff_share`` and ``experiments_multiplier`` replace the catalog's (a number or a distribution).
    """
    check_experiments(experiments)
    method = base_method(est)
    if method is None:
        return None
    final = est.cost_usd[method]
    const = K.constant(EXPERIMENT_BASES[experiments][0])
    share_c = K.constant("rd_staff_share")
    dists: Mapping[str, Distribution] = {
        "experiments_multiplier": _as_dist(experiments_multiplier, const.distribution()),
        "rd_staff_share": _as_dist(staff_share, share_c.distribution()),
    }
    centrals = {
        "experiments_multiplier": const.value
        if experiments_multiplier is None
        else dists["experiments_multiplier"].median,
        "rd_staff_share": share_c.value if staff_share is None else dists["rd_staff_share"].median,
    }
    u = _block(draws)
    drawn = {k: np.asarray(d.ppf(u[DEV_SLOTS.index(k)]), dtype=float) for k, d in dists.items()}
    m = np.maximum(drawn["experiments_multiplier"], 1.0)
    s = drawn["rd_staff_share"]
    f = np.asarray(final.samples, dtype=float) if final.samples is not None else np.full(draws.samples, final.median)
    values = _lines(f, m, s)
    cen = _lines(
        np.asarray(est.central.get(f"cost_usd.{method}", final.median)),
        np.maximum(centrals["experiments_multiplier"], 1.0),
        np.asarray(centrals["rd_staff_share"]),
    )
    summ = {k: _summary(v, "USD") for k, v in values.items()}
    summ["final_run_usd"] = final  # the final run's own summary, exactly as the estimate shows it
    central = {k: float(v) for k, v in cen.items()}
    central["experiments_multiplier"] = float(max(centrals["experiments_multiplier"], 1.0))
    central["staff_share"] = float(centrals["rd_staff_share"])
    given = "given"
    return DevelopmentCost(
        cost_method=method,
        experiments=experiments,
        **summ,
        experiments_multiplier=_summary(m, "ratio"),
        staff_share=_summary(s, "fraction"),
        central=central,
        sources={
            "experiments_multiplier": given
            if experiments_multiplier is not None
            else f"{const.name} = {const.value:g}, 90% CI {const.low:g}-{const.high:g}: {const.source}",
            "staff_share": given
            if staff_share is not None
            else f"{share_c.name} = {share_c.value:g}, 90% CI {share_c.low:g}-{share_c.high:g}: {share_c.source}",
        },
    )


def _as_dist(value: float | Distribution | None, default: Distribution) -> Distribution:
    if value is None:
        return default
    if isinstance(value, Distribution):
        return value
    return Point(float(value))


def _lines(final: np.ndarray, m: np.ndarray | float, s: np.ndarray) -> dict[str, np.ndarray]:
    """The four lines from the stage functions of :mod:`flopcast.training`."""
    compute = training.development_compute_cost_usd(final, m)
    return {
        "final_run_usd": np.broadcast_to(np.asarray(final, dtype=float), np.shape(compute)),
        "experiments_usd": training.experiments_cost_usd(final, m),
        "rd_staff_usd": training.rd_staff_cost_usd(compute, s),
        "total_usd": training.total_development_cost_usd(compute, s),
    }
