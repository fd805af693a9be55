"""The training-cost chain end to end, pinned to Cottier et al. 2024 and hand computations."""

import numpy as np
import pandas as pd
import pytest

from flopcast import TrainingCostChain, ci, estimate
from flopcast.catalogs.price_index import load_price_index
from flopcast.errors import InvalidInputError, MissingInputError, UnknownNameError


@pytest.fixture(scope="module")
def gpt3_point():
    return estimate("gpt-3", uncertainty=False)


def test_gpt3_point_estimate_reproduces_published_method(gpt3_point):
    c = gpt3_point.central
    # 3.14e23 FLOP (Brown et al. 2020); 10,000 V100 x 355.2 h = 3,552,000 chip-hours
    assert c["training_compute_flop"] == pytest.approx(3.14e23, rel=1e-9)
    assert c["chip_hours"] == pytest.approx(3_552_000, rel=1e-9)
    assert c["duration_s"] == pytest.approx(355.2 * 3600, rel=1e-9)
    # cloud: 3,552,000 x $1.16 (Azure 3-year, 2018-12-30) = $4,120,320
    assert c["cost_usd.cloud"] == pytest.approx(4_120_320, rel=1e-9)
    # amortized: see test_training.test_gpt3_amortized_hand_computation: $2.107M (Cottier: about $2.1M)
    assert c["cost_usd.amortized"] == pytest.approx(2.107e6, rel=2e-3)
    # acquisition: 10,000 x 18,625 / 0.81 = $229.94M
    assert c["cost_usd.acquisition"] == pytest.approx(229.938e6, rel=1e-4)
    # memory: 16 B x 175e9 + 34 x 2048 x 12288 x 96 activations = 2.882e12 B -> ceil(/32e9) = 91 V100
    assert c["memory_bytes"] == pytest.approx(2.8e12 + 34 * 2048 * 12288 * 96, rel=1e-12)
    assert c["min_chips"] == 91


def test_gpt4_point_estimate():
    # Cottier et al. 2024 (code's result: $40,155,934 nominal): "about $40M"
    e = estimate("gpt-4", uncertainty=False)
    assert e.central["cost_usd.amortized"] == pytest.approx(40_155_934, rel=1e-3)
    # cloud: 57M chip-hours x $1.36 (Azure 3-year A100, 2022-01-20) = $77.52M
    assert e.central["cost_usd.cloud"] == pytest.approx(77.52e6, rel=1e-6)


def test_inflation_with_cottiers_ppi(epoch_dir):
    # Cottier et al. report GPT-3 at about $2.2M in 2023 dollars; PPI PCU518210518210 (monthly), May 2020 -> 2023
    ppi = load_price_index(epoch_dir / "price_index_PCU518210518210.csv")
    e = estimate("gpt-3", uncertainty=False, target_year=2023, price_index=ppi)
    import datetime as dt

    factor = ppi.value_at(2023) / ppi.value_at(dt.date(2020, 5, 28))
    assert e.central["cost_usd.amortized"] == pytest.approx(2.107e6 * factor, rel=2e-3)
    assert e.central["cost_usd.amortized"] == pytest.approx(2.2e6, rel=0.05)
    assert "2023 USD" in e.dollars


def test_monte_carlo_is_reproducible_and_ordered():
    a = estimate("gpt-3", samples=4000, seed=3)
    b = estimate("gpt-3", samples=4000, seed=3)
    for k, s in a.outputs().items():
        assert s.to_dict() == b.outputs()[k].to_dict()
        assert s.p5 <= s.median <= s.p95
    c = estimate("gpt-3", samples=4000, seed=4)
    assert c.cost_usd["amortized"].median != a.cost_usd["amortized"].median


def test_monte_carlo_median_near_point_for_symmetric_factors():
    # the cloud cost's inputs (chip-hours x factors with median 1) give a median at the point estimate
    e = estimate("gpt-3", samples=2**14, sampling="sobol", seed=0, methods=["cloud"])
    assert e.cost_usd["cloud"].median == pytest.approx(4_120_320, rel=0.01)
    assert e.cost_usd["cloud"].dist is not None  # closed form: chip-hours and price are lognormal/point


