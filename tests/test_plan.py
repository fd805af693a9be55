"""``flopcast plan``: a training run's layout, memory per rank, time and cost on one chip (issue 20, part 6).

The orchestrator is :mod:`flopcast.layout_plan`; the stage functions it wires (memory per rank, the layout
search, bubbles, communication, goodput) are pinned in ``tests/test_parallelism.py``. These tests pin what a
user reads from the plan: published runs reproduced from their layouts and MFU, the refusal of a layout that
does not fit (with the reason and one that does), the binding constraint, and one number with ``estimate``.
"""

from __future__ import annotations

import json
import math

import pytest

from flopcast.errors import InvalidInputError
from flopcast.service import training_estimate, training_plan
from flopcast.testing import run_cli


@pytest.fixture(scope="module")
def llama2_on_2048():
    return training_plan("llama-2-70b", chips=2048, samples=2048)


def test_llama3_405b_h100_hours_from_its_published_layout():
    """Llama 3 405B (arXiv 2407.21783): 3.8e25 FLOP on 16,384 H100s, TP 8 x PP 16 x DP 128 (Table 4), 41% BF16
    MFU on that row, 16M-token batches (2,048 sequences of 8,192), with the time lost to the 466 interruptions of
    a 54-day snapshot (Sec. 3.3.4). The model card: 30.84M H100-hours. Hand arithmetic: 3.8e25 / (989.4e12 x
    0.41) / 3600 = 26.0M chip-hours of steps; / 0.90 goodput (the catalog's central value at 16,384 chips) =
    28.9M; the plan's median divides by the goodput's draws (median 0.865: the interval 1e-5..8.1e-5 per chip-hour
    is skewed up), 30.6M. Within 15%."""
    p = training_plan(
        "llama-3.1-405b", chips=16384, utilization=0.41, tp=8, pp=16, global_batch_tokens=16 * 2**20, samples=2048
    )
    assert (p.layout.tp, p.layout.pp, p.layout.dp) == (8, 16, 128)
    assert p.estimate.training_compute_flop.median == pytest.approx(3.8e25, rel=0.01)
    assert p.chip_hours.median == pytest.approx(30.84e6, rel=0.15)
    steps_hours = 3.8e25 / (989.4e12 * 0.41) / 3600
    assert p.estimate.chip_hours.median == pytest.approx(steps_hours, rel=0.01)
    assert p.time.goodput == pytest.approx(0.90, abs=0.005)
    assert p.mfu.median == pytest.approx(0.41, rel=1e-6)  # the MFU given
    assert p.effective_utilization.median < p.mfu.median
    assert p.chip_hours.median == pytest.approx(30.6e6, rel=0.01)  # what docs/training.md quotes


def test_opt_175b_days_from_its_published_layout():
    """OPT-175B (arXiv 2205.01068; metaseq logbook final_update.md): 992 80 GB A100s at ~147 TFLOP/s per GPU,
    4.30e23 FLOP, about 33 days. 147 / 312 = 47.1% MFU; 4.30e23 / (992 x 147e12) / 86400 = 34.1 days of steps;
    goodput on 992 chips is 0.99 (Llama 3's rate), so ~34.5 days. Within 15% of 33."""
    p = training_plan("opt-175b", hardware="a100-80gb", chips=992, utilization=147 / 312, samples=2048)
    days = p.duration_s.median / 86400
    steps_days = 4.30e23 / (992 * 147e12) / 86400
    assert steps_days == pytest.approx(34.1, abs=0.05)
    assert days == pytest.approx(33.0, rel=0.15)
    assert days == pytest.approx(34.6, abs=0.05)  # what docs/training.md quotes: 34.1 days of steps / goodput
    assert p.layout.chips == 992


def test_llama2_70b_zero3_at_micro_batch_1_is_refused_with_the_reason_and_a_layout_that_fits():
    """Issue 20: under ZeRO-3/FSDP with selective recompute each rank holds its own activations: for Llama 2 70B
    at micro-batch 1 and 4,096 tokens, 34 s b h L = 34 x 4,096 x 8,192 x 80 = 91.3 GB on the GPT block
    (flopcast's SwiGLU and GQA terms without dropout: 90.6 GB), more than an 80 GB H100 however many chips."""
    with pytest.raises(InvalidInputError) as exc:
        training_plan("llama-2-70b", chips=64, tp=1, pp=1, zero=3, micro_batch=1, recompute="selective")
    msg = str(exc.value)
    assert "activations alone are 90.6 GB" in msg
    assert "however many data-parallel chips" in msg
    assert "a layout that fits: TP" in msg and "(64 chips)" in msg
    gpt_block_gb = 34 * 4096 * 8192 * 80 / 1e9
    assert gpt_block_gb == pytest.approx(91.3, abs=0.05)


