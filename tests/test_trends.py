"""Trend fits: OLS in log10 against decimal years, intervals, crossings, breakpoints, selection."""

import datetime as dt
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from flopcast.dates import date_from_decimal_year
from flopcast.errors import InvalidInputError, MissingInputError
from flopcast.selection import above_trend, in_window, top_n_at_release
from flopcast.trends import TrendFit, crossing_from, extrapolate, fit_trend

TRUE_SLOPE = 0.38  # OOM/year, 10**0.38 = 2.40x/year
NOISE_SD = 0.3  # OOM


def synthetic(seed=0, n=60, slope=TRUE_SLOPE, sd=NOISE_SD, start=2010.0, end=2024.0, level=5.0):
    rng = np.random.default_rng(seed)
    years = np.sort(rng.uniform(start, end, n))
    log10_values = level + slope * (years - start) + rng.normal(0.0, sd, n)
    return years, 10.0**log10_values


@pytest.fixture(scope="module")
def data():
    return synthetic()


@pytest.fixture(scope="module")
def fit(data):
    years, values = data
    return fit_trend(years, values, metric="Training cost", unit="USD")


# ---------------------------------------------------------------------------- time axis


# ---------------------------------------------------------------------------- the fit


def test_slope_estimate_and_intervals_cover_truth(fit):
    assert isinstance(fit, TrendFit)
    assert fit.n == 60
    assert fit.slope_oom_per_year == pytest.approx(TRUE_SLOPE, abs=0.04)
    lo_a, hi_a = fit.slope_ci_analytic_oom_per_year
    lo_b, hi_b = fit.slope_ci_bootstrap_oom_per_year
    assert lo_a < TRUE_SLOPE < hi_a
    assert lo_b < TRUE_SLOPE < hi_b
    # homoscedastic normal noise: the two methods agree to within ~15% of the interval width
    width = hi_a - lo_a
    assert abs(lo_a - lo_b) < 0.15 * width and abs(hi_a - hi_b) < 0.15 * width
    assert fit.residual_sd_log10 == pytest.approx(NOISE_SD, rel=0.2)
    g = fit.growth_per_year()
    assert g["estimate"] == pytest.approx(10**fit.slope_oom_per_year, rel=1e-12)
    assert (g["low"], g["high"]) == (pytest.approx(10**lo_a, rel=1e-12), pytest.approx(10**hi_a, rel=1e-12))
    assert g["credibility"] == 0.9 and g["method"] == "analytic"
    assert fit.growth_per_year("bootstrap")["low"] == pytest.approx(10**lo_b, rel=1e-12)
    assert fit.bootstrap_slopes_oom_per_year.shape == (10_000,)
    assert fit.bootstrap_intercepts_log10.shape == (10_000,)


def test_ols_matches_numpy_and_scipy_exactly(data, fit):
    years, values = data
    y = np.log10(values)
    slope, intercept0 = np.polyfit(years, y, 1)
    lr = stats.linregress(years, y)
    assert fit.slope_oom_per_year == pytest.approx(slope, rel=1e-10)
    assert fit.slope_oom_per_year == pytest.approx(lr.slope, rel=1e-10)
    assert fit.intercept_log10_at_year0 == pytest.approx(intercept0, rel=1e-10)
    assert fit.intercept_log10_at_year0 == pytest.approx(lr.intercept, rel=1e-10)
    assert fit.slope_se_oom_per_year == pytest.approx(lr.stderr, rel=1e-10)
    # the line at the mean year is the mean of log10(value)
    assert fit.intercept_log10 == pytest.approx(np.mean(y), rel=1e-12)
    assert fit.t_ref_year == pytest.approx(np.mean(years), rel=1e-12)
    # analytic interval: slope +- t(0.95, n-2) * se
    t = stats.t.ppf(0.95, 58)
    lo, hi = fit.slope_ci_analytic_oom_per_year
    assert (lo, hi) == (
        pytest.approx(lr.slope - t * lr.stderr, rel=1e-10),
        pytest.approx(lr.slope + t * lr.stderr, rel=1e-10),
    )
    resid = y - (intercept0 + slope * years)
    assert fit.residual_sd_log10 == pytest.approx(math.sqrt(resid @ resid / 58), rel=1e-9)


