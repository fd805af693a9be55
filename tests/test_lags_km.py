"""Catch-up lags as a statistician measures them: Kaplan-Meier medians with right-censoring, bootstrap
intervals that carry Epoch's compute confidence, fine-tunes and previews left out, lags by accessibility,
and counterfactual timing (Cottier's GPT-3 speedup)."""

import datetime as dt
import json
import math
import re

import numpy as np
import pytest

from flopcast.datasets.records import ModelRecord
from flopcast.errors import InvalidInputError
from flopcast.lags import (
    GPT3_FOLLOWERS,
    KINDS,
    catch_up_lags,
    gpt3_followers_rule,
    is_preview,
    kaplan_meier,
    km_median,
    km_medians,
    lag_intervals,
    reference_lag,
)
from flopcast.testing import run_cli as run

D = 30.4375  # days per month


@pytest.fixture(scope="module")
def records(db):
    return db.records


# -- Kaplan-Meier on hand-made examples ------------------------------------------------------------


def test_km_median_hand_computed():
    # lags 1, 2, 3 (censored), 4, 5: S(1) = 4/5 = 0.8, S(2) = 0.8 x 3/4 = 0.6, the censored 3 leaves 2 at risk,
    # S(4) = 0.6 x 1/2 = 0.3 <= 0.5: the KM median is 4 (the median of the uncensored 1, 2, 4, 5 would be 3)
    assert km_median([1, 2, 3, 4, 5], [True, True, False, True, True]) == pytest.approx(4.0, abs=1e-12)
    # ties: 2, 2, 3 (censored), 5: S(2) = 1 - 2/4 = 0.5 -> the median is 2
    assert km_median([2, 2, 3, 5], [True, True, False, True]) == pytest.approx(2.0, abs=1e-12)
    # 1, then two censored at 2 and 3: S never falls below 2/3, so there is no median
    assert km_median([1, 2, 3], [True, False, False]) is None
    assert km_median([4.0, 6.0], [False, False]) is None
    km = kaplan_meier([1, 2, 3, 4, 5], [True, True, False, True, True])
    # the caught-up fraction is 1 - S: 0.2, 0.4, (0.4 at the censored 3), 0.7, 1.0
    np.testing.assert_allclose(km.months, [1, 2, 3, 4, 5], atol=1e-12)
    np.testing.assert_allclose(km.caught_up_fraction, [0.2, 0.4, 0.4, 0.7, 1.0], atol=1e-12)
    assert km.n == 5 and km.caught_up == 4
    with pytest.raises(InvalidInputError, match="months"):
        km_median([1, -2], [True, True])


def test_vectorized_km_medians_match_scipy():
    rng = np.random.default_rng(7)
    t = np.round(rng.exponential(10, (200, 9)), 0)  # rounded: many ties
    e = rng.random((200, 9)) < 0.7
    fast = km_medians(t, e)
    for row in range(200):
        m = km_median(t[row], e[row])
        assert (m is None and math.isinf(fast[row])) or fast[row] == pytest.approx(m, abs=1e-12)


# -- the snapshot --------------------------------------------------------------------------------


def test_open_weights_km_median_on_the_snapshot(records):
    # the record-holders (top 1 at release) since 2018, Epoch's (2024) "How far behind are open models?" window.
    # Lags to the first open-weights model at >= their compute (months): Wu Dao 2.0 36.47, Jurassic-1 8.67,
    # MT-NLG 22.83, ERNIE 3.0 Titan 20.44, PaLM 17.08, GPT-3.5 9.26, GPT-4 16.33, GPT-4 Turbo 8.54; censored:
    # Grok-3 at 2.99 and Gemini 1.0 Ultra at 17.41. KM: after the censored 2.99, 9 at risk:
    # S = 8/9 (8.54), x7/8 (8.67), x6/7 (9.26), x5/6 (16.33) = 0.556, x4/5 (17.08) = 0.444 <= 0.5:
    # the median is PaLM -> Falcon-180B, 2022-04-04 -> 2023-09-06 = 520 days = 17.08 months.
    res = lag_intervals(records, top=1, since=2018, samples=1000, seed=0)
    o = res.overall
    assert o["frontier_models"] == 10 and o["open_weights_not_yet"] == 2
    assert o["open_weights_median_months"] == pytest.approx(520 / D, abs=1e-9)
    lo, hi = o["open_weights_p5_months"], o["open_weights_p95_months"]
    assert lo is not None and hi is not None and lo <= o["open_weights_median_months"] <= hi
    # seeded: the interval on the snapshot (docs/trends.md) - 5.36-24.48 months (resamples and compute draws)
    assert lo == pytest.approx(5.36, abs=0.05) and hi == pytest.approx(24.48, abs=0.05)
    # Epoch (2024): open models trail the best closed models by about 5-22 months: the KM median lies inside
    assert 5 <= o["open_weights_median_months"] <= 22
    assert res.curves["open_weights"].median_months == o["open_weights_median_months"]