def test_the_cli_refuses_in_one_line(capsys):
    args = ["--chips", "64", "--tp", "1", "--pp", "1", "--zero", "3", "--micro-batch", "1", "--recompute", "selective"]
    code, _, err = run_cli(["plan", "llama-2-70b", *args], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "activations alone" in err and "Traceback" not in err


def test_one_number_with_estimate(llama2_on_2048):
    """The plan's compute and fewest chips are ``estimate``'s for the model on the same chip; for a run described by
    its numbers, its chip-hours of the steps and costs too (the same pipeline call; a plan of a database model is a
    new run, so the record's own chips, time and MFU are not used, where ``estimate --chips`` keeps the reported
    time)."""
    p = llama2_on_2048
    e = training_estimate("llama-2-70b", hardware="h100", samples=2048)
    assert p.estimate.training_compute_flop.median == e.training_compute_flop.median
    assert p.fewest_chips == int(e.min_chips.median) == 16
    run = dict(params=70e9, tokens=2e12, chips=2048, samples=2048)
    mine = training_plan(
        n_layers=80,
        d_model=8192,
        n_heads=64,
        n_kv_heads=8,
        ffn_hidden=28672,
        ffn_activation="swiglu",
        vocab=32000,
        seq_len=4096,
        **run,
    )
    e = training_estimate(hardware="h100", **run)
    assert mine.estimate.chip_hours.median == pytest.approx(e.chip_hours.median, rel=1e-12)
    assert mine.estimate.cost_usd["cloud"].median == pytest.approx(e.cost_usd["cloud"].median, rel=1e-12)
    assert mine.mfu_source == next(i.source for i in e.inputs if i.name == "utilization")


def test_wall_time_is_the_steps_over_goodput(llama2_on_2048):
    """Every sample of the wall-clock time is the pipeline's duration over that sample's goodput, so the median
    lies above the steps' median by about 1 / goodput (0.99 on 2,048 chips); rental and amortized costs scale
    with it and a purchase does not."""
    p = llama2_on_2048
    ratio = p.duration_s.median / p.estimate.duration_s.median
    assert 1.0 < ratio < 1.0 / p.goodput.p5
    assert p.cost_usd["cloud"].median / p.estimate.cost_usd["cloud"].median == pytest.approx(ratio, rel=0.02)
    assert p.cost_usd["acquisition"] is p.estimate.cost_usd["acquisition"]
    assert p.chip_hours.median == pytest.approx(p.duration_s.median * 2048 / 3600, rel=1e-9)


def test_hfu_is_mfu_times_the_recompute_ratio(llama2_on_2048):
    """Selective recompute re-runs the attention scores: HFU / MFU = 1 + s / (3 (6 h + s)) (the convention of
    ``flopcast.utilization``): 1 + 4096 / (3 x (6 x 8192 + 4096)) = 1.0256."""
    p = llama2_on_2048
    assert p.layout.recompute == "selective"
    expected = 1 + 4096 / (3 * (6 * 8192 + 4096))
    assert p.hfu.median / p.mfu.median == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(1.0256, abs=1e-4)


def test_a_deadline_takes_the_fewest_chips_that_meet_it():
    """``--days 30``: the chips are a multiple of the best layout's TP x PP group; one group fewer misses it."""
    p = training_plan("llama-2-70b", days=30, samples=2048)
    assert p.binding == "deadline"
    assert p.duration_s.median <= 30 * 86400 * 1.02
    group = 16
    assert p.layout.chips % group == 0
    fewer = training_plan("llama-2-70b", chips=p.layout.chips - group, samples=2048)
    assert fewer.duration_s.median > 29 * 86400


def test_too_small_a_cluster_is_refused_with_the_fewest():
    with pytest.raises(InvalidInputError, match=r"8 chips cannot hold the run: the fewest in a layout that fits is 16"):
        training_plan("llama-2-70b", chips=8)


def test_a_batch_spread_too_thin_binds():
    """405B on 16,384 chips with a 4M-token batch (512 sequences of 8,192): data parallelism is at most 512, so
    TP x PP >= 32, one micro-batch per step and a pipeline bubble of (p - 1) / m >= 3 of the compute: the layout
    caps MFU below the prior's median, and the plan says the global batch binds."""
    p = training_plan("llama-3.1-405b", chips=16384, samples=1024)
    assert p.binding == "global batch"
    assert p.mfu_ceiling < p.mfu.median
    assert "a larger global batch or fewer chips" in p.binding_detail


def test_a_model_of_your_own():
    """A 7B model described by its size alone takes a standard shape (params = 12 L d^2, d = 128 L, rounded to
    heads of 128) and the default deadline (Cottier et al.'s 33.1 days)."""
    p = training_plan(params=7e9, tokens=1e12, seq_len=4096, samples=1024)
    assert p.shape.d_model % 128 == 0 and p.shape.n_heads == p.shape.d_model // 128
    assert p.shape.n_layers == round(7e9 / (12 * p.shape.d_model**2))
    assert p.binding in ("default deadline", "memory")
    assert p.estimate.training_compute_flop.median == pytest.approx(6 * 7e9 * 1e12, rel=0.2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(zero=4), "zero=4 is not allowed; ZeRO stage 0, 1, 2 or 3"),
        (dict(recompute="some"), "recompute='some' is not one of none, selective, full"),
        (dict(tp=3), "tp=3 is not allowed; tensor parallelism is a power of 2"),
        (dict(chips=64, days=30), "give chips (the cluster size) or days (the deadline), not both"),
        (dict(micro_batch=0), "micro_batch=0 is not allowed"),
        (dict(chips=2048, tp=8, pp=2, dp=2), "tp x pp x dp = 8 x 2 x 2 = 32 chips, not the cluster's 2,048"),
    ],
)
def test_bad_input_names_the_field(kwargs, message):
    with pytest.raises(InvalidInputError) as exc:
        training_plan("llama-2-70b", **kwargs)
    assert message in str(exc.value)


