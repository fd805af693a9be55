"""``flopcast explain A B``: a cost ratio as a product of factors (flopcast.explanation, flopcast.service.explain).

Published figures beside the numbers: Cottier (2022-23, "Understanding the diffusion of large language
models", the sequence on LessWrong and the EA Forum) puts Stable Diffusion (5e22 FLOP) at about 36x cheaper
than GPT-3 (3.14e23 FLOP): 6.28x less compute, and up to 6x from the A100 (312 TFLOP/s dense) against the V100
(125 TFLOP/s), with better utilization and price.
"""

import dataclasses
import datetime as dt
import json
import math

import numpy as np
import pytest

from flopcast.datasets.records import ModelRecord
from flopcast.errors import InvalidInputError, UnknownModelError
from flopcast.explanation import (
    cost_per_chip_hour_usd,
    cost_ratio_factors,
    implied_utilization,
    log_shares,
    residual_factor,
    split_price_factor,
)
from flopcast.service import cost_explanation, training_estimate
from flopcast.testing import run_cli as run

GPT3, SD = "gpt-3", "stable-diffusion-v1"


def _factors(ex) -> dict[str, float]:
    return {f.name: f.factor for f in ex.factors}


# ----------------------------------------------------------------------------- stage functions


def test_factors_multiply_to_the_cost_ratio_scalar_array_broadcast():
    # cost = compute / (peak x u x 3600) x rate: A = 1e24 FLOP on 1e15 FLOP/s at 40%, $2/h;
    # B = 1e23 FLOP on 5e14 FLOP/s at 50%, $1/h.
    # cost_A = 1e24 / (1e15 x 0.4 x 3600) x 2 = $1,388,888.9; cost_B = 1e23 / (5e14 x 0.5 x 3600) x 1 = $111,111.1
    # ratio 12.5 = compute 10 x peak 0.5 x utilization 1.25 x price 2
    f = cost_ratio_factors(
        compute_flop_a=1e24,
        compute_flop_b=1e23,
        peak_flop_per_s_a=1e15,
        peak_flop_per_s_b=5e14,
        utilization_a=0.4,
        utilization_b=0.5,
        price_usd_per_chip_hour_a=2.0,
        price_usd_per_chip_hour_b=1.0,
    )
    assert {k: float(v) for k, v in f.items()} == pytest.approx(
        {"compute": 10.0, "peak_flop_per_s": 0.5, "utilization": 1.25, "price_per_chip_hour": 2.0, "memory_chips": 1.0},
        rel=1e-12,
    )
    assert math.prod(float(v) for v in f.values()) == pytest.approx(1_388_888.9 / 111_111.1, rel=1e-6)
    # an array of A's computes against one B: each element is its own ratio (broadcast)
    arr = cost_ratio_factors(
        compute_flop_a=np.array([1e23, 2e23, 4e23]),
        compute_flop_b=1e23,
        peak_flop_per_s_a=1e15,
        peak_flop_per_s_b=1e15,
        utilization_a=0.4,
        utilization_b=0.4,
        price_usd_per_chip_hour_a=np.array([[1.0], [3.0]]),
        price_usd_per_chip_hour_b=1.0,
    )
    np.testing.assert_allclose(arr["compute"], [1.0, 2.0, 4.0], rtol=1e-12)
    np.testing.assert_allclose(arr["price_per_chip_hour"], [[1.0], [3.0]], rtol=1e-12)
    with pytest.raises(InvalidInputError, match="peak_flop_per_s of B"):
        cost_ratio_factors(
            compute_flop_a=1,
            compute_flop_b=1,
            peak_flop_per_s_a=1,
            peak_flop_per_s_b=0,
            utilization_a=1,
            utilization_b=1,
            price_usd_per_chip_hour_a=1,
            price_usd_per_chip_hour_b=1,
        )


