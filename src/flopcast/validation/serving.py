"""Serving checks: the deployment stage functions and :func:`~flopcast.serving.estimate_deployment` against
published serving figures, and flopcast's roofline against Hugging Face's BLOOM-176B measurements.

Layer: validation. :func:`bloom_validation`, :func:`trtllm_validation` and :func:`deepseek_decode` run
flopcast's serving arithmetic (:func:`flopcast.serving.config.evaluate`, the same as every estimate's) on
the layouts of Hugging Face's BLOOM-176B table, TensorRT-LLM's Llama 2 70B tables and DeepSeek's decode
deployment; docs/deployment.md and the README show the tables and ``flopcast validate`` checks the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flopcast.errors import CatalogError
from flopcast.validation.rules import Check, Context, Outcome, close, inside, within_factor

BLOG = "Hugging Face 2022, 'Incredibly Fast BLOOM Inference with DeepSpeed and Accelerate'"

# context of the Hugging Face benchmark: short prompts and 100 generated tokens (mean context ~60)
BLOOM_BENCH_CONTEXT = 60


def _served(key: str):
    """The catalog model as :func:`flopcast.serving.config.evaluate` takes it."""
    from flopcast.catalogs import get_model
    from flopcast.serving.config import served_from_spec

    return served_from_spec(get_model(key))


def bloom_validation(eff_memory: float = 0.5, eff_compute: float = 0.5, overlap: str = "none") -> list[dict[str, Any]]:
    """flopcast's roofline against Hugging Face's BLOOM-176B inference measurements on A100 80GB.

    Each row of ``bloom_inference.csv`` gives the system's layout (parallelism), its weight
    kernel and the measured milliseconds per generated token (the step time over the tokens
    of the step); flopcast's figure is the decode step of :func:`flopcast.serving.config.evaluate`,
    the arithmetic of every estimate (tensor-parallel rows with their all-reduces), at a mean
    context of 60 tokens; ``ratio`` is measured / flopcast. For ZeRO rows the table's batch is per
    GPU (one stream per GPU), so a step yields ``chips x batch`` tokens.
    """
    from flopcast.catalogs import get_hardware
    from flopcast.catalogs._table import num, read_rows
    from flopcast.serving.config import Config, Workload, evaluate
    from flopcast.serving.plan import central_efficiencies

    rows, label = read_rows(
        "bloom_inference.csv",
        required=("system", "precision", "parallelism", "weight_kernel", "chips", "batch", "ms_per_token", "source"),
    )
    m, hw = _served("bloom-176b"), get_hardware("a100-80gb")
    eff = central_efficiencies() | {"eff_memory": eff_memory, "eff_compute": eff_compute}
    work = Workload(0.0, 100.0, context=float(BLOOM_BENCH_CONTEXT))
    out = []
    for r in rows:
        batch = int(num(r, "batch", label, required=True))
        chips = int(num(r, "chips", label, required=True))
        precision, parallelism, kernel = (r[k].strip() for k in ("precision", "parallelism", "weight_kernel"))
        tokens = batch * chips if parallelism == "zero" else batch
        cfg = Config(hw, chips, chips, 1, precision, "bf16", tokens, kernel, parallelism, overlap)
        step = float(evaluate(m, cfg, work, eff)["step_s"])
        ours = step / tokens * 1e3
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


#: TensorRT-LLM versions whose tables ran its current decode kernels (XQA, from v0.7): the rows checked
TRTLLM_CHECKED = ("v0.7a", "v0.8.0", "v0.9.0")


def trtllm_validation() -> list[dict[str, Any]]:
    """flopcast against TensorRT-LLM's published Llama 2 70B throughput tables on H100 and H200 (FP8).

    Every row of ``trtllm_llama70b.csv`` gives the batch, input and output lengths and the tensor-parallel
    degree of a static-batch run; flopcast runs the same configuration (FP8 weights and KV cache) through
    :func:`flopcast.serving.config.evaluate` at the default efficiencies: the batch's prompts, then the
    output tokens at a mean context of ``input + (output - 1) / 2``, which is what a static batch does.
    ``ratio`` is measured / flopcast, in output tokens per second per GPU.
    """
    from flopcast.catalogs import get_hardware
    from flopcast.catalogs._table import num, read_rows
    from flopcast.serving.config import Config, Workload, evaluate
    from flopcast.serving.plan import central_efficiencies

    rows, label = read_rows(
        "trtllm_llama70b.csv",
        required=("version", "gpu", "model", "precision", "tp", "batch", "input_tokens", "output_tokens",
                  "output_tokens_per_s_per_gpu", "source"),
    )  # fmt: skip
    eff = central_efficiencies()
    out = []
    for r in rows:
        m, hw = _served(r["model"].strip()), get_hardware(r["gpu"].strip())
        tp, batch = int(num(r, "tp", label, required=True)), int(num(r, "batch", label, required=True))
        isl, osl = num(r, "input_tokens", label, required=True), num(r, "output_tokens", label, required=True)
        precision = r["precision"].strip()
        cfg = Config(hw, tp, tp, 1, precision, precision, batch)
        ours = float(evaluate(m, cfg, Workload(isl, osl), eff)["output_tokens_per_s"]) / tp
        measured = num(r, "output_tokens_per_s_per_gpu", label, required=True)
        out.append(
            {
                "version": r["version"].strip(),
                "gpu": hw.name,
                "tp": tp,
                "batch": batch,
                "input_tokens": int(isl),
                "output_tokens": int(osl),
                "measured": measured,
                "flopcast": ours,
                "ratio": measured / ours,
                "checked": r["version"].strip() in TRTLLM_CHECKED,
                "source": r["source"].strip(),
            }
        )
    return out


def trtllm_max_validation() -> list[dict[str, Any]]:
    """flopcast's largest throughput against TensorRT-LLM's newest table (``trtllm_llama70b_max.csv``).

    That table (PyTorch backend, unlimited concurrency) gives the TP and the lengths but not the batch:
    flopcast searches batches 1-8,192 at the table's chip, TP and precision (:func:`flopcast.serving.plan.search`,
    no latency target) and reports the most output tokens a second per GPU that fit in memory.
    """
    from flopcast.catalogs import get_hardware
    from flopcast.catalogs._table import num, read_rows
    from flopcast.serving.config import Workload
    from flopcast.serving.plan import Choices, search

    rows, label = read_rows(
        "trtllm_llama70b_max.csv",
        required=("version", "gpu", "model", "precision", "tp", "input_tokens", "output_tokens",
                  "output_tokens_per_s_per_gpu", "source"),
    )  # fmt: skip
    out = []
    for r in rows:
        m, hw = _served(r["model"].strip()), get_hardware(r["gpu"].strip())
        tp = int(num(r, "tp", label, required=True))
        isl, osl = num(r, "input_tokens", label, required=True), num(r, "output_tokens", label, required=True)
        found, _, _ = search(
            m, Workload(isl, osl), hardware=[hw], price=lambda _hw: None, output_tokens_per_day=1e9,
            choices=Choices(chips=tp, precision=r["precision"].strip()), batches=[2**i for i in range(14)],
        )  # fmt: skip
        if not found:
            raise CatalogError(f"{label} line {r['_line']}: the configuration fits in no batch")
        best = max(found, key=lambda x: x["output_tokens_per_s_per_chip"])
        measured = num(r, "output_tokens_per_s_per_gpu", label, required=True)
        out.append(
            {
                "version": r["version"].strip(),
                "gpu": hw.name,
                "precision": r["precision"].strip(),
                "tp": tp,
                "input_tokens": int(isl),
                "output_tokens": int(osl),
                "batch": best["batch"],
                "measured": measured,
                "flopcast": best["output_tokens_per_s_per_chip"],
                "ratio": measured / best["output_tokens_per_s_per_chip"],
                "source": r["source"].strip(),
            }
        )
    return out


#: DeepSeek-AI (2025-03-01), "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview"
DEEPSEEK_DAY6 = (
    "https://github.com/deepseek-ai/open-infra-index/blob/main/202502OpenSourceWeek/"
    "day_6_one_more_thing_deepseekV3R1_inference_system_overview.md"
)


def deepseek_decode() -> dict[str, Any]:
    """DeepSeek-V3/R1's decode throughput per H800 node, from the layout DeepSeek published.

    Their decode units: 18 nodes (144 H800) with the routed experts expert-parallel over all 144
    (EP144) and attention and the shared expert data-parallel (DP144); an average KV cache of 4,989
    tokens per output token; 20-22 output tokens a second per user; the multi-token-prediction
    module as a one-token draft accepted 85-90% of the time (DeepSeek-AI 2024, arXiv 2412.19437,
    Section 5.4.3), costing one transformer block of the 61 a step. flopcast takes the largest batch
    whose time per output token gives 21 tokens a second and reports its output tokens a second per
    node (8 GPUs), against their 14.8k.
    """
    from flopcast.catalogs import get_hardware
    from flopcast.serving.config import Workload
    from flopcast.serving.plan import Choices, Targets, plan

    m, hw = _served("deepseek-v3"), get_hardware("h800-sxm")
    work = Workload(0.0, 1000.0, draft_tokens=1, acceptance=0.875, draft_cost=1 / 61, context=4989.0)
    result = plan(
        m,
        work,
        hardware=[hw],
        price=lambda _hw: 2.0,
        output_tokens_per_day=14.8e3 * 18 * 86_400,
        targets=Targets(tpot_s=1 / 21),
        choices=Choices(chips=144, tp=1, ep=144, precision="fp8", kv_precision="bf16"),
        batches=[144 * k for k in range(1, 257)],
    )
    per_node = result.row["output_tokens_per_s"] / 18
    return {
        "per_node": per_node,
        "batch_per_gpu": result.config.batch // 144,
        "time_per_output_token_s": result.row["time_per_output_token_s"],
        "configuration": result.config.describe(),
    }


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
        precision="bf16",
        batch=64,
        context=300,
        tokens_per_day=1e6,
        price_usd_per_chip_hour=1.25,
        samples=2000,
    )
    return close(e.usd_per_day.median, 240.0, 1e-9, "USD")


def _bloom_planner(ctx: Context) -> Outcome:
    """``flopcast deploy bloom-176b --tokens-per-day 2e8 --hardware a100-80gb --price-per-chip-hour 1.25``."""
    from flopcast.service import deployment_estimate

    e = deployment_estimate(
        "bloom-176b", hardware="a100-80gb", tokens_per_day=2e8, price_usd_per_chip_hour=1.25, db=ctx.db()
    )
    return within_factor(240.0, e.usd_per_day.median, 2.0, "USD", note=f"the planner chose {e.configuration}")


def _llama_market(ctx: Context) -> Outcome:
    """``flopcast deploy llama-3-70b --hardware h100 --tokens-per-day 1e9``: $/Mtok over prompt and output."""
    from flopcast.service import deployment_estimate

    e = deployment_estimate("llama-3-70b", hardware="h100", tokens_per_day=1e9, db=ctx.db())
    s = e.usd_per_million_tokens
    binds = (e.plan or {}).get("binding") or []
    note = f"{e.configuration}; " + (f"the target binds ({', '.join(binds)})" if binds else "no latency target binds")
    return inside(s.median, 0.6 / 2.0, 0.9 * 2.0, "USD", s.p5, s.p95, note=note)


def _api_cost(ctx: Context) -> Outcome:
    from flopcast.deployment import api_cost_usd, words_to_tokens

    return close(float(api_cost_usd(words_to_tokens(150e6, 0.75), 0.02)), 4000.0, 1e-9, "USD")


def _trtllm_row(i: int) -> Callable[[Context], Outcome]:
    def run(ctx: Context) -> Outcome:
        r = ctx.cached("trtllm", trtllm_validation)[i]
        return within_factor(r["measured"], r["flopcast"], 1.5, "tokens/s")

    return run


def _deepseek(ctx: Context) -> Outcome:
    d = ctx.cached("deepseek", deepseek_decode)
    return within_factor(
        14.8e3, d["per_node"], 1.5, "tokens/s", note=f"{d['batch_per_gpu']} sequences a GPU at 21 tokens/s a user"
    )


def _bloom_row(i: int) -> Callable[[Context], Outcome]:
    def run(ctx: Context) -> Outcome:
        r = ctx.cached("bloom", bloom_validation)[i]
        return within_factor(r["measured_ms"], r["flopcast_ms"], 2.0, "ms")

    return run


def serving_checks() -> list[Check]:
    """The deployment checks against Cottier 2022, TensorRT-LLM, DeepSeek and hosts' prices, in the order of
    docs/validation.md."""
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
            "deploy-bloom-planner",
            "deployment",
            "The planner's fleet for 2e8 tokens a day of BLOOM-176B on A100 80GB at $1.25 per GPU-hour, no other flag",
            "Cottier 2022: one instance, about $240 a day",
            "$240 a day",
            "within 2x",
            _bloom_planner,
        ),
        Check(
            "deploy-llama3-70b-market",
            "deployment",
            "The planner's $/Mtok (prompt and output) for Llama 3 70B on H100 at 1e9 output tokens a day",
            "Hosts' prices for Llama 3.x 70B in 2025-2026: $0.59-0.90 a million tokens (Groq, AWS Bedrock, Together, Fireworks)",
            "$0.6-0.9",
            "within 2x of the range",
            _llama_market,
        ),
        Check(
            "deploy-deepseek-v3-decode",
            "deployment",
            "DeepSeek-V3/R1 decode output tokens/s per H800 node at EP144, 4,989-token KV, MTP, 21 tokens/s a user",
            f"DeepSeek-AI 2025, Day 6 inference system overview ({DEEPSEEK_DAY6})",
            "14.8k tokens/s",
            "within 1.5x",
            _deepseek,
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
    ]


def trtllm_checks() -> list[Check]:
    """One check per row of TensorRT-LLM's tables from v0.7 on: flopcast within 1.5x of the measured throughput."""
    return [
        Check(
            f"trtllm-{r['version']}-{'h200' if 'H200' in r['gpu'] else 'h100'}-tp{r['tp']}-bs{r['batch']}-"
            f"{r['input_tokens']}-{r['output_tokens']}",
            "deployment",
            f"Llama 2 70B FP8 output tokens/s per GPU: {r['gpu']}, TP{r['tp']}, batch {r['batch']}, "
            f"{r['input_tokens']} in / {r['output_tokens']} out",
            f"TensorRT-LLM {r['version']} performance tables ({r['source']})",
            f"{r['measured']:,.0f} tokens/s",
            "within 1.5x",
            _trtllm_row(i),
        )
        for i, r in enumerate(trtllm_validation())
        if r["checked"]
    ]


def _trtllm_max_row(i: int) -> Callable[[Context], Outcome]:
    def run(ctx: Context) -> Outcome:
        r = ctx.cached("trtllm-max", trtllm_max_validation)[i]
        return within_factor(r["measured"], r["flopcast"], 2.0, "tokens/s", note=f"at batch {r['batch']}")

    return run


def trtllm_max_checks() -> list[Check]:
    """One check per row of TensorRT-LLM's newest table (no batch given): flopcast's best within 2x."""
    return [
        Check(
            f"trtllm-max-{r['gpu'].split()[1].lower()}-tp{r['tp']}-{r['precision']}-{r['input_tokens']}-{r['output_tokens']}",
            "deployment",
            f"Llama 3.3 70B {r['precision'].upper()} most output tokens/s per GPU: {r['gpu']}, TP{r['tp']}, "
            f"{r['input_tokens']} in / {r['output_tokens']} out (batch searched)",
            f"TensorRT-LLM {r['version']} performance overview ({r['source']})",
            f"{r['measured']:,.0f} tokens/s",
            "within 2x",
            _trtllm_max_row(i),
        )
        for i, r in enumerate(trtllm_max_validation())
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
