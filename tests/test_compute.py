"""Training and inference FLOP, pinned to published figures."""

import numpy as np
import pytest

from flopcast.compute import (
    FlopConvention,
    compute_from_chip_hours,
    compute_from_hardware,
    disagreement_ratio,
    disagrees,
    forward_flop_per_token,
    inference_flop_per_token,
    training_compute_flop,
)
from flopcast.errors import InvalidInputError


def test_gpt3_six_n_d():
    # Brown et al. 2020 (arXiv 2005.14165): 175e9 parameters, 300e9 tokens.
    # 6 * 175e9 * 300e9 = 3.15e23; the paper's Table D.1 reports 3.14e23.
    c = training_compute_flop(175e9, 300e9, convention=FlopConvention(count_attention=False))
    assert c == pytest.approx(3.15e23, rel=1e-12)
    assert c == pytest.approx(3.14e23, rel=0.01)


def test_gpt3_by_hardware():
    # 10,000 V100 x 355.2 h x 3600 s/h x 125e12 FLOP/s x 0.1968 = 3.1457e23 ~ 3.14e23 (Brown et al. 2020;
    # 14.8 days from Patterson et al. 2021, arXiv 2104.10350; 24.6/125 TFLOP/s = 0.1968)
    c = compute_from_hardware(10_000, 355.2 * 3600, 125e12, 0.1968)
    assert c == pytest.approx(3.1457e23, rel=1e-4)
    assert c == pytest.approx(3.14e23, rel=0.01)
    assert compute_from_chip_hours(3_552_000, 125e12, 0.1968) == pytest.approx(c, rel=1e-12)


def test_attention_term_and_switches():
    # PaLM (Chowdhery et al. 2022, Appendix B): training adds 12 * n_layers * n_ctx * d_attn per token (the score and
    # weighted-value matmuls, forward 4 L T d_attn, x3 with the backward pass). GPT-3: 12 * 96 * 2048 * 12288 *
    # 300e9 = 8.70e21 on top of 6ND = 3.15e23 (+2.8%).
    c = training_compute_flop(175e9, 300e9, n_layers=96, d_attn=12288, context_length=2048)
    assert c == pytest.approx(3.15e23 + 12 * 96 * 2048 * 12288 * 300e9, rel=1e-12)
    assert c == pytest.approx(3.237e23, rel=1e-3)
    half = training_compute_flop(
        175e9, 300e9, n_layers=96, d_attn=12288, context_length=2048, convention=FlopConvention(causal_halving=True)
    )
    assert half == pytest.approx(3.15e23 + 6 * 96 * 2048 * 12288 * 300e9, rel=1e-12)
    none = training_compute_flop(
        175e9, 300e9, n_layers=96, d_attn=12288, context_length=2048, convention=FlopConvention(count_attention=False)
    )
    assert none == pytest.approx(3.15e23, rel=1e-12)


def test_attention_width_of_latent_and_grouped_attention():
    # Llama 3.1 405B (Llama Team 2024, Table 3): 126 layers, 128 query heads of 128 (GQA keeps all query heads, so
    # d_attn = 16,384), pretraining sequence 8,192; 405e9 x 15.6e12 tokens: 6ND = 3.791e25, attention
    # 12 * 126 * 8192 * 16384 * 15.6e12 = 3.166e24, total 4.108e25: within 15% of Meta's 3.8e25
    c = training_compute_flop(405e9, 15.6e12, n_layers=126, d_attn=16384, context_length=8192)
    assert c == pytest.approx(6 * 405e9 * 15.6e12 + 12 * 126 * 8192 * 16384 * 15.6e12, rel=1e-12)
    assert c == pytest.approx(3.8e25, rel=0.15)
    # DeepSeek-V3 (arXiv 2412.19437): multi-head latent attention, 128 heads with 192-wide queries and keys and
    # 128-wide values: d_attn = 128 * (192 + 128) / 2 = 20,480; 61 layers, 4K pretraining sequences, 37B active
    # parameters, 14.8T tokens: 3.286e24 + 12 * 61 * 4096 * 20480 * 14.8e12 = 4.195e24, below Epoch's 7.6e24 bound
    d = training_compute_flop(37e9, 14.8e12, n_layers=61, d_attn=20480, context_length=4096)
    assert d == pytest.approx(3.2856e24 + 12 * 61 * 4096 * 20480 * 14.8e12, rel=1e-12)
    assert d < 7.59e24


