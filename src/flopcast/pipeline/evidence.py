"""The evidence behind each interval: factors from the constants, compute intervals from what a
record reports, and who counts as a hyperscaler.
"""

from __future__ import annotations

import math

from flopcast.catalogs import constants as K
from flopcast.datasets.records import ModelRecord
from flopcast.errors import InvalidInputError
from flopcast.pipeline.spec import HYPERSCALERS
from flopcast.uncertainty import Distribution, LogNormal, Point


def _factor(name: str, variant: str | None = None) -> Distribution:
    return K.constant(name, variant).distribution()


def _scaled(value: float, factor: Distribution) -> Distribution:
    """``value`` times a lognormal (or point) factor around 1, as one distribution."""
    if isinstance(factor, Point):
        return Point(value * factor.value)
    if isinstance(factor, LogNormal):
        return LogNormal(math.log(value) + factor.mu, factor.sigma)
    raise InvalidInputError(f"cannot scale {value:g} by {factor.describe()}")


def _compute_interval(r: ModelRecord, value: float, counted: bool) -> tuple[Distribution, str]:
    """The interval of a reported training compute, from the evidence behind it."""
    if counted:
        return _scaled(value, _factor("flop_convention_factor")), (
            "published parameters and tokens: only the spread between FLOP-counting conventions"
        )
    lo, hi = r.compute_lower_flop, r.compute_upper_flop
    z = 1.6448536269514722
    if lo and hi and lo < value < hi:
        sigma = max(math.log(hi / value), math.log(value / lo)) / z
        return LogNormal(math.log(value), sigma), f"Epoch's bounds {lo:.3g}-{hi:.3g} FLOP as a 90% interval"
    if hi and hi > value and not lo:
        return LogNormal(
            math.log(value), math.log(hi / value) / z
        ), f"Epoch's upper bound {hi:.3g} FLOP as the 95th percentile"
    if lo and lo < value and not hi:
        return LogNormal(
            math.log(value), math.log(value / lo) / z
        ), f"Epoch's lower bound {lo:.3g} FLOP as the 5th percentile"
    if r.confidence in ("confident", "likely", "speculative"):
        c = K.constant("compute_confidence_factor", r.confidence)
        return _scaled(value, c.distribution()), f"Epoch's confidence '{r.confidence}': x{c.low:.3g}-{c.high:.3g}"
    c = K.constant("training_compute_factor")
    return _scaled(value, c.distribution()), (
        f"no confidence level or bounds: Cottier et al.'s x{c.low:.3g}-{c.high:.3g}"
    )


def _counted(r: ModelRecord | None) -> bool:
    """Published parameters and tokens stand behind the compute: a confident record whose parameters and tokens are
    curated (with their citation) or whose compute Epoch counted from them ("Operation counting")."""
    if r is None or not (r.params_per_token and r.training_tokens):
        return False
    if r.confidence != "confident":
        return False
    curated = r.source_of("training_tokens").startswith("curated") and r.source_of("parameters").startswith("curated")
    return curated or "Operation counting" in r.estimation_method


def _is_hyperscaler(org: str) -> bool:
    org = (org or "").lower()
    return any(h in org for h in HYPERSCALERS)


def compute_distribution(r: ModelRecord) -> Distribution:
    """The distribution of a record's reported training compute that its estimates draw from."""
    if not r.training_compute_flop:
        raise InvalidInputError(f"{r.name} has no training compute")
    return _compute_interval(r, float(r.training_compute_flop), _counted(r))[0]