def test_opt_175b_after_gpt3(records):
    # Cottier 2022: OPT-175B (2022-05-02) 23 months after GPT-3 (2020-05-28): 704 days / 30.4375 = 23.13
    lag = reference_lag(records, "GPT-3 175B (davinci)")
    assert lag.open_weights_model == "OPT-175B" and lag.open_weights_months == pytest.approx(704 / D, abs=1e-9)
    assert lag.open_weights_months == pytest.approx(23, abs=0.5)
    # GPT-3 was API-accessible itself (lag 0); the first other organization at its compute: Wu Dao 2.0 (2021-05-31)
    assert lag.api_model == "GPT-3 175B (davinci)" and lag.api_months == 0.0
    assert lag.other_org_model == "Wu Dao 2.0" and lag.other_org_months == pytest.approx(368 / D, abs=1e-9)


def test_no_finetune_or_preview_counts_as_a_catch_up(records):
    by = {r.name: r for r in records}
    lags = catch_up_lags(records, top=10)
    for x in lags:
        assert not by[x.model].is_finetune and not is_preview(by[x.model])
        for kind in KINDS:
            m = getattr(x, f"{kind}_model")
            assert m is None or not (by[m].is_finetune or is_preview(by[m])), (x.model, kind, m)
    gpt4o = next(x for x in lags if x.model == "GPT-4o")
    assert gpt4o.open_weights_model is None  # nobody open has caught GPT-4o (3.81e25) by 2025-06
    # the old behaviour, on request: Llama Nemotron Ultra 253B (base model Llama 3.1-405B; its 3.91e25 FLOP is the
    # base's 3.8e25 + 1.1e24 of fine-tuning) "catches" GPT-4o: 2024-05-13 -> 2025-03-18 = 309 days = 10.15 months
    with_ft = {x.model: x for x in catch_up_lags(records, top=10, include_finetunes=True)}["GPT-4o"]
    assert with_ft.open_weights_model == "Llama Nemotron Ultra 253B"
    assert with_ft.open_weights_months == pytest.approx(309 / D, abs=1e-9)
    assert by["Llama Nemotron Ultra 253B"].base_model == "Llama 3.1-405B"
    # previews: o1-preview, Llama 4 Behemoth (preview) ... by name; Behemoth is a frontier model only on request
    assert is_preview(by["o1-preview"]) and is_preview(by["Llama 4 Behemoth (preview)"])
    assert "Llama 4 Behemoth (preview)" not in {x.model for x in lags}
    assert "Llama 4 Behemoth (preview)" in {x.model for x in catch_up_lags(records, top=10, include_previews=True)}


def _rec(name, day, org, flop, confidence="confident", access=""):
    return ModelRecord(name, name, day, (org,), training_compute_flop=flop, confidence=confidence, accessibility=access)


def test_compute_confidence_lets_a_speculative_follower_count_or_not():
    d = dt.date
    recs = [
        _rec("Ref", d(2020, 1, 1), "A", 1e24),
        # 10% below the reference, but its compute is speculative (x1/31.6-31.6): in about
        # Phi(ln 0.9 / sqrt(2.099^2 + 0.668^2)) = Phi(-0.048) = 48% of the draws it is at or above the reference
        _rec("Spec", d(2021, 1, 1), "B", 9e23, "speculative"),
        _rec("Late", d(2023, 1, 1), "C", 1e20),
    ]
    exact = lag_intervals(recs, top=1, samples=400, seed=1, compute_uncertainty=False)
    o = exact.overall
    # at the central values Spec is below: not caught up, censored at 2020-01-01 -> 2023-01-01 (1096 days)
    assert o["other_org_caught_up"] == 0 and o["other_org_median_months"] is None
    assert o["other_org_p5_months"] is None and o["other_org_p95_months"] is None
    assert exact.lags[0].censored_months == pytest.approx(1096 / D)
    drawn = lag_intervals(recs, top=1, samples=400, seed=1).overall
    # with the draws it catches up in some resamples (366 days = 12.02 months) and not in others
    assert drawn["other_org_p5_months"] == pytest.approx(366 / D, abs=1e-9)
    assert drawn["other_org_p95_months"] is None


# -- the command -----------------------------------------------------------------------------------


