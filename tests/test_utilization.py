"""Utilization: the calculator against published figures, and the measurement harness on this CPU."""

import dataclasses
import json
import math
import re

import numpy as np
import pytest

from flopcast.errors import InvalidInputError, UnknownNameError
from flopcast.testing import run_cli as run
from flopcast.utilization import (
    PRESETS,
    DecoderConfig,
    calculate,
    hardware_flop_per_token,
    load_config,
    model_flop_per_token,
)

# -- calculator ------------------------------------------------------------------------


def test_opt_175b_147_tflops_is_47_percent(capsys):
    # Zhang et al. 2022 (arXiv 2205.01068): 147 TFLOP/s per A100; A100 dense fp16 peak 312 TFLOP/s (datasheet):
    # 147 / 312 = 0.4712
    r = calculate("opt-175b", achieved_flop_per_s_per_chip=147e12)
    assert r.utilization == pytest.approx(147 / 312, rel=1e-9)
    assert round(r.utilization, 2) == 0.47
    code, out, _ = run(["mfu", "calc", "opt-175b", "--achieved-per-chip", "147e12", "--json"], capsys)
    assert code == 0 and json.loads(out)["utilization"] == pytest.approx(0.4712, abs=1e-4)


def test_gpt3_implied_utilization_about_20_percent(capsys):
    # GPT-3: 3.14e23 FLOP (Brown et al. 2020) on 10,000 V100 for 14.8 days = 355.2 h (Patterson et al. 2021),
    # V100 fp16 tensor peak 125 TFLOP/s: 3.14e23 / (10,000 x 355.2 x 3600 x 125e12) = 0.19645;
    # Patterson's own 24.6 / 125 = 0.1968
    r = calculate("gpt-3")
    assert r.method == "implied"
    assert r.utilization == pytest.approx(3.14e23 / (10_000 * 355.2 * 3600 * 125e12), rel=1e-9)
    assert r.utilization == pytest.approx(24.6 / 125, rel=0.01)
    code, out, _ = run(
        [
            "mfu",
            "calc",
            "--compute",
            "3.14e23",
            "--training-hours",
            "355.2",
            "--chips",
            "10000",
            "--hardware",
            "v100",
            "--json",
        ],
        capsys,
    )
    assert code == 0 and json.loads(out)["utilization"] == pytest.approx(0.1964, abs=1e-4)


def test_palm_540b_mfu_46_2_percent():
    # Chowdhery et al. 2022, Appendix B: 238.3K tokens/s on 6144 TPU v4 (275 TFLOP/s bf16), N = 540.35e9,
    # L = 118, H = 48, Q = 256, T = 2048: (6 N + 12 L H Q T) = 3.2421e12 + 3.5635e10 = 3.2777e12 FLOP a token;
    # x 238.3e3 / (6144 x 275e12) = 0.4623; the paper reports 46.2%
    per_token = 6 * 540.35e9 + 12 * 118 * 48 * 256 * 2048
    r = calculate("palm-540b", tokens_per_s=238.3e3, params=540.35e9, d_attn=48 * 256)
    assert r.inputs["model_flop_per_token"] == pytest.approx(per_token, rel=1e-12)
    assert r.utilization == pytest.approx(238.3e3 * per_token / (6144 * 275e12), rel=1e-9)
    assert r.utilization == pytest.approx(0.462, abs=0.0005)


