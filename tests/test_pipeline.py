"""The one estimation pipeline, pinned to Cottier et al. 2024 and hand computations.

Every number here is what `flopcast estimate` prints for the same inputs (the CLI, the web app, the report and
`validate` call the same function, tests/test_one_number.py checks it for every model of the database).
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from flopcast import ci
from flopcast.errors import InvalidInputError, MissingInputError, UnknownNameError
from flopcast.pipeline import Draws, estimate, estimate_records, resolve


@pytest.fixture(scope="module")
def gpt3_point():
    return estimate("gpt-3", point=True, cloud_vendor="organization")


def test_gpt3_point_estimate_reproduces_published_method(gpt3_point):
    c = gpt3_point.central
    # 3.14e23 FLOP (Brown et al. 2020); 10,000 V100 x 355.2 h = 3,552,000 chip-hours (Patterson et al. 2021)
    assert c["training_compute_flop"] == pytest.approx(3.14e23, rel=1e-12)
    assert c["chip_hours"] == pytest.approx(3_552_000, rel=1e-12)
    assert c["duration_s"] == pytest.approx(355.2 * 3600, rel=1e-12)
    # compute and hardware x time imply 3.14e23 / (3,552,000 h x 3600 x 125e12) = 19.64% (Patterson: 24.6/125)
    assert c["implied_utilization"] == pytest.approx(3.14e23 / (3_552_000 * 3600 * 125e12), rel=1e-12)
    # cloud: 3,552,000 x $1.16 (Azure 3-year, 2018-12-30) = $4,120,320
    assert c["cost_usd.cloud"] == pytest.approx(4_120_320, rel=1e-12)
    # amortized: DGX-1 $18,625 a V100 from 2018-06-25 (release + 90 d) to 2019-10-01 (Cottier's start), at 0.14
    # OOM/year, / 0.81 interconnect, x 3.677e-5 an hour x 3,552,000 h, plus energy: $2.107M (their code: $2.089M
    # with a 250 W TDP against the datasheet's 300 W; see test_training.test_gpt3_amortized_hand_computation)
    assert c["cost_usd.amortized"] == pytest.approx(2.107e6, rel=2e-3)
    # acquisition: 10,000 x 18,625 / 0.81 = $229.94M
    assert c["cost_usd.acquisition"] == pytest.approx(229.938e6, rel=1e-4)
    # memory: 16 B x 175e9 + 34 x 2048 x 12288 x 96 activations = 2.882e12 B in all; but each data-parallel rank
    # keeps its own activations (issue 20), so the fewest chips come from the layouts: TP 8 + SP x DP 13 with
    # ZeRO-3 and full recompute, 104 V100s holding 2.8e12 / 104 = 26.9 GB of states, 0.71 GB of activations
    # (the layer inputs 2 s h / 8 x 96 layers = 0.60 GB, plus one layer recomputed), 0.07 GB of embedding
    # activations, 0.91 GB of ZeRO-3 buffers (two gathered layers) and 3.2 GB of reserve: 31.8 of 32 GB. 96 chips
    # (the next multiple of 8 down) need 2.8e12 / 96 = 29.2 GB of states alone: over 32 with the rest
    assert c["memory_bytes"] == pytest.approx(2.8e12 + 34 * 2048 * 12288 * 96, rel=1e-12)
    layer_inputs_gb = 2 * 2048 * 12288 / 8 * 96 / 1e9
    assert layer_inputs_gb == pytest.approx(0.60, abs=0.01)
    assert c["min_chips"] == 104
    # 6ND plus PaLM's attention term: 3.15e23 + 12 x 96 x 2048 x 12288 x 300e9 = 3.237e23
    assert c["compute_from_params_flop"] == pytest.approx(3.15e23 + 12 * 96 * 2048 * 12288 * 300e9, rel=1e-12)


def test_gpt4_point_estimate():
    # Cottier et al. 2024's code: $40,155,934 nominal for GPT-4 ("about $40M")
    e = estimate("gpt-4", point=True, cloud_vendor="organization")
    assert e.central["cost_usd.amortized"] == pytest.approx(40_155_934, rel=1e-3)
    # cloud: 57M chip-hours x $1.36 (Azure 3-year A100, 2022-01-20) = $77.52M
    assert e.central["cost_usd.cloud"] == pytest.approx(77.52e6, rel=1e-9)


def test_dollars_of_a_year_use_the_databases_ppi(db):
    # Cottier et al. deflate with the PPI for data processing (PCU518210518210), embedded with the database:
    # GPT-3 (May 2020) in 2023 dollars is about $2.2M
    e = estimate("gpt-3", point=True, year_dollars=2023)
    factor = db.price_index.value_at(2023) / db.price_index.value_at(dt.date(2020, 5, 28))
    assert e.central["cost_usd.amortized"] == pytest.approx(2.107e6 * factor, rel=2e-3)
    assert e.central["cost_usd.amortized"] == pytest.approx(2.2e6, rel=0.05)
    assert e.dollars == "2023 USD (PCU518210518210)"


def test_monte_carlo_is_reproducible_and_ordered():
    a = estimate("gpt-3", samples=4000, seed=3)
    b = estimate("gpt-3", samples=4000, seed=3)
    for k, s in a.outputs().items():
        assert s.to_dict() == b.outputs()[k].to_dict()
        assert s.p5 <= s.median <= s.p95
    c = estimate("gpt-3", samples=4000, seed=4)
    assert c.cost_usd["amortized"].median != a.cost_usd["amortized"].median


def test_cloud_median_at_the_point_for_symmetric_factors():
    # chip-hours x a lognormal factor with median 1 x a fixed price: the median is the point estimate
    e = estimate("gpt-3", samples=2**14, methods="cloud", cloud_vendor="organization")
    assert e.cost_usd["cloud"].median == pytest.approx(4_120_320, rel=0.005)


def test_ad_hoc_run_and_deadline_sizing():
    # 7B params x 2T tokens = 8.4e22 FLOP (6ND); at 40% of 989.4e12 FLOP/s: 8.4e22/(3.9576e14*3600) = 58,958 h
    e = estimate(
        params=7e9,
        tokens=2e12,
        hardware="h100",
        utilization=0.4,
        training_time_hours=24 * 7,
        price_usd_per_chip_hour=2.5,
        point=True,
    )
    assert e.central["training_compute_flop"] == pytest.approx(8.4e22)
    assert e.central["chip_hours"] == pytest.approx(8.4e22 / (989.4e12 * 0.4 * 3600))
    assert e.central["chips"] == np.ceil(e.central["chip_hours"] / 168)
    assert e.central["cost_usd.cloud"] == pytest.approx(2.5 * e.central["chip_hours"])
    assert any("h100 family" in n for n in e.notes)
    # the H100's purchase price comes from Epoch's price table now: every method runs
    assert set(e.cost_usd) == {"cloud", "amortized", "acquisition"}


def test_compute_alone_needs_no_hardware():
    # 6 x 175e9 x 300e9 = 3.15e23 FLOP: compute is answered; chip-hours and dollars say why they are not
    e = estimate(params=175e9, tokens=300e9)
    assert e.training_compute_flop.median == pytest.approx(3.15e23, rel=0.01)
    assert e.chip_hours is None and e.cost_usd == {} and e.hardware == ""
    assert set(e.skipped_methods) == {"cloud", "amortized", "acquisition"}
    assert any("compute only" in n for n in e.notes)


def test_changing_a_models_hardware_recomputes_chip_hours():
    # Llama 2 70B's 1,720,320 A100-hours are not H100-hours: chip-hours come from compute on the H100
    a100 = estimate("llama-2-70b", point=True)
    h100 = estimate("llama-2-70b", hardware="h100", point=True)
    assert a100.central["chip_hours"] == pytest.approx(1_720_320)
    # 8.1e23 FLOP (Epoch) / (989.4e12 x MFU x 3600) H100-hours, at the MFU prior's median for an H100 (released
    # 2022.2) at the chip count Cottier et al.'s default 33.1 days imply, in bf16 (utilization_prior.csv); with
    # Cottier et al.'s one prior (0.375) it is 606,420 H100-hours
    mfu = next(r for r in h100.inputs if r.name == "utilization")
    assert h100.central["chip_hours"] == pytest.approx(8.1e23 / (989.4e12 * mfu.central * 3600), rel=1e-9)
    assert 0.38 < mfu.central < 0.42
    cottier = estimate("llama-2-70b", hardware="h100", point=True, utilization_prior="cottier")
    assert cottier.central["chip_hours"] == pytest.approx(8.1e23 / (989.4e12 * 0.375 * 3600), rel=1e-9)
    assert any("hardware changed" in n for n in h100.notes)
    assert next(r for r in h100.inputs if r.name == "utilization").provenance == "imputed"


def test_named_method_without_inputs_is_an_error():
    # no Lambda price for a TPU in either price table: naming the method is an error, "all" skips it
    with pytest.raises(MissingInputError, match="cloud price for Google TPU v4 from lambda"):
        estimate(hardware="tpu-v4", training_compute_flop=1e24, methods="cloud", cloud_vendor="lambda")
    e = estimate(hardware="tpu-v4", training_compute_flop=1e24, cloud_vendor="lambda")
    assert "cloud" in e.skipped_methods and "amortized" in e.cost_usd


def test_implied_utilization_checks():
    # 70e9 x 2e12 x 6 = 8.4e23 FLOP against 1000 A100 x 720 h x 3600 x 312e12 = 8.09e23 FLOP at peak: 104% -> error
    with pytest.raises(InvalidInputError, match="imply 104% utilization"):
        estimate(params=70e9, tokens=2e12, hardware="a100", chips=1000, training_time_hours=720, utilization=0.4)
    # 85% implied: a warning naming the inputs
    e = estimate(params=70e9, tokens=2e12 * 0.82, hardware="a100", chips=1000, training_time_hours=720, point=True)
    assert any("imply 85% utilization" in w and "above 70%" in w for w in e.warnings)
    # 6e21 FLOP on 1,000 chips x 1,000 h: 0.5% implied, far below any real run; and the given 50% disagrees
    e = estimate(
        params=1e9,
        tokens=1e12,
        hardware="a100",
        chips=1000,
        training_time_hours=1000,
        utilization=0.5,
        methods=[],
        point=True,
    )
    assert any("below 1%" in w for w in e.warnings) and any("differs from" in w for w in e.warnings)


def test_compute_and_parameters_x_tokens_that_disagree_are_flagged():
    # 6 x 175e9 x 300e9 = 3.15e23 FLOP against a given 1e24: 1e24 / 3.15e23 = 3.17x > 3x -> a warning naming the field
    e = estimate(params=175e9, tokens=300e9, training_compute_flop=1e24, point=True)
    assert e.training_compute_flop.median == pytest.approx(1e24)
    assert any(
        w.startswith(
            "training_compute_flop: the given 1e+24 FLOP and parameters x tokens (3.15e+23 FLOP) differ by 3.2x"
        )
        for w in e.warnings
    ), e.warnings
    # 2.9x apart: no warning
    e = estimate(params=175e9, tokens=300e9, training_compute_flop=2.9 * 3.15e23, point=True)
    assert not any("differ by" in w for w in e.warnings)


def test_database_moe_total_parameters_flagged(db):
    # Llama 4 Maverick: Epoch's 2.24e24 FLOP against 6 x 400e9 (total) x 30e12 tokens = 7.2e25: 32x, a warning
    # that points at the active parameters (Meta: 17e9 active; 6 x 17e9 x 30e12 = 3.06e24, within 1.4x of Epoch's)
    from flopcast.pipeline import resolve

    run = resolve(db.find("Llama 4 Maverick"), db=db)
    w = next(w for w in run.warnings if w.startswith("training_compute_flop:"))
    assert "differ by 32.1x" in w and "active parameters" in w


def test_sensitivity_names_the_drivers():
    e = estimate(
        hardware="a100",
        training_compute_flop=ci(1e23, 1.2e23),
        utilization=ci(0.2, 0.6, kind="beta"),
        price_usd_per_chip_hour=2.0,
        methods="cloud",
        with_sensitivity=True,
        samples=5000,
    )
    rows = e.sensitivity["cost_usd.cloud"]
    assert rows[0].input == "utilization" and rows[0].rank_correlation < 0
    assert sum(r.share for r in rows) == pytest.approx(1.0)


def test_results_to_frame_json_and_html(gpt3_point):
    df = gpt3_point.to_frame()
    assert isinstance(df, pd.DataFrame) and "cost_usd.amortized" in df.index
    assert df.loc["chip_hours", "unit"] == "chip-hours"
    d = gpt3_point.to_dict()
    for key in ("training_compute_flop", "chip_hours", "duration_s"):
        assert set(d[key]) >= {"median", "mean", "p5", "p95", "central"}
    assert set(d["cost_usd"]) == {"cloud", "amortized", "acquisition"}
    assert d["provenance"]["utilization"] == "reported" and d["key"] == "gpt-3"
    assert "<table" in gpt3_point._repr_html_()
    assert "GPT-3 175B" in gpt3_point.summary()


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(hardware="a100", training_compute_flop=-1e23), InvalidInputError, "training_compute_flop"),
        (dict(hardware="a100", training_compute_flop=1e23, utilization=1.5), InvalidInputError, "utilization"),
        (dict(hardware="a100"), MissingInputError, "no training compute"),
        (dict(hardware="b9000", training_compute_flop=1e23), UnknownNameError, "unknown hardware"),
        (dict(hardware="a100", training_compute_flop=1e23, methods=["rent"]), InvalidInputError, "method='rent'"),
        (dict(hardware="a100", training_compute_flop=float("nan")), InvalidInputError, "not finite"),
        (dict(hardware="a100", compute=1e23), InvalidInputError, "unknown argument"),
    ],
)
def test_bad_run_inputs(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        estimate(samples=100, **kwargs)


def test_user_parameters_override_the_record():
    # GPT-3 resized to 1e9 parameters: 6 x 1e9 x 300e9 + 12 x 96 x 2048 x 12288 x 300e9 = 1.05e22 FLOP; the
    # database's 3.14e23 no longer applies, and chip-hours follow from compute... but GPT-3's reported chip-hours
    # stay (the hardware did not change): the implied utilization says the two no longer agree
    e = estimate("gpt-3", params=1e9, methods=[], point=True)
    assert e.central["training_compute_flop"] == pytest.approx(6 * 1e9 * 300e9 + 12 * 96 * 2048 * 12288 * 300e9)
    assert any("not used because parameters or tokens were given" in n for n in e.notes)


def test_dollars_after_the_index_use_its_last_year(db):
    # an ad-hoc run started in 2026: the PPI ends in 2025, so 2026 dollars count as 2025 dollars
    e = estimate(
        training_compute_flop=1e23,
        hardware="a100",
        utilization=0.4,
        price_usd_per_chip_hour=2.0,
        start_date=dt.date(2026, 6, 1),
        year_dollars=2023,
        methods="cloud",
        point=True,
    )
    hours = 1e23 / (312e12 * 0.4 * 3600)
    idx = db.price_index
    assert e.central["cost_usd.cloud"] == pytest.approx(2.0 * hours * idx.value_at(2023) / idx.value_at(2025))
    assert any("treated as 2025 dollars" in n for n in e.notes)


def test_cloud_price_is_the_latest_before_the_lookup_date():
    # Cottier et al.'s rule (cloud_vendor="organization"). OPT-175B (Meta -> AWS, A100 80 GB): lookup on its training start less 60 days; the latest AWS A100 3-year
    # price before that (2021-11-04, $1.45) is used, not a later one
    e = estimate("opt-175b", methods="cloud", point=True, cloud_vendor="organization")
    rec = next(r for r in e.inputs if r.name == "price_usd_per_chip_hour")
    assert "2021-11-04" in rec.source and rec.central == 1.45


def test_epochs_and_fp32_memory():
    # 2 epochs of 1e9 tokens with 1e8 parameters: 6 x 1e8 x 1e9 x 2 = 1.2e18 FLOP
    e = estimate(params=1e8, tokens=1e9, epochs=2, hardware="v100", chips=1, precision="fp32", methods=[], point=True)
    assert e.central["training_compute_flop"] == pytest.approx(1.2e18)
    # fp32 Adam: 4 + 4 + 8 = 16 bytes a parameter too (no 16-bit copies)
    assert e.central["memory_bytes"] == pytest.approx(16 * 1e8)
    # the peak is the V100's fp32 rate, 15.7 TFLOP/s (datasheet)
    assert next(r for r in e.inputs if r.name == "peak_flop_per_s").central == 15.7e12


def test_inputs_draw_from_fixed_slots(db):
    # a run's draws do not depend on the other runs of a call: slot i is uniform column i for every run
    gpt3, gpt4 = db.find("gpt-3"), db.find("gpt-4")
    alone = estimate_records([gpt3], db, samples=2048).estimates[0]
    together = estimate_records([gpt4, gpt3], db, samples=2048).estimates[1]
    assert alone.to_dict(inputs=False) == together.to_dict(inputs=False)
    d = Draws(64, 0, "sobol")
    assert d.u.shape[1] == 64 and np.all((d.u > 0) & (d.u < 1))


def test_provenance_of_every_input(db):
    run = resolve(db.find("gpt-4"), db=db)
    prov = {k: r.provenance for k, r in run.inputs.items()}
    assert prov["training_compute_flop"] == "reported" and prov["chip_hours"] == "reported"
    assert prov["interconnect_fraction"] == "default"
    assert all(r.source for r in run.inputs.values())
    assert set(prov.values()) <= {"reported", "derived", "imputed", "default", "user"}