def test_implied_utilization_rate_shares_residual_and_price_split():
    # GPT-3: 3.14e23 FLOP / (125e12 FLOP/s x 3,552,000 h x 3600 s/h) = 3.14e23 / 1.59840e24 = 0.196446
    assert float(implied_utilization(3.14e23, 125e12, 3_552_000)) == pytest.approx(0.196446, rel=1e-5)
    np.testing.assert_allclose(implied_utilization(3.14e23, 125e12, np.array([3_552_000, 1_776_000])),
                               [0.196446, 0.392893], rtol=1e-5)  # fmt: skip
    assert float(cost_per_chip_hour_usd(2_107_000, 3_552_000)) == pytest.approx(0.59319, rel=1e-4)
    # shares: ln(4)/ln(8) = 2/3, ln(2)/ln(8) = 1/3; a ratio of 1 has no log-ratio to share
    np.testing.assert_allclose(log_shares([4.0, 2.0], 8.0), [2 / 3, 1 / 3], rtol=1e-12)
    assert np.isnan(log_shares([2.0, 0.5], 1.0)).all()
    assert float(residual_factor(8.0, {"a": 4.0, "b": 2.0})) == pytest.approx(1.0, rel=1e-12)
    assert float(residual_factor(8.8, {"a": 4.0, "b": 2.0})) == pytest.approx(1.1, rel=1e-12)
    chips, dates = split_price_factor(0.8, 1.0, 2.0)  # same day: 1/2; so the dates give 0.8 / 0.5 = 1.6
    assert (float(chips), float(dates)) == pytest.approx((0.5, 1.6), rel=1e-12)


# ----------------------------------------------------------------------------- GPT-3 against Stable Diffusion


@pytest.fixture(scope="module")
def gpt3_sd():
    return cost_explanation(GPT3, SD)


def test_gpt3_vs_stable_diffusion_is_the_ratio_of_estimates_medians(gpt3_sd):
    ex = gpt3_sd
    assert ex.method == "amortized"  # the default cost method (flopcast.defaults.DEFAULT_COST_METHOD)
    # one model, one number: the medians `flopcast estimate NAME` prints with its defaults (every method)
    a = training_estimate(GPT3).cost_usd["amortized"].median
    b = training_estimate(SD).cost_usd["amortized"].median
    assert ex.ratio == pytest.approx(a / b, rel=0.01)
    assert ex.ratio == pytest.approx(a / b, rel=1e-12)  # the same pipeline, draws and seed: exactly
    assert ex.product() == pytest.approx(ex.ratio, rel=0.01)
    assert ex.product() == pytest.approx(ex.ratio, rel=1e-9)
    assert sum(f.share for f in ex.factors) == pytest.approx(1.0, abs=1e-9)


def test_gpt3_vs_stable_diffusion_factors_hand_computed(gpt3_sd):
    f = _factors(gpt3_sd)
    # compute: 3.14e23 / 5e22 = 6.28 (Cottier's "6x less compute")
    assert f["compute"] == pytest.approx(6.28, rel=1e-9)
    # peak: A100 312 TFLOP/s over V100 125 TFLOP/s dense fp16/bf16 (the datasheets) = 2.496
    assert f["peak_flop_per_s"] == pytest.approx(2.496, rel=1e-9)
    # utilization from the reported runs: GPT-3 3.14e23 / (125e12 x 3,552,000 h x 3600) = 0.196446;
    # SD 5e22 / (312e12 x 256 chips x 585.9 h... = 150,000 chip-hours x 3600) = 0.296771; 0.296771 / 0.196446 = 1.51071
    assert f["utilization"] == pytest.approx(1.51071, rel=1e-4)
    # amortized cost per chip-hour at each run's date (docs/methods.md section 8 for GPT-3: $2.107M / 3.552M h):
    # GPT-3 $0.59319/h; SD: $24,875 (DGX A100 per GPU) x 10^(-0.14 x 656/365.25 years) / 0.81 x ln(10) x 0.14 / 8766
    # + 0.4 kW x 2.031 x 0.75 x 1.25 x $0.0832/kWh = $0.63297 + $0.06337 = $0.69634/h; 0.59319 / 0.69634 = 0.85187
    amort = math.log(10) * 0.14 / 8766
    sd_rate = 24_875 * 10 ** (-0.14 * 656 / 365.25) / 0.81 * amort + 0.4 * 2.031 * 0.75 * 1.25 * 0.0832
    assert gpt3_sd.a.price_usd_per_chip_hour == pytest.approx(2_107_000 / 3_552_000, rel=2e-3)
    assert gpt3_sd.b.price_usd_per_chip_hour == pytest.approx(sd_rate, rel=1e-3)
    assert f["price_per_chip_hour"] == pytest.approx((2_107_000 / 3_552_000) / sd_rate, rel=3e-3)
    assert f["memory_chips"] == 1.0  # the pipeline does not raise chips for memory
    # the Monte Carlo's medians against the central costs: within 2% here
    assert f["other"] == pytest.approx(1.0, abs=0.02)
    # the whole: 6.28 x 2.496 x 1.511 x 0.852 x 0.994 = 20.05 (Cottier: ~36x)
    assert gpt3_sd.ratio == pytest.approx(20.05, rel=0.01)


