"""Emulation under both Chinchilla fits, with intervals, and emulation with algorithmic progress counted once.

Fits: Hoffmann et al. 2022 approach 3 (arXiv 2203.15556: E=1.69, A=406.4, B=410.7, alpha=0.34,
beta=0.28) and Besiroglu et al. 2024's refit of the same data (arXiv 2404.10102: E=1.8172 (0.03),
A=482.01 (124.58), B=2085.43 (1293.23), alpha=0.3478 (0.02), beta=0.3658 (0.02), bootstrap standard
errors). Intervals: the bootstrap draws of ``catalogs/data/chinchilla_bootstrap.csv``
(``tests/reference/chinchilla_bootstrap.py``), applied as deviations to each fit's parameters.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from flopcast.errors import InvalidInputError
from flopcast.reproduction import (
    DOUBLE_COUNTING_RULE,
    affordability_table,
    combined_saving_oom,
    cost_to_reproduce,
)
from flopcast.scaling import (
    FIT_NAMES,
    besiroglu_fit,
    emulate,
    emulate_parameters,
    emulate_with_interval,
    fit_by_name,
    fit_draws,
    hoffmann_fit,
)
from flopcast.service import EMULATION_FITS, diffusion_analysis, diffusion_reference, emulation
from flopcast.testing import run_cli

GPT3 = (175e9, 300e9)  # Brown et al. 2020: 175B parameters, 300B tokens


def run(args, capsys):
    return run_cli(args, capsys)


# -- the two fits ------------------------------------------------------------------------


def test_both_fits_are_cited_catalog_rows():
    h, b = hoffmann_fit(), besiroglu_fit()
    assert (h.E, h.A, h.B, h.alpha, h.beta) == (1.69, 406.4, 410.7, 0.34, 0.28)
    assert (b.E, b.A, b.B, b.alpha, b.beta) == (1.8172, 482.01, 2085.43, 0.3478, 0.3658)
    assert h.source == "https://arxiv.org/abs/2203.15556" and b.source == "https://arxiv.org/abs/2404.10102"
    assert FIT_NAMES == ("hoffmann", "besiroglu")
    assert (*FIT_NAMES, "both") == EMULATION_FITS  # the service's choices follow the registry
    assert fit_by_name("besiroglu") is besiroglu_fit()


def test_hoffmann_gpt3_stays_at_cottier_with_an_interval():
    # Cottier 2022 with the Hoffmann fit: "15 billion parameters", "roughly 3x" less compute
    # (the hand arithmetic is in tests/test_diffusion.py::test_gpt3_emulation_matches_cottier:
    # 14.9758e9 parameters, 1.177628e12 tokens, 1.058152e23 FLOP, ratio 2.976888)
    r = emulate_with_interval(*GPT3, fit="hoffmann")
    assert float(r.point.params_opt) == pytest.approx(15e9, rel=0.01)
    assert float(r.point.compute_ratio) == pytest.approx(3.0, rel=0.01)
    assert float(r.point.compute_ratio) == pytest.approx(2.976888, rel=1e-6)
    # the 90% interval over the 2,000 draws of the shipped file (regression values of that file)
    assert (r.params_opt.p5, r.params_opt.median, r.params_opt.p95) == pytest.approx(
        (1.04043e10, 1.53268e10, 2.42439e10), rel=1e-4
    )
    assert (r.compute_ratio.p5, r.compute_ratio.median, r.compute_ratio.p95) == pytest.approx(
        (2.14382, 2.93830, 3.89284), rel=1e-4
    )
    assert r.draws == 2000


def test_besiroglu_gpt3_against_hand_computation():
    # L = 1.8172 + 482.01 / 175e9^0.3478 + 2085.43 / 300e9^0.3658 = 1.8172 + 0.0592553 + 0.1320884 = 2.0085437
    # G = (0.3478 x 482.01 / (0.3658 x 2085.43))^(1 / 0.7136) = 0.11962985; a = 0.3658 / 0.7136 = 0.5126121
    # K = A G^-alpha + B G^beta = 1967.86178; gamma = 0.3478 x 0.3658 / 0.7136 = 0.17828649
    # C/6 = (K / (L - E))^(1 / gamma) = (1967.86178 / 0.1913437)^5.608951 = 3.19241078e22 -> C = 1.91544647e23 FLOP
    # N = G (C/6)^a = 41.0888e9, D = (C/6)^b / G = 776.954e9 (18.9 tokens per parameter), ratio 3.15e23 / C = 1.644525
    r = emulate_with_interval(*GPT3, fit="besiroglu")
    p = r.point
    assert float(p.loss) == pytest.approx(2.0085437, rel=1e-7)
    assert float(p.compute_opt_flop) == pytest.approx(1.91544647e23, rel=1e-7)
    assert float(p.params_opt) == pytest.approx(41.0888e9, rel=1e-5)
    assert float(p.tokens_opt) == pytest.approx(776.954e9, rel=1e-5)
    assert float(p.compute_ratio) == pytest.approx(1.644525, rel=1e-6)
    assert (r.params_opt.p5, r.params_opt.median, r.params_opt.p95) == pytest.approx(
        (2.84289e10, 4.19676e10, 6.50363e10), rel=1e-4
    )
    assert (r.compute_ratio.p5, r.compute_ratio.median, r.compute_ratio.p95) == pytest.approx(
        (1.29404, 1.62758, 2.05983), rel=1e-4
    )


@pytest.mark.parametrize("fit", FIT_NAMES)
def test_interval_is_wide_and_holds_the_point(fit):
    r = emulate_with_interval(*GPT3, fit=fit)
    for k in ("loss", "params_opt", "tokens_opt", "compute_opt_flop", "compute_ratio"):
        s, point = getattr(r, k), float(getattr(r.point, k))
        assert s.p5 < point < s.p95, k
        assert s.p5 <= s.median <= s.p95
    # non-degenerate: the 90% interval spans more than 20% in compute saved and in parameters
    assert r.compute_ratio.p95 / r.compute_ratio.p5 > 1.2
    assert r.params_opt.p95 / r.params_opt.p5 > 1.2
    assert np.all(r.compute_ratio.samples >= 1)  # an emulation never needs more compute
    assert json.loads(json.dumps(r.to_dict()))["compute_ratio"]["p95"] == pytest.approx(r.compute_ratio.p95)


def test_the_fits_disagree_beyond_their_intervals():
    # the refit's emulating model is larger and saves less: their 90% intervals do not overlap
    h, b = (emulate_with_interval(*GPT3, fit=f) for f in FIT_NAMES)
    assert h.params_opt.p95 < b.params_opt.p5
    assert b.compute_ratio.p95 < h.compute_ratio.p5


# -- the interval rule ---------------------------------------------------------------------


def test_draws_reproduce_the_published_standard_errors():
    # Besiroglu et al.: standard errors E 0.03, A 124.58, B 1293.23, alpha 0.02, beta 0.02 (two decimals)
    d = fit_draws("besiroglu")
    sd = {k: float(np.std(v, ddof=1)) for k, v in d.items()}
    assert sd["A"] == pytest.approx(124.58, rel=0.05)
    assert sd["B"] == pytest.approx(1293.23, rel=0.05)
    for k, published in (("E", 0.03), ("alpha", 0.02), ("beta", 0.02)):
        assert round(sd[k], 2) == published, k  # 0.0255, 0.0152, 0.0202 round to the published figures
    # the correlations that independent draws from the standard errors would lose
    assert np.corrcoef(np.log(d["A"]), d["alpha"])[0, 1] > 0.99
    assert np.corrcoef(np.log(d["B"]), d["beta"])[0, 1] > 0.99


def test_hoffmann_draws_have_the_refits_spread_around_its_own_point():
    h, b = fit_draws("hoffmann"), fit_draws("besiroglu")
    for k, hv, bv in (("A", 406.4, 482.01), ("B", 410.7, 2085.43), ("E", 1.69, 1.8172)):
        np.testing.assert_allclose(np.log(h[k] / hv), np.log(b[k] / bv), rtol=0, atol=1e-12, err_msg=k)
    for k, hv, bv in (("alpha", 0.34, 0.3478), ("beta", 0.28, 0.3658)):
        np.testing.assert_allclose(h[k] - hv, b[k] - bv, rtol=0, atol=1e-12, err_msg=k)
    assert np.median(h["alpha"]) == pytest.approx(0.34, abs=0.002)  # centred on its own parameters


def test_emulate_parameters_is_array_in_array_out():
    f = hoffmann_fit()
    kw = dict(E=f.E, A=f.A, B=f.B, alpha=f.alpha, beta=f.beta)
    one = emulate_parameters(*GPT3, **kw)
    assert isinstance(one["compute_ratio"], float)
    assert one["compute_ratio"] == pytest.approx(float(emulate(*GPT3).compute_ratio), rel=1e-12)
    arr = emulate_parameters(np.array([175e9, 70e9]), 300e9, **kw)
    assert arr["params_opt"].shape == (2,)
    assert arr["params_opt"][1] == pytest.approx(float(emulate(70e9, 300e9).params_opt), rel=1e-12)
    d = fit_draws("hoffmann")
    grid = emulate_parameters(np.array([175e9, 70e9])[:, None], 300e9, **{k: v[None, :] for k, v in d.items()})
    assert grid["compute_ratio"].shape == (2, d["A"].size)


# -- service, CLI and bad input ---------------------------------------------------------------


def test_service_returns_both_fits():
    a = emulation("gpt-3")
    assert list(a.fits) == ["hoffmann", "besiroglu"]
    assert (a.params, a.tokens) == GPT3
    d = a.to_dict()
    assert d["params_opt"] == pytest.approx(14.9758e9, rel=1e-5)  # the first fit's point at the top level
    assert d["fits"]["besiroglu"]["point"]["compute_ratio"] == pytest.approx(1.644525, rel=1e-6)
    assert list(emulation(params=175e9, tokens=300e9, fit="besiroglu").fits) == ["besiroglu"]
    assert "2.98x less compute (90% CI 2.14-3.89)" in a.summary()


def test_emulate_cli_both_side_by_side(capsys):
    code, out, _ = run(["emulate", "gpt-3", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["fit_names"] == ["hoffmann", "besiroglu"]
    assert d["fits"]["hoffmann"]["compute_ratio"]["p5"] == pytest.approx(2.14382, rel=1e-4)
    code, out, _ = run(["emulate", "gpt-3", "--fit", "besiroglu", "--json"], capsys)
    assert json.loads(out)["params_opt"] == pytest.approx(41.0888e9, rel=1e-5)
    code, out, _ = run(["emulate", "gpt-3"], capsys)
    assert code == 0 and "hoffmann: Hoffmann et al. 2022" in out and "besiroglu: Besiroglu et al. 2024" in out
    assert "2.98x" in out and "1.64x" in out


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: emulation("gpt-3", fit="chinchilla"), r"^fit='chinchilla' is not one of hoffmann, besiroglu, both"),
        (lambda: fit_by_name("kaplan"), r"^fit='kaplan' is not one of hoffmann, besiroglu"),
        (lambda: fit_draws("both"), r"^fit='both'"),
        (lambda: emulate_with_interval(np.array([1e9, 2e9]), 1e11), r"^params must be one number"),
        (lambda: emulate_with_interval(175e9, -1.0), r"^tokens=-1"),
        (lambda: emulate_parameters(175e9, 300e9, 1.69, 406.4, 410.7, -0.34, 0.28), r"^alpha=-0.34"),
        (lambda: cost_to_reproduce(1e6, 2020, 2026, emulation_ratio=0.5), r"^emulation_ratio=0.5 is below 1"),
        (lambda: combined_saving_oom(1.0, 0.45, -0.1), r"^emulation_saving_oom is negative"),
    ],
)
def test_bad_input_names_the_field(call, match):
    with pytest.raises(InvalidInputError, match=match):
        call()


@pytest.mark.parametrize(
    "args, field",
    [
        (["emulate", "gpt-3", "--fit", "kaplan"], "fit='kaplan'"),
        (["diffusion", "gpt-3", "--emulate", "both"], "emulate='both'"),
        (["diffusion", "--cost", "1e6", "--date", "2020-01-01", "--emulate", "hoffmann"], "--emulate needs"),
    ],
)
def test_bad_cli_input_is_one_line(args, field, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and field in err


# -- emulation and algorithmic progress, counted once ------------------------------------------


def test_combined_saving_is_the_larger_not_the_product():
    # rule: saved OOM = max(r_alg x years, log10 ratio); log10(3) = 0.4771
    assert combined_saving_oom(6.0, 0.45, math.log10(3)) == pytest.approx(2.7, rel=1e-12)
    assert combined_saving_oom(0.5, 0.45, math.log10(3)) == pytest.approx(0.4771213, rel=1e-6)
    np.testing.assert_allclose(combined_saving_oom(np.array([0.0, 1.0, 2.0]), 0.45, 0.5), [0.5, 0.5, 0.9])
    assert combined_saving_oom(3.0, 0.0, 0.5) == 0.5  # no algorithmic term: the emulation alone


def test_emulated_cost_counts_the_saving_once():
    kw = dict(price_performance_oom_per_year=0.14, algorithmic_oom_per_year=0.45, samples=1000)
    # 6 years: 4.6e6 x 10^(-0.14 x 6 - max(0.45 x 6, log10 3)) = 4.6e6 x 10^-3.54 = 1326.65 USD
    both = cost_to_reproduce(4.6e6, 2020, 2026, emulation_ratio=3.0, **kw)
    assert both.central_usd == pytest.approx(4.6e6 * 10**-3.54, rel=1e-9)
    algorithms_only = cost_to_reproduce(4.6e6, 2020, 2026, **kw)
    assert both.central_usd == pytest.approx(algorithms_only.central_usd, rel=1e-12)
    product = algorithms_only.central_usd / 3.0  # what multiplying the two savings would give: 442 USD
    assert both.central_usd > 2.9 * product
    # half a year: the emulation is the larger, 4.6e6 x 10^(-0.07 - 0.4771) = 1.31e6 USD
    early = cost_to_reproduce(4.6e6, 2020, 2020.5, emulation_ratio=3.0, **kw)
    assert early.central_usd == pytest.approx(4.6e6 * 10 ** (-0.07 - math.log10(3)), rel=1e-9)
    # without algorithms the two are different things and multiply: 4.6e6 / 3 x 10^-0.84 = 221k USD
    hw = cost_to_reproduce(4.6e6, 2020, 2026, emulation_ratio=3.0, price_performance_oom_per_year=0.14, samples=1000)
    assert hw.central_usd == pytest.approx(4.6e6 / 3 * 10**-0.84, rel=1e-9)
    assert both.cost_usd.median == pytest.approx(both.central_usd, rel=1e-9)  # point inputs: no spread


def test_emulated_affordability_every_branch():
    # cost 4.6e6 (2020), rates 0.14 + 0.45 OOM/year, ratio 3 (0.4771 OOM); years until the budget covers it:
    #   $2M: gap log10(2.3) = 0.3617 <= 0.4771 -> now (2020)
    #   $1.2M: gap 0.5836; (0.5836 - 0.4771) / 0.14 = 0.7607 years, with 0.45 x 0.7607 = 0.342 <= 0.4771 -> 2020.7607
    #   $100k: gap 1.6628; (1.6628 - 0.4771) / 0.14 = 8.47 years, but 0.45 x 8.47 > 0.4771, so 1.6628 / 0.59 = 2.8183
    budgets = {"a": 2e6, "b": 1.2e6, "c": 1e5}
    rows = affordability_table(
        4.6e6,
        2020,
        budgets,
        emulation_ratio=3.0,
        price_performance_oom_per_year=0.14,
        algorithmic_oom_per_year=0.45,
        samples=100,
    )
    got = {r["key"]: r["estimate"] for r in rows}
    assert got["a"] == 2020 and rows[0]["affordable_now"]
    assert got["b"] == pytest.approx(2020 + (math.log10(4.6 / 1.2) - math.log10(3)) / 0.14, rel=1e-12)
    assert got["c"] == pytest.approx(2020 + math.log10(46) / 0.59, rel=1e-12)
    # the point inputs give a degenerate interval equal to the estimate
    assert all(r["low"] == pytest.approx(r["estimate"]) == pytest.approx(r["high"]) for r in rows)


def test_gpt3_in_2026_with_algorithms_and_emulation():
    # `flopcast diffusion gpt-3 --year 2026 --algorithmic [--emulate hoffmann]`: over 6.09 years the algorithmic
    # saving, 10^(0.451545 x 6.0915) = 563x, already holds the emulation's 2.98x, so the central cost is the same
    # with and without --emulate (not a further /2.98)
    ref = diffusion_reference("gpt-3", samples=2000)
    plain = diffusion_analysis(ref, 2026, include_algorithmic=True, samples=2000)
    fe = emulation("gpt-3", fit="hoffmann").first
    both = diffusion_analysis(ref, 2026, include_algorithmic=True, samples=2000, emulation=fe)
    elapsed = plain.reproduction.elapsed_years
    assert elapsed == pytest.approx(6.0915, abs=1e-3)
    assert plain.reproduction.central_usd == pytest.approx(
        plain.reproduction.inputs[0].central * 10 ** (-(0.14 + 0.451545) * elapsed), rel=1e-9
    )
    assert both.reproduction.central_usd == pytest.approx(plain.reproduction.central_usd, rel=1e-9)
    assert both.emulation is fe and both.double_counting_rule == DOUBLE_COUNTING_RULE
    # without algorithms the emulation's saving applies: the central cost falls by the draws' median ratio
    hw = diffusion_analysis(ref, 2026, samples=2000, emulation=fe)
    hw_plain = diffusion_analysis(ref, 2026, samples=2000)
    assert hw.reproduction.central_usd == pytest.approx(
        hw_plain.reproduction.central_usd / fe.compute_ratio.median, rel=1e-9
    )
    assert all(r["p_affordable"] is not None for r in both.affordability)