def test_palm_540b_hfu_57_8_percent_by_its_rematerialization():
    # Chowdhery et al. 2022 (arXiv 2204.02311), Appendix B: "75% of non-attention forward pass FLOPs are recomputed
    # while all attention forward pass FLOPs are recomputed"; its HFU, 57.8% (Sec. 4.1), from the same 238.3K
    # tokens/s on 6144 TPU v4 at 275 TFLOP/s that give its MFU of 46.2%.
    # Model FLOP a token 6 N + 12 L H Q T = 3.24210e12 + 3.5635e10 = 3.27774e12 (Table 22: 3.28);
    # rematerialized 0.75 x 2 N + 4 L H Q T = 8.10525e11 + 1.1878e10 = 8.22403e11; hardware FLOP a token
    # 7.5 N + 16 L H Q T = 4.05263e12 + 4.7513e10 = 4.10014e12 (Table 22: 4.10);
    # HFU = 238.3e3 x 4.10014e12 / (6144 x 275e12) = 9.77063e17 / 1.68960e18 = 0.57828
    n, lhqt = 540.35e9, 118 * 48 * 256 * 2048
    model, hardware = 6 * n + 12 * lhqt, 7.5 * n + 16 * lhqt
    assert hardware_flop_per_token(n, 118, 48 * 256, 2048, recompute="palm") == pytest.approx(hardware, rel=1e-12)
    assert round(model / 1e12, 2) == 3.28 and round(hardware / 1e12, 2) == 4.10  # Table 22, to its precision
    r = calculate("palm-540b", tokens_per_s=238.3e3, params=n, d_attn=48 * 256, recompute="palm")
    assert r.utilization == pytest.approx(238.3e3 * model / (6144 * 275e12), rel=1e-9)
    assert r.hfu == pytest.approx(238.3e3 * hardware / (6144 * 275e12), rel=1e-9)
    # both published figures, to their precision (one decimal of a percent): 46.2% and 57.8%
    assert r.utilization == pytest.approx(0.462, abs=0.001) and r.hfu == pytest.approx(0.578, abs=0.001)
    # the other conventions cannot give 57.8%: selective (attention only) 46.4%, full (whole forward) 61.6%
    sel = calculate("palm-540b", tokens_per_s=238.3e3, params=n, d_attn=48 * 256, recompute="selective").hfu
    full = calculate("palm-540b", tokens_per_s=238.3e3, params=n, d_attn=48 * 256, recompute="full").hfu
    assert round(sel, 3) == 0.464 and round(full, 3) == 0.616
    # without the shape only the parameter term is rematerialized: 6 N + 1.5 N
    assert hardware_flop_per_token(n, recompute="palm") == pytest.approx(7.5 * n, rel=1e-12)
    assert "palm: PaLM 540B's rematerialization" in r.convention


def test_palm_8b_and_62b_rematerialize_only_the_attention():
    # Chowdhery et al. 2022, Appendix B: "the 62B and 8B models do not use re-materialization except in the
    # self-attention", which is the selective convention (the forward attention again, 4 L H Q T). Table 1 gives the
    # shapes (8B: 8.63B parameters, 32 layers, 16 heads; 62B: 62.50B, 64 layers, 32 heads; head size 256, context
    # 2048) and Table 22 the TFLOP a token without and with rematerialization, to three figures:
    # 8B: 6 x 8.63e9 + 12 x 32 x 16 x 256 x 2048 = 5.1780e10 + 3.2212e9 = 5.5001e10 (0.0550), + 1.0737e9 = 5.6075e10
    # (0.0561); 62B: 3.75e11 + 1.28849e10 = 3.8788e11 (0.388), + 4.2950e9 = 3.9218e11 (0.392)
    for n, layers, heads, table22 in ((8.63e9, 32, 16, (0.0550, 0.0561)), (62.50e9, 64, 32, (0.388, 0.392))):
        model = model_flop_per_token(n, layers, heads * 256, 2048)
        hardware = hardware_flop_per_token(n, layers, heads * 256, 2048, recompute="selective")
        assert model == pytest.approx(6 * n + 12 * layers * heads * 256 * 2048, rel=1e-12)
        assert hardware - model == pytest.approx(4 * layers * heads * 256 * 2048, rel=1e-12)
        assert float(f"{model / 1e12:.3g}") == table22[0] and float(f"{hardware / 1e12:.3g}") == table22[1]


