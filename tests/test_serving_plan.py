"""Serving in 2026 (issue 16): the roofline's new terms, the planner, and serving against training on one basis.

Every number is hand-computed in the comment above its assertion, or is a published figure with its source.
"""

import datetime as dt
import itertools
import json
import math

import numpy as np
import pytest

from flopcast import deployment as D
from flopcast import serving as S
from flopcast.catalogs import get_hardware, get_model
from flopcast.errors import InvalidInputError
from flopcast.serving.config import Config, Workload, evaluate, fits, memory_bytes
from flopcast.serving.plan import central_efficiencies
from flopcast.testing import run_cli as run
from flopcast.validation import deepseek_decode, trtllm_max_validation, trtllm_validation
from flopcast.validation.serving import _served

# -- stage functions --------------------------------------------------------------------------------------------


def test_attention_flop_of_gqa_and_mla():
    # Llama 3 70B (64 heads of 128, GQA): 2 x 80 x 64 x (128 + 128) = 2,621,440 FLOP a context position, the same as
    # multi-head attention of width 8,192 (GQA saves KV bytes, not FLOP)
    assert D.attention_flop_per_position(80, 64, 128, 128) == 2_621_440
    assert D.attention_flop_per_position_mha(80, 8192) == 2_621_440
    # DeepSeek-V3 (MLA, absorbed): 2 x 61 x 128 x (576 + 512) = 16,990,208, which is 19.4x the 2 x 61 x 7,168 the
    # old formula (2 x layers x d_model) charged
    mla = D.attention_flop_per_position(61, 128, 576, 512)
    assert mla == 16_990_208
    assert mla / (2 * 61 * 7168) == pytest.approx(19.43, rel=1e-3)
    m = _served("deepseek-v3")
    assert m.attention_per_position == mla and m.moe and m.attention == "mla"
    # the KV cache: 576 values a token and layer (DeepSeek-AI 2024, Section 2.1.1) = 0.040179 of 2 x 7,168
    assert get_model("deepseek-v3").kv_cache_fraction == pytest.approx(576 / (2 * 7168))


def test_mixture_of_experts_weights_and_experts_touched():
    # DeepSeek-V3: 671B total, 37B active, 8 of 256 routed experts. e = (671 - 37) / (256 - 8) = 2.5565B an expert,
    # shared = 37 - 8 e = 16.548B, routed = 256 e = 654.45B
    shared, routed = D.moe_params(671e9, 37e9, 256, 8)
    assert shared == pytest.approx(37e9 - 8 * 634e9 / 248) and routed == pytest.approx(256 * 634e9 / 248)
    # one token touches 8/256 = 3.1% of the experts; 128 tokens 1 - (248/256)^128 = 98.3%
    assert D.experts_touched_fraction(1, 8, 256) == pytest.approx(8 / 256)
    assert D.experts_touched_fraction(128, 8, 256) == pytest.approx(1 - (248 / 256) ** 128)
    assert D.experts_touched_fraction(128, 8, 256) == pytest.approx(0.9828, abs=1e-4)
    with pytest.raises(InvalidInputError, match="experts_per_token < n_experts"):
        D.moe_params(671e9, 37e9, 8, 8)
    # batch 1 of DeepSeek-V3 on 8 H200 reads the shared 16.5 GB and 3.1% of the 654 GB of experts (fp8), not all
    # 671 GB: the step is far under the 671 GB / (8 x 4.8 TB/s x 0.5) = 35 ms the issue measured
    m, hw = _served("deepseek-v3"), get_hardware("h200")
    cfg = Config(hw, 8, 1, 8, "fp8", "fp8", 1)
    step = float(evaluate(m, cfg, Workload(0.0, 100.0, context=1000.0), central_efficiencies())["step_s"])
    read = 8 * shared + routed * D.experts_touched_fraction(1, 8, 256)  # attention data-parallel: 8 copies
    assert step > read / (8 * 4.8e12 * 0.5) and step < 0.035 / 2


