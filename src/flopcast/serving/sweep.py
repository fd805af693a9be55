"""The serving sweep: throughput and $/Mtok at central efficiencies over chips, precisions and batch
sizes, from the planner's search (:func:`flopcast.serving.plan.search`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from flopcast.catalogs import Hardware, ModelSpec, bundled_hardware, bundled_models
from flopcast.catalogs import constants as K
from flopcast.catalogs.prices import bundled_price_book
from flopcast.errors import FlopcastError
from flopcast.serving.config import Workload, served_from_spec
from flopcast.serving.plan import search


def sweep(
    model: str | ModelSpec,
    hardware: Sequence[str] = ("a100", "h100", "h200", "l40s", "mi300x"),
    precisions: Sequence[str] = ("bf16", "fp8", "int8", "int4"),
    batches: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128),
    prompt_tokens: float | None = None,
    output_tokens: float | None = None,
    price_usd_per_chip_hour: float | None = None,
) -> list[dict[str, Any]]:
    """For every chip x precision x batch size, the instance (1 to 16 chips) that serves it cheapest at
    capacity, with its throughput, time per output token and $/Mtok (over prompt and output tokens).

    A batch that fits no instance, or a precision a chip lacks (fp8 on A100), is listed with
    ``fits=False`` and a reason instead of numbers.
    """
    spec = bundled_models().get(model) if isinstance(model, str) else model
    m = served_from_spec(spec)
    work = Workload(
        float(prompt_tokens if prompt_tokens is not None else K.constant("serving_prompt_tokens").value),
        float(output_tokens if output_tokens is not None else K.constant("serving_output_tokens").value),
    )
    rows: list[dict[str, Any]] = []
    for name in hardware:
        hw = bundled_hardware().get(name)
        price = price_usd_per_chip_hour if price_usd_per_chip_hour is not None else _on_demand_price(hw)
        for precision in precisions:
            if precision in ("fp8", "fp4") and precision not in hw.peak_flop_per_s_by_precision:
                rows += [_unfit(hw, precision, b, f"{hw.name} has no {precision}") for b in batches]
                continue
            found, _, _ = search(
                m, work, hardware=[hw], price=_fixed(price), output_tokens_per_day=1e9, precisions=[precision],
                batches=batches,
            )  # fmt: skip
            for b in batches:
                mine = [r for r in found if r["batch"] == b]
                if not mine:
                    rows.append(_unfit(hw, precision, b, "does not fit in 16 chips"))
                    continue
                r = min(mine, key=lambda r: r["usd_per_million_tokens_at_capacity"] if price else r["chips"])
                rows.append(
                    dict(
                        hardware=hw.name,
                        precision=precision,
                        batch=b,
                        fits=True,
                        chips=r["chips"],
                        tokens_per_s=r["output_tokens_per_s"],
                        ms_per_token=r["time_per_output_token_s"] * 1e3,
                        usd_per_million_tokens=r["usd_per_million_tokens_at_capacity"] if price else None,
                    )
                )
    return rows


def _fixed(price: float | None) -> Callable[[Hardware], float | None]:
    """The same price for any chip."""
    return lambda _hw: price


def _unfit(hw: Hardware, precision: str, batch: int, reason: str) -> dict[str, Any]:
    return dict(hardware=hw.name, precision=precision, batch=batch, fits=False, reason=reason)


def _on_demand_price(hw: Hardware) -> float | None:
    """The market's on-demand price of ``hw`` today, or None (a chip without one still gets throughput)."""
    try:
        return bundled_price_book().market_cloud_price(hw, when=dt.date.today(), tier="on-demand").median_usd
    except FlopcastError:  # a chip without a catalog price still gets throughput
        return None