def test_flop_conventions_and_hfu():
    n, L, d, T = 1e9, 24, 2048, 2048
    attn = 12 * L * d * T
    assert model_flop_per_token(n, L, d, T) == pytest.approx(6 * n + attn)
    assert model_flop_per_token(n, L, d, T, attention="causal") == pytest.approx(6 * n + attn / 2)
    assert model_flop_per_token(n, L, d, T, attention="none") == pytest.approx(6 * n)
    assert model_flop_per_token(n) == pytest.approx(6 * n)
    # selective recomputation repeats the forward attention (4 L d T); full repeats the forward pass (2 N + 4 L d T):
    # 8 N + 16 L d T = 4/3 of the model FLOP
    assert hardware_flop_per_token(n, L, d, T, recompute="selective") == pytest.approx(6 * n + attn + 4 * L * d * T)
    full = hardware_flop_per_token(n, L, d, T, recompute="full")
    assert full / model_flop_per_token(n, L, d, T) == pytest.approx(4 / 3)
    r = calculate(
        params=n, n_layers=L, d_model=d, context=T, tokens_per_s=1e5, chips=8, hardware="a100", recompute="full"
    )
    assert r.hfu / r.utilization == pytest.approx(4 / 3)
    # sequences/s x sequence length = tokens/s
    s = calculate(params=n, n_layers=L, d_model=d, context=T, samples_per_s=1e5 / T, chips=8, hardware="a100")
    assert s.utilization == pytest.approx(r.utilization)
    # 1e5 tokens/s x (6e9 + 1.2080e9) FLOP / (8 x 312e12) = 0.2888
    assert r.utilization == pytest.approx(1e5 * (6e9 + attn) / (8 * 312e12), rel=1e-9)


def test_calc_bad_input(capsys):
    with pytest.raises(InvalidInputError, match="missing: --compute, --training-hours, --chips"):
        calculate(params=1e9, hardware="a100")
    with pytest.raises(InvalidInputError, match="not both"):
        calculate(params=1e9, tokens_per_s=1, samples_per_s=1, context=8, chips=1, hardware="a100")
    with pytest.raises(InvalidInputError, match="all of n_layers, d_model and context"):
        model_flop_per_token(1e9, 24, None, 2048)
    with pytest.raises(UnknownNameError, match="recompute"):
        hardware_flop_per_token(1e9, recompute="sometimes")
    with pytest.raises(InvalidInputError, match="hardware"):
        calculate(params=1e9, tokens_per_s=1e3, chips=1)
    # a convention is checked on every route, even where it does not enter (the implied utilization)
    with pytest.raises(UnknownNameError, match="attention"):
        calculate("gpt-3", attention="half")
    code, out, err = run(
        ["mfu", "calc", "--params", "7B", "--tokens-per-s", "1e5..2e5", "--chips", "8", "--hardware", "a100"], capsys
    )
    assert code == 2 and out == "" and err.count("\n") == 1 and "not an interval" in err
    code, _, err = run(
        ["mfu", "calc", "--params", "-7", "--tokens-per-s", "1", "--chips", "8", "--hardware", "a100"], capsys
    )
    assert code == 2 and "params" in err


# -- configs ---------------------------------------------------------------------------


def test_config_parameter_count_and_flop():
    small = PRESETS["small"]
    # 12 x 4 x 256^2 + 8192 x 256 = 3,145,728 + 2,097,152 = 5,242,880 matmul parameters;
    # per token 6 N + 12 x 4 x 256 x 256 = 31,457,280 + 3,145,728 = 34,603,008; x 4 x 256 tokens = 35,433,480,192
    assert small.matmul_params == 5_242_880
    assert small.model_flop_per_step() == 35_433_480_192
    # GPT-2 small's shape: 124M parameters with the tied output layer and position embeddings
    assert PRESETS["medium"].total_params == pytest.approx(124e6, rel=0.01)


def test_config_files_and_errors(tmp_path):
    good = tmp_path / "tiny.toml"
    good.write_text("n_layers = 2\nd_model = 64\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 2\n")
    cfg = load_config(str(good))
    assert cfg.name == "tiny" and cfg.precision == "fp32"
    (tmp_path / "j.json").write_text(json.dumps(dataclasses.asdict(cfg)))
    assert load_config(str(tmp_path / "j.json")) == dataclasses.replace(cfg)
    cases = {
        "n_layers = 2\nd_model = 64\n": "missing field(s) n_heads, context, vocab, batch",
        "n_layers = 2.5\nd_model = 64\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 2\n": "n_layers=2.5",
        "n_layers = 2\nd_model = 65\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 2\n": "not a multiple",
        "n_layers = 2\nd_model = 64\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 2\nwidth = 3\n": "unknown field",
        "n_layers = 2\nd_model = 64\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 0\n": "batch=0 is outside",
        "n_layers = [2\n": "not valid TOML",
        "n_layers = 2\nd_model = 64\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 2\nprecision = 'fp4'\n": "fp4",
    }
    for i, (text, message) in enumerate(cases.items()):
        p = tmp_path / f"bad{i}.toml"
        p.write_text(text)
        with pytest.raises(InvalidInputError, match=re.escape(message)) as info:
            load_config(str(p))
        assert str(p) in str(info.value)
    with pytest.raises(InvalidInputError, match="neither a preset"):
        load_config("huge")


