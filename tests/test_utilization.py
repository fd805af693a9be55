"""Utilization: the calculator against published figures, and the measurement harness on this CPU."""

import dataclasses
import json
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
    assert s["min"] <= s["mean"] <= s["max"]
    assert len(d["step_times_s"]) == 10 and d["method"]["measured_steps"] == 8
    # each quote is its definition over the same step times
    t = np.asarray(d["step_times_s"])
    fp = d["flop_per_step"]["analytic"] / d["peak_flop_per_s"]
    q = d["quotes"]
    assert q["best_step"] == pytest.approx(s["max"]) == pytest.approx(fp / t[2:].min())
    assert q["single_step (first after warm-up)"] == pytest.approx(fp / t[2])
    assert q["including_warmup"] == pytest.approx(fp * 10 / t.sum())
    assert q["total_flop_over_total_time"] == pytest.approx(fp * 8 / t[2:].sum())
    assert d["tokens_per_s"] == pytest.approx(2 * 32 / np.median(t[2:]))
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
    assert set(d["mfu"]) == {"mean", "median", "p5", "p95", "min", "max"}
    assert d["peak_origin"] == "given" and d["peak_flop_per_s"] == 1e12
    assert d["method"]["config"]["name"] == "tiny" and d["method"]["config"]["batch"] == 1
    assert d["method"]["warmup"] == 2 and len(d["step_times_s"]) == 7
    # with the peak given, MFU of the median step (of 5) = FLOP per step / (median step time x 1e12)
    med = np.median(d["step_times_s"][2:])
    assert d["mfu"]["median"] == pytest.approx(d["flop_per_step"]["analytic"] / (med * 1e12))
    assert d["flop_per_step"]["analytic"] == 44_040_192 / 2  # TINY's FLOP a step at batch 1 instead of 2


def test_measure_bad_input(capsys, tmp_path, monkeypatch):
    from flopcast.utilization.measure import measure

    code, out, err = run(["mfu", "measure", "--device", "tpu"], capsys)
    assert code == 2 and out == "" and "device='tpu' is not one of cpu, cuda" in err
    code, _, err = run(["mfu", "measure", "--steps", "5", "--warmup", "3"], capsys)
    assert code == 2 and "leaves 2 measured steps; give at least 8 steps" in err
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