def test_moe_counts_active_parameters_and_epochs():
    # DeepSeek-V3 (arXiv 2412.19437): 37B active of 671B, 14.8T tokens: 6 * 37e9 * 14.8e12 = 3.2856e24
    assert training_compute_flop(37e9, 14.8e12) == pytest.approx(3.2856e24, rel=1e-12)
    assert training_compute_flop(1e9, 1e9, epochs=2) == pytest.approx(1.2e19, rel=1e-12)


def test_scalar_array_and_broadcast():
    params = np.array([1e9, 2e9, 4e9])
    tokens = np.array([[1e9], [2e9]])
    out = training_compute_flop(params, tokens)
    assert out.shape == (2, 3)
    assert out[1, 2] == pytest.approx(6 * 4e9 * 2e9)
    assert np.all(np.diff(out, axis=1) > 0)  # more parameters, more compute
    assert float(training_compute_flop(1e9, 1e9)) == pytest.approx(6e18)


def test_inference_flop_per_token():
    # 2 N per generated token plus the forward attention 4 n_layer n_ctx d_attn: 70B, 80 layers, 8192 wide, 4096 context
    assert inference_flop_per_token(70e9) == pytest.approx(1.4e11)
    assert inference_flop_per_token(70e9, 80, 8192, 4096) == pytest.approx(1.4e11 + 4 * 80 * 4096 * 8192)
    assert forward_flop_per_token(70e9) == inference_flop_per_token(70e9)


def test_stable_diffusion_vs_gpt3():
    # Cottier 2022: Stable Diffusion ~5e22 FLOP vs GPT-3 3.14e23: 3.14e23 / 5e22 = 6.28, "about 6.3x"
    assert disagreement_ratio(3.14e23, 5e22) == pytest.approx(6.3, rel=0.01)


def test_disagreement_flag():
    assert not disagrees(3e23, 1.01e23)  # 2.97x
    assert disagrees(3e23, 0.99e23)  # 3.03x
    assert disagreement_ratio(1.0, 4.0) == 4.0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(params=-1, tokens=1e9), "params_active"),
        (dict(params=0, tokens=1e9), "params_active"),
        (dict(params=1e9, tokens=float("nan")), "tokens"),
        (dict(params=float("inf"), tokens=1e9), "params_active"),
    ],
)
def test_bad_compute_inputs(kwargs, field):
    with pytest.raises(InvalidInputError, match=field):
        training_compute_flop(kwargs["params"], kwargs["tokens"])


def test_bad_utilization():
    with pytest.raises(InvalidInputError, match=r"utilization=1.7 is outside \(0, 1\]"):
        compute_from_hardware(8, 3600, 1e14, 1.7)
    with pytest.raises(InvalidInputError, match="utilization"):
        compute_from_hardware(8, 3600, 1e14, 0)


from hypothesis import given, settings
from hypothesis import strategies as st

_pos = st.floats(1e6, 1e13, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(n=_pos, d=_pos, extra=st.floats(1.0, 10.0))
def test_more_tokens_or_parameters_never_means_less_compute(n, d, extra):
    base = training_compute_flop(n, d)
    assert training_compute_flop(n, d * extra) >= base
    assert training_compute_flop(n * extra, d) >= base
    assert training_compute_flop(n, d, n_layers=32, d_attn=4096, context_length=2048) >= base