# -- measurement -----------------------------------------------------------------------


def _given(times, *, warmup=2, flop=1e12, peak=1e13, wall=None, runs=None):
    """A Measurement built from given step times: no PyTorch, every statistic is arithmetic on the times."""
    from flopcast.utilization.measure import Measurement

    return Measurement(
        config=TINY,
        device="cpu",
        device_name="given",
        step_times_s=list(times),
        warmup=warmup,
        flop_per_step=flop,
        flop_per_step_counted=flop,
        flop_per_step_counted_default=flop,
        peak_flop_per_s=peak,
        peak_origin="given",
        wall_time_s=wall,
        runs=runs or [],
    )


def test_headline_is_the_ratio_of_sums_of_the_measured_window():
    # 8 steps, the first 2 warm-up: measured times 0.25 + 0.2 + 0.25 + 0.3 + 0.2 + 0.2 = 1.4 s for 6 steps of 1e12
    # FLOP on a 1e13 FLOP/s peak: headline = 6e12 / (1.4 x 1e13) = 3/7
    m = _given([0.5, 0.3, 0.25, 0.2, 0.25, 0.3, 0.2, 0.2], wall=2.5)
    assert m.headline == pytest.approx(3 / 7, rel=1e-12)
    assert m.headline == pytest.approx(6 * 1e12 / ((0.25 + 0.2 + 0.25 + 0.3 + 0.2 + 0.2) * 1e13), rel=1e-12)
    d = m.to_dict()
    assert d["mfu"]["headline"] == d["headline"]["mfu"] == d["quotes"]["total_flop_over_total_time"] == m.headline
    assert d["headline"]["measured_steps"] == 6 and d["headline"]["model_flop"] == 6e12
    assert d["headline"]["time_s"] == pytest.approx(1.4, rel=1e-12)
    # per step: 0.1 / t = 0.4, 0.5, 0.4, 1/3, 0.5, 0.5: median (0.4 + 0.5) / 2 = 0.45, mean 2.6333 / 6 = 0.43889,
    # min 1/3, max 0.5; the headline (a harmonic mean of the per-step MFU) is below both median and mean
    assert d["mfu"]["median"] == pytest.approx(0.45, rel=1e-12)
    assert d["mfu"]["mean"] == pytest.approx((0.4 + 0.5 + 0.4 + 1 / 3 + 0.5 + 0.5) / 6, rel=1e-12)
    assert d["mfu"]["min"] == pytest.approx(1 / 3, rel=1e-12) and d["mfu"]["max"] == pytest.approx(0.5, rel=1e-12)
    # effective: every step's FLOP (8e12) over the whole wall time: 8e12 / (2.5 x 1e13) = 0.32; the steps take
    # 0.5 + 0.3 + 1.4 = 2.2 s of the 2.5, 88%; and effective = including_warmup (8e12 / 2.2e13) x 0.88
    assert d["effective"]["mfu"] == pytest.approx(0.32, rel=1e-12)
    assert d["effective"]["training_time_fraction"] == pytest.approx(0.88, rel=1e-12)
    assert d["effective"]["wall_time_s"] == 2.5
    assert d["quotes"]["including_warmup"] == pytest.approx(8e12 / 2.2e13, rel=1e-12)
    # tokens/s over the same window: 6 steps x 64 tokens / 1.4 s
    assert d["tokens_per_s"] == pytest.approx(6 * 64 / 1.4, rel=1e-12)
    # not repeated: one run, no spread
    assert d["repeats"]["n"] == 1 and d["repeats"]["headlines"] == [m.headline] and d["repeats"]["cv"] is None
    assert d["repeats"]["relative_spread"] == 0 and len(d["repeats"]["runs"]) == 1
    # without a wall time the steps' sum stands in: the effective utilization is then the including-warm-up quote
    bare = _given([0.5, 0.3, 0.25, 0.2, 0.25, 0.3, 0.2, 0.2])
    assert bare.effective == pytest.approx(8e12 / 2.2e13, rel=1e-12) and bare.training_time_fraction == 1.0