def test_cloud_method_and_point_and_common_date():
    ex = cost_explanation(GPT3, SD, method="cloud", samples=2000)
    f = _factors(ex)
    # cloud prices of the pipeline's inputs: V100 $1.1836/h on 2019-08-02, A100 $1.7190/h on 2022-03-31 (market)
    assert f["price_per_chip_hour"] == pytest.approx(1.1836 / 1.7190, rel=1e-3)
    assert ex.ratio == pytest.approx(16.31, rel=0.01)
    pt = cost_explanation(GPT3, SD, point=True)
    assert _factors(pt)["other"] == pytest.approx(1.0, rel=1e-9)  # point estimates: an exact product
    a = training_estimate(GPT3, point=True).cost_usd["amortized"].median
    b = training_estimate(SD, point=True).cost_usd["amortized"].median
    assert pt.ratio == pytest.approx(a / b, rel=1e-12)
    at = cost_explanation(GPT3, SD, method="cloud", at=dt.date(2019, 10, 1), samples=2000)
    fa = _factors(at)
    assert "price_per_chip_hour" not in fa
    # the split multiplies back to the price factor at each run's own date; the ratio is unchanged
    assert fa["price_per_chip_hour_at_date"] * fa["price_date"] == pytest.approx(f["price_per_chip_hour"], rel=1e-9)
    assert at.ratio == pytest.approx(ex.ratio, rel=1e-12)
    # both started 2019-10-01: GPT-3's own date, so its price is its own and the drift is all Stable Diffusion's
    assert at.a.price_usd_per_chip_hour_at == pytest.approx(at.a.price_usd_per_chip_hour, rel=1e-9)
    assert fa["price_date"] == pytest.approx(at.b.price_usd_per_chip_hour_at / at.b.price_usd_per_chip_hour, rel=1e-9)


# ----------------------------------------------------------------------------- hand-built pairs


def _pair_db(db, **b_changes):
    """Two runs on one chip, from the same lab: A as given, B with ``b_changes``."""
    base = ModelRecord(
        "Run A",
        "run-a",
        dt.date(2023, 6, 1),
        ("LabA",),
        ("Language",),
        training_compute_flop=2e23,
        confidence="Confident",
        training_hardware=("a100-sxm4-40gb",),
        utilization=0.4,
        training_start_date=dt.date(2023, 3, 1),
    )
    other = dataclasses.replace(base, name="Run B", key="run-b", **b_changes)
    return dataclasses.replace(db, records=[base, other])


def test_pair_differing_only_in_compute(db):
    # B has a quarter of A's compute: the ratio is 4, all of it compute (share 1.0)
    pair = _pair_db(db, training_compute_flop=5e22)
    for method in ("cloud", "amortized"):
        ex = cost_explanation("run-a", "run-b", method=method, db=pair, samples=2000)
        by = {f.name: f for f in ex.factors}
        assert ex.ratio == pytest.approx(4.0, rel=1e-9)
        assert by["compute"].factor == pytest.approx(4.0, rel=1e-12)
        assert by["compute"].share == pytest.approx(1.0, rel=1e-9)
        for name, f in by.items():
            if name != "compute":
                assert f.factor == pytest.approx(1.0, rel=1e-9), name
                assert f.share == pytest.approx(0.0, abs=1e-9), name


