"""Serving questions: what it costs to serve a model for a load.

Front-ends parse their input into plain values (a number or a ``(low, high)`` 90% interval) and
format what comes back; the work is in :mod:`flopcast.serving`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flopcast.defaults import DEFAULT_SAMPLES, DEFAULT_SEED, RANDOM_SAMPLING
from flopcast.errors import InvalidInputError
from flopcast.quantities import Interval, QuantityInput
from flopcast.service.checks import check_chips, check_duration, check_fraction, check_params, check_positive
from flopcast.service.training import as_input

if TYPE_CHECKING:
    from flopcast.datasets.database import Database
    from flopcast.serving import DeploymentEstimate


def deployment_estimate(
    model: str | None = None,
    *,
    params: float | None = None,
    params_active: float | None = None,
    n_layers: float | None = None,
    d_model: float | None = None,
    hardware: str | Sequence[str] | None = None,
    chips: int | None = None,
    tp: int | None = None,
    ep: int | None = None,
    precision: str | None = None,
    kv_precision: str | None = None,
    kv_fraction: float | None = None,
    batch: int | None = None,
    prompt_tokens: float | None = None,
    output_tokens: float | None = None,
    context: int | None = None,
    cache_hit: float = 0.0,
    draft_tokens: int = 0,
    acceptance: float = 0.0,
    draft_cost: float = 0.0,
    tokens_per_day: QuantityInput | list[float] = None,
    requests_per_s: QuantityInput | list[float] = None,
    scenario: str | None = None,
    duration_days: float | None = None,
    ttft_s: float | None = None,
    tpot_s: float | None = None,
    price_usd_per_chip_hour: QuantityInput | list[float] = None,
    cloud_tier: str = "on-demand",
    owned: bool = False,
    load_factor: float | Interval | list[float] | None = None,
    overlap: str = "none",
    parallelism: str = "tensor",
    weight_kernel: str = "fused",
    disaggregated: bool | None = None,
    vs_training: bool = False,
    api_usd_per_1k_tokens: QuantityInput | list[float] = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = RANDOM_SAMPLING,
    price_date: dt.date | None = None,
    db: Database | None = None,
) -> DeploymentEstimate:
    """The serving estimate behind ``flopcast deploy``: :func:`flopcast.serving.estimate_deployment`
    with the same arguments, a catalog ``model`` (or an ad-hoc ``params`` model) for a load, on the
    cheapest configuration within the latency targets (``ttft_s``, ``tpot_s``; ``math.inf`` for none).

    The load is ``tokens_per_day`` (generated tokens), ``requests_per_s`` or a ``scenario`` (a bundled
    name or a TOML file). ``hardware`` is one chip, several (a list or a comma-separated string) or None
    for every chip with a price. The uncertain inputs ``tokens_per_day``, ``requests_per_s``,
    ``price_usd_per_chip_hour``, ``load_factor`` (a fraction in (0, 1]: an interval below 1 is a beta) and
    ``api_usd_per_1k_tokens`` are each a number or a ``(low, high)`` 90% interval (:func:`as_input`).
    """
    from flopcast.deployment import MAX_CONTEXT, check_batch
    from flopcast.serving import estimate_deployment

    chips_named = _hardware_names(hardware)
    check_params("params", params)
    check_params("params_active", params_active)
    for name, count in (("chips", chips), ("tp", tp), ("ep", ep)):
        check_chips(name, count, per_instance=True)
    if batch is not None:
        check_batch(batch)
    for name, load in (("tokens_per_day", tokens_per_day), ("requests_per_s", requests_per_s)):
        check_positive(name, load)
    check_positive("output_tokens", output_tokens)
    if prompt_tokens is not None and not (math.isfinite(prompt_tokens) and 0 <= prompt_tokens <= MAX_CONTEXT):
        raise InvalidInputError(f"prompt_tokens={prompt_tokens:g} is outside 0..{MAX_CONTEXT:,} tokens")
    if output_tokens is not None and output_tokens > MAX_CONTEXT:
        raise InvalidInputError(f"output_tokens={output_tokens:g} is outside 1..{MAX_CONTEXT:,} tokens")
    for name, target in (("ttft", ttft_s), ("tpot", tpot_s)):
        if target is not None and not (target > 0):
            raise InvalidInputError(f"{name}={target:g} must be > 0 seconds (or none for no target)")
    check_duration("days", duration_days, unit_s=86400.0, unit="days", what="a serving period")
    check_positive("price_per_chip_hour", price_usd_per_chip_hour)
    check_fraction("load_factor", load_factor, what="the fleet's average utilization")
    check_positive("api_price", api_usd_per_1k_tokens)
    check_fraction("kv_fraction", kv_fraction, what="the KV cache relative to multi-head attention's")
    return estimate_deployment(
        model,
        params=params,
        params_active=params_active,
        n_layers=n_layers,
        d_model=d_model,
        hardware=chips_named,
        chips=chips,
        tp=tp,
        ep=ep,
        precision=precision,
        kv_precision=kv_precision,
        kv_fraction=kv_fraction,
        batch=batch,
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        context=context,
        cache_hit=cache_hit,
        draft_tokens=draft_tokens,
        acceptance=acceptance,
        draft_cost=draft_cost,
        tokens_per_day=as_input(tokens_per_day),
        requests_per_s=as_input(requests_per_s),
        scenario=scenario,
        duration_days=duration_days,
        ttft_s=ttft_s,
        tpot_s=tpot_s,
        price_usd_per_chip_hour=as_input(price_usd_per_chip_hour),
        cloud_tier=cloud_tier,
        owned=owned,
        load_factor=None if load_factor is None else as_input(load_factor, fraction=True),
        overlap=overlap,
        parallelism=parallelism,
        weight_kernel=weight_kernel,
        disaggregated=disaggregated,
        vs_training=vs_training,
        api_usd_per_1k_tokens=as_input(api_usd_per_1k_tokens),
        samples=samples,
        seed=seed,
        sampling=sampling,
        price_date=price_date,
        db=db,
    )


def _hardware_names(hardware: str | Sequence[str] | None) -> str | list[str] | None:
    """One chip name, several (a list or 'a,b'), or None; an empty name is an error, not the default."""
    if hardware is None:
        return None
    names = (
        [h.strip() for h in hardware.split(",")] if isinstance(hardware, str) else [str(h).strip() for h in hardware]
    )
    if not names or any(not n for n in names):
        raise InvalidInputError(f"hardware={hardware!r} is empty; give a name such as 'a100' or 'h100-sxm'")
    return names[0] if len(names) == 1 else names