def test_spread_between_runs_is_exact():
    from flopcast.utilization.measure import run_spread

    # the two back-to-back runs, 24.7% and 18.2%, and a third of 20.0%: median 0.2, min-max 0.182-0.247,
    # relative spread (0.247 - 0.182) / 0.2 = 0.325; mean 0.629 / 3 = 0.20967, sample variance
    # (0.037333^2 + 0.027667^2 + 0.009667^2) / 2 = 0.00112633, CV = sqrt(0.00112633) / 0.20967 = 0.16007
    r = run_spread([0.247, 0.182, 0.2])
    mean = (0.247 + 0.182 + 0.2) / 3
    sd = math.sqrt(((0.247 - mean) ** 2 + (0.182 - mean) ** 2 + (0.2 - mean) ** 2) / 2)
    assert r.median == 0.2 and r.min == 0.182 and r.max == 0.247
    assert r.relative_spread == pytest.approx((0.247 - 0.182) / 0.2, rel=1e-12)
    assert r.cv == pytest.approx(sd / mean, rel=1e-12) and r.cv == pytest.approx(0.16007, abs=1e-5)
    two = run_spread([0.3, 0.1])  # an even count: the median is the mean of the middle two
    assert two.median == pytest.approx(0.2) and two.relative_spread == pytest.approx(1.0)
    assert two.cv == pytest.approx(math.sqrt(0.02) / 0.2, rel=1e-12)
    # a Measurement carrying three runs reports their spread
    runs = [{"headline": h} for h in (0.247, 0.182, 0.2)]
    d = _given([0.5, 0.3, 0.25, 0.2, 0.25, 0.3, 0.2, 0.2], runs=runs).to_dict()["repeats"]
    assert d["n"] == 3 and d["headlines"] == [0.247, 0.182, 0.2] and d["median"] == 0.2
    assert d["relative_spread"] == pytest.approx(0.325, rel=1e-12)
    for bad in ([], [0.2, -0.1], [float("nan")]):
        with pytest.raises(InvalidInputError, match="headlines="):
            run_spread(bad)


# the harness's code paths need no real model: the smallest decoder that is still a transformer (two layers, two
# heads). 12 x 2 x 64^2 + 128 x 64 = 98,304 + 8,192 = 106,496 matmul parameters; per token
# 6 N + 12 x 2 x 64 x 32 = 638,976 + 49,152 = 688,128 FLOP; x 2 x 32 tokens = 44,040,192 FLOP a step
TINY = DecoderConfig(n_layers=2, d_model=64, n_heads=2, context=32, vocab=128, batch=2, name="tiny")


@pytest.fixture(scope="module")
def run_tiny():
    import importlib

    harness = importlib.import_module("flopcast.utilization.measure")
    assert TINY.matmul_params == 106_496 and TINY.model_flop_per_step() == 44_040_192
    real = harness.measured_matmul_peak
    with pytest.MonkeyPatch.context() as mp:
        # the peak is measured as in a real run (before and after it, the better kept), on 256 x 256 matmuls
        # instead of 2048 x 2048: seconds less, the same code path
        mp.setattr(harness, "measured_matmul_peak", lambda torch, device, dtype: real(torch, device, dtype, n=256))
        return harness.measure(TINY, steps=10, warmup=2, seed=0)