def test_closed_form_matches_sampling_for_cloud_cost():
    e = estimate(None, hardware="a100", chips=ci(900, 1100), training_time_hours=ci(500, 900),
                 price_usd_per_chip_hour=ci(1.5, 3), training_compute_flop=1e23, methods=["cloud"],
                 samples=2**16, sampling="sobol")
    s = e.cost_usd["cloud"]
    sampled = np.percentile(s.samples, [5, 50, 95])
    assert sampled == pytest.approx([s.p5, s.median, s.p95], rel=0.01)


def test_ad_hoc_run_and_deadline_sizing():
    # 7B params x 2T tokens = 8.4e22 FLOP (6ND); at 40% of 989.4e12 FLOP/s: 8.4e22/(3.9576e14*3600) = 58,959 h
    e = estimate(None, params=7e9, tokens=2e12, hardware="h100", utilization=0.4, training_time_hours=24 * 7,
                 price_usd_per_chip_hour=2.5, uncertainty=False)
    assert e.central["training_compute_flop"] == pytest.approx(8.4e22)
    assert e.central["chip_hours"] == pytest.approx(8.4e22 / (989.4e12 * 0.4 * 3600))
    assert e.central["chips"] == np.ceil(e.central["chip_hours"] / 168)
    assert e.central["cost_usd.cloud"] == pytest.approx(2.5 * e.central["chip_hours"])
    assert any("h100 family" in n for n in e.notes)
    # H100 has no purchase price in the catalog: amortized and acquisition are skipped, with a warning
    assert set(e.cost_usd) == {"cloud"} and any("no purchase price" in w for w in e.warnings)


def test_named_method_without_inputs_is_an_error():
    with pytest.raises(MissingInputError, match="chip_price_usd"):
        estimate(None, hardware="h100", training_compute_flop=1e24, methods=["amortized"], uncertainty=False)
    e = estimate(None, hardware="h100", training_compute_flop=1e24, methods=["amortized"], chip_price_usd=25_000,
                 uncertainty=False)
    assert e.central["cost_usd.amortized"] > 0


def test_disagreement_is_flagged():
    # 6ND = 6e21 FLOP, but 1,000 chips x 1,000 h at 50% of 312 TFLOP/s = 5.6e23: 94x apart
    e = estimate(None, params=1e9, tokens=1e12, hardware="a100", chips=1000, training_time_hours=1000,
                 utilization=0.5, uncertainty=False, methods=[])
    assert any("differ by" in w for w in e.warnings)


def test_sensitivity_names_the_drivers():
    e = estimate(None, hardware="a100", training_compute_flop=ci(1e23, 1.2e23), utilization=ci(0.2, 0.6, kind="beta"),
                 price_usd_per_chip_hour=2.0, methods=["cloud"], with_sensitivity=True, samples=5000)
    rows = e.sensitivity["cost_usd.cloud"]
    assert rows[0].input == "utilization" and rows[0].rank_correlation < 0
    assert sum(r.share for r in rows) == pytest.approx(1.0)


def test_results_to_frame_json_and_html(gpt3_point):
    df = gpt3_point.to_frame()
    assert isinstance(df, pd.DataFrame) and "cost_usd.amortized" in df.index
    assert df.loc["chip_hours", "unit"] == "chip-hours"
    d = gpt3_point.to_dict()
    for key in ("training_compute_flop", "chip_hours", "duration_s"):
        assert set(d[key]) >= {"median", "mean", "p5", "p95"}
    assert set(d["cost_usd"]) == {"cloud", "amortized", "acquisition"}
    assert any(r["provenance"] == "reported" for r in d["inputs"])
    assert "<table" in gpt3_point._repr_html_()
    assert "GPT-3 175B" in gpt3_point.summary()


