"""``flopcast forecast``: the largest training run by components, pinned to hand arithmetic, closed forms and
the published anchors (Cottier et al. 2024's "above $1B by 2027"; Epoch's 4-5x a year of frontier compute)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from flopcast.errors import InvalidInputError
from flopcast.forecasting import (
    COMPONENTS,
    METRICS,
    bootstrap_weights,
    cap_path_log10,
    capped,
    component_values,
    exceedance,
    lines_at_anchor,
    metric_log10,
    yearly_max_residuals,
)
from flopcast.projection import Prior, project, threshold_key
from flopcast.series import FrontierPoints
from flopcast.testing import run_cli as run

# GPT-3 as Cottier et al. tabulate it: 3.14e23 FLOP, 10,000 V100s (125e12 FLOP/s peak) for 14.8 days
GPT3 = dict(compute_flop=3.14e23, chip_hours=10_000 * 14.8 * 24, chips=10_000.0, peak=125e12)


# ----------------------------------------------------------------------------- stage functions


def test_components_close_the_identities():
    # cost $4.3M, facility power 10,000 chips x 300 W x 1.667 x 1.1 = 5.5 MW: each metric comes back exactly
    g = GPT3
    power_w = 10_000 * 300 * 1.667 * 1.1
    c = component_values(g["compute_flop"], 4.3e6, g["chip_hours"], g["chips"], power_w, g["peak"])
    # utilization = 3.14e23 / (3.552e6 chip-hours x 3600 x 125e12) = 0.1964 (Cottier: about 20%)
    assert 10 ** c["utilization"] == pytest.approx(3.14e23 / (3.552e6 * 3600 * 125e12), rel=1e-12)
    assert 10 ** c["utilization"] == pytest.approx(0.1964, abs=5e-4)
    # duration = chip-hours / chips = 355.2 h (14.8 days)
    assert 10 ** c["duration"] == pytest.approx(355.2, rel=1e-12)
    # price-performance = peak FLOP per dollar = 3600 x 125e12 x 3.552e6 / 4.3e6
    assert 10 ** c["price-performance"] == pytest.approx(3600 * 125e12 * 3.552e6 / 4.3e6, rel=1e-12)
    assert 10 ** c["power-per-chip"] == pytest.approx(300 * 1.667 * 1.1, rel=1e-12)
    assert 10 ** metric_log10("cost", c) == pytest.approx(4.3e6, rel=1e-12)
    assert 10 ** metric_log10("chips", c) == pytest.approx(10_000, rel=1e-12)
    assert 10 ** metric_log10("power", c) == pytest.approx(power_w, rel=1e-12)
    assert 10 ** metric_log10("compute", c) == pytest.approx(3.14e23, rel=1e-12)
    assert set(c) == set(COMPONENTS)


def test_component_values_broadcast():
    # samples x runs: a (2, 3) array of compute against (3,) of everything else
    compute = np.array([[1e23, 2e23, 4e23], [2e23, 4e23, 8e23]])
    ones = np.ones(3)
    c = component_values(compute, 1e6 * ones, 1e6 * ones, 1e3 * ones, 1e6 * ones, 1e14 * ones)
    assert c["utilization"].shape == (2, 3)
    # doubling compute at fixed chip-hours doubles utilization: log10 2 apart
    assert c["utilization"][1] - c["utilization"][0] == pytest.approx(np.full(3, math.log10(2)))


def test_lines_match_polyfit_and_weights_are_repeats():
    rng = np.random.default_rng(1)
    x = np.sort(rng.uniform(2016, 2024, 12))
    y = 0.4 * (x - 2016) + 5 + rng.normal(0, 0.3, 12)
    level, slope = lines_at_anchor(x, y, 2024.0)
    b, a = np.polyfit(x, y, 1)
    assert slope == pytest.approx(b, rel=1e-12)
    assert level == pytest.approx(a + b * 2024.0, rel=1e-12)
    # weights of 2 on the first point = that point repeated
    w = np.ones(12)
    w[0] = 2
    lw, sw = lines_at_anchor(x, y, 2024.0, w)
    b2, a2 = np.polyfit(np.r_[x[0], x], np.r_[y[0], y], 1)
    assert sw == pytest.approx(b2, rel=1e-12) and lw == pytest.approx(a2 + b2 * 2024, rel=1e-12)


def test_component_lines_add_up_to_the_metric_line():
    # OLS is linear in y: on one set of points, the cost line = compute - price-performance - utilization lines
    rng = np.random.default_rng(2)
    x = np.sort(rng.uniform(2016, 2024, 30))
    comps = {k: rng.normal(0, 1, 30) + 0.1 * i * (x - 2016) for i, k in enumerate(COMPONENTS)}
    for metric, (const, signs) in METRICS.items():
        lm, bm = lines_at_anchor(x, metric_log10(metric, comps), 2024.0)
        lc = const + sum(s * lines_at_anchor(x, comps[k], 2024.0)[0] for k, s in signs.items())
        bc = sum(s * lines_at_anchor(x, comps[k], 2024.0)[1] for k, s in signs.items())
        assert lm == pytest.approx(lc, abs=1e-9) and bm == pytest.approx(bc, abs=1e-12), metric


def test_bootstrap_weights_are_resamples():
    w = bootstrap_weights(7, 500, np.random.default_rng(0))
    assert w.shape == (500, 7) and np.all(w.sum(axis=1) == 7) and np.all((w > 0).sum(axis=1) >= 2)
    with pytest.raises(InvalidInputError, match="at least 3 points"):
        bootstrap_weights(2, 10, np.random.default_rng(0))


def test_yearly_max_residuals_need_three_runs_a_year():
    years = [2020.1, 2020.5, 2020.9, 2021.2, 2021.3, 2022.0, 2022.4, 2022.6]
    r = [0.1, 0.5, -0.2, 9.0, 8.0, -0.1, 0.3, 0.2]
    # 2021 has two runs: left out; 2020's max 0.5, 2022's 0.3
    assert yearly_max_residuals(years, r).tolist() == [0.5, 0.3]
    with pytest.raises(InvalidInputError, match="3 runs"):
        yearly_max_residuals([2020.0, 2021.0], [0.0, 0.0])


def test_cap_path_and_clip():
    # from 1e25 at 2024 to a 1e29 cap at 2030: 4 OOM over 6 years, so 1e27 at 2027; flat after 2030
    path = cap_path_log10(np.array([2024.0, 2027.0, 2030.0, 2035.0]), 2030.0, 29.0, 2024.0, 25.0)
    assert path.tolist() == pytest.approx([25.0, 27.0, 29.0, 29.0])
    # a cap below the start never pulls the path under the start (the anchor run happened)
    assert cap_path_log10(2027.0, 2030.0, 24.0, 2024.0, 25.0) == pytest.approx(25.0)
    # compute 1e28 against a 1e27 cap: the cost ($1e10) is cut by the same 10x
    assert capped(28.0, 10.0, 27.0) == pytest.approx(9.0)
    assert capped(26.0, 10.0, 27.0) == pytest.approx(10.0)


def test_exceedance_counts():
    s = np.log10(np.array([[1.0, 2.0, 3.0, 4.0]]))
    assert exceedance(s, [2.5, 0.5]).tolist() == [[0.5, 1.0]]


def test_threshold_keys():
    assert [threshold_key(t) for t in (1e9, 2.5e9, 1e28, 1000.0, 1e10)] == ["1e9", "2.5e9", "1e28", "1000", "1e10"]


# ----------------------------------------------------------------------------- the Monte Carlo, closed forms


def _line_points(slope_oom: float = 0.5, n: int = 12) -> FrontierPoints:
    """Runs exactly on a line: compute 1e24 x 10^(slope (t - 2020)); every other quantity constant."""
    years = np.linspace(2018.0, 2023.0, n)
    compute = 1e24 * 10 ** (slope_oom * (years - 2020))
    ones = np.ones(n)
    medians = {
        "compute_flop": compute,
        "cost_usd": compute / 1e17,
        "chip_hours": compute / (0.4 * 3600 * 1e15),
        "chips": 1e4 * ones,
        "power_w": 1e7 * ones,
        "peak_flop_per_s": 1e15 * ones,
    }
    sig = {k: np.zeros(n) for k in medians}
    return FrontierPoints(years, [f"r{i}" for i in range(n)], medians, sig, "test", "USD", "amortized", [])


def test_probability_of_exceeding_matches_the_closed_form():
    # Points on a line leave the regression and measurement terms at zero; a prior of 3-5x a year on compute
    # growth is normal in log10 with mean log10(sqrt(15)) = 0.58805 and sd (log10 5 - log10 3) / 3.2897 =
    # 0.067434. In 2027.5 (4.5 years after 2023.0) log10 compute = 24 + 0.5 x 3 + b x 4.5, so
    # P(> 1e28) = 1 - Phi((28 - 25.5 - 2.64623) / 0.30345) = Phi(0.4819) = 0.6850.
    pts = _line_points()
    f = project(pts, "compute", 2030, largest=False, thresholds=[1e28], priors=[Prior("compute", 3, 5)], seed=3)
    y2027 = next(y for y in f.years if y.year == 2027)
    mu, sd = math.log10(math.sqrt(15)), (math.log10(5) - math.log10(3)) / (2 * 1.6448536269514722)
    closed = 1 - norm.cdf((28 - 25.5 - mu * 4.5) / (sd * 4.5))
    assert closed == pytest.approx(0.6850, abs=5e-4)
    assert y2027.p_exceeds["1e28"] == pytest.approx(closed, abs=0.015)
    # and the median is the line: 10^(25.5 + 0.58805 x 4.5) = 1.39e28
    assert y2027.median == pytest.approx(10 ** (25.5 + mu * 4.5), rel=0.03)
    # only the prior spreads the forecast
    assert y2027.variance["subjective"] == pytest.approx(1.0, abs=1e-6)


def test_without_priors_the_forecast_is_the_trend():
    # on a perfect line the top-frontier forecast is the line itself: 1e24 x 10^(0.5 x 7.5) in 2027.5
    f = project(_line_points(), "compute", 2028, largest=False)
    y = next(y for y in f.years if y.year == 2027)
    assert y.median == pytest.approx(1e24 * 10 ** (0.5 * 7.5), rel=1e-9)
    assert y.p5 == pytest.approx(y.median, rel=1e-9) and y.p95 == pytest.approx(y.median, rel=1e-9)
    assert f.growth["compute"]["growth_per_year"] == pytest.approx(10**0.5, rel=1e-9)
    # cost = compute / 1e17 on every run: price-performance x utilization is flat, so cost grows as compute
    fc = project(_line_points(), "cost", 2028, largest=False)
    assert next(y for y in fc.years if y.year == 2027).median == pytest.approx(1e7 * 10 ** (0.5 * 7.5), rel=1e-9)


def test_project_rejects_bad_input():
    pts = _line_points()
    with pytest.raises(InvalidInputError, match=r"threshold=1e20 is not above"):
        project(pts, "compute", 2030, largest=False, thresholds=[1e20])
    with pytest.raises(InvalidInputError, match="until=2020 must be a year after the last data point"):
        project(pts, "compute", 2020, largest=False)
    with pytest.raises(InvalidInputError, match="low 5 is above high 3"):
        Prior("compute", 5, 3)
    with pytest.raises(InvalidInputError, match="prior 'speed' is not one of compute"):
        Prior("speed", 1, 2)
    # 1e39x a year to 2100 would overflow a float: growth factors stay within a thousandfold a year
    with pytest.raises(InvalidInputError, match=r"prior compute high=1e\+39 is outside 0.001..1000"):
        Prior("compute", 2, 1e39)
    with pytest.raises(InvalidInputError, match="each component at most once"):
        project(pts, "compute", 2030, priors=[Prior("compute", 2, 3), Prior("compute", 3, 4)])


# ----------------------------------------------------------------------------- on the snapshot


@pytest.fixture(scope="module")
def cottier(db):
    from flopcast.service import frontier_forecast

    return frontier_forecast(
        "cost", until=2032, thresholds=[1e9], fit_since=2016, fit_until=2023, year_dollars=2023, db=db
    )


def test_reproduces_cottier_largest_run_above_1b_by_2027(cottier):
    # Cottier et al. 2024: frontier amortized cost x2.4 a year (90% CI 2.0-2.9) on 2016-2023, 2023 USD; "the
    # largest training runs will cost more than a billion dollars by 2027". Their arithmetic: GPT-4 ($40M,
    # March 2023) x 2.4^t = $1B at t = log(25) / log(2.4) = 3.68 years, i.e. 2026.9. flopcast's largest run
    # (the trend plus the median of each year's largest lead over it) passes $1B at the median in 2026.35 (2026.25
    # before issue 20's utilization prior conditioned on chip generation, chip count and precision).
    f = cottier.forecast
    assert 2.0 <= f.growth["cost"]["growth_per_year"] <= 2.9
    assert f.growth["cost"]["growth_per_year"] == pytest.approx(2.56, abs=0.05)
    c = f.crossings["1e9"]
    assert 2026.0 <= c["median"] < 2027.0
    assert c["p5"] < c["median"] < c["p95"]
    assert f.years[0].year == 2024 and cottier.assumptions["dollars"].startswith("2023 USD")
    # the fitted data end in 2023 and the note says how far the forecast reaches past them
    assert "extrapolates 8.6 years past the last data point (2023.9)" in f.notes[0]


def test_the_date_moves_with_the_priors(cottier):
    # faster compute growth brings the crossing forward, faster price-performance growth pushes it back
    m = cottier.date_moves
    assert m["compute"]["high"]["median_year"] < m["compute"]["low"]["median_year"]
    assert m["price-performance"]["high"]["median_year"] > m["price-performance"]["low"]["median_year"]
    assert m["compute"]["low"]["growth_per_year"] == pytest.approx(cottier.forecast.growth["compute"]["low"])


def test_sources_of_spread_are_kept_apart(cottier, db):
    from flopcast.service import frontier_forecast

    y = cottier.forecast.years[-1]
    assert set(y.variance) == {"regression", "measurement", "largest run"}
    assert sum(y.variance.values()) == pytest.approx(1.0)
    # regression spread grows with distance from the data (the slope's uncertainty times the years ahead)
    assert cottier.forecast.years[-1].variance["regression"] > cottier.forecast.years[0].variance["regression"]
    # a subjective prior appears as its own source
    p = frontier_forecast(
        "cost", until=2030, fit_since=2016, fit_until=2023, priors={"compute": (3.0, 6.0)}, db=db, samples=2000
    )
    assert p.forecast.years[-1].variance["subjective"] > 0.05


def test_frontier_compute_growth_beside_epoch(db):
    # Sevilla and Roldan (Epoch, 2024): frontier training compute grows 4-5x a year (2010-2024). The top-10
    # runs at release since 2010 on the snapshot grow x4.72 a year (90% bootstrap 4.40-5.03).
    from flopcast.service import frontier_forecast

    f = frontier_forecast("compute", until=2030, fit_since=2010, db=db, samples=2000)
    g = f.forecast.growth["compute"]
    assert 4.0 <= g["growth_per_year"] <= 5.0
    assert g["growth_per_year"] == pytest.approx(4.72, abs=0.05)
    assert f.published["frontier_compute_growth"]["low"] == 4.0
    assert f.published["frontier_compute_growth"]["high"] == 5.0


def test_caps_hold_compute_under_epoch_2030_constraints(db):
    from flopcast.service import frontier_forecast

    free = frontier_forecast("compute", until=2034, fit_since=2016, db=db, samples=4000)
    cap = frontier_forecast("compute", until=2034, fit_since=2016, caps=["all"], db=db, samples=4000)
    f_end, c_end = free.forecast.years[-1], cap.forecast.years[-1]
    # the binding cap is below the uncapped median by 2034; the latency wall (2e31, a point) bounds every sample
    assert c_end.median < f_end.median
    assert c_end.p95 <= 2e31 * 1.0001
    assert c_end.p_capped > 0.5 and "held flat" in " ".join(cap.forecast.notes)
    assert [c["name"] for c in cap.forecast.caps] == ["power", "chips", "data", "latency"]


def test_service_rejects_bad_input(db):
    from flopcast.service import frontier_forecast

    with pytest.raises(InvalidInputError, match=r"until=2101 is outside 1950\.\.2100"):
        frontier_forecast("cost", until=2101, db=db)
    with pytest.raises(InvalidInputError, match="cap 'money' is not one of power, chips, data, latency or all"):
        frontier_forecast("cost", caps=["money"], db=db)
    with pytest.raises(InvalidInputError, match="metric='params' is not one of cost, compute, power, chips"):
        frontier_forecast("params", db=db)
    with pytest.raises(InvalidInputError, match="fit_since 2024 is after fit_until 2020"):
        frontier_forecast("cost", fit_since=2024, fit_until=2020, db=db)


def test_service_names_match_the_stage_registry():
    from flopcast.service import FORECAST_COMPONENTS, FORECAST_METRICS

    assert FORECAST_COMPONENTS == COMPONENTS and set(FORECAST_METRICS) == set(METRICS)


# ----------------------------------------------------------------------------- the command


def test_cli_json_interface(capsys):
    code, out, err = run(
        ["forecast", "cost", "--largest", "--threshold", "1e9", "--until", "2032", "--samples", "2000", "--json"],
        capsys,
    )
    assert code == 0, err
    d = json.loads(out)
    years = d["years"]
    assert [y["year"] for y in years] == list(range(2026, 2033))
    for y in years:
        assert {"year", "median", "p5", "p95", "p_exceeds"} <= set(y)
        assert y["p5"] <= y["median"] <= y["p95"] and 0 <= y["p_exceeds"]["1e9"] <= 1
    assert [y["p_exceeds"]["1e9"] for y in years] == sorted(y["p_exceeds"]["1e9"] for y in years)
    assert {"assumptions", "growth", "crossings", "published", "date_moves"} <= set(d)
    assert d["assumptions"]["cost_method"] == "amortized" and d["target"] == "largest"


def test_cli_top_and_power(capsys):
    code, out, err = run(["forecast", "power", "--top", "10", "--until", "2028", "--samples", "500", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["unit"] == "W" and d["target"] == "top" and "largest run" not in d["years"][0]["variance"]


def test_cli_table(capsys):
    code, out, err = run(["forecast", "compute", "--threshold", "1e28", "--until", "2029", "--samples", "500"], capsys)
    assert code == 0, err
    assert "Compute of the largest run" in out and "passes 1.0e28 FLOP" in out and "Epoch published 4-5x" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--threshold", "1e5"],
            "threshold=100000 is not above the largest run's cost at the last data point (2025.3: $",
        ),
        (["--until", "2101"], "until=2101 is outside 1950..2100"),
        (["--prior", "compute=5..3"], "low 5 is greater than high 3"),
        (["--prior", "compute=4"], "must be COMPONENT=LOW..HIGH"),
        (["--prior", "speed=1..2"], "prior 'speed' is not one of"),
        (["--largest", "--top", "5"], "--largest and --top N are alternatives"),
        (["--cap", "money"], "cap 'money' is not one of"),
    ],
)
def test_cli_bad_input_is_one_line(capsys, argv, message):
    code, _out, err = run(["forecast", "cost", "--samples", "200", *argv], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ----------------------------------------------------------------------------- the trend's band within intervals


def test_trend_bootstrap_within_each_points_interval():
    from flopcast.trends import fit_trend

    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(2016, 2024, 40))
    y = 10 ** (0.4 * (x - 2016) + 6 + rng.normal(0, 0.3, 40))
    plain = fit_trend(x, y, bootstrap=4000, seed=1)
    zero = fit_trend(x, y, bootstrap=4000, seed=1, sigmas_log10=np.zeros(40))
    wide = fit_trend(x, y, bootstrap=4000, seed=1, sigmas_log10=np.full(40, 0.6))
    # sigma 0 draws nothing extra: the same slopes as the pairs bootstrap (the normals are drawn after the indices)
    assert zero.slope_interval("bootstrap") == pytest.approx(plain.slope_interval("bootstrap"), rel=1e-9)
    # each point 0.6 OOM uncertain (a 90% interval of x0.1-x10) widens the slope's interval: the added variance
    # of the slope is 0.6^2 / Sxx, so its sd goes from ~se to ~sqrt(se^2 + 0.36 / Sxx)
    lo_p, hi_p = plain.slope_interval("bootstrap")
    lo_w, hi_w = wide.slope_interval("bootstrap")
    expected = math.sqrt(plain.slope_se_oom_per_year**2 + 0.36 / plain.sxx_year2) / plain.slope_se_oom_per_year
    assert (hi_w - lo_w) / (hi_p - lo_p) == pytest.approx(expected, rel=0.1)
    # the line's band in 2030 follows the wider bootstrap; the OLS line itself is unchanged
    assert wide.slope_oom_per_year == plain.slope_oom_per_year
    p_plain, p_wide = plain.predict(2030.0), wide.predict(2030.0)
    assert p_wide["line_high"] > p_plain["line_high"] and p_wide["pred_high"] > p_plain["pred_high"]
    assert wide.to_dict()["bootstrap_within_intervals"] is True
    with pytest.raises(InvalidInputError, match="sigmas_log10 must be 40 finite values"):
        fit_trend(x, y, sigmas_log10=np.full(39, 0.1))


def test_trend_cost_band_carries_the_models_intervals(db):
    # the same 75 frontier runs as Cottier's headline trend: within-interval bootstrap widens the mid-2027 band
    from flopcast.service import trend_analysis

    kw = dict(top=10, since=2016, until=2023, extrapolate=2027, db=db)
    within = trend_analysis("cost", **kw)
    medians = trend_analysis("cost", within_intervals=False, **kw)
    assert within.fit.slope_oom_per_year == medians.fit.slope_oom_per_year
    w, m = within.out["extrapolation"], medians.out["extrapolation"]
    assert w["median"] == pytest.approx(m["median"])
    assert w["line_high"] / w["line_low"] > m["line_high"] / m["line_low"]
    assert within.out["bootstrap_within_intervals"] and not medians.out["bootstrap_within_intervals"]


def test_the_docs_quote_the_forecast(cottier, db):
    # docs/trends.md "Forecasts / On the snapshot" quotes these; they are regenerated by the commands it names
    from pathlib import Path

    from flopcast.service import frontier_forecast

    doc = (Path(__file__).resolve().parents[1] / "docs" / "trends.md").read_text()
    f = cottier.forecast
    c, g = f.crossings["1e9"], f.growth
    assert f"cost grows x{g['cost']['growth_per_year']:.2f} a year" in doc
    assert f"(x{g['cost']['low']:.2f}-{g['cost']['high']:.2f}; theirs x2.4, 2.0-2.9)" in doc
    assert (
        f"passes $1B at the median in {c['median']:.2f} (5% chance by\n  {c['p5']:.2f}, 95% by {c['p95']:.1f})" in doc
    )
    m = cottier.date_moves["compute"]
    assert f"{m['low']['median_year']:.2f} or {m['high']['median_year']:.2f}" in doc
    capped_run = frontier_forecast("compute", until=2034, thresholds=[1e29], caps=["all"], db=db).forecast
    last = capped_run.years[-1]
    assert (
        f"compute passes 1e29 FLOP at the median in {capped_run.crossings['1e29']['median']:.2f} and levels off "
        f"near {last.median:.1e}".replace("e+", "e")
        in doc.replace("\n  ", " ")
    )
    assert f"({last.p_exceeds['1e29']:.0%} chance above 1e29 by 2034)" in doc.replace("\n  ", " ")
    gw = frontier_forecast("power", until=2030, thresholds=[1e9], db=db, samples=10_000).forecast.crossings["1e9"]
    mega = frontier_forecast("chips", until=2030, thresholds=[1e6], db=db).forecast.crossings["1e6"]
    assert f"its power passes 1 GW in {gw['median']:.1f} and its chips a million in {mega['median']:.1f}" in doc
    everything = frontier_forecast("cost", until=2032, thresholds=[1e9, 1e10], db=db)
    ce = everything.forecast.crossings
    assert f"passes $1B at the median in {ce['1e9']['median']:.1f} and\n  $10B in {ce['1e10']['median']:.1f}" in doc


def test_the_api_gives_the_cli_numbers(capsys):
    # one forecast, one number: POST /api/forecast and `flopcast forecast --json` with the same inputs agree
    pytest.importorskip("fastapi", reason="the web app is an extra")
    from fastapi.testclient import TestClient

    from flopcast.web.app import create_app

    body = {"metric": "cost", "thresholds": [1e9], "until": 2030, "samples": 500, "priors": {"compute": [3, 5]}}
    r = TestClient(create_app()).post("/api/forecast", json=body)
    assert r.status_code == 200
    argv = ["forecast", "cost", "--threshold", "1e9", "--until", "2030", "--samples", "500", "--prior", "compute=3..5"]
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    cli = json.loads(out)
    assert r.json()["years"] == cli["years"] and r.json()["crossings"] == cli["crossings"]
    bad = TestClient(create_app()).post("/api/forecast", json={"priors": {"compute": [5, 3]}})
    assert bad.status_code == 422 and "low 5 is greater than high 3" in bad.json()["detail"][0]["msg"]


def test_cli_plot_writes_a_chart(capsys, tmp_path):
    out_svg = tmp_path / "forecast.svg"
    code, _out, err = run(
        ["forecast", "cost", "--threshold", "1e9", "--until", "2030", "--samples", "500", "--plot", str(out_svg)],
        capsys,
    )
    assert code == 0, err
    svg = out_svg.read_text()
    # the title, the threshold's line label and the caption's variance shares are in the chart
    assert "Forecast: cost of the largest run" in svg and "$1B: median" in svg and "largest run" in svg
    code, _out, err = run(["forecast", "cost", "--plot", str(tmp_path / "f.gif")], capsys)
    assert code == 2 and "--plot" in err


def test_the_curve_starts_at_the_last_data_point(cottier):
    f = cottier.forecast
    assert f.curve["year"][0] == pytest.approx(f.anchor_year, abs=1e-4)
    assert f.curve["year"][-1] == pytest.approx(2032.5)
    assert all(lo <= m <= hi for lo, m, hi in zip(f.curve["p5"], f.curve["median"], f.curve["p95"], strict=True))
    # the median at the anchor is the threshold floor
    assert f.curve["median"][0] == pytest.approx(f.anchor_value, rel=1e-12)


def test_the_docs_quote_the_forecast_spread_and_fits(cottier, db):
    # docs/trends.md "Forecasts / On the snapshot": the sources of spread, the date moves, the fitted growth rates
    # and the all-data and top-10 figures, each as the code gives it (regenerated by the commands the docs name)
    from pathlib import Path

    from flopcast.service import frontier_forecast, trend_analysis

    doc = " ".join((Path(__file__).resolve().parents[1] / "docs" / "trends.md").read_text().split())
    share = {y.year: y.variance for y in cottier.forecast.years}
    lead, reg, runs = "largest run", "regression", "measurement"
    assert (
        f"mostly the largest run's lead over the trend ({share[2024][lead]:.0%} of the variance in 2024, "
        f"{share[2030][lead]:.0%} in 2030); the regression's share grows from {share[2024][reg]:.0%} to "
        f"{share[2030][reg]:.0%}, the runs' own intervals give {share[2024][runs] * 100:.0f}-{share[2030][runs]:.0%}"
    ) in doc
    for y in (2024, 2030):  # the three sources are all of the variance
        assert sum(share[y].values()) == pytest.approx(1.0)
    prior = frontier_forecast(
        "cost", until=2032, thresholds=[1e9], fit_since=2016, fit_until=2023, year_dollars=2023, db=db,
        priors={"compute": (4, 5)},
    )  # fmt: skip
    subjective = next(y.variance["subjective"] for y in prior.forecast.years if y.year == 2030)
    assert f"`--prior compute=4..5` (Epoch's rate) gives {prior.forecast.crossings['1e9']['median']:.1f}" in doc
    assert f"A prior on compute growth takes {subjective:.0%} in 2030" in doc
    pp = cottier.date_moves["price-performance"]
    assert (
        f"with price-performance at x{pp['low']['growth_per_year']:.2f} or x{pp['high']['growth_per_year']:.2f}, "
        f"{pp['low']['median_year']:.1f} or {pp['high']['median_year']:.1f}"
    ) in doc
    since_2010 = frontier_forecast("compute", until=2032, fit_since=2010, db=db).forecast.growth
    since_2016 = frontier_forecast("compute", until=2032, db=db).forecast.growth
    c10, c16 = since_2010["compute"], since_2016["compute"]
    assert f"x{c10['growth_per_year']:.2f} a year ({c10['low']:.2f}-{c10['high']:.2f})" in doc
    assert f"Since 2016 it is x{c16['growth_per_year']:.2f} ({c16['low']:.2f}-{c16['high']:.2f})" in doc
    assert (
        f"grows x{since_2010['price-performance']['growth_per_year']:.2f} a year since 2010 "
        f"(x{since_2016['price-performance']['growth_per_year']:.2f} since 2016, "
        f"x{cottier.forecast.growth['price-performance']['growth_per_year']:.2f} on Cottier et al.'s 2016-2023)"
    ) in doc
    from flopcast.service import training_estimate

    gpt45 = training_estimate("gpt-4.5", db=db)
    assert gpt45.chips is not None and gpt45.peak_power_w is not None
    assert f"impute {gpt45.chips.median / 1e3:.0f}k chips and {gpt45.peak_power_w.median / 1e6:.0f} MW" in doc
    top10 = frontier_forecast(
        "cost", until=2032, thresholds=[1e9], fit_since=2016, fit_until=2023, largest=False, top=10, db=db
    ).forecast.crossings["1e9"]["median"]
    cross = trend_analysis("cost", top=10, since=2016, until=2023, cross=1e9, db=db).out["crossing"]["estimate"]
    assert f"passes $1B in {top10:.1f} on 2016-2023, the date `trend cost --cross 1e9` gives ({cross:.1f})" in doc
