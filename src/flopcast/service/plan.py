"""The training plan behind ``flopcast plan``: layout, memory per rank, time and cost of a run on one chip
(:mod:`flopcast.layout_plan`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flopcast.defaults import (
    DEFAULT_CLOUD_TIER,
    DEFAULT_METHOD,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    PLAN_MEMORY_KEYS,
)
from flopcast.errors import InvalidInputError
from flopcast.quantities import QuantityInput
from flopcast.service.checks import (
    check_chips,
    check_count,
    check_date,
    check_duration,
    check_fraction,
    check_params,
    check_shape,
)
from flopcast.service.training import MoneyOptions, _check_sampling, as_input, database, settings

if TYPE_CHECKING:
    from flopcast.datasets.database import Database
    from flopcast.layout_plan import TrainingPlan

__all__ = ["PLAN_MEMORY_KEYS", "PLAN_RECOMPUTE", "PLAN_ZERO", "training_plan"]

#: the recompute options and ZeRO stages a plan accepts (the layout search's)
PLAN_RECOMPUTE = ("none", "selective", "full")
PLAN_ZERO = (0, 1, 2, 3)
#: the largest tensor, pipeline or data-parallel size a plan takes
MAX_PARALLEL = 1 << 20


def _whole(name: str, value: int | None, allowed: str, *, high: int = MAX_PARALLEL) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise InvalidInputError(f"{name}={value!r} is not allowed; {allowed}")


def training_plan(
    model: str | None = None,
    *,
    params: float | None = None,
    n_layers: int | None = None,
    d_model: int | None = None,
    n_heads: int | None = None,
    n_kv_heads: int | None = None,
    ffn_hidden: int | None = None,
    ffn_activation: str | None = None,
    vocab: int | None = None,
    seq_len: int | None = None,
    tokens: QuantityInput = None,
    compute: QuantityInput = None,
    hardware: str | None = None,
    precision: str | None = None,
    chips: int | None = None,
    days: float | None = None,
    utilization: QuantityInput = None,
    global_batch_tokens: float | None = None,
    tp: int | None = None,
    pp: int | None = None,
    dp: int | None = None,
    zero: int | None = None,
    micro_batch: int | None = None,
    recompute: str | None = None,
    method: str = DEFAULT_METHOD,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    money: MoneyOptions | None = None,
    start_date: dt.date | None = None,
    organization: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    data: str | None = None,
    db: Database | None = None,
) -> TrainingPlan:
    """A training run planned on one chip, behind ``flopcast plan``: the layout (tensor, pipeline and data
    parallelism, ZeRO stage, micro-batch, recompute), the memory of the most-loaded rank term by term, the time
    with the pipeline bubble, exposed communication and failures, MFU, HFU and effective utilization, and the
    cost by each method; with the constraint that binds.

    ``model`` (a database model) gives the shape, tokens and compute; the keywords override it or describe a
    model of your own (``params`` total, ``n_layers``, ``d_model``, ``n_heads``, ``n_kv_heads``, ``ffn_hidden``,
    ``ffn_activation`` gelu/relu/swiglu/geglu, ``vocab``, ``seq_len``). ``tokens`` or ``compute`` (FLOP): a
    number or a ``(low, high)`` 90% interval. ``chips`` (the cluster) or ``days`` (a deadline); with neither, the
    database's cluster when the chip is the model's, else Cottier et al.'s default training time. ``tp``,
    ``pp``, ``dp``, ``zero``, ``micro_batch`` and ``recompute`` fix parts of the layout (the rest is searched);
    a layout that does not fit is refused with the reason and one that fits.
    """
    from flopcast.layout_plan import LayoutRequest, plan_training

    if chips is not None and days is not None:
        raise InvalidInputError("give chips (the cluster size) or days (the deadline), not both")
    _check_sampling(samples, seed, DEFAULT_SAMPLING, 1_000_000)
    check_params("params", params)
    for name, v, unit in (
        ("n_layers", n_layers, "layers"),
        ("d_model", d_model, "width"),
        ("n_heads", n_heads, "heads"),
        ("n_kv_heads", n_kv_heads, "heads"),
        ("ffn_hidden", ffn_hidden, "width"),
        ("seq_len", seq_len, "tokens"),
    ):
        check_shape(name, v, unit=unit)
    _whole("vocab", vocab, "a vocabulary is a whole number of tokens in 1..10,000,000", high=10_000_000)
    check_count("tokens", tokens, unit="tokens", one="token")
    check_count("compute", compute, unit="FLOP", one="FLOP")
    check_chips("chips", chips)
    check_duration("days", days, unit_s=86400.0, unit="days")
    check_fraction("utilization", utilization, what="a fraction of peak FLOP/s")
    check_count("global_batch_tokens", global_batch_tokens, unit="tokens", one="token")
    check_date("start_date", start_date)
    for name, v in (("tp", tp), ("pp", pp), ("dp", dp), ("micro_batch", micro_batch)):
        _whole(name, v, f"it is a whole number in 1..{MAX_PARALLEL:,}")
    if tp is not None and tp & (tp - 1):
        raise InvalidInputError(f"tp={tp} is not allowed; tensor parallelism is a power of 2 (1, 2, 4, 8...)")
    if zero is not None and (isinstance(zero, bool) or zero not in PLAN_ZERO):
        raise InvalidInputError(f"zero={zero!r} is not allowed; ZeRO stage 0, 1, 2 or 3 (3 is FSDP full shard)")
    if recompute is not None and recompute not in PLAN_RECOMPUTE:
        raise InvalidInputError(f"recompute={recompute!r} is not one of {', '.join(PLAN_RECOMPUTE)}")
    if model is None and params is None:
        raise InvalidInputError("give a model (see `flopcast models list`) or describe one (--params, --seq-len...)")
    if model is None and tokens is None and compute is None:
        raise InvalidInputError("a plan of your own model needs its training tokens (--tokens) or compute (--compute)")
    db = database(data, db)
    s = settings(db, method=method, cloud_tier=cloud_tier, cloud_vendor=cloud_vendor, money=money)
    shape = dict(
        params=params,
        n_layers=n_layers,
        d_model=d_model,
        n_heads=n_heads,
        n_kv_heads=n_kv_heads,
        ffn_hidden=ffn_hidden,
        ffn_activation=ffn_activation.lower() if ffn_activation else None,
        vocab=vocab,
        seq_len=seq_len,
    )
    return plan_training(
        db,
        settings=s,
        model=model,
        shape=shape,
        tokens=as_input(tokens),
        compute=as_input(compute),
        hardware=hardware,
        precision=precision,
        chips=chips,
        deadline_hours=days * 24.0 if days is not None else None,
        utilization=as_input(utilization, fraction=True),
        global_batch_tokens=global_batch_tokens,
        layout=LayoutRequest(tp=tp, pp=pp, dp=dp, zero=zero, micro_batch=micro_batch, recompute=recompute),
        start_date=start_date,
        organization=organization,
        samples=samples,
        seed=seed,
    )
