"""``flopcast plan``: a training run's layout, memory per rank, time and cost on one chip.

Registered in the main app (:mod:`flopcast.cli.app`) by name; it only parses, calls
:func:`flopcast.service.training_plan` and formats (:func:`flopcast.reporting.tables.print_training_plan`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from flopcast.cli import options as opt
from flopcast.cli.parse import echo_json, parse_date
from flopcast.defaults import (
    DEFAULT_CLOUD_TIER,
    DEFAULT_DEPRECIATION,
    DEFAULT_METHOD,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
)


def plan_cmd(
    name: Annotated[
        str | None,
        typer.Argument(help="A model of the database (see `flopcast models list`), or none to describe your own."),
    ] = None,
    hardware: Annotated[
        str | None, typer.Option(help="The chip, e.g. h100, b200, a100, tpu-v5p (default: h100).")
    ] = None,
    chips: Annotated[int | None, typer.Option(help="Cluster size: the time follows.")] = None,
    days: Annotated[float | None, typer.Option(help="Deadline in days: the chips follow.")] = None,
    tokens: Annotated[str | None, typer.Option(help="Training tokens (default: the model's).")] = None,
    compute: Annotated[str | None, typer.Option("--compute", help="Training compute in FLOP (instead).")] = None,
    utilization: Annotated[
        str | None, typer.Option(help="Step MFU, a fraction or low..high (default: the prior for the chip and scale).")
    ] = None,
    precision: Annotated[str | None, typer.Option(help="Training precision: bf16, fp16, fp8, tf32, fp32.")] = None,
    global_batch_tokens: Annotated[
        str | None, typer.Option(help="Tokens per optimizer step (default 4M, Llama 2's).")
    ] = None,
    params: Annotated[str | None, typer.Option(help="Total parameters of your own model: 70e9 or 70B.")] = None,
    layers: Annotated[int | None, typer.Option("--layers", help="Transformer layers.")] = None,
    d_model: Annotated[int | None, typer.Option(help="Model width.")] = None,
    heads: Annotated[int | None, typer.Option("--heads", help="Attention heads.")] = None,
    kv_heads: Annotated[int | None, typer.Option("--kv-heads", help="KV heads (grouped-query attention).")] = None,
    ffn_hidden: Annotated[int | None, typer.Option(help="Feed-forward width (default 4 x d_model).")] = None,
    ffn: Annotated[
        str | None, typer.Option("--ffn", help="Feed-forward activation: gelu, relu, swiglu, geglu.")
    ] = None,
    vocab: Annotated[int | None, typer.Option(help="Vocabulary size.")] = None,
    seq_len: Annotated[int | None, typer.Option(help="Training sequence length.")] = None,
    tp: Annotated[int | None, typer.Option("--tp", help="Fix the tensor parallelism (a power of 2).")] = None,
    pp: Annotated[int | None, typer.Option("--pp", help="Fix the pipeline stages.")] = None,
    dp: Annotated[int | None, typer.Option("--dp", help="Fix the data parallelism.")] = None,
    zero: Annotated[int | None, typer.Option("--zero", help="Fix the ZeRO stage: 0-3 (3 is FSDP full shard).")] = None,
    micro_batch: Annotated[int | None, typer.Option(help="Fix the micro-batch (sequences).")] = None,
    recompute: Annotated[str | None, typer.Option(help="Fix the recompute: none, selective, full.")] = None,
    start_date: Annotated[str | None, typer.Option(help="Training start, YYYY-MM-DD (default: today).")] = None,
    organization: Annotated[str | None, typer.Option(help="Developer (sets the data-center PUE).")] = None,
    method: opt.Method = DEFAULT_METHOD,
    cloud_tier: opt.CloudTier = DEFAULT_CLOUD_TIER,
    cloud_vendor: opt.CloudVendor = None,
    depreciation: opt.Depreciation = DEFAULT_DEPRECIATION,
    depreciation_years: opt.DepreciationYears = None,
    cost_of_capital: opt.CostOfCapital = 0.0,
    grid: opt.Grid = None,
    utilization_prior: opt.UtilizationPrior = DEFAULT_UTILIZATION_PRIOR,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    data: opt.Data = None,
    as_json: opt.Json = False,
) -> None:
    """Plan a training run on one chip: the layout (TP, PP, DP, ZeRO, micro-batch, recompute), memory per rank,
    time with bubbles, communication and failures, MFU/HFU/effective utilization, cost, and what binds."""
    from flopcast.cli.parse import parse_point, parse_value
    from flopcast.service import sample_count, training_plan

    samples = sample_count(samples, sampling_precision, DEFAULT_SAMPLING)

    plan = training_plan(
        name,
        params=parse_point("params", params),
        n_layers=layers,
        d_model=d_model,
        n_heads=heads,
        n_kv_heads=kv_heads,
        ffn_hidden=ffn_hidden,
        ffn_activation=ffn,
        vocab=vocab,
        seq_len=seq_len,
        tokens=parse_value("tokens", tokens),
        compute=parse_value("compute", compute),
        hardware=hardware,
        precision=precision,
        chips=chips,
        days=days,
        utilization=parse_value("utilization", utilization, fraction=True),
        global_batch_tokens=parse_point("global-batch-tokens", global_batch_tokens),
        tp=tp,
        pp=pp,
        dp=dp,
        zero=zero,
        micro_batch=micro_batch,
        recompute=recompute,
        method=method,
        cloud_tier=cloud_tier,
        cloud_vendor=cloud_vendor,
        money=opt.money_options(depreciation, depreciation_years, cost_of_capital, grid, utilization_prior),
        start_date=parse_date("start-date", start_date),
        organization=organization,
        samples=samples,
        seed=seed,
        data=data,
    )
    if as_json:
        echo_json(plan.to_dict())
        return
    from flopcast.reporting.tables import print_training_plan

    print_training_plan(plan)