def test_collectives():
    # tensor-parallel all-reduce, Llama 70B at TP4, 512 tokens: the message is 512 x 8,192 x 2 B = 8.39 MB; a ring
    # moves 2 x 3/4 of it each way at 900/2 GB/s x 0.7 = 315 GB/s: 39.9 us, plus 10 us of latency; 160 of them
    one = 2 * 3 / 4 * 512 * 8192 * 2 / 315e9 + 1e-5
    t = D.allreduce_s(512, 8192, 80, 4, 900e9, eff_network=0.7, latency_s=1e-5)
    assert t == pytest.approx(160 * one) and t == pytest.approx(7.99e-3, rel=1e-3)
    assert D.allreduce_s(512, 8192, 80, 1, 900e9) == 0.0
    # expert-parallel dispatch (fp8) and combine (bf16): 64 tokens a chip x 8 experts x 7,168 x 3 B x 143/144 over
    # 50 GB/s x 0.7 each way, plus two latencies, in each of 58 layers
    per_layer = 64 * 8 * 7168 * 3 * 143 / 144 / (0.5 * 100e9 * 0.7) + 2e-5
    a2a = D.all_to_all_s(64, 8, 7168, 58, 144, 100e9, eff_network=0.7, latency_s=1e-5)
    assert a2a == pytest.approx(58 * per_layer)
    assert D.all_to_all_s(64, 8, 7168, 58, 1, 100e9) == 0.0


def test_prefill_decode_speculation_and_batching():
    # a 1,000-token prompt of Llama 3 70B: 2 x 70e9 x 1,000 = 1.4e14 FLOP of weights plus causal attention
    # 2,621,440 x 1,000^2 / 2 = 1.31e12; half found in the prefix cache: 7e13 + 2,621,440 x (1e6 - 2.5e5) / 2
    assert D.prefill_flop(1000, 70e9, 2_621_440) == pytest.approx(1.4e14 + 2_621_440 * 1e6 / 2)
    assert D.prefill_flop(1000, 70e9, 2_621_440, 0.5) == pytest.approx(7e13 + 2_621_440 * 7.5e5 / 2)
    with pytest.raises(InvalidInputError, match="prefix cache hit rate"):
        D.prefill_flop(1000, 70e9, 1.0, 1.0)
    # speculative decoding (Leviathan et al. 2023, eq. 1): (1 - a^(g+1)) / (1 - a); DeepSeek's MTP, one draft at
    # 85%: 1.85 tokens a step (their 1.8x); three drafts at 80%: (1 - 0.8^4) / 0.2 = 2.952
    assert D.speculative_tokens_per_step(0.85, 1) == pytest.approx(1.85)
    assert D.speculative_tokens_per_step(0.8, 3) == pytest.approx(2.952)
    assert D.speculative_tokens_per_step(0.5, 0) == 1.0
    # continuous batching: the mean context of 128 in / 2,048 out is 128 + 2,047 / 2 = 1,151.5; Little's law,
    # 10 requests/s x 200 tokens x 50 ms = 100 sequences at once
    assert D.mean_decode_context(128, 2048) == 1151.5
    assert D.steady_state_batch(10, 200, 0.05) == pytest.approx(100)
    # an instance: 0.1 s of prefill a request, a 50 ms step for 64 sequences, 200 output tokens: a request costs
    # 0.1 + 200 x 0.05 / 64 = 0.25625 s of instance time; 3.902 requests/s, 39% of the time prefilling, so a user sees
    # 50 ms / (1 - 0.390) = 82 ms a token
    rate = D.request_rate(0.1, 0.05, 64, 200)
    assert rate == pytest.approx(1 / 0.25625)
    share = rate * 0.1
    assert D.time_per_output_token_s(0.05, 1.0, share) == pytest.approx(0.05 / (1 - 0.1 / 0.25625))
    assert D.time_to_first_token_s(0.1, 0.05) == pytest.approx(0.15)