def test_other_credibility_on_request(fit):
    o80 = fit.oom_per_year(credibility=0.8)
    o90 = fit.oom_per_year()
    assert o80["credibility"] == 0.8
    assert o90["low"] < o80["low"] < o80["high"] < o90["high"]
    b80 = fit.oom_per_year("bootstrap", credibility=0.8)
    lo, hi = np.quantile(fit.bootstrap_slopes_oom_per_year, [0.1, 0.9])
    assert (b80["low"], b80["high"]) == (pytest.approx(lo), pytest.approx(hi))


def test_doubling_time_is_log2_over_slope(fit):
    d = fit.doubling_time_years()
    lo, hi = fit.slope_ci_analytic_oom_per_year
    assert d["estimate"] == pytest.approx(math.log10(2) / fit.slope_oom_per_year, rel=1e-12)
    # the fast end of the slope gives the short end of the doubling time
    assert d["low"] == pytest.approx(math.log10(2) / hi, rel=1e-12)
    assert d["high"] == pytest.approx(math.log10(2) / lo, rel=1e-12)
    # 0.38 OOM/year doubles every log10(2)/0.38 = 0.792 years (9.5 months)
    assert d["estimate"] == pytest.approx(math.log10(2) / TRUE_SLOPE, rel=0.12)
    assert d["note"] == ""


def weak_trend(bootstrap=0):
    # slope 0.05 OOM/year under +-0.5 OOM of scatter over 10 points: growth not established
    years = np.arange(2010, 2020, dtype=float)
    noise = np.array([0.4, -0.3, 0.5, -0.6, 0.2, -0.4, 0.6, -0.5, 0.3, -0.2])
    return fit_trend(years, 10 ** (0.05 * (years - 2010) + noise), bootstrap=bootstrap, seed=1)


def test_doubling_time_unbounded_when_slope_interval_reaches_zero():
    f = weak_trend()
    lo, hi = f.slope_ci_analytic_oom_per_year
    assert lo < 0 < f.slope_oom_per_year < hi
    d = f.doubling_time_years()
    assert d["estimate"] == pytest.approx(math.log10(2) / f.slope_oom_per_year)
    assert d["low"] == pytest.approx(math.log10(2) / hi)
    assert d["high"] is None and "no upper bound" in d["note"]
    json.dumps(f.to_dict(), allow_nan=False)
    assert "no upper bound" in f.summary()


def test_predict_intervals(fit):
    p = fit.predict(2020.0)
    x = 2020.0 - fit.t_ref_year
    mid = fit.intercept_log10 + fit.slope_oom_per_year * x
    assert p["median"] == pytest.approx(10**mid, rel=1e-12)
    # textbook OLS: line se = s sqrt(1/n + x^2/Sxx); prediction se = s sqrt(1 + 1/n + x^2/Sxx)
    s, n, sxx = fit.residual_sd_log10, fit.n, fit.sxx_year2
    t = stats.t.ppf(0.95, n - 2)
    assert p["line_high"] == pytest.approx(10 ** (mid + t * s * math.sqrt(1 / n + x**2 / sxx)), rel=1e-10)
    assert p["pred_low"] == pytest.approx(10 ** (mid - t * s * math.sqrt(1 + 1 / n + x**2 / sxx)), rel=1e-10)
    assert p["pred_low"] < p["line_low"] < p["median"] < p["line_high"] < p["pred_high"]
    # vectorized, and the line band widens away from the mean year
    v = fit.predict(np.array([fit.t_ref_year, 2030.0]))
    width = np.log10(v["line_high"] / v["line_low"])
    assert v["median"].shape == (2,) and width[1] > width[0]
    assert isinstance(p["median"], float)
    # dates work too, and extrapolate is predict
    assert fit.predict(dt.date(2020, 1, 1))["median"] == pytest.approx(p["median"], rel=1e-12)
    assert extrapolate(fit, 2030.0)["median"] == pytest.approx(v["median"][1], rel=1e-12)


