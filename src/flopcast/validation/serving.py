"""Serving checks: the deployment stage functions and :func:`~flopcast.serving.estimate_deployment` against
published serving figures, and flopcast's roofline against Hugging Face's BLOOM-176B measurements.

Layer: validation. :func:`bloom_validation` computes flopcast's milliseconds per token for every row of
``bloom_inference.csv`` with the stage functions of :mod:`flopcast.deployment`; docs/deployment.md and the
README show its table and ``flopcast validate`` checks every row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flopcast.errors import CatalogError
from flopcast.validation.rules import Check, Context, Outcome, close, covers, within_factor

BLOG = "Hugging Face 2022, 'Incredibly Fast BLOOM Inference with DeepSpeed and Accelerate'"

# context of the Hugging Face benchmark: short prompts and 100 generated tokens (mean context ~60)
BLOOM_BENCH_CONTEXT = 60


def bloom_validation(eff_memory: float = 0.5, eff_compute: float = 0.5, overlap: str = "none") -> list[dict[str, Any]]:
    """flopcast's roofline against Hugging Face's BLOOM-176B inference measurements on A100 80GB.

    Each row of ``bloom_inference.csv`` gives the system's layout (parallelism), its weight
    kernel and the measured milliseconds per generated token (the step time over the tokens
    of the step); flopcast's figure comes from the same stage functions as
    :func:`~flopcast.serving.estimate_deployment`, and ``ratio`` is measured / flopcast. For ZeRO rows the
    table's batch is per GPU (one stream per GPU), so a step yields ``chips x batch`` tokens.
    """
    from flopcast.catalogs import get_hardware, get_model
    from flopcast.catalogs._table import num, read_rows
    from flopcast.deployment import decode_peak_flop_per_s, decode_step_s, kv_bytes_per_token, weight_bytes_read

    rows, label = read_rows(
        "bloom_inference.csv",
        required=("system", "precision", "parallelism", "weight_kernel", "chips", "batch", "ms_per_token", "source"),
    )
    m, hw = get_model("bloom-176b"), get_hardware("a100-80gb")
    if m.params is None or m.n_layers is None or m.d_model is None or hw.memory_bandwidth_bytes_per_s is None:
        raise CatalogError("the catalog lacks BLOOM-176B's parameters or shape, or the A100 80GB's bandwidth")
    kv = kv_bytes_per_token(m.n_layers, m.d_model)
    out = []
    for r in rows:
        batch = int(num(r, "batch", label, required=True))
        chips = int(num(r, "chips", label, required=True))
        precision, parallelism, kernel = (r[k].strip() for k in ("precision", "parallelism", "weight_kernel"))
        tokens = batch * chips if parallelism == "zero" else batch
        step = decode_step_s(
            params_active=m.params,
            weights_bytes=weight_bytes_read(m.params, precision, kernel),
            kv_per_token_bytes=kv,
            batch=tokens,
            context=BLOOM_BENCH_CONTEXT,
            chips=chips,
            peak_flop_per_s=decode_peak_flop_per_s(hw, precision, kernel),
            memory_bandwidth_bytes_per_s=hw.memory_bandwidth_bytes_per_s,
            eff_compute=eff_compute,
            eff_memory=eff_memory,
            n_layers=m.n_layers,
            d_model=m.d_model,
            overlap=overlap,
            parallelism=parallelism,
            interconnect_bytes_per_s=hw.interconnect_bandwidth_bytes_per_s,
        )
        ours = float(step) / tokens * 1e3
        measured = num(r, "ms_per_token", label, required=True)
        out.append(
            {
                "system": r["system"].strip(),
                "precision": precision,
                "parallelism": parallelism,
                "weight_kernel": kernel,
                "chips": chips,
                "batch": batch,
                "measured_ms": measured,
                "flopcast_ms": ours,
                "ratio": measured / ours,
                "source": r["source"].strip(),
            }
        )
    return out


def _bloom_chips(ctx: Context) -> Outcome:
    from flopcast.deployment import min_chips_to_fit, practical_chips, weight_bytes

    need = float(min_chips_to_fit(weight_bytes(176e9, "bf16"), 80e9, usable_fraction=1.0))
    return Outcome(
        float(practical_chips(need)),
        "chips",
        None,
        None,
        None,
        need == 5 and practical_chips(need) == 8,
        note=f"{need:.0f} chips hold 352 GB; the next power of two is used",
    )


def _bloom_bound(ctx: Context) -> Outcome:
    from flopcast.deployment import decode_step_s

    t = float(
        decode_step_s(
            params_active=176e9,
            weights_bytes=352e9,
            kv_per_token_bytes=0,
            batch=1,
            context=1,
            chips=8,
            peak_flop_per_s=312e12,
            memory_bandwidth_bytes_per_s=2.039e12,
            eff_memory=1.0,
            eff_compute=1.0,
            overlap="full",
        )
    )
    return close(t * 1e3, 22.0, 0.03, "ms")


def _bloom_day(ctx: Context) -> Outcome:
    from flopcast.serving import estimate_deployment

    e = estimate_deployment(
        "bloom-176b",
        hardware="a100-80gb",
        chips=8,
        batch=64,
        context=300,
        tokens_per_day=1e6,
        price_usd_per_chip_hour=1.25,
        samples=2000,
    )
    return close(e.usd_per_day.median, 240.0, 1e-9, "USD")


def _api_cost(ctx: Context) -> Outcome:
    from flopcast.deployment import api_cost_usd, words_to_tokens

    return close(float(api_cost_usd(words_to_tokens(150e6, 0.75), 0.02)), 4000.0, 1e-9, "USD")


def _twitter_ratio(ctx: Context) -> Outcome:
    from flopcast.serving import estimate_deployment

    e = estimate_deployment(
        "bloom-176b",
        hardware="a100-80gb",
        batch=32,
        context=1024,
        scenario="twitter-1pct",
        vs_training=True,
        samples=4000,
    )
    assert e.vs_training is not None  # vs_training=True fills it in
    r = e.vs_training["ratio"]
    return covers(0.20, r["median"], r["p5"], r["p95"], "ratio")


def _bloom_row(i: int) -> Callable[[Context], Outcome]:
    def run(ctx: Context) -> Outcome:
        r = ctx.cached("bloom", bloom_validation)[i]
        return within_factor(r["measured_ms"], r["flopcast_ms"], 2.0, "ms")

    return run


def serving_checks() -> list[Check]:
    """The deployment checks against Cottier 2022 and Hugging Face 2022, in the order of docs/validation.md."""
    return [
        Check(
            "deploy-bloom-chips",
            "deployment",
            "BLOOM-176B bf16 weights on A100 80GB",
            "Cottier 2022 / Hugging Face 2022: 352 GB, 8x A100 80GB",
            "5 chips hold it, 8 used",
            "exact",
            _bloom_chips,
        ),
        Check(
            "deploy-bloom-bound",
            "deployment",
            "BLOOM-176B batch-1 decode bandwidth bound on 8x A100 (2.039 TB/s)",
            "Hugging Face 2022 (about 22 ms at least; 44 ms measured)",
            "about 22 ms",
            "within 3%",
            _bloom_bound,
        ),
        Check(
            "deploy-bloom-day",
            "deployment",
            "One BLOOM instance (8x A100) a day at $1.25 per GPU-hour",
            "Cottier 2022",
            "$240 a day",
            "exact",
            _bloom_day,
        ),
        Check(
            "deploy-api",
            "deployment",
            "150M words through an API at $0.02 per 1k tokens, 0.75 words a token",
            "Cottier 2022",
            "$4,000",
            "exact",
            _api_cost,
        ),
        Check(
            "deploy-twitter",
            "deployment",
            "Serving 1% of Twitter for a year against developing the model",
            "Cottier 2022: about 20% (90% CI 10-68%)",
            "20%",
            "inside flopcast's 90% interval",
            _twitter_ratio,
        ),
    ]


def bloom_checks() -> list[Check]:
    """One check per row of Hugging Face's BLOOM table: flopcast's ms/token within 2x of the measured."""
    return [
        Check(
            f"bloom-{r['system'].lower()}-{r['precision']}-{r['chips']}gpu-bs{r['batch']}",
            "deployment",
            f"BLOOM-176B ms/token: {r['system']} {r['precision']} ({r['weight_kernel']} kernel), {r['chips']} GPUs, "
            f"batch {r['batch']}",
            BLOG,
            f"{r['measured_ms']:g} ms",
            "within 2x",
            _bloom_row(i),
        )
        for i, r in enumerate(bloom_validation())
    ]