def test_precisions_and_kv_copies():
    # B200 serves fp4 weights on its fp4 tensor cores (9 PFLOP/s dense); an H100 has none and falls back to fp8
    assert D.decode_peak_flop_per_s(get_hardware("b200"), "fp4") == 9e15
    assert D.decode_peak_flop_per_s(get_hardware("h100"), "fp4") == get_hardware("h100").peak_flop_per_s("fp8")
    # an fp8 KV cache is half a bf16 one: Llama 3 70B 2 x 80 x 8 x 128 = 163,840 values a token
    assert D.kv_bytes_per_token(80, 8192, "fp8", 0.125) == 163_840
    assert D.kv_bytes_per_token(80, 8192, "bf16", 0.125) == 327_680
    # under TP8 MLA's latent sits on every rank (8 copies); Llama's 8 KV heads split one a rank (1 copy); at TP16 two
    ds, llama = _served("deepseek-v3"), _served("llama-3-70b")
    assert ds.kv_copies(8) == 8 and llama.kv_copies(8) == 1 and llama.kv_copies(16) == 2
    # a shape without heads (an ad-hoc model) is multi-head attention of 128-wide heads: no copies at TP8
    from flopcast.serving.config import served

    assert served(None, "x", 7e9, 7e9, 32, 4096, 1.0).kv_copies(8) == 1
    # memory of Llama 3 70B at fp8 on 2 H100, batch 256 at a 1,152 mean context: 70 GB + 256 x 1,152 x 163,840 B
    work = Workload(128.0, 2049.0)
    cfg = Config(get_hardware("h100"), 2, 2, 1, "fp8", "fp8", 256)
    assert memory_bytes(llama, cfg, work, 256) == pytest.approx(70e9 + 256 * 1152 * 163_840)
    assert bool(fits(llama, cfg, work))  # 70 + 48.3 = 118.3 GB <= 2 x 80 GB x 0.9 = 144 GB
    assert not bool(fits(llama, cfg, work, 512))  # 70 + 96.6 = 166.6 GB > 144 GB


# -- validation: TensorRT-LLM, DeepSeek, hosts --------------------------------------------------------------------


def test_tensorrt_llm_tables_within_1_5x():
    # TensorRT-LLM's static-batch tables (batch, lengths and TP given), Llama 2 70B FP8 on H100 and H200: every row
    # from v0.7 on (the XQA decode kernel) within 1.5x; nothing is fitted to them, the efficiencies are BLOOM's
    rows = trtllm_validation()
    assert len(rows) == 27
    checked = [r for r in rows if r["checked"]]
    assert len(checked) == 19
    assert all(1 / 1.5 <= r["ratio"] <= 1.5 for r in checked), [r for r in checked if not 0.667 <= r["ratio"] <= 1.5]
    # v0.5/v0.6.1 ran before XQA: its long-output rows are the two outside 1.5x (0.52 and 0.63; the XQA blog measured
    # 2.4x on exactly that H200 128/2048 configuration)
    outside = [r for r in rows if not 1 / 1.5 <= r["ratio"] <= 1.5]
    assert {(r["version"], r["output_tokens"]) for r in outside} == {("v0.5.0", 2048), ("v0.6.1", 2048)}
    # the newest table gives no batch: flopcast's best batch is within 2x on every row (B200 and GB200 in fp4 too)
    best = trtllm_max_validation()
    assert len(best) == 17 and all(0.5 <= r["ratio"] <= 2.0 for r in best)


def test_deepseek_decode_within_1_5x():
    # DeepSeek Day 6 (2025): about 14.8k output tokens/s per H800 node decoding at EP144, an average KV cache of 4,989
    # tokens, 20-22 tokens/s a user; flopcast, at 21 tokens/s a user, gives 11.3k
    d = deepseek_decode()
    assert 14.8e3 / 1.5 <= d["per_node"] <= 14.8e3 * 1.5
    assert d["time_per_output_token_s"] <= 1 / 21
    assert "EP144" in d["configuration"] and "DP144" in d["configuration"]


def test_bloom_default_lands_near_cottiers_240_a_day():
    # `deploy bloom-176b --tokens-per-day 2e8 --hardware a100-80gb --price-per-chip-hour 1.25`, no other flag:
    # Cottier (2022) put one instance at 8 x 24 x $1.25 = $240 a day; the planner finds one 8-GPU int8 instance
    e = S.estimate_deployment(
        "bloom-176b", hardware="a100-80gb", tokens_per_day=2e8, price_usd_per_chip_hour=1.25, samples=2000
    )
    assert 120 <= e.usd_per_day.median <= 480
    assert e.chips_per_instance == 8 and e.precision == "int8"
    assert e.plan["binding"] == ["time per output token <= 200 ms"]  # batch 1024 would be cheaper but too slow