def test_prediction_interval_covers_new_points(fit):
    years, values = synthetic(seed=99, n=2000)
    p = fit.predict(years)
    inside = (values >= p["pred_low"]) & (values <= p["pred_high"])
    assert inside.mean() == pytest.approx(0.9, abs=0.03)


def test_crossing_year_solves_the_line(fit):
    target = 1e12
    c = fit.crossing_year(target)
    # hand solution: intercept + slope (t - t_ref) = log10(target)
    by_hand = fit.t_ref_year + (12.0 - fit.intercept_log10) / fit.slope_oom_per_year
    assert c["estimate"] == pytest.approx(by_hand, rel=1e-12)
    assert fit.predict(c["estimate"])["median"] == pytest.approx(target, rel=1e-9)
    assert c["low"] < c["estimate"] < c["high"]
    assert c["method"] == "bootstrap" and c["note"] == ""
    a = fit.crossing_year(target, method="analytic")
    # the analytic (Fieller) interval: at its ends the line band just touches the target
    for end, side in ((a["low"], "line_high"), (a["high"], "line_low")):
        assert fit.predict(end)[side] == pytest.approx(target, rel=1e-8)
    assert a["low"] == pytest.approx(c["low"], abs=0.3) and a["high"] == pytest.approx(c["high"], abs=0.3)


def test_crossing_year_open_ended_when_many_bootstrap_lines_never_cross():
    f = weak_trend(bootstrap=4000)
    assert f.slope_oom_per_year > 0
    never = np.mean(f.bootstrap_slopes_oom_per_year <= 0)
    assert never > 0.05
    c = f.crossing_year(1e3)
    assert c["estimate"] > c["low"] and c["high"] is None and "never reach" in c["note"]
    a = f.crossing_year(1e3, method="analytic")
    assert a["low"] is None and a["high"] is None and "not distinguishable" in a["note"]
    json.dumps([c, a], allow_nan=False)


def test_crossing_year_without_bootstrap_uses_analytic(data):
    f = fit_trend(*data, bootstrap=0)
    assert f.crossing_year(1e12)["method"] == "analytic"
    with pytest.raises(MissingInputError, match="bootstrap"):
        f.crossing_year(1e12, method="bootstrap")
    with pytest.raises(MissingInputError, match="bootstrap"):
        f.growth_per_year("bootstrap")


def test_summary_and_to_dict(data):
    f = fit_trend(*data, metric="Training cost", unit="USD", breakpoint=True)
    text = f.summary()
    assert "Training cost (USD)" in text and "60 points" in text and "OOM/year" in text and "breakpoint" in text
    d = f.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["metric"] == "Training cost" and d["unit"] == "USD" and d["n_models"] == 60
    assert d["start"] == date_from_decimal_year(f.start_year).isoformat()
    assert set(d["growth_per_year"]) >= {"estimate", "low", "high", "credibility"}
    assert set(d["intervals"]) == {"analytic", "bootstrap"}
    assert d["breakpoint"]["preferred"] in ("single", "piecewise")
    assert d["residual_sd_log10"] == f.residual_sd_log10


# ---------------------------------------------------------------------------- breakpoint