def test_catalog_models_all_estimate():
    from flopcast.catalogs import bundled_models

    for m in bundled_models():
        if m.hardware is None:
            with pytest.raises(MissingInputError, match="hardware"):
                estimate(m.key, samples=200)
            continue
        e = estimate(m.key, samples=500)
        assert e.training_compute_flop.median > 0 and e.chip_hours.median > 0


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(hardware="a100", training_compute_flop=-1e23), InvalidInputError, "training_compute_flop"),
        (dict(hardware="a100", training_compute_flop=1e23, utilization=1.5), InvalidInputError, "utilization"),
        (dict(hardware="a100"), MissingInputError, "not enough to estimate compute"),
        (dict(training_compute_flop=1e23), MissingInputError, "hardware"),
        (dict(hardware="b9000", training_compute_flop=1e23), UnknownNameError, "unknown hardware"),
        (dict(hardware="a100", training_compute_flop=1e23, methods=["rent"]), UnknownNameError, "cost method"),
        (dict(hardware="a100", training_compute_flop=float("nan")), InvalidInputError, "not finite"),
    ],
)
def test_bad_chain_inputs(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        estimate(None, samples=100, **kwargs)


def test_chain_is_a_thin_orchestrator():
    chain = TrainingCostChain(model="opt-175b", methods=["cloud"])
    assert chain.records["utilization"].provenance == "reported"
    imputed = TrainingCostChain(model="gopher", methods=["cloud"])
    assert imputed.records["utilization"].provenance == "imputed"
    assert imputed.records["utilization"].central == 0.375


def test_user_parameters_override_the_catalog():
    # GPT-3 resized to 1e9 parameters: 6 * 1e9 * 300e9 + 6 * 96 * 2048 * 12288 * 300e9 = 6.1487e21
    e = estimate("gpt-3", params=1e9, uncertainty=False, methods=[])
    assert e.central["training_compute_flop"] == pytest.approx(6 * 1e9 * 300e9 + 6 * 96 * 2048 * 12288 * 300e9)
    assert any("not used" in n for n in e.notes)


def test_dollars_after_the_index_use_its_last_year():
    import datetime as dt

    # an ad-hoc run started in 2026: the CPI-U ends in 2024, so 2026 dollars count as 2024 dollars;
    # to 2023 dollars: x 304.702 / 313.689
    e = estimate(None, training_compute_flop=1e23, hardware="a100", utilization=0.4, price_usd_per_chip_hour=2.0,
                 start_date=dt.date(2026, 6, 1), target_year=2023, methods=["cloud"], uncertainty=False)
    hours = 1e23 / (312e12 * 0.4 * 3600)
    assert e.central["cost_usd.cloud"] == pytest.approx(2.0 * hours * 304.702 / 313.689, rel=1e-9)
    assert any("treated as 2024 dollars" in n for n in e.notes)


def test_cloud_price_is_the_latest_before_the_lookup_date():
    # OPT-175B (Meta -> AWS, A100 80 GB): training start 2022-05-02 - (24 + 60 d); the AWS A100 price of
    # 2021-06-15 ($1.45, 3-year) precedes it; the A100 80 GB row of 2024 does not
    e = estimate("opt-175b", methods=["cloud"], uncertainty=False)
    rec = next(r for r in e.inputs if r.name == "price_usd_per_chip_hour")
    assert "2021-06-15" in rec.source and rec.central == 1.45


def test_epochs_and_fp32_memory():
    # 2 epochs of 1e9 tokens with 1e8 parameters: 6 * 1e8 * 1e9 * 2 = 1.2e18 FLOP
    e = estimate(None, params=1e8, tokens=1e9, epochs=2, hardware="v100", chips=1, precision="fp32",
                 methods=[], uncertainty=False)
    assert e.central["training_compute_flop"] == pytest.approx(1.2e18)
    # fp32 Adam: 4 + 4 + 8 = 16 bytes a parameter too (no 16-bit copies)
    assert e.central["memory_bytes"] == pytest.approx(16 * 1e8)
    # the peak is the V100's fp32 rate, 15.7 TFLOP/s (datasheet)
    assert next(r for r in e.inputs if r.name == "peak_flop_per_s").central == 15.7e12