def test_llama_3_70b_on_h100_near_hosts_prices():
    # hosts charge $0.6-0.9 a million tokens for Llama 3.x 70B (Groq $0.59/$0.79, AWS Bedrock $0.72, Together $0.88,
    # Fireworks $0.90); the planner's cost for 1e9 output tokens a day on H100 at the market price is within 2x
    e = S.estimate_deployment("llama-3-70b", hardware="h100", tokens_per_day=1e9, samples=4000)
    assert 0.3 <= e.usd_per_million_tokens.median <= 1.8
    assert e.precision == "fp8" and e.plan["binding"] == []  # no target binds: the answer says so
    assert e.time_per_output_token_s.median <= 0.2 and e.time_to_first_token_s.median <= 2.0


# -- the planner ------------------------------------------------------------------------------------------------


def test_planner_searches_and_targets_bind():
    kw = dict(hardware="h100", tokens_per_day=1e9, samples=500)
    free = S.estimate_deployment("llama-3-70b", tpot_s=math.inf, ttft_s=math.inf, **kw)
    tight = S.estimate_deployment("llama-3-70b", tpot_s=0.03, **kw)
    assert free.plan["binding"] == [] and free.plan["targets"]["tpot_s"] is None
    assert tight.plan["binding"] == ["time per output token <= 30 ms"]
    assert tight.time_per_output_token_s.median < free.time_per_output_token_s.median
    assert tight.usd_per_day.median > free.usd_per_day.median  # speed costs money
    assert tight.plan["unconstrained"]["configuration"] == free.configuration
    # the frontier: per chip, faster is dearer
    f = tight.plan["frontier"]
    assert all(a["time_per_output_token_s"] < b["time_per_output_token_s"] for a, b in itertools.pairwise(f))
    assert all(
        a["usd_per_million_tokens_at_capacity"] > b["usd_per_million_tokens_at_capacity"]
        for a, b in itertools.pairwise(f)
    )


def test_everything_fixed_reports_that_configuration_alone():
    e = S.estimate_deployment(
        "llama-3-70b", hardware="h100", chips=4, precision="fp8", batch=64, tokens_per_day=1e9, samples=500
    )
    assert e.plan["fixed"] and e.plan["binding"] == [] and e.plan["meets_targets"]
    assert (e.chips_per_instance, e.tp, e.batch, e.precision, e.kv_precision) == (4, 4, 64, "fp8", "fp8")
    slow = S.estimate_deployment(
        "llama-3-70b", hardware="h100", chips=2, precision="fp8", batch=1024, tokens_per_day=1e9, tpot_s=0.01,
        samples=500,
    )  # fmt: skip
    assert slow.plan["fixed"] and not slow.plan["meets_targets"]  # reported, not refused


def test_load_as_requests_and_the_prompt_load():
    # 10 requests/s of 70 in / 215 out = 10 x 86,400 x 215 = 1.8576e8 output tokens a day and 6.048e7 prompt tokens
    e = S.estimate_deployment("llama-3-70b", hardware="h100", requests_per_s=10, samples=500)
    assert e.tokens_per_day.median == pytest.approx(10 * 86_400 * 215)
    assert e.prompt_tokens_per_day.median == pytest.approx(10 * 86_400 * 70)
    # $/Mtok over prompt and output, and over output alone: the same dollars over 285 and 215 tokens a request
    ratio = e.usd_per_million_output_tokens.median / e.usd_per_million_tokens.median
    assert ratio == pytest.approx(285 / 215, rel=1e-6)
    with pytest.raises(InvalidInputError, match="one load"):
        S.estimate_deployment("llama-3-70b", requests_per_s=10, tokens_per_day=1e9)


