"""Development cost beyond the final run: experiments and R&D staff (docs/methods.md,
"Development cost beyond the final run").

Sources:
- Cottier et al. 2024, "The rising costs of training frontier AI models" (arXiv 2405.21015), section 4:
  experiments plus the final run are 1.2-4x the final run's compute (median 2.2); R&D staff are 29-49% of the
  total amortized development cost of GPT-4 and Gemini Ultra (hardware 47-67%, energy 2-6%).
- Epoch AI data insight "Most of OpenAI's 2024 compute went to experiments" (Josh You, 2025-10-10,
  https://epoch.ai/data-insights/openai-compute-spend): about $5B of R&D compute, about $480M of it for
  the final runs of released models (~10%); Epoch's Gradient Updates (Denain and Wu, 2026-03-23,
  https://epoch.ai/gradient-updates/r-and-d-vs-training-compute): final runs 10-30% at OpenAI, MiniMax, Z.ai.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from flopcast import training
from flopcast.catalogs import constants as K
from flopcast.errors import InvalidInputError
from flopcast.testing import run_cli as run

# ----------------------------------------------------------------------------- stage functions


def test_experiments_and_staff_scalar_array_broadcast():
    # scalar: a $40M final run at Cottier's median 2.2: experiments 40 x 1.2 = $48M, development compute $88M
    assert training.experiments_cost_usd(40e6, 2.2) == pytest.approx(48e6, rel=1e-12)
    assert training.development_compute_cost_usd(40e6, 2.2) == pytest.approx(88e6, rel=1e-12)
    # staff at s = 0.39: 88 x 0.39 / 0.61 = $56.262M; total 88 / 0.61 = $144.262M
    assert training.rd_staff_cost_usd(88e6, 0.39) == pytest.approx(88e6 * 0.39 / 0.61, rel=1e-12)
    assert training.total_development_cost_usd(88e6, 0.39) == pytest.approx(144.2623e6, rel=1e-6)
    # arrays and a broadcast: (2, 1) finals x (3,) multipliers
    final = np.array([[1e6], [2e6]])
    m = np.array([1.0, 2.0, 4.0])
    assert training.experiments_cost_usd(final, m) == pytest.approx(np.array([[0, 1e6, 3e6], [0, 2e6, 6e6]]))
    s = np.array([0.29, 0.39, 0.49])
    compute = training.development_compute_cost_usd(final, m)
    staff = training.rd_staff_cost_usd(compute, s)
    total = training.total_development_cost_usd(compute, s)
    # the staff share of the total is s exactly, by construction: staff = compute x s / (1 - s)
    np.testing.assert_allclose(staff / total, np.broadcast_to(s, staff.shape), rtol=1e-12)
    np.testing.assert_allclose(total, compute + staff, rtol=1e-12)


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1, 1.2, float("nan")])
def test_staff_share_outside_open_unit_interval(share):
    with pytest.raises(InvalidInputError, match=r"^staff_share=.* is outside \(0, 1\)"):
        training.rd_staff_cost_usd(1e6, share)


def test_multiplier_below_one():
    with pytest.raises(InvalidInputError, match=r"^experiments_multiplier=0.9 "):
        training.experiments_cost_usd(1e6, 0.9)


# ----------------------------------------------------------------------------- catalog


def test_constants_cite_their_sources():
    m = K.constant("experiments_multiplier")
    assert (m.value, m.low, m.high) == (2.2, 1.2, 4.0) and "2405.21015" in m.source
    s = K.constant("rd_staff_share")
    assert (s.low, s.high, s.kind) == (0.29, 0.49, "beta") and "2405.21015" in s.source
    d = s.distribution()  # a beta with Cottier's 29-49% as its 5th and 95th percentiles
    np.testing.assert_allclose(d.ppf(np.array([0.05, 0.95])), [0.29, 0.49], atol=1e-6)
    lab = K.constant("experiments_multiplier.lab_wide")
    # final runs 10-30% of R&D compute -> R&D / final = 1/0.3 .. 1/0.1 = 3.33-10x, median sqrt(3.33 x 10) = 5.77
    assert lab.low == pytest.approx(1 / 0.3, rel=1e-6) and lab.high == pytest.approx(1 / 0.1, rel=1e-9)
    assert lab.value == pytest.approx(math.sqrt(10 / 3 * 10), rel=1e-6)
    assert "openai-compute-spend" in lab.source and "r-and-d-vs-training-compute" in lab.source
    # OpenAI 2024 (Epoch): ~$480M of ~$5B went to final runs, 9.6%, so R&D / final = 10.4x, at the band's top
    assert lab.high == pytest.approx(5e9 / 480e6, rel=0.05)


# ----------------------------------------------------------------------------- the pipeline


@pytest.fixture(scope="module")
def gpt4():
    from flopcast.pipeline import estimate

    return estimate("gpt-4")


def test_gpt4_development_lines(gpt4):
    dev = gpt4.development
    assert dev is not None and dev.cost_method == "amortized" and dev.experiments == "per-model"
    # the final-run line is the estimate's own amortized cost, unchanged
    assert dev.final_run_usd is gpt4.cost_usd["amortized"]
    # GPT-4's central amortized cost: Cottier et al. 2024 give about $40M; flopcast's central value $40.16M
    final = gpt4.central["cost_usd.amortized"]
    assert final == pytest.approx(40e6, rel=0.05)
    # hand-computed central lines: experiments = final x (2.2 - 1); development compute = final x 2.2;
    # staff = final x 2.2 x 0.39 / 0.61; total = final x 2.2 / 0.61 (= 3.607 x final, $144.8M)
    c = dev.central
    assert c["experiments_usd"] == pytest.approx(final * 1.2, rel=1e-12)
    assert c["rd_staff_usd"] == pytest.approx(final * 2.2 * 0.39 / 0.61, rel=1e-12)
    assert c["total_usd"] == pytest.approx(final * 2.2 / 0.61, rel=1e-12)
    assert c["total_usd"] == pytest.approx(144.8e6, rel=0.01)
    # the drawn multiplier and staff share keep their catalog intervals (10,000 Sobol draws, 1%)
    m, s = dev.experiments_multiplier, dev.staff_share
    assert (m.p5, m.median, m.p95) == pytest.approx((1.2, math.sqrt(1.2 * 4.0), 4.0), rel=0.01)
    assert (s.p5, s.p95) == pytest.approx((0.29, 0.49), abs=0.002)
    # R&D staff's share of each sample's total is that sample's s: 29-49% (90%) by construction
    share = dev.rd_staff_usd.samples / dev.total_usd.samples
    assert np.percentile(share, [5, 95]) == pytest.approx([0.29, 0.49], abs=0.002)
    # total = final x m / (1 - s) sample by sample: one draw of every input per sample index
    np.testing.assert_allclose(
        dev.total_usd.samples,
        gpt4.cost_usd["amortized"].samples * np.maximum(m.samples, 1.0) / (1 - s.samples),
        rtol=1e-12,
    )
    # invariants: p5 <= median <= p95; total >= final + experiments
    for line in dev.lines().values():
        assert line.p5 <= line.median <= line.p95
    assert (dev.total_usd.samples >= dev.final_run_usd.samples + dev.experiments_usd.samples).all()


def test_development_leaves_every_final_run_number_unchanged(gpt4):
    from flopcast.pipeline import estimate

    bare = estimate("gpt-4", experiments=None)
    assert bare.development is None
    for m, s in bare.cost_usd.items():
        assert (s.median, s.p5, s.p95) == (gpt4.cost_usd[m].median, gpt4.cost_usd[m].p5, gpt4.cost_usd[m].p95)
    assert bare.training_compute_flop.median == gpt4.training_compute_flop.median


def test_lab_wide_basis_and_point(gpt4):
    from flopcast.pipeline import estimate

    lab = estimate("gpt-4", experiments="lab-wide").development
    # Epoch's lab-wide multiplier: 3.33-10x, median 5.77
    m = lab.experiments_multiplier
    assert (m.p5, m.median, m.p95) == pytest.approx((10 / 3, 5.7735, 10.0), rel=0.01)
    assert lab.final_run_usd.median == gpt4.cost_usd["amortized"].median
    final = gpt4.central["cost_usd.amortized"]
    assert lab.central["total_usd"] == pytest.approx(final * 5.773502692 / 0.61, rel=1e-9)
    pt = estimate("gpt-4", point=True).development
    assert pt.total_usd.median == pt.total_usd.p95 == pytest.approx(final * 2.2 / 0.61, rel=1e-9)


def test_staff_share_given_and_bad(gpt4):
    from flopcast.service import training_estimate

    e = training_estimate("gpt-4", staff_share=0.5, samples=200)
    d = e.development
    # s = 0.5: staff equals development compute (x 0.5 / 0.5)
    np.testing.assert_allclose(d.rd_staff_usd.samples, d.total_usd.samples / 2, rtol=1e-12)
    with pytest.raises(InvalidInputError, match=r"^staff_share=1 is outside \(0, 1\)"):
        training_estimate("gpt-4", staff_share=1.0, samples=200)
    with pytest.raises(InvalidInputError, match=r"^staff_share=0.5..0.3: low is greater than high"):
        training_estimate("gpt-4", staff_share=(0.5, 0.3), samples=200)
    with pytest.raises(InvalidInputError, match=r"^experiments='zzz' is not one of per-model, lab-wide"):
        training_estimate("gpt-4", experiments="zzz", samples=200)


# ----------------------------------------------------------------------------- the CLI


def test_estimate_cli_development(capsys):
    code, out, err = run(["estimate", "gpt-4", "--json", "--samples", "2000"], capsys)
    assert code == 0, err
    d = json.loads(out)
    dev = d["development"]
    assert set(dev) >= {"final_run_usd", "experiments_usd", "rd_staff_usd", "total_usd", "staff_share"}
    assert dev["final_run_usd"]["median"] == d["cost_usd"]["amortized"]["median"]
    assert dev["total_usd"]["central"] == pytest.approx(d["cost_usd"]["amortized"]["central"] * 2.2 / 0.61, rel=1e-9)
    code, out, err = run(["estimate", "gpt-4", "--samples", "2000"], capsys)
    assert code == 0, err
    assert "Development cost beyond the final run" in out and "R&D staff" in out
    for bad, field in (
        ("1", "staff_share=1"),
        ("0.5..0.3", "staff_share=0.5..0.3"),
        ("0", "staff_share=0"),
        ("-0.2", "staff_share=-0.2"),
        ("abc", "--staff-share='abc'"),
        ("nan", "--staff-share='nan'"),
        ("0.2..1.5", "staff_share=0.2..1.5: high 1.5"),
    ):
        code, out, err = run(["estimate", "gpt-4", "--staff-share", bad, "--samples", "200"], capsys)
        assert code == 2 and field in err and len(err.strip().splitlines()) == 1
    code, _, err = run(["estimate", "gpt-4", "--experiments", "zzz"], capsys)
    assert code == 2 and "experiments=" in err


def test_the_default_seeds_block_seed_is_seedsequences():
    """The development block's seed for the default seed is written out (no numpy.random at start-up); it is the
    one SeedSequence derives."""
    import numpy as np

    from flopcast.pipeline import development

    for seed, derived in development._BLOCK_SEEDS.items():
        assert derived == int(np.random.SeedSequence([seed, development._BLOCK_KEY]).generate_state(1)[0])
