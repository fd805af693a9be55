"""Affordability as a probability (docs/trends.md, "Affordability as a probability").

P(affordable) = P(cost at the target date <= budget) = mean(cost samples <= budget); for a lognormal cost with
median c and log-sd sigma it is Phi((ln budget - ln c) / sigma), checked here against scipy.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from scipy import stats

from flopcast.errors import InvalidInputError
from flopcast.reproduction import affordability_probability, affordability_table, probability_affordable
from flopcast.testing import run_cli as run
from flopcast.uncertainty import LogNormal, Summary, ci

BUDGETS = np.array([1e5, 5e5, 1e6, 2e6, 4e6, 1e7, 1e8])


def test_lognormal_closed_form_against_scipy():
    # median $2M, sigma 0.8: P = Phi((ln b - ln 2e6) / 0.8) = scipy's lognorm(s=0.8, scale=2e6).cdf(b)
    d = LogNormal(math.log(2e6), 0.8)
    want = stats.lognorm(s=0.8, scale=2e6).cdf(BUDGETS)
    np.testing.assert_allclose(probability_affordable(d, BUDGETS), want, atol=1e-12)
    # a budget at the median: exactly one half
    assert probability_affordable(d, 2e6) == pytest.approx(0.5, abs=1e-12)
    # Monte Carlo samples of the same lognormal: the share under each budget, within 0.01 of scipy
    x = np.random.default_rng(1).lognormal(math.log(2e6), 0.8, 100_000)
    np.testing.assert_allclose(probability_affordable(x, BUDGETS), want, atol=0.01)
    np.testing.assert_allclose(probability_affordable(Summary.from_samples(x, "USD"), BUDGETS), want, atol=0.01)
    # a point cost: 0 below it, 1 at and above it
    assert list(probability_affordable(3e6, np.array([1e6, 3e6, 1e7]))) == [0.0, 1.0, 1.0]


def test_probability_at_a_later_date_closed_form():
    # cost ci(1e6, 4e6) on 2020-07-01, falling 0.14 OOM/year, priced on 2025-07-01 (5.0 years later):
    # ln cost_t ~ N(ln 2e6 - ln 10 x 0.14 x 5, sigma = ln 4 / (2 x 1.6449)); P = Phi((ln b - mu_t) / sigma)
    sigma = math.log(4.0) / (2 * stats.norm.ppf(0.95))
    elapsed = (dt.date(2025, 7, 1) - dt.date(2020, 7, 1)).days / 365.25  # decimal years: 5.0 to 0.003
    mu_t = math.log(2e6) - math.log(10) * 0.14 * elapsed
    want = stats.norm.cdf((np.log(BUDGETS) - mu_t) / sigma)
    got = affordability_probability(
        ci(1e6, 4e6), "2020-07-01", "2025-07-01", BUDGETS, price_performance_oom_per_year=0.14
    )
    assert got["method"] == "closed-form"
    np.testing.assert_allclose(got["p_affordable"], want, atol=0.01)
    # the same cost given as 200,000 samples goes through the Monte Carlo: the same probabilities within 0.01
    x = np.exp(np.random.default_rng(2).normal(math.log(2e6), sigma, 200_000))
    mc = affordability_probability(
        Summary.from_samples(x, "USD"), "2020-07-01", "2025-07-01", BUDGETS, price_performance_oom_per_year=0.14
    )
    assert mc["method"] == "monte-carlo"
    np.testing.assert_allclose(mc["p_affordable"], want, atol=0.01)
    # more budget never means less probability
    assert (np.diff(got["p_affordable"]) >= 0).all()


def test_bad_input():
    with pytest.raises(InvalidInputError, match=r"^budget_usd=0 "):
        probability_affordable(LogNormal(0.0, 1.0), 0.0)
    with pytest.raises(InvalidInputError, match=r"^budget_usd=-1 "):
        affordability_probability(1e6, 2020, 2021, -1.0)
    with pytest.raises(InvalidInputError, match=r"^target_date=2019.00 is before the reference date 2020.00"):
        affordability_probability(1e6, 2020, 2019, 1e6)


def test_table_has_a_probability_column():
    rows = affordability_table(ci(1e6, 4e6), 2020.5, {"a": 1e5, "b": 2e6, "c": 1e8}, year=2020.5)
    p = [r["p_affordable"] for r in rows]
    # at the reference date: the cost's own CDF: 1e5 far below the 5th percentile, 2e6 the median, 1e8 far above
    assert p[0] == pytest.approx(0.0, abs=1e-6) and p[1] == pytest.approx(0.5, abs=1e-9) and p[2] == 1.0
    assert all(r["p_year"] == 2020.5 for r in rows)
    # a year before the reference date has no probability
    assert all(r["p_affordable"] is None for r in affordability_table(1e6, 2020.5, {"a": 1e6}, year=2019.0))
    # without a year, the rows are as before
    assert "p_affordable" not in affordability_table(1e6, 2020.5, {"a": 1e6})[0]


def test_service_probability_and_actor_overrides():
    from flopcast.service import actors_with, diffusion_analysis, diffusion_reference
    from flopcast.service import affordability_probability as service_prob

    ref = diffusion_reference(cost_usd=(1e6, 4e6), date=dt.date(2020, 7, 1))
    p = service_prob(ref, 2025, 2e6, price_performance_oom_per_year=0.14)
    # mid-2025 is 5.0 years after 2020-07-01 (to 0.003): P(cost_t <= 2e6) = Phi(ln 10 x 0.14 x 5 / sigma)
    sigma = math.log(4.0) / (2 * stats.norm.ppf(0.95))
    assert p.p_affordable == pytest.approx(stats.norm.cdf(math.log(10) * 0.14 * 5 / sigma), abs=0.01)
    with pytest.raises(InvalidInputError, match=r"^year=2019 \(mid-year, 2019-07-01\) is before the reference date"):
        service_prob(ref, 2019, 2e6)
    with pytest.raises(InvalidInputError, match=r"^budget="):
        service_prob(ref, 2025, 0.0)
    people = actors_with(None, {"startup": 2e7, "my lab": 5e6})
    by_key = {a.key: a for a in people}
    assert by_key["startup"].budget_usd == 2e7 and by_key["startup"].source == "user (--actor)"
    assert by_key["my lab"].budget_usd == 5e6 and by_key["academic-lab"].budget_usd == 1e5
    with pytest.raises(InvalidInputError, match="budget of actor 'startup'"):
        actors_with(None, {"startup": -1.0})
    d = diffusion_analysis(ref, 2025, budgets=people, price_performance_oom_per_year=0.14)
    assert [r["key"] for r in d.affordability][-1] == "my lab"
    assert all(0 <= r["p_affordable"] <= 1 for r in d.affordability)


def test_frontier_reference_bases():
    from flopcast.service import cost_table, frontier_reference, trend_analysis

    # top-model: the frontier model of 2024 (top 10 by compute at release) with the most training compute
    ref = frontier_reference(2024, samples=2000)
    table = cost_table(since=2024, until=2024, top=10, method="amortized", samples=2000)
    leader = max(
        (e for e in table.result.estimates if "amortized" in e.cost_usd), key=lambda e: e.training_compute_flop.median
    )
    assert leader.name in ref.label and ref.date == leader.publication_date
    assert ref.cost.median == pytest.approx(leader.cost_usd["amortized"].median, rel=1e-12)
    # trend: the lognormal of the fitted trend's 90% prediction interval at mid-2028
    tr = frontier_reference(2028, basis="trend", samples=2000)
    fit = trend_analysis("cost", top=10, bootstrap=0, samples=2000).fit.predict(2028.5)
    assert tr.date == dt.date(2028, 7, 1)
    assert tr.cost.median == pytest.approx(fit["median"], rel=1e-9)
    assert tr.cost.ppf(np.array([0.05, 0.95])) == pytest.approx([fit["pred_low"], fit["pred_high"]], rel=1e-9)
    with pytest.raises(InvalidInputError, match=r"^frontier_of=2028: no model of 2028"):
        frontier_reference(2028, samples=200)
    with pytest.raises(InvalidInputError, match=r"^frontier_basis='zzz'"):
        frontier_reference(2024, basis="zzz")


def test_diffusion_cli_probability(capsys):
    code, out, err = run(["diffusion", "gpt-4", "--budget", "1e7", "--year", "2027", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    row = d["affordability"][0]
    assert d["p_affordable"] == row["p_affordable"] and 0 < d["p_affordable"] < 1
    # a budget at the median cost of mid-2027 is affordable half of the time (10,000 samples: within 0.01)
    median = d["reproduction"]["cost_usd"]["median"]
    code, out, err = run(["diffusion", "gpt-4", "--budget", f"{median!r}", "--year", "2027", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["p_affordable"] == pytest.approx(0.5, abs=0.01)
    code, out, err = run(["diffusion", "gpt-4", "--year", "2027", "--actor", "startup=2e7"], capsys)
    assert code == 0, err
    assert "P(affordable), mid-2027" in out and "$20M" in out
    code, out, err = run(["diffusion", "--frontier-of", "2024", "--year", "2027", "--json"], capsys)
    assert code == 0, err
    assert "the frontier run of 2024" in json.loads(out)["reference"]
    for argv, field in (
        (["diffusion", "gpt-4", "--budget", "1e6", "--year", "2022"], "year=2022"),
        (["diffusion", "gpt-4", "--budget", "0"], "--budget=0"),
        (["diffusion", "gpt-4", "--actor", "startup=-5"], "budget of actor 'startup'"),
        (["diffusion", "gpt-4", "--actor", "startup"], "--actor='startup'"),
        (["diffusion", "--frontier-of", "2028"], "frontier_of=2028"),
        (["diffusion", "--frontier-of", "99999"], "frontier_of=99999"),
        (["diffusion", "--frontier-of", "2024", "--frontier-basis", "zzz"], "frontier_basis='zzz'"),
        (["diffusion", "gpt-4", "--frontier-of", "2024"], "give one of MODEL"),
    ):
        code, _, err = run(argv, capsys)
        assert code == 2 and field in err and len(err.strip().splitlines()) == 1, (argv, err)
