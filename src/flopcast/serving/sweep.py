"""The serving sweep: throughput and $/Mtok at central efficiencies over chips, precisions and
batch sizes, from the same stage functions as :func:`~flopcast.serving.estimate_deployment`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from flopcast.catalogs import Hardware, ModelSpec, bundled_hardware, bundled_models
from flopcast.catalogs.prices import bundled_price_book
from flopcast.deployment import (
    decode_peak_flop_per_s,
    decode_step_s,
    kv_bytes_per_token,
    kv_cache_fraction,
    min_chips_to_fit,
    model_shape,
    practical_chips,
    usd_per_million_tokens,
    weight_bytes,
)
from flopcast.serving.chain import _Model


def sweep(
    model: str | ModelSpec,
    hardware: Sequence[str] = ("a100", "h100", "h200", "l40s", "mi300x"),
    precisions: Sequence[str] = ("bf16", "fp8", "int8", "int4"),
    batches: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128),
    context: int = 2048,
    price_usd_per_chip_hour: float | None = None,
    eff_memory: float = 0.5,
    eff_compute: float = 0.5,
) -> list[dict[str, Any]]:
    """Throughput and $/Mtok at central efficiencies over chips x precisions x batch sizes.

    Configurations that do not fit in 8 chips, or a precision a chip lacks (fp8 on A100), are
    listed with ``fits=False`` and a reason instead of numbers.
    """
    spec = bundled_models().get(model) if isinstance(model, str) else model
    params = cast(float, spec.params)  # a catalog row without one fails in the stage functions' checks
    layers, width, _ = model_shape(params, spec.n_layers, spec.d_model)
    kv_frac = kv_cache_fraction(None, getattr(spec, "kv_cache_fraction", None))[0]
    m = _Model(spec, spec.name, params, spec.params_active or params, layers, width)
    kv = float(kv_bytes_per_token(layers, width, kv_heads_fraction=kv_frac))
    rows: list[dict[str, Any]] = []
    for name in hardware:
        hw = bundled_hardware().get(name)
        price = price_usd_per_chip_hour if price_usd_per_chip_hour is not None else _on_demand_price(hw)
        for precision in precisions:
            if precision == "fp8" and "fp8" not in hw.peak_flop_per_s_by_precision:
                rows += [
                    dict(hardware=hw.name, precision=precision, batch=b, fits=False, reason=f"{hw.name} has no fp8")
                    for b in batches
                ]
                continue
            rows += _sweep_rows(m, kv, hw, price, precision, batches, context, eff_memory, eff_compute)
    return rows


def _on_demand_price(hw: Hardware) -> float | None:
    """The catalog's on-demand price of ``hw``, or None (a chip without one still gets throughput)."""
    try:
        return bundled_price_book().market_cloud_price(hw, when=dt.date.today(), tier="on-demand").median_usd
    except Exception:  # a chip without a catalog price still gets throughput
        return None


def _sweep_rows(
    m: _Model,
    kv: float,
    hw: Hardware,
    price: float | None,
    precision: str,
    batches: Sequence[int],
    context: int,
    eff_memory: float,
    eff_compute: float,
) -> list[dict[str, Any]]:
    """One chip at one precision over the batch sizes: chips, throughput, step time and $/Mtok."""
    peak = decode_peak_flop_per_s(hw, precision)
    w = float(weight_bytes(m.params, precision))
    b_arr = np.asarray(batches, dtype=float)
    mem = w + kv * b_arr * context
    need = np.asarray(min_chips_to_fit(mem, cast(float, hw.memory_bytes)))  # None fails the stage's check
    chips = np.asarray(practical_chips(need))
    step = np.asarray(
        decode_step_s(
            params_active=m.params_active,
            weights_bytes=w,
            kv_per_token_bytes=kv,
            batch=b_arr,
            context=context,
            chips=chips,
            peak_flop_per_s=peak,
            memory_bandwidth_bytes_per_s=cast(float, hw.memory_bandwidth_bytes_per_s),
            eff_compute=eff_compute,
            eff_memory=eff_memory,
            n_layers=m.n_layers,
            d_model=m.d_model,
        )
    )
    tput = b_arr / step
    rows: list[dict[str, Any]] = []
    for i, b in enumerate(batches):
        if chips[i] > 8:
            rows.append(
                dict(
                    hardware=hw.name,
                    precision=precision,
                    batch=b,
                    fits=False,
                    reason=f"needs {int(need[i])} chips (more than 8)",
                )
            )
            continue
        rows.append(
            dict(
                hardware=hw.name,
                precision=precision,
                batch=b,
                fits=True,
                chips=int(chips[i]),
                tokens_per_s=float(tput[i]),
                ms_per_step=float(step[i]) * 1e3,
                usd_per_million_tokens=None
                if price is None
                else float(usd_per_million_tokens(price, chips[i], tput[i])),
            )
        )
    return rows