def test_breakpoint_recovers_a_planted_break():
    # slope 0.2 OOM/year before 2018 and 0.6 after, continuous at 2018
    rng = np.random.default_rng(0)
    years = np.sort(rng.uniform(2010, 2024, 80))
    log10_values = 3 + np.where(years < 2018, 0.2 * (years - 2018), 0.6 * (years - 2018)) + rng.normal(0, 0.15, 80)
    f = fit_trend(years, 10**log10_values, breakpoint=True, bootstrap=0)
    bp = f.breakpoint
    assert bp.preferred == "piecewise" and bp.bic_piecewise < bp.bic_single
    assert bp.break_year == pytest.approx(2018, abs=1.0)
    assert bp.slope_before_oom_per_year == pytest.approx(0.2, abs=0.1)
    assert bp.slope_after_oom_per_year == pytest.approx(0.6, abs=0.1)
    assert bp.growth_after_per_year == pytest.approx(10**bp.slope_after_oom_per_year)
    # BIC = n ln(SSE/n) + k ln(n), k = 2 and 4
    assert bp.bic_single == pytest.approx(80 * math.log(bp.sse_single_log10_sq / 80) + 2 * math.log(80))
    assert bp.bic_piecewise == pytest.approx(80 * math.log(bp.sse_piecewise_log10_sq / 80) + 4 * math.log(80))
    # the chosen break's coefficients and SSE agree with a direct least-squares solve
    d = years - bp.break_year
    X = np.c_[np.ones_like(d), np.minimum(d, 0), np.maximum(d, 0)]
    beta, sse, *_ = np.linalg.lstsq(X, log10_values, rcond=None)
    np.testing.assert_allclose(
        [bp.log10_at_break, bp.slope_before_oom_per_year, bp.slope_after_oom_per_year], beta, rtol=1e-9
    )
    assert bp.sse_piecewise_log10_sq == pytest.approx(sse[0], rel=1e-9)
    # the piecewise line is continuous at the break
    assert bp.predict_log10(bp.break_year) == pytest.approx(bp.log10_at_break)


def test_breakpoint_prefers_single_on_straight_data(data):
    f = fit_trend(*data, breakpoint=True, bootstrap=0)
    assert f.breakpoint.preferred == "single"
    lo, hi = f.start_year, f.end_year
    assert lo + 0.1 * (hi - lo) - 1e-9 <= f.breakpoint.break_year <= hi - 0.1 * (hi - lo) + 1e-9


def test_breakpoint_needs_points_each_side():
    with pytest.raises(InvalidInputError, match="each side"):
        fit_trend([2010, 2011, 2012, 2013], [1, 10, 100, 1000], breakpoint=True, bootstrap=0)


# ---------------------------------------------------------------------------- Minerva reference


def test_minerva_crossing_matches_cottier_2023():
    # Cottier (Epoch AI, January 2023), "Trends in the dollar training cost of ML systems":
    # Minerva, published 2022-06-29, cost $3.27M; the cost trend of 0.49 OOM/year (90% CI 0.37-0.56)
    # reaches $233B "around 2032 (2031-2036)".
    # log10(233e9 / 3.27e6) = log10(71254) = 4.8528; 4.8528 / 0.49 = 9.904 years;
    # 2022-06-29 = 2022 + 179/365 = 2022.490; 2022.490 + 9.904 = 2032.39.
    # Ends: 4.8528 / 0.56 = 8.666 -> 2031.16; 4.8528 / 0.37 = 13.116 -> 2035.61.
    c = crossing_from(3.27e6, dt.date(2022, 6, 29), 0.49, 233e9, oom_low=0.37, oom_high=0.56)
    gap = math.log10(233e9 / 3.27e6)
    assert gap / 0.49 == pytest.approx(9.90, abs=0.005)
    assert c["estimate"] == pytest.approx(2032.39, abs=0.01)
    assert c["low"] == pytest.approx(2031.16, abs=0.01)
    assert c["high"] == pytest.approx(2035.61, abs=0.01)
    assert round(c["estimate"]) == 2032 and math.floor(c["low"]) == 2031 and math.ceil(c["high"]) == 2036