def test_pair_differing_only_in_price(db):
    # B trained a year later on the same chip: only the cloud price per chip-hour differs
    pair = _pair_db(db, training_start_date=dt.date(2024, 3, 1), publication_date=dt.date(2024, 6, 1))
    ex = cost_explanation("run-a", "run-b", method="cloud", db=pair, samples=2000)
    ea, eb = (training_estimate(n, method="cloud", db=pair, samples=2000) for n in ("run-a", "run-b"))
    pa, pb = (next(r.central for r in e.inputs if r.name == "price_usd_per_chip_hour") for e in (ea, eb))
    assert pa != pytest.approx(pb, rel=0.01)  # the market moved in a year
    f = _factors(ex)
    assert f["price_per_chip_hour"] == pytest.approx(pa / pb, rel=1e-9)
    for name in ("compute", "peak_flop_per_s", "utilization", "memory_chips"):
        assert f[name] == pytest.approx(1.0, rel=1e-12), name
    assert ex.product() == pytest.approx(ea.cost_usd["cloud"].median / eb.cost_usd["cloud"].median, rel=1e-9)


# ----------------------------------------------------------------------------- the command


def test_json_shape(capsys):
    code, out, err = run(["explain", GPT3, SD, "--json", "--samples", "2000"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert {"ratio", "factors", "method", "runs", "central_ratio"} <= set(d)
    assert [f["name"] for f in d["factors"]] == [
        "compute",
        "peak_flop_per_s",
        "utilization",
        "price_per_chip_hour",
        "memory_chips",
        "other",
    ]
    for f in d["factors"]:
        assert set(f) >= {"name", "factor", "share"}
        assert f["share"] == pytest.approx(math.log(f["factor"]) / math.log(d["ratio"]), rel=1e-9, abs=1e-12)
    assert math.prod(f["factor"] for f in d["factors"]) == pytest.approx(d["ratio"], rel=1e-9)
    assert [r["key"] for r in d["runs"]] == [GPT3, SD]


def test_table_and_waterfall_plot(capsys, tmp_path):
    png = tmp_path / "why.png"
    code, out, err = run(["explain", GPT3, SD, "--samples", "2000", "--at", "2021-01-01", "--plot", str(png)], capsys)
    assert code == 0, err
    assert "Compute" in out and "6.28" in out and "product = cost ratio" in out  # compact labels
    code, out, err = run(["explain", GPT3, SD, "--samples", "2000", "--wide"], capsys)
    assert code == 0 and "compute (training FLOP" in out  # --wide spells each factor out
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert [p.name for p in tmp_path.iterdir()] == ["why.png"]  # written atomically


def test_waterfall_svg_names_the_factors(gpt3_sd, tmp_path):
    from flopcast.reporting.plots import plot_cost_waterfall

    text = plot_cost_waterfall(gpt3_sd, tmp_path / "why.svg").read_text(encoding="utf-8")
    assert "<svg" in text and "x6.28 (61%)" in text and "memory_chips" in text  # a factor of 1 named in the caption


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["explain", GPT3, "nosuchmodel"], "unknown model"),
        (["explain", GPT3, "gpt3"], "is the same model as"),
        (
            ["explain", GPT3, "Stable Diffusion 3.5 Large"],
            "b='Stable Diffusion 3.5 Large' cannot be costed: no training",
        ),
        (["explain", GPT3, SD, "--method", "all"], "method='all' is not one of cloud, amortized, acquisition"),
        (["explain", GPT3, SD, "--at", "2021-13-01"], "--at='2021-13-01' is not a date"),
        (["explain", GPT3, SD, "--plot", "why.gif"], "allowed: .png, .svg"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, message, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unknown_model_is_the_catalog_error(db):
    with pytest.raises(UnknownModelError):
        cost_explanation(GPT3, "nosuchmodel", db=db)