def test_json_has_the_layout_memory_time_and_cost(capsys):
    code, out, err = run_cli(["plan", "llama-2-70b", "--chips", "2048", "--samples", "2048", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["layout"]["chips"] == 2048
    mem = d["memory_per_rank_bytes"]
    terms = (
        "weights",
        "gradients",
        "optimizer_states",
        "activations",
        "embedding_activations",
        "zero3_buffers",
        "reserved",
    )
    assert math.isclose(sum(mem[k] for k in terms), mem["total"], rel_tol=1e-12) and mem["fits"]
    assert set(d["cost_usd"]) == {"cloud", "amortized", "acquisition"}
    assert d["binding"] == "cluster size"
    assert 0 < d["mfu"]["median"] < 1 and d["hfu"]["median"] > d["mfu"]["median"]


def test_the_api_is_the_cli(capsys):
    import flopcast

    p = flopcast.plan("llama-2-70b", chips=2048, samples=2048)
    _, out, _ = run_cli(["plan", "llama-2-70b", "--chips", "2048", "--samples", "2048", "--json"], capsys)
    assert json.loads(out)["duration_s"]["median"] == pytest.approx(p.duration_s.median, rel=1e-12)
    frame = p.to_frame()
    assert frame.loc["memory.total", "median"] == p.memory.total_bytes
    with pytest.raises(InvalidInputError, match="n_layers"):
        flopcast.plan(params=7e9, tokens=1e12, seq_len=4096, n_layers=0)


def test_the_service_names_the_memory_terms_as_the_plan_does():
    from flopcast.layout_plan import MEMORY_KEYS
    from flopcast.service import PLAN_MEMORY_KEYS

    assert PLAN_MEMORY_KEYS == MEMORY_KEYS


def test_a_fixed_layout_on_a_cluster_nothing_fits_is_refused():
    """No layout of any kind holds Llama 2 70B's batch on 10M chips (data parallelism is bounded by the global
    batch's 1,024 sequences): one clear error, not a recursion."""
    with pytest.raises(InvalidInputError):
        training_plan("llama-2-70b", chips=10_000_000, zero=3)


def test_the_summary_line(llama2_on_2048):
    """One line a notebook or a log shows: the layout, memory per rank against the chip, time and what binds."""
    text = llama2_on_2048.summary()
    assert text.startswith("Llama 2-70B on 2,048 NVIDIA H100 SXM5 80 GB: TP 4 + SP, PP 1, DP 512")
    assert "66.1 GB of 80 GB per rank" in text and text.endswith("bound by cluster size")


def test_the_fewest_chips_of_a_model_of_your_own_come_from_its_shape():
    """Llama 3 405B described by its numbers (126 layers, width 16,384, 128 heads, 8 KV heads, SwiGLU 53,248,
    vocabulary 128,256, sequence 8,192): the fewest chips are the layouts' (104 H100s, TP 8 x DP 13, ZeRO-3, full
    recompute: the database model's own figure, tests/test_parallelism.py), not the training state alone spread
    over every chip, 405e9 x 16 / (0.9 x 80e9) = 90."""
    shape = dict(n_layers=126, d_model=16384, n_heads=128, n_kv_heads=8, ffn_hidden=53248, ffn_activation="swiglu")
    p = training_plan(params=405e9, vocab=128256, seq_len=8192, tokens=15.6e12, chips=16384, samples=512, **shape)
    assert p.fewest_chips == 104 == training_plan("llama-3.1-405b", chips=16384, samples=512).fewest_chips
    assert math.ceil(405e9 * 16 / (0.9 * 80e9)) == 90