@pytest.mark.slow  # the shared run starts PyTorch and trains (about 2 s)
def test_measured_mfu_is_a_sane_ordered_distribution(run_tiny):
    d = run_tiny.to_dict()
    s = d["mfu"]
    # ordered by definition; no ceiling of 1: the tiny peak matmuls and the steps are timed separately, so on a
    # loaded machine a step can beat the measured "peak" (a wall-clock property, not one this test may assert)
    assert 0 < s["min"] <= s["p5"] <= s["median"] <= s["p95"] <= s["max"]
    assert s["min"] <= s["headline"] <= s["mean"] <= s["max"]  # a harmonic mean is at most the arithmetic one
    assert len(d["step_times_s"]) == 10 and d["method"]["measured_steps"] == 8
    # each quote is its definition over the same step times
    t = np.asarray(d["step_times_s"])
    fp = d["flop_per_step"]["analytic"] / d["peak_flop_per_s"]
    q = d["quotes"]
    assert q["best_step"] == pytest.approx(s["max"]) == pytest.approx(fp / t[2:].min())
    assert q["single_step (first after warm-up)"] == pytest.approx(fp / t[2])
    assert q["including_warmup"] == pytest.approx(fp * 10 / t.sum())
    assert q["total_flop_over_total_time"] == pytest.approx(fp * 8 / t[2:].sum()) == s["headline"]
    assert q["median_step"] == pytest.approx(s["median"])
    assert d["tokens_per_s"] == pytest.approx(2 * 32 * 8 / t[2:].sum())
    # the wall clock runs from building the model to the end of the last step, so it holds every step
    e = d["effective"]
    assert e["wall_time_s"] >= t.sum() and 0 < e["training_time_fraction"] <= 1
    assert e["mfu"] == pytest.approx(q["including_warmup"] * e["training_time_fraction"])
    assert d["peak_origin"].startswith("measured: best of 8 256x256 float32 matmuls")


@pytest.mark.slow
def test_analytic_flop_matches_pytorch_counter(run_tiny):
    # Under the math attention backend, PyTorch's FlopCounterMode counts every matmul of a training step, and it
    # equals the analytic 6 N + 12 L d T per token exactly (LayerNorm, softmax, GELU and the optimizer are in
    # neither). Under the default backend PyTorch 2.13 on a CPU does not count the fused attention kernel, so the
    # counter falls short by exactly the attention term 12 x 2 x 64 x 32 x 64 tokens = 3,145,728.
    f = run_tiny.to_dict()["flop_per_step"]
    assert f["analytic"] == 44_040_192
    assert f["counted_math_attention"] == pytest.approx(f["analytic"], rel=0.01)
    assert f["counted_math_attention"] == f["analytic"]
    assert f["counted_default_attention"] in (f["analytic"], f["analytic"] - 3_145_728)


