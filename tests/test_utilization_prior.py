"""The utilization (MFU) prior: its distribution, its stored fit, its coverage of reported MFU, the cited anchors.

The fit (scripts/fit_utilization_prior.py, stored in catalogs/data/utilization_prior.csv) is
logit(MFU) = b0 + b1 (release_year - 2020) + b2 log10(chips) + b3 [8-bit] + b4 [32-bit] + e on 56 rows
(47 database rows that report MFU and whose chip, chip count and precision are known, plus the 9 cited
runs of catalogs/data/published_runs.csv, which replace the database rows of the same models).
"""

from __future__ import annotations

import csv
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from flopcast.catalogs.hardware import get_hardware
from flopcast.errors import InvalidInputError
from flopcast.uncertainty.distributions import LogitNormal
from flopcast.uncertainty.special import ndtri
from flopcast.utilization.prior import (
    FIT_FILE,
    PRECISION_CLASS,
    UtilizationPrior,
    load_fit,
    parse_fit,
    utilization_prior,
    utilization_prior_for,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "flopcast" / "catalogs" / "data"


@pytest.fixture(scope="module")
def script():
    """scripts/fit_utilization_prior.py, imported as a module (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location(
        "fit_utilization_prior", ROOT / "scripts" / "fit_utilization_prior.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def observed(script):
    """(database observations, published observations) from the embedded database and published_runs.csv."""
    return script.database_observations(), script.published_observations()


def expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# -- the logit-normal distribution -------------------------------------------------------


def test_logit_normal_quantiles_are_expit_of_normal_quantiles():
    # ppf(u) = expit(mu + sigma ndtri(u)); mu = -0.5, sigma = 0.5: median expit(-0.5) = 0.37754,
    # 90% interval expit(-0.5 -+ 1.644854 x 0.5) = expit(-1.322427) = 0.21041, expit(0.322427) = 0.57991
    d = LogitNormal(-0.5, 0.5)
    assert d.median == pytest.approx(0.3775406688, abs=1e-10)
    lo, hi = d.interval(0.9)
    assert lo == pytest.approx(expit(-0.5 - 1.6448536270 * 0.5), abs=1e-9)
    assert hi == pytest.approx(expit(-0.5 + 1.6448536270 * 0.5), abs=1e-9)
    assert (round(lo, 4), round(hi, 4)) == (0.2104, 0.5799)
    u = np.array([1e-12, 0.01, 0.3, 0.5, 0.99, 1 - 1e-12])
    want = [expit(-0.5 + 0.5 * float(ndtri(np.array([x]))[0])) for x in u]
    assert d.ppf(u) == pytest.approx(want, abs=1e-12)
    # the ends and a huge sigma stay in [0, 1] without overflow
    assert d.ppf(np.array([0.0, 1.0])).tolist() == [0.0, 1.0]
    wide = LogitNormal(0.0, 1e3).ppf(np.array([0.001, 0.999]))
    assert np.all((wide >= 0) & (wide <= 1))


def test_logit_normal_sigma_zero_is_its_median_and_bad_parameters_are_refused():
    assert LogitNormal(1.0, 0.0).ppf(np.array([0.1, 0.9])) == pytest.approx([expit(1.0)] * 2)
    with pytest.raises(InvalidInputError, match=r"sigma=-1.*>= 0"):
        LogitNormal(0.0, -1.0)
    with pytest.raises(InvalidInputError, match=r"mu=nan is not finite"):
        LogitNormal(float("nan"), 0.5)


# -- the stored fit -------------------------------------------------------------------------


def test_stored_fit_equals_the_refit_of_the_data_as_they_are(script):
    """The CSV cannot drift from the database or published_runs.csv: rerun the script after changing either."""
    now = script.fit_now()
    stored = load_fit()
    assert (stored.n_database, stored.n_published) == (now.n_database, now.n_published) == (47, 9)
    assert stored.coef == pytest.approx(now.coef, rel=1e-9, abs=1e-12)
    for a, b in zip(stored.cov, now.cov, strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-15)
    for name in ("residual_sd", "t90", "year_mean", "year_sd", "log10_chips_mean", "log10_chips_sd"):
        assert getattr(stored, name) == pytest.approx(getattr(now, name), rel=1e-9), name
    assert stored.precision_share == pytest.approx(now.precision_share, rel=1e-9)
    assert stored.as_of == "2026-12-01" and "published_runs.csv" in stored.source


def test_render_reads_back_bit_for_bit_and_write_is_atomic(script, tmp_path):
    f = script.fit_now()
    path = script.write(f, tmp_path / FIT_FILE)
    assert sorted(p.name for p in tmp_path.iterdir()) == [FIT_FILE]  # no temporary file left behind
    back = load_fit(path)
    assert back.coef == f.coef and back.cov == f.cov and back.residual_sd == f.residual_sd


def test_the_fit_is_read_once_per_process():
    assert load_fit() is load_fit()


def test_a_stored_file_missing_a_row_names_it():
    from flopcast.errors import CatalogError

    with pytest.raises(CatalogError, match=r"no row 'coef.intercept'.*fit_utilization_prior"):
        parse_fit({"residual_sd": "0.5"})


# -- coverage: the "done when" ---------------------------------------------------------


def test_prior_90_percent_interval_covers_at_least_85_percent_of_reported_mfu(script, observed):
    """Issue 20: across the models where MFU is reported, the 90% interval covers >= 85% of the values.

    Database: 61 models report MFU; 58 are inside (out: nekomata-14b 17.1% on Trainium1, LaMDA 56.5% and
    GPT-J-6B 60% on TPU v3). Published runs: 9 of 9. Together 67 / 70 = 95.7%.
    """
    database, published = observed
    assert (len(database), len(published)) == (61, 9)
    in_db, in_pub = script.covered(database), script.covered(published)
    assert (sum(in_db), sum(in_pub)) == (58, 9)
    assert (sum(in_db) + sum(in_pub)) / (len(in_db) + len(in_pub)) >= 0.85
    assert sum(in_db) / len(in_db) >= 0.85
    missed = sorted(o.name for o, ok in zip(database, in_db, strict=True) if not ok)
    assert missed == ["GPT-J-6B", "LaMDA", "nekomata-14b"]


def test_leave_one_out_coverage_of_the_fitted_rows(script, observed):
    """Out of sample: each fitted row (a model's published runs together) refitted without it, then
    checked against that prior's 90% interval: 52 / 56 = 92.9% inside (>= 85%).

    The covariates tried, by leave-one-out 90% coverage and mean log predictive density (logit scale) on
    these 56 rows (scripts/fit_utilization_prior.py's data): constant only 94.4% / -0.789; release year
    92.6% / -0.799; log10 chips 94.4% / -0.802; year + chips 90.7% / -0.808; year + chips + fp8/fp32
    offsets (the stored model) 92.6% / -0.812; + a TPU indicator 94.4% / -0.821; publication year instead
    of release year 94.4% / -0.797. No covariate improves the out-of-sample fit beyond noise; the stored
    model keeps generation, scale and precision (the issue asks for them, and their signs are the expected
    ones) with their parameter uncertainty in the interval.
    """
    database, published = observed
    rows = script.fit_observations(database, published)
    assert len(rows) == 56
    loo = script.leave_one_out(rows)
    assert sum(loo) == 52
    assert sum(loo) / len(loo) >= 0.85


# -- the cited anchors ---------------------------------------------------------------------------


def _for(key: str, chips: float, precision: str) -> UtilizationPrior:
    return utilization_prior_for(get_hardware(key), chips=chips, precision=precision)


def test_llama3_405b_anchor():
    # Llama 3 405B (arXiv 2407.21783, Table 4): 38-43% BF16 MFU on 8,192-16,384 H100 (released 2022-03-22).
    p = _for("h100-sxm", 16384, "bf16")
    assert 0.30 <= p.median <= 0.55
    assert p.low <= 0.38 and p.high >= 0.43
    assert (round(p.median, 3), round(p.low, 3), round(p.high, 3)) == pytest.approx((0.368, 0.194, 0.585), abs=0.002)


def test_gpt3_palm_megascale_opt_anchors():
    # PaLM Table 3 (arXiv 2204.02311): GPT-3 21.3% on V100 (10,000 of them: Patterson et al. 2021, arXiv
    # 2104.10350); PaLM 46.2% on 6144 TPU v4. MegaScale (arXiv 2402.15627, Table 2): 55.2% on 12,288
    # Ampere GPUs. OPT-175B (arXiv 2205.01068): 147 / 312 = 47.1% on 992 A100 80GB.
    gpt3 = _for("v100-sxm2-32gb", 10000, "fp16")
    assert gpt3.low <= 0.213 <= gpt3.high
    palm = _for("tpu-v4", 6144, "bf16")
    assert palm.low <= 0.462 <= palm.high
    mega = _for("a100-sxm4-40gb", 12288, "bf16")
    assert mega.low <= 0.552 <= mega.high  # just: the interval's top is 0.557
    opt = _for("a100-sxm4-80gb", 992, "fp16")
    assert opt.low <= 0.4712 <= opt.high
    assert [round(p.median, 3) for p in (gpt3, palm, mega, opt)] == pytest.approx(
        [0.312, 0.366, 0.342, 0.379], abs=0.002
    )


def test_a100_1000_chips_bf16_by_hand():
    """The runtime's formula against hand arithmetic from the stored file.

    A100 SXM4 40 GB released 2020-05-14 = 2020.366; x = (1, 0.366, log10 1000 = 3, 0, 0);
    m = b . x; v = s^2 + x' C x; median expit(m), 90% CI expit(m -+ t90 v^0.5).
    Now: m = -0.5276, v^0.5 = 0.5223 (t90 = 1.676): median 37.1%, 90% CI 20.0-58.2%.
    """
    f = load_fit()
    year = 2020 + (31 + 29 + 31 + 30 + 13) / 366  # 2020-05-14, day 135 of 366 (day 1 = 1 Jan = 2020.0)
    x = np.array([1.0, year - 2020, 3.0, 0.0, 0.0])
    m = float(np.dot(f.coef, x))
    sd = math.sqrt(f.residual_sd**2 + float(x @ np.array(f.cov) @ x))
    p = _for("a100-sxm4-40gb", 1000, "bf16")
    assert p.median == pytest.approx(expit(m), rel=1e-9)
    assert p.low == pytest.approx(expit(m - f.t90 * sd), rel=1e-9)
    assert p.high == pytest.approx(expit(m + f.t90 * sd), rel=1e-9)
    assert (round(p.median, 3), round(p.low, 3), round(p.high, 3)) == pytest.approx((0.371, 0.200, 0.582), abs=0.002)
    assert p.source == (
        "MFU prior for NVIDIA A100 SXM4 40 GB (2020.4), 1,000 chips, bf16: median 37%, 90% CI 20-58% "
        "(fit to 56 reported MFU values: 47 database + 9 published runs; utilization_prior.csv)"
    )


def test_distribution_has_the_prior_median_and_interval():
    p = utilization_prior(release_year=2022.2, chips=16384, precision="bf16")
    d = p.distribution()
    assert isinstance(d, LogitNormal)
    assert d.median == pytest.approx(p.median, rel=1e-12)
    assert d.interval(0.9) == pytest.approx((p.low, p.high), rel=1e-9)
    draws = d.ppf((np.arange(20000) + 0.5) / 20000)
    assert np.mean((draws >= p.low) & (draws <= p.high)) == pytest.approx(0.90, abs=1e-3)


# -- what the fit says ---------------------------------------------------------------------------


def test_monotone_where_the_fit_says_so():
    """Stored slopes: +0.069 +- 0.043 per year of chip release (1.6 sd from 0), -0.115 +- 0.106 per factor 10
    in chips (1.1 sd), 8-bit -0.52 +- 0.36 and 32-bit +0.04 +- 0.30 against 16-bit (mostly their
    Normal(0, 0.5^2) prior). The prior's median follows their signs."""
    b = load_fit().coef
    assert b[1] > 0 and b[2] < 0 and b[3] < 0
    by_year = [utilization_prior(release_year=y, chips=1024, precision="bf16").median for y in (2016, 2020, 2024)]
    assert by_year == sorted(by_year) and by_year[0] < by_year[-1]
    by_chips = [utilization_prior(release_year=2022, chips=n, precision="bf16").median for n in (64, 1024, 16384)]
    assert by_chips == sorted(by_chips, reverse=True) and by_chips[0] > by_chips[-1]
    fp8 = utilization_prior(release_year=2023, chips=2048, precision="fp8")
    bf16 = utilization_prior(release_year=2023, chips=2048, precision="bf16")
    fp16 = utilization_prior(release_year=2023, chips=2048, precision="fp16")
    assert fp8.median < bf16.median and fp16.median == bf16.median  # one class: 16-bit


def test_missing_covariates_widen_the_interval():
    """An unknown covariate is marginalized over its spread in the fitted data: the logit variance is
    E[v(x)] + Var[m(x)] (total variance), more than v at the covariate's fitted mean. (Far from the mean a
    known value can have the wider interval, from the coefficients' uncertainty: 16,384 chips does.)"""
    f = load_fit()
    year = 2020 + f.year_mean
    chips = 10**f.log10_chips_mean
    known = utilization_prior(release_year=year, chips=chips, precision="bf16")
    for kw in (dict(release_year=None), dict(chips=None), dict(precision=None)):
        args = dict(release_year=year, chips=chips, precision="bf16") | kw
        wider = utilization_prior(**args)
        assert wider.sigma > known.sigma, kw
    none = utilization_prior(release_year=None, chips=None, precision=None)
    assert none.sigma > known.sigma
    assert "an unknown chip generation, chip count unknown, precision unknown" in none.source
    # the chip's default precision stands in for a missing one (the pipeline costs the peak at it)
    assert utilization_prior_for(get_hardware("h100-sxm"), chips=None, precision=None).precision == "bf16"
    assert utilization_prior_for(None, chips=1000, precision=None).release_year is None


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(chips=0), r"chips=0 must be a finite number > 0 \(the run's chip count\), or None"),
        (dict(chips=-8), r"chips=-8 must be a finite number > 0"),
        (dict(chips=float("nan")), r"chips=nan must be a finite number > 0"),
        (dict(chips=True), r"chips=True must be a finite number > 0"),
        (dict(chips="many"), r"chips='many' is not a number"),
        (dict(release_year=1990), r"release_year=1990 is outside 2005-2040; give the chip's release date"),
        (dict(release_year=float("inf")), r"release_year=inf is outside 2005-2040"),
        (dict(release_year="soon"), r"release_year='soon' is not a number"),
        (dict(precision="int8"), r"precision='int8' is not one of bf16, fp16, fp8, fp4, fp32, tf32 \(or None"),
        (dict(precision="fp64"), r"precision='fp64' is not one of"),
        (dict(precision=16), r"precision=16 is not one of"),
    ],
)
def test_bad_input_names_the_field_the_value_and_what_is_allowed(kwargs, message):
    args = dict(release_year=2022.0, chips=1024, precision="bf16") | kwargs
    with pytest.raises(InvalidInputError, match=message):
        utilization_prior(**args)