def test_crossing_from_edge_cases():
    assert crossing_from(1e6, 2020.0, 1.0, 1e9)["estimate"] == pytest.approx(2023.0)
    assert crossing_from(1e6, 2020.0, 1.0, 1e9) == {"estimate": pytest.approx(2023.0), "low": None, "high": None}
    assert crossing_from(1e6, 2020.0, -0.1, 1e9)["estimate"] is None  # shrinking never reaches a higher target
    assert crossing_from(1e6, 2020.0, -1.0, 1e3, oom_low=-2.0, oom_high=-0.5) == {
        "estimate": pytest.approx(2023.0),
        "low": pytest.approx(2021.5),
        "high": pytest.approx(2026.0),
    }
    with pytest.raises(InvalidInputError, match="target"):
        crossing_from(1e6, 2020.0, 0.5, 0)
    with pytest.raises(InvalidInputError, match="oom_low"):
        crossing_from(1e6, 2020.0, 0.5, 1e9, oom_low=0.6, oom_high=0.4)


# ---------------------------------------------------------------------------- bad input


def test_rejects_two_points():
    with pytest.raises(InvalidInputError, match="at least 3 points; got 2"):
        fit_trend([2020, 2021], [1.0, 2.0])


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan"), float("inf")])
def test_rejects_non_positive_values_naming_index_and_value(bad):
    values = [1.0, 10.0, bad, 1000.0]
    with pytest.raises(InvalidInputError, match=r"values\[2\]=") as err:
        fit_trend([2018, 2019, 2020, 2021], values)
    assert str(bad) in str(err.value) and "> 0" in str(err.value)


def test_rejects_nan_dates():
    with pytest.raises(InvalidInputError, match=r"dates\[1\]"):
        fit_trend([2018.0, float("nan"), 2020.0, 2021.0], [1, 10, 100, 1000])
    with pytest.raises(InvalidInputError, match=r"dates\[0\]"):
        fit_trend(np.array(["NaT", "2019-01-01", "2020-01-01"], dtype="datetime64[D]"), [1, 10, 100])


@pytest.mark.parametrize("cred", [1.2, 0.0, 1.0, -0.1, True])
def test_rejects_bad_credibility(cred):
    with pytest.raises(InvalidInputError, match="credibility"):
        fit_trend([2018, 2019, 2020], [1, 10, 100], credibility=cred)


def test_rejects_other_bad_input(fit):
    with pytest.raises(InvalidInputError, match="bootstrap=-1"):
        fit_trend([2018, 2019, 2020], [1, 10, 100], bootstrap=-1)
    with pytest.raises(InvalidInputError, match="must match"):
        fit_trend([2018, 2019, 2020], [1, 10, 100, 1000])
    with pytest.raises(InvalidInputError, match="same"):
        fit_trend([2018, 2018, 2018], [1, 10, 100])
    with pytest.raises(InvalidInputError, match="labels"):
        fit_trend([2018, 2019, 2020], [1, 10, 100], labels=["a"])
    with pytest.raises(InvalidInputError, match="credibility"):
        fit.predict(2030, credibility=1.2)
    with pytest.raises(InvalidInputError, match="method"):
        fit.growth_per_year("jackknife")
    with pytest.raises(InvalidInputError, match="value"):
        fit.crossing_year(-1)


def test_accepts_dates_and_labels():
    dates = [dt.date(2019, 1, 1), dt.date(2020, 1, 1), dt.date(2021, 1, 1), dt.date(2022, 1, 1)]
    f = fit_trend(dates, [1, 10, 100, 1000], labels=["a", None, "c", "d"], bootstrap=0)
    assert f.slope_oom_per_year == pytest.approx(1.0, rel=1e-12)  # 2020 and 2021 are 366 and 365 days: close
    assert f.labels == ("a", "", "c", "d")
    assert f.residual_sd_log10 == pytest.approx(0.0, abs=1e-3)


# ---------------------------------------------------------------------------- invariants and seeds