def test_speculation_and_prefix_cache_move_the_numbers():
    base = dict(hardware="h100", chips=2, precision="fp8", batch=8, tokens_per_day=1e8, samples=500)
    plain = S.estimate_deployment("llama-3-70b", prompt_tokens=2000, **base)
    spec = S.estimate_deployment(
        "llama-3-70b", prompt_tokens=2000, draft_tokens=3, acceptance=0.7, draft_cost=0.05, **base
    )
    cached = S.estimate_deployment("llama-3-70b", prompt_tokens=2000, cache_hit=0.5, **base)
    # at batch 8 decode is bandwidth-bound: verifying 4 tokens costs little more than 1 (plus 3 x 5% for the drafts)
    # and yields (1 - 0.7^4) / 0.3 = 2.53; the faster decode leaves more of the time to other requests' prefills,
    # so the user sees a bit less than that
    assert spec.time_per_output_token_s.median < plain.time_per_output_token_s.median / 1.5
    assert cached.time_to_first_token_s.median < plain.time_to_first_token_s.median * 0.6


def test_disaggregated_prefill():
    # prompts read on prefill instances of their own: decode steps are no longer stretched by other requests'
    # prefills, and the fleet is decode instances plus prefill instances; each prompt's KV cache (4,000 tokens x
    # 163,840 B of fp8 KV for Llama 3 70B = 655 MB) crosses 50 GB/s x 0.7: about 19 ms more to the first token
    kw = dict(hardware="h100", chips=4, precision="fp8", batch=128, tokens_per_day=1e9, prompt_tokens=4000,
              output_tokens=300, samples=500)  # fmt: skip
    shared = S.estimate_deployment("llama-3-70b", disaggregated=False, **kw)
    apart = S.estimate_deployment("llama-3-70b", disaggregated=True, **kw)
    assert apart.disaggregated and not shared.disaggregated and shared.prefill_instances is None
    assert apart.time_per_output_token_s.median < shared.time_per_output_token_s.median
    assert 0 < apart.prefill_instances.median < apart.instances.median
    move = 4000 * 163_840 / (0.5 * 100e9 * 0.7)
    assert move == pytest.approx(0.0187, rel=0.01)
    assert apart.time_to_first_token_s.median > shared.time_to_first_token_s.median
    # with no prompt there is nothing to take apart: the planner does not try it
    e = S.estimate_deployment("llama-3-70b", hardware="h100", tokens_per_day=1e9, prompt_tokens=0, samples=300)
    assert not e.disaggregated
    code_msg = S.estimate_deployment("llama-3-70b", hardware="h100", tokens_per_day=1e9, samples=300).plan["searched"]
    assert code_msg > 0


def test_moe_deployment_and_its_layouts():
    # DeepSeek-V3 in fp8 (671 GB) fits on 8 H200 (8 x 141 x 0.9 = 1,015 GB); the planner spreads the experts over
    # every chip (EP8) and tries attention tensor- and data-parallel
    e = S.estimate_deployment("deepseek-v3", hardware="h200", tokens_per_day=1e10, samples=500)
    assert e.ep == e.chips_per_instance >= 8 and e.precision == "fp8"
    with pytest.raises(InvalidInputError, match="tp=3 does not divide chips=8"):
        S.estimate_deployment("deepseek-v3", hardware="h200", chips=8, tp=3, tokens_per_day=1e10, samples=200)


def test_amd_stacks_reach_less_of_their_peaks():
    # MLPerf Inference v4.1, Llama 2 70B offline: 8x MI300X 23,515 tokens/s, within 3-4% of 8x H100. At the chips'
    # peaks flopcast would put MI300X at about 1.65x H100; its software factor (0.59, set from this very round, so a
    # calibration and not a check) brings the best throughput a chip back to about H100's
    from flopcast.serving.plan import Choices, search

    m = _served("llama-2-70b")
    best = {}
    for key in ("h100-sxm", "mi300x"):
        rows, _, _ = search(
            m, Workload(300.0, 300.0), hardware=[get_hardware(key)], price=lambda _hw: 1.0,
            output_tokens_per_day=1e9, choices=Choices(precision="fp8", disaggregated=False),
            batches=[2**i for i in range(13)],
        )  # fmt: skip
        best[key] = max(r["output_tokens_per_s_per_chip"] for r in rows)
    assert 0.85 <= best["mi300x"] / best["h100-sxm"] <= 1.15
    # the Monte Carlo draws the factor (90% CI 0.45-0.77) with the chip's other inputs
    e = S.estimate_deployment("llama-3-70b", hardware="mi300x", tokens_per_day=1e9, samples=300)
    assert any(i["name"] == "software_factor" for i in e.inputs)