def test_measure_cli_json_and_given_peak(capsys, tmp_path):
    config = tmp_path / "tiny.toml"  # TINY as a file
    config.write_text("n_layers = 2\nd_model = 64\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 2\n")
    code, out, _ = run(
        [
            "mfu",
            "measure",
            "--config",
            str(config),
            "--steps",
            "7",
            "--warmup",
            "2",
            "--batch",
            "1",
            "--peak",
            "1e12",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    d = json.loads(out)
    assert set(d["mfu"]) == {"headline", "mean", "median", "p5", "p95", "min", "max"}
    assert d["peak_origin"] == "given" and d["peak_flop_per_s"] == 1e12
    assert d["method"]["config"]["name"] == "tiny" and d["method"]["config"]["batch"] == 1
    assert d["method"]["warmup"] == 2 and len(d["step_times_s"]) == 7
    # with the peak given, MFU of the median step (of 5) = FLOP per step / (median step time x 1e12)
    med = np.median(d["step_times_s"][2:])
    assert d["mfu"]["median"] == pytest.approx(d["flop_per_step"]["analytic"] / (med * 1e12))
    # the headline: 5 steps' FLOP over their total time x 1e12
    total = sum(d["step_times_s"][2:])
    assert d["mfu"]["headline"] == pytest.approx(5 * d["flop_per_step"]["analytic"] / (total * 1e12), rel=1e-12)
    assert d["repeats"]["n"] == 1 and d["method"]["repeats"] == 1
    assert d["flop_per_step"]["analytic"] == 44_040_192 / 2  # TINY's FLOP a step at batch 1 instead of 2


def test_measure_repeats_reports_the_spread_between_runs(capsys, tmp_path):
    config = tmp_path / "tiny.toml"  # TINY as a file, at batch 1: three runs of 6 steps take about a second
    config.write_text("n_layers = 2\nd_model = 64\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 1\n")
    args = ["mfu", "measure", "--config", str(config), "--steps", "6", "--warmup", "1", "--peak", "1e12"]
    code, out, _ = run([*args, "--repeats", "3", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    r = d["repeats"]
    assert r["n"] == 3 and len(r["runs"]) == 3 and d["method"]["repeats"] == 3
    # each run's headline is its own ratio of sums; the first run is the one reported in full
    assert r["headlines"] == [x["headline"] for x in r["runs"]]
    assert r["headlines"][0] == d["mfu"]["headline"]
    fp = 44_040_192 / 2 / 1e12  # TINY's FLOP a step at batch 1, over the given peak
    assert r["headlines"][0] == pytest.approx(fp * 5 / sum(d["step_times_s"][1:]), rel=1e-12)
    h = np.asarray(r["headlines"])
    assert r["median"] == pytest.approx(np.median(h)) and r["min"] == h.min() and r["max"] == h.max()
    assert r["relative_spread"] == pytest.approx((h.max() - h.min()) / np.median(h))
    assert r["cv"] == pytest.approx(np.std(h, ddof=1) / h.mean())
    code, out, _ = run([*args, "--repeats", "2"], capsys)  # the table
    assert code == 0 and "2 runs of the same configuration" in out and "between runs: median" in out
    assert "MFU" in out.splitlines()[0] and "total FLOP / total time" in out.splitlines()[0]


def test_measure_bad_input(capsys, tmp_path, monkeypatch):
    from flopcast.utilization.measure import measure

    code, out, err = run(["mfu", "measure", "--device", "tpu"], capsys)
    assert code == 2 and out == "" and "device='tpu' is not one of cpu, cuda" in err
    code, _, err = run(["mfu", "measure", "--steps", "5", "--warmup", "3"], capsys)
    assert code == 2 and "leaves 2 measured steps; give at least 8 steps" in err
    for bad in ("0", "21", "-1"):  # checked before anything is trained
        code, out, err = run(["mfu", "measure", "--repeats", bad], capsys)
        assert code == 2 and out == "" and f"repeats={bad} must be a whole number of runs in 1..20" in err
    with pytest.raises(InvalidInputError, match=r"repeats=2\.5 must be a whole number"):
        measure(PRESETS["small"], repeats=2.5)
    with pytest.raises(InvalidInputError, match="repeats=True"):
        measure(PRESETS["small"], repeats=True)
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidInputError, match=r"no CUDA device.*--device cpu"):
        measure(PRESETS["small"], device="cuda")
    # GPT-3 XL's shape in fp32 on a CPU: 16 bytes a parameter for 1.4B parameters alone is 22 GB, plus activations
    big = tmp_path / "big.toml"
    big.write_text("n_layers = 24\nd_model = 2048\nn_heads = 16\ncontext = 2048\nvocab = 50304\nbatch = 64\n")
    code, _, err = run(["mfu", "measure", "--config", str(big)], capsys)
    assert code == 2 and "needs about" in err and "reduce batch, context, n_layers or d_model" in err
    with pytest.raises(InvalidInputError, match="fp16 is for CUDA"):
        measure(dataclasses.replace(PRESETS["small"], precision="fp16"))
    with pytest.raises(InvalidInputError, match="d_model=65 is not a multiple"):
        DecoderConfig(n_layers=1, d_model=65, n_heads=2, context=8, vocab=8, batch=1)


def test_cuda_device_names_map_to_catalog_peaks():
    # the names torch.cuda.get_device_name() returns; the dense bf16 peaks of the datasheets (H100 SXM 989.4,
    # A100 312 TFLOP/s). A card the catalog lacks (or a precision it lacks) falls back to a measured peak.
    from flopcast.utilization.measure import _catalog_peak

    assert _catalog_peak("NVIDIA H100 80GB HBM3", "bf16", False)[0] == 989.4e12
    assert _catalog_peak("NVIDIA A100-SXM4-80GB", "bf16", False)[0] == 312e12
    assert _catalog_peak("NVIDIA A100-SXM4-80GB", "fp32", True)[0] == 156e12  # TF32 when PyTorch allows it
    assert _catalog_peak("NVIDIA A100-SXM4-80GB", "fp32", False)[0] == 19.5e12
    assert _catalog_peak("Tesla V100-SXM2-32GB", "bf16", False) is None  # V100 has no bf16
    assert _catalog_peak("NVIDIA GeForce RTX 4090", "bf16", False) is None
