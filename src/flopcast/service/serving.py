"""Serving questions: what it costs to serve a model for a load.

Front-ends parse their input into plain values (a number or a ``(low, high)`` 90% interval) and
format what comes back; the work is in :mod:`flopcast.serving`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flopcast.defaults import DEFAULT_SAMPLES, DEFAULT_SEED
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
    hardware: str | None = None,
    chips: int | None = None,
    precision: str = "bf16",
    kv_precision: str = "bf16",
    kv_fraction: float | None = None,
    batch: int = 32,
    context: int | None = None,
    tokens_per_day: QuantityInput | list[float] = None,
    scenario: str | None = None,
    duration_days: float | None = None,
    price_usd_per_chip_hour: QuantityInput | list[float] = None,
    cloud_tier: str = "on-demand",
    owned: bool = False,
    load_factor: float | Interval | list[float] = 1.0,
    overlap: str = "none",
    parallelism: str = "tensor",
    weight_kernel: str = "fused",
    vs_training: bool = False,
    api_usd_per_1k_tokens: QuantityInput | list[float] = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    sampling: str = "random",
    db: Database | None = None,
) -> DeploymentEstimate:
    """The serving estimate behind ``flopcast deploy``: :func:`flopcast.serving.estimate_deployment`
    with the same arguments, a catalog ``model`` (or an ad-hoc ``params`` model) on ``hardware`` for a load.

    The load is ``tokens_per_day`` or a ``scenario`` (a bundled name or a TOML file). The uncertain
    inputs ``tokens_per_day``, ``price_usd_per_chip_hour``, ``load_factor`` (a fraction in (0, 1]: an
    interval below 1 is a beta) and ``api_usd_per_1k_tokens`` are each a number or a ``(low, high)``
    90% interval (:func:`as_input`).
    """
    from flopcast.serving import estimate_deployment

    if hardware is not None and not hardware.strip():  # the orchestrator would take an empty name for the default
        raise InvalidInputError(f"hardware={hardware!r} is empty; give a name such as 'a100' or 'h100-sxm'")
    check_params("params", params)
    check_params("params_active", params_active)
    check_chips("chips", chips, per_instance=True)
    check_positive("tokens_per_day", tokens_per_day)
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
        hardware=hardware,
        chips=chips,
        precision=precision,
        kv_precision=kv_precision,
        kv_fraction=kv_fraction,
        batch=batch,
        context=context,
        tokens_per_day=as_input(tokens_per_day),
        scenario=scenario,
        duration_days=duration_days,
        price_usd_per_chip_hour=as_input(price_usd_per_chip_hour),
        cloud_tier=cloud_tier,
        owned=owned,
        load_factor=as_input(load_factor, fraction=True),
        overlap=overlap,
        parallelism=parallelism,
        weight_kernel=weight_kernel,
        vs_training=vs_training,
        api_usd_per_1k_tokens=as_input(api_usd_per_1k_tokens),
        samples=samples,
        seed=seed,
        sampling=sampling,
        db=db,
    )