def test_an_image_model_is_not_served_per_token():
    with pytest.raises(InvalidInputError, match="image domain"):
        S.estimate_deployment("stable-diffusion-v1", tokens_per_day=1e9, samples=200)


def test_candidates_are_the_chips_on_sale_at_the_price_date():
    e = S.estimate_deployment("bloom-176b", tokens_per_day=2e8, price_date=dt.date(2022, 12, 21), samples=200)
    assert not any(name in e.hardware for name in ("B200", "B300", "MI355X", "H200", "GB200"))
    assert any("with a price on 2022-12-21" in n for n in e.notes)


# -- serving against training on one basis --------------------------------------------------------------------


@pytest.mark.parametrize("owned, method", [(False, "cloud"), (True, "amortized")])
def test_serving_and_training_on_one_basis(owned, method):
    e = S.estimate_deployment(
        "bloom-176b", scenario="twitter-1pct", vs_training=True, owned=owned, price_date=dt.date(2022, 12, 21),
        samples=2000,
    )  # fmt: skip
    v = e.vs_training
    assert v["method"] == method and v["year_dollars"] == 2022 and "2022 USD" in v["training_dollars"]
    assert "in 2022 US dollars" in v["basis"]
    # the ratio is the deployment's dollars over the final run's times the experiments multiplier, sample by sample
    assert v["ratio"]["median"] == pytest.approx(
        v["deployment_cost_usd"]["median"] / v["development_cost_usd"]["median"], rel=0.35
    )
    shares = e.lifetime["compute_share"]
    assert sum(s["median"] for s in shares.values()) == pytest.approx(1.0, abs=0.05)
    implied = e.lifetime["implied_by_published_shares"]
    assert set(implied) == {"facebook_2021", "google_2022"}


def test_published_lifetime_splits_as_inputs():
    # Wu et al. 2022 (Meta): 10:20:70 experimentation, training, inference: 1e24 FLOP of training implies
    # 1e24 x 70 / 20 = 3.5e24 of inference; Patterson et al. 2022 (Google): 3/5 inference against 2/5 for
    # experiments and training together: (1e24 + 1.2e24) x 0.6 / 0.4 = 3.3e24
    assert D.inference_implied_by_shares(1e24, 1.2e24, D.SHARES_PUBLISHED["facebook_2021"]) == pytest.approx(3.5e24)
    assert D.inference_implied_by_shares(1e24, 1.2e24, D.SHARES_PUBLISHED["google_2022"]) == pytest.approx(3.3e24)