def test_precision_is_read_case_blind():
    assert utilization_prior(release_year=2022, chips=8, precision=" BF16 ").precision == "bf16"
    assert set(PRECISION_CLASS.values()) == {"16-bit", "8-bit", "32-bit"}


# -- the cited runs ------------------------------------------------------------------------------


def test_published_runs_are_cited_and_consistent():
    """published_runs.csv: every row cited and dated; chips on a catalog key; layouts multiply to the chips;
    the throughput figures give the MFU: OPT 147 / 312 = 0.4712; Llama 3 430, 400, 380 / 989.4 = 0.435,
    0.404, 0.384 against 43%, 41%, 38% (the paper rounds)."""
    with open(DATA / "published_runs.csv", encoding="utf-8", newline="") as fh:
        rows = {r["key"]: r for r in csv.DictReader(fh)}
    assert len(rows) == 9
    for key, r in rows.items():
        assert r["source"].startswith("https://") and r["as_of"] == "2026-12-01", key
        assert 0 < float(r["mfu"]) < 1, key
        hw = get_hardware(r["hardware"])
        assert hw.key == r["hardware"], key
        layout = [int(r[k]) if r[k] else 1 for k in ("tp", "cp", "pp", "dp")]
        if r["dp"]:
            assert math.prod(layout) == int(r["chips"]), key
    opt = rows["opt-175b"]
    assert float(opt["mfu"]) == pytest.approx(147 / 312, abs=1e-4)
    h100 = get_hardware("h100-sxm").peak_flop_per_s("bf16")
    for key in ("llama3-405b-8k-gpus", "llama3-405b-16k-gpus", "llama3-405b-16k-long-context"):
        r = rows[key]
        assert float(r["tflop_per_s_per_chip"]) * 1e12 / h100 == pytest.approx(float(r["mfu"]), abs=0.006), key
    palm = rows["palm-540b"]
    assert (float(palm["mfu"]), float(palm["hfu"])) == (0.462, 0.578)
    assert float(rows["megascale-175b-12288"]["mfu"]) == 0.552 and rows["megascale-175b-12288"]["chips"] == "12288"
    assert float(rows["gpt-3-175b"]["mfu"]) == 0.213 and float(rows["gopher-280b"]["mfu"]) == 0.325
    assert float(rows["megatron-turing-nlg-530b"]["mfu"]) == 0.302
    assert float(rows["llama3-405b-16k-gpus"]["reported_chip_hours"]) == 30.84e6