@settings(max_examples=50, deadline=None)
@given(scale=st.floats(min_value=1e-6, max_value=1e6), seed=st.integers(0, 1000))
def test_slope_invariant_to_scaling_values(scale, seed):
    years, values = synthetic(seed=seed, n=15)
    a = fit_trend(years, values, bootstrap=0)
    b = fit_trend(years, values * scale, bootstrap=0)
    assert b.slope_oom_per_year == pytest.approx(a.slope_oom_per_year, rel=1e-9, abs=1e-12)
    assert b.slope_se_oom_per_year == pytest.approx(a.slope_se_oom_per_year, rel=1e-6)
    assert b.intercept_log10 == pytest.approx(a.intercept_log10 + math.log10(scale), rel=1e-9, abs=1e-9)


def test_seeds_reproducible(data):
    a = fit_trend(*data, bootstrap=500, seed=7)
    b = fit_trend(*data, bootstrap=500, seed=7)
    c = fit_trend(*data, bootstrap=500, seed=8)
    np.testing.assert_array_equal(a.bootstrap_slopes_oom_per_year, b.bootstrap_slopes_oom_per_year)
    assert a.slope_ci_bootstrap_oom_per_year == b.slope_ci_bootstrap_oom_per_year
    assert not np.array_equal(a.bootstrap_slopes_oom_per_year, c.bootstrap_slopes_oom_per_year)
    assert fit_trend(*data, bootstrap=0).slope_ci_bootstrap_oom_per_year is None


def test_bootstrap_with_three_points_has_no_degenerate_resamples():
    f = fit_trend([2018, 2019, 2020], [1, 12, 90], bootstrap=2000, seed=0)
    assert np.isfinite(f.bootstrap_slopes_oom_per_year).all()


# ---------------------------------------------------------------------------- selection


def test_top_n_at_release():
    years = [2010, 2011, 2012, 2013, 2014, 2014]
    values = [5.0, 3.0, 4.0, 6.0, 1.0, 5.0]
    # 2010: only itself -> in; 2011: 3 < 5, 2nd of 2 -> in (n=2); 2012: 4 is 2nd of (5,3,4) -> in;
    # 2013: 6 is 1st -> in; 2014 (1.0): 6th -> out; 2014 (5.0): 6 > 5 only, ties with 5 -> 2nd -> in
    np.testing.assert_array_equal(top_n_at_release(years, values, 2), [True, True, True, True, False, True])
    np.testing.assert_array_equal(top_n_at_release(years, values, 1), [True, False, False, True, False, False])
    # missing values are never selected
    assert not top_n_at_release([2010, 2011, 2012], [1.0, np.nan, 0.5], 1)[1]
    with pytest.raises(InvalidInputError, match="n=0"):
        top_n_at_release(years, values, 0)


def test_above_trend():
    years = np.arange(2010, 2020, dtype=float)
    log10_values = years - 2010 + np.array([0, 0.5, 0, -0.5, 0, 1.2, 0, -0.5, 0, -0.7])
    mask = above_trend(years, 10**log10_values, min_residual_oom=0.5)
    f = fit_trend(years, 10**log10_values, bootstrap=0)
    resid = log10_values - (f.intercept_log10 + f.slope_oom_per_year * (years - f.t_ref_year))
    np.testing.assert_array_equal(mask, resid >= 0.5)
    assert mask[5] and not mask[3]
    assert above_trend(years, 10**log10_values).sum() == (resid >= 0).sum()


def test_in_window_years_inclusive():
    dates = [dt.date(2014, 12, 31), dt.date(2015, 1, 1), dt.date(2020, 12, 31), dt.date(2021, 1, 1), None]
    np.testing.assert_array_equal(in_window(dates, 2015, 2020), [False, True, True, False, False])
    np.testing.assert_array_equal(in_window(dates, since=2015), [False, True, True, True, False])
    np.testing.assert_array_equal(in_window(dates, until=dt.date(2015, 1, 1)), [True, True, False, False, False])
    np.testing.assert_array_equal(in_window(dates), [True, True, True, True, False])