def test_deploy_cli_plan_frontier_and_plot(capsys, tmp_path):
    code, out, err = run(
        ["deploy", "llama-3-70b", "--hardware", "h100,h200", "--tokens-per-day", "1e9", "--frontier", "--samples",
         "500", "--plot", str(tmp_path / "f.png")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "Planner:" in out and "binds" in out and "Frontier" in out and (tmp_path / "f.png").stat().st_size
    code, out, err = run(
        ["deploy", "llama-3-70b", "--hardware", "h100", "--tokens-per-day", "1e9", "--tpot", "none", "--ttft", "none",
         "--json", "--samples", "300"],
        capsys,
    )  # fmt: skip
    d = json.loads(out)
    assert code == 0 and d["plan"]["targets"] == {"ttft_s": None, "tpot_s": None, "text": "no latency target"}
    assert set(d) >= {
        "time_per_output_token_s",
        "time_to_first_token_s",
        "usd_per_million_output_tokens",
        "configuration",
    }
    code, _, err = run(
        ["deploy", "llama-3-70b", "--hardware", "h100", "--tokens-per-day", "1e9", "--tpot", "0.001"], capsys
    )
    assert code == 2 and "shortest time per output token reachable is" in err and err.count("\n") == 1


def test_sweep_is_the_planners_search():
    rows = S.sweep("llama-2-70b", hardware=("h100",), precisions=("bf16", "fp8"), batches=(1, 64))
    assert len(rows) == 4 and all(r["fits"] for r in rows)
    fp8 = {r["batch"]: r for r in rows if r["precision"] == "fp8"}
    assert fp8[64]["tokens_per_s"] > fp8[1]["tokens_per_s"]
    assert np.isfinite(fp8[64]["usd_per_million_tokens"])


def test_the_docs_serving_figures_are_the_codes():
    # docs/deployment.md and the README quote these; the code must give them (default samples and seed)
    from pathlib import Path

    from flopcast.catalogs.prices import bundled_price_book
    from flopcast.formatting import format_usd

    root = Path(__file__).resolve().parents[1]
    deployment, readme = (root / "docs" / "deployment.md").read_text(), (root / "README.md").read_text()
    llama = S.estimate_deployment("llama-3-70b", hardware="h100", tokens_per_day=1e9)
    s = llama.usd_per_million_tokens
    quoted = "$0.36 a million tokens (90% CI $0.15-$0.83)"
    assert (f"{s.median:.2f}", f"{s.p5:.2f}", f"{s.p95:.2f}") == ("0.36", "0.15", "0.83")
    assert quoted in deployment and "$0.36 a million tokens (90% CI\n  $0.15-$0.83)" in readme
    # 1% of Twitter on BLOOM-176B, rented at December 2022's market price: one instance of 4 A100 PCIe 80 GB, so a
    # year costs 4 chips x 24 h x 365.25 days x the price (the instance count and price are the only inputs)
    tw = S.estimate_deployment(
        "bloom-176b", scenario="twitter-1pct", vs_training=True, price_date=dt.date(2022, 12, 21)
    )
    price = bundled_price_book().market_cloud_price(
        get_hardware("a100-pcie-80gb"), when=dt.date(2022, 12, 21), tier="on-demand"
    )
    assert tw.configuration.startswith("4 x NVIDIA A100 PCIe 80 GB") and tw.instances.median == 1
    per_instance = np.asarray(tw.usd_per_year.samples) / np.asarray(tw.instances.samples)
    assert np.median(per_instance) == pytest.approx(4 * 24 * 365.25 * price.distribution().median, rel=0.02)
    r = tw.vs_training["ratio"]
    row = (
        f"| `twitter-1pct` | rented | 4 x A100 PCIe 80 GB, int8, batch 256 | {format_usd(tw.usd_per_year.median)} | "
        f"{format_usd(tw.vs_training['development_cost_usd']['median'])} | {r['median']:.1%} ({r['p5']:.1%}-{r['p95']:.1%})"
    )
    assert row in deployment, row


def test_docs_deployment_md_shows_the_tensorrt_llm_tables_the_code_gives():
    # docs/deployment.md's two TensorRT-LLM tables, row by row as flopcast validate computes them (measured, flopcast
    # and their ratio), so that the rows the docs show are the ones the checks pass or fail on
    from pathlib import Path

    lines = (Path(__file__).resolve().parents[1] / "docs" / "deployment.md").read_text().splitlines()
    for r in trtllm_validation():
        row = (
            f"| TensorRT-LLM {r['version']} | {r['gpu']} | {r['tp']} | {r['batch']} | {r['input_tokens']} / "
            f"{r['output_tokens']} | {r['measured']:,.0f} | {r['flopcast']:,.0f} | {r['ratio']:.2f} |"
        )
        assert row in lines, row
    for r in trtllm_max_validation():
        row = (
            f"| TensorRT-LLM {r['version']} | {r['gpu']} | {r['precision']} | {r['tp']} | {r['input_tokens']} / "
            f"{r['output_tokens']} | {r['measured']:,.0f} | {r['flopcast']:,.0f} (batch {r['batch']}) | "
            f"{r['ratio']:.2f} |"
        )
        assert row in lines, row