def test_lag_json_has_intervals(capsys):
    code, out, err = run(["lag", "--since", "2016", "--bootstrap", "300", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    gpt3 = next(x for x in d["lags"] if x["model"] == "GPT-3 175B (davinci)")
    assert gpt3["open_weights_model"] == "OPT-175B" and gpt3["api_months"] == 0.0
    assert d["bootstrap"]["samples"] == 300 and d["bootstrap"]["compute_uncertainty"] is True
    rows = [*d["summary"], d["overall"]]
    assert d["overall"]["frontier_models"] == sum(r["frontier_models"] for r in d["summary"]) == len(d["lags"])
    for r in rows:
        for kind in KINDS:
            for f in ("median", "p5", "p95", "uncensored_median"):
                assert f"{kind}_{f}_months" in r
            assert r[f"{kind}_caught_up"] + r[f"{kind}_not_yet"] == r["frontier_models"]
            med, lo, hi = r[f"{kind}_median_months"], r[f"{kind}_p5_months"], r[f"{kind}_p95_months"]
            if med is not None and lo is not None and hi is not None:
                assert lo <= med <= hi, (r["period"], kind)
    assert set(d["kaplan_meier"]) == set(KINDS)
    code, out, _ = run(["lag", "--since", "2016", "--bootstrap", "100"], capsys)
    assert code == 0 and "Kaplan-Meier median [p5-p95]" in out and "all 2016-2025" in out
    # a median over its p5-p95 ("2.6" over "[1.3-4.0]", two lines of one cell that never split a number)
    assert re.search(r"│\s+\d+\.\d │", out) and re.search(r"\[\d+\.\d-\d+\.\d\]", out)


def test_counterfactual_fixed_speedup(records, capsys):
    # a fixed 6-month speedup: each follower's lag grows by exactly 6 months, and the cost of reproducing GPT-3 at
    # its (later) date falls by the price-performance rate over 0.5 years: 10^(-0.14 x 0.5) = 0.8511
    code, out, err = run(["lag", "--counterfactual", "gpt-3", "--speedup-months", "6", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert [f["follower"] for f in d["followers"]] == list(GPT3_FOLLOWERS)
    gopher = d["followers"][0]
    # Gopher: 2020-05-28 -> 2021-12-08 = 559 days = 18.37 months; 24.37 without the speedup
    assert gopher["lag_months"] == pytest.approx(559 / D, abs=1e-9)
    for f in d["followers"]:
        for q in ("p5", "p50", "p95"):
            assert f["counterfactual_lag_months"][q] == pytest.approx(f["lag_months"] + 6, abs=1e-9)
            assert f["cost_ratio"][q] == pytest.approx(10 ** (-0.14 * 0.5), rel=1e-9)
            assert f["counterfactual_year"][q] == pytest.approx(f["year"] + 0.5, abs=1e-12)
        assert f["counterfactual_cost_usd"]["p50"]["central"] < f["cost_usd"]["central"]
    # the reference's own catch-up: the first other organization (Wu Dao 2.0, BAAI) is not one of the followers
    assert d["reference_lag_counterfactual"]["other_org_model"] == d["reference_lag"]["other_org_model"] == "Wu Dao 2.0"


def test_counterfactual_default_is_cottiers_speedup(records):
    from flopcast.service import lag_counterfactual

    # the default followers follow a rule on the data (Google/DeepMind language models at >= GPT-3's compute,
    # published after it and up to OPT-175B)
    assert gpt3_followers_rule(records) == list(GPT3_FOLLOWERS)
    res = lag_counterfactual("gpt-3")
    s = res.speedup_months
    # Cottier: about 6 months, 90% CI 1-18, as ci(1, 18): median sqrt(18) = 4.243, mean 6.24
    assert s["p5"] == pytest.approx(1.0, rel=1e-9) and s["p95"] == pytest.approx(18.0, rel=1e-9)
    assert s["p50"] == pytest.approx(math.sqrt(18), rel=1e-9) and s["mean"] == pytest.approx(6.241, abs=0.001)
    f = res.followers[0]
    assert f.counterfactual_lag_months[1] == pytest.approx(f.lag_months + math.sqrt(18), abs=1e-9)


def test_counterfactual_bad_input(capsys):
    from flopcast.service import lag_counterfactual

    code, _, err = run(["lag", "--counterfactual", "gpt-3", "--speedup-months", "18..1"], capsys)
    assert code == 2 and "--speedup-months" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(["lag", "--counterfactual", "gpt-3", "--followers", "gopher,no-such-model"], capsys)
    assert code == 2 and "followers" in err and "no-such-model" in err and len(err.strip().splitlines()) == 1
    assert run(["lag", "--followers", "gopher"], capsys)[0] == 2  # needs --counterfactual
    with pytest.raises(InvalidInputError, match=r"^speedup_months=18\.\.1: low 18 is greater than high 1"):
        lag_counterfactual("gpt-3", speedup_months=(18, 1))
    with pytest.raises(InvalidInputError, match=r"^followers: unknown model 'nope'"):
        lag_counterfactual("gpt-3", followers=["nope"])
    with pytest.raises(InvalidInputError, match=r"^followers: none given"):
        lag_counterfactual("gpt-4")
    with pytest.raises(InvalidInputError, match="samples"):
        lag_intervals([_rec("A", dt.date(2020, 1, 1), "A", 1e24)], top=1, samples=-1)


def test_snapshot_figures_in_the_docs(records):
    # the numbers docs/trends.md ("Catch-up lags as survival times") shows; a change here must be explained there
    lags = {x.model: x for x in catch_up_lags(records, top=10)}
    # GPT-4o not caught by an open model: censored at 2024-05-13 -> 2025-05-19 (the table's last date) = 371 days
    assert lags["GPT-4o"].censored_months == pytest.approx(371 / D, abs=1e-9)
    res = lag_intervals(records, top=10, since=2016, samples=1000, seed=0)
    o = res.overall
    assert o["frontier_models"] == 93 and o["open_weights_not_yet"] == 8
    got = {k: [round(o[f"{k}_{f}_months"], 1) for f in ("median", "p5", "p95")] for k in KINDS}
    assert got == {"other_org": [1.5, 1.1, 2.0], "open_weights": [6.1, 1.5, 7.2], "api": [0.0, 0.0, 0.6]}
    rows = {r["period"]: r for r in res.summary}
    assert [round(rows["2016-2017"][f"open_weights_{f}_months"], 1) for f in ("median", "p5", "p95")] == [
        19.2,
        15.2,
        26.6,
    ]
    assert [round(rows["2020-2021"][f"open_weights_{f}_months"], 1) for f in ("median", "p5", "p95")] == [
        4.6,
        0.2,
        11.1,
    ]
    r24 = rows["2024-2025"]
    assert round(r24["open_weights_median_months"], 1) == 3.4 and r24["open_weights_p95_months"] is None
    assert r24["open_weights_not_yet"] == 7 and r24["frontier_models"] == 18
    exact = lag_intervals(records, top=1, since=2018, samples=1000, seed=0, compute_uncertainty=False).overall
    assert [round(exact[f"open_weights_{f}_months"], 1) for f in ("p5", "p95")] == [8.7, 22.8]


def test_counterfactual_figures_in_the_docs():
    from flopcast.service import lag_counterfactual

    # docs/trends.md: Gopher's 18.4-month lag becomes 22.6 (p5-p95 19.4-36.4) with Cottier's speedup; GPT-3's
    # amortized cost at Gopher's date, $1.21M, falls to $1.08M at the median speedup: x10^(-0.14 x 4.243 / 12)
    # = x0.8923 ($1.18M at the speedup's p5, 1 month: x0.9735; $747k at its p95, 18 months: x0.6166)
    d = lag_counterfactual("gpt-3").to_dict()
    g = d["followers"][0]
    assert g["follower"] == "Gopher (280B)"
    cl = g["counterfactual_lag_months"]
    assert [round(cl[q], 1) for q in ("p5", "p50", "p95")] == [19.4, 22.6, 36.4]
    assert g["cost_ratio"]["p50"] == pytest.approx(10 ** (-0.14 * math.sqrt(18) / 12), rel=1e-9)
    assert g["cost_ratio"]["p5"] == pytest.approx(10 ** (-0.14 / 12), rel=1e-9)
    assert g["cost_ratio"]["p95"] == pytest.approx(10 ** (-0.14 * 1.5), rel=1e-9)
    assert g["cost_usd"]["central"] == pytest.approx(1.21e6, rel=0.01)
    assert g["counterfactual_cost_usd"]["p50"]["central"] == pytest.approx(1.08e6, rel=0.01)


def test_compute_sigma_by_confidence():
    from flopcast.lags import compute_sigma

    # a 90% lognormal interval x1/f..f has sigma = ln(f) / 1.644854: Confident f=3 -> 0.6679, Likely f=10 -> 1.3999,
    # Speculative f=10^1.5 -> 2.0999; no label: Cottier et al.'s x1/3-3 -> 0.6679
    z = 1.6448536269514722
    for label, f in (("confident", 3), ("likely", 10), ("speculative", 10**1.5), ("", 3), ("unknown", 3)):
        r = _rec("X", dt.date(2020, 1, 1), "A", 1e24, label)
        assert compute_sigma(r) == pytest.approx(math.log(f) / z, rel=1e-6), label
