"""The uncertainty engine: interval maths, sampling, summaries, closed forms, sensitivity."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flopcast.errors import InvalidInputError
from flopcast.uncertainty import (
    Beta,
    LogNormal,
    Normal,
    Point,
    Summary,
    ci,
    draw,
    lognormal_product,
    loguniform,
    normal,
    pert,
    samples,
    sensitivity,
    summarize,
    triangular,
    uniform,
)
from flopcast.uncertainty.distributions import Samples


def test_ci_1_100_has_median_10():
    # the geometric mean of the bounds: sqrt(1 * 100) = 10, exact up to float rounding
    d = ci(1, 100)
    assert isinstance(d, LogNormal)
    assert d.median == pytest.approx(10.0, rel=1e-12)


def test_ci_parameters_are_exact():
    # 90% CI: sigma = ln(high/low) / (2 * 1.6448536...) ; mu = ln(sqrt(low*high))
    d = ci(2, 50)
    assert d.sigma == pytest.approx(math.log(25) / (2 * 1.6448536269514722), rel=1e-12)
    assert d.mu == pytest.approx(math.log(10), rel=1e-12)
    lo, hi = d.interval(0.9)
    assert (lo, hi) == (pytest.approx(2, rel=1e-9), pytest.approx(50, rel=1e-9))


def test_ci_other_credibility_and_normal_when_low_not_positive():
    d = ci(-1, 3, credibility=0.8)
    assert isinstance(d, Normal)
    assert d.mean == 1 and d.sd == pytest.approx(2 / 1.2815515655446004, rel=1e-12)
    assert d.interval(0.8) == (pytest.approx(-1), pytest.approx(3))


def test_beta_ci_for_fractions_matches_quantiles():
    d = ci(0.10, 0.65, kind="beta")
    assert isinstance(d, Beta)
    lo, hi = d.interval(0.9)
    assert lo == pytest.approx(0.10, abs=1e-6) and hi == pytest.approx(0.65, abs=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ci(5, 1), "greater than high"),
        (lambda: ci(float("nan"), 1), "not finite"),
        (lambda: ci(1, float("inf")), "not finite"),
        (lambda: ci(1, 2, credibility=1.5), "credibility"),
        (lambda: ci(0, 1, kind="lognormal"), "low > 0"),
        (lambda: ci(1, 2, kind="weibull"), "kind"),
        (lambda: Normal(0, -1), "sd"),
        (lambda: loguniform(0, 1), "0 < low"),
        (lambda: pert(3, 1, 2), "PERT"),
        (lambda: samples([]), "empty"),
    ],
)
def test_bad_distribution_arguments_raise_clear_errors(call, message):
    with pytest.raises(InvalidInputError, match=message):
        call()


def test_point_interval_collapses():
    assert isinstance(ci(3, 3), Point)


@pytest.mark.parametrize(
    "dist, lo, hi",
    [
        (uniform(2, 4), 2.1, 3.9),
        (loguniform(1, 100), 1.2589, 79.43),
        (triangular(0, 1, 2), math.sqrt(0.1), 2 - math.sqrt(0.1)),
        (normal(0, 1), -1.6448536, 1.6448536),
    ],
)
def test_named_distributions_quantiles(dist, lo, hi):
    # uniform: 2 + 2*0.05; log-uniform: 10**(2*0.05); triangular(0,1,2): sqrt(2*0.05*1)
    assert dist.interval(0.9) == (pytest.approx(lo, rel=1e-3), pytest.approx(hi, rel=1e-3))


def test_pert_mode_and_range():
    d = pert(0, 1, 4)
    x = d.ppf(np.linspace(0.001, 0.999, 999))
    assert x.min() >= 0 and x.max() <= 4
    # PERT mean = (low + 4 mode + high) / 6 = 8/6
    u = np.random.default_rng(0).random(200_000)
    assert d.ppf(u).mean() == pytest.approx(8 / 6, rel=0.01)


def test_same_seed_gives_bit_identical_draws_and_different_seed_differs():
    inputs = {"a": ci(1, 10), "b": ci(0.1, 0.6, kind="beta"), "c": 5.0}
    x1, x2 = draw(inputs, 1000, 42), draw(inputs, 1000, 42)
    assert np.array_equal(x1["a"], x2["a"]) and np.array_equal(x1["b"], x2["b"])
    assert not np.array_equal(x1["a"], draw(inputs, 1000, 43)["a"])
    assert x1["c"] == 5.0


def test_each_input_is_drawn_once_per_sample_index():
    # an input used twice in a chain is the same draw: a / a is exactly 1, a - a exactly 0
    x = draw({"a": ci(1, 10), "b": ci(1, 10)}, 5000, 0)
    assert np.all(x["a"] / x["a"] == 1)
    assert not np.allclose(x["a"], x["b"])  # distinct inputs are independent draws
    assert abs(np.corrcoef(np.log(x["a"]), np.log(x["b"]))[0, 1]) < 0.05


def test_injected_generator_is_used():
    rng = np.random.default_rng(7)
    a = draw({"a": ci(1, 10)}, 100, rng)["a"]
    b = draw({"a": ci(1, 10)}, 100, np.random.default_rng(7))["a"]
    assert np.array_equal(a, b)


def test_sobol_sampling_is_more_precise_than_random():
    # median of ci(1, 100) is 10; with 1024 Sobol points the error is far below random's
    d = {"a": ci(1, 100)}
    sob = [abs(np.median(draw(d, 1024, s, "sobol")["a"]) / 10 - 1) for s in range(20)]
    rnd = [abs(np.median(draw(d, 1024, s, "random")["a"]) / 10 - 1) for s in range(20)]
    assert np.mean(sob) < np.mean(rnd) / 3


def test_samples_input_used_as_given_when_lengths_match():
    arr = np.arange(1.0, 101.0)
    out = draw({"x": arr}, 100, 0)["x"]
    assert np.array_equal(out, arr)
    resampled = draw({"x": Samples(arr)}, 1000, 0)["x"]
    assert resampled.min() >= 1 and resampled.max() <= 100


@pytest.mark.parametrize("n", [1, 0, -5, 2.5, 20_000_000])
def test_bad_sample_counts(n):
    with pytest.raises(InvalidInputError, match="samples"):
        draw({"a": ci(1, 2)}, n, 0)


def test_closed_form_product_equals_sampling():
    # cost = chip_hours * price: both lognormal, so the product is exactly lognormal:
    # mu = mu1 + mu2, sigma = sqrt(s1^2 + s2^2). Sampled quantiles agree within 1%.
    a, b = ci(1.7e6, 7.4e6), ci(0.8, 1.6)
    exact = lognormal_product([(a, 1), (b, 1)])
    assert exact.mu == pytest.approx(a.mu + b.mu)
    assert exact.sigma == pytest.approx(math.hypot(a.sigma, b.sigma))
    x = draw({"a": a, "b": b}, 2**18, 0, "sobol")
    s = summarize(x["a"] * x["b"])
    e = Summary.from_distribution(exact)
    for q in ("p5", "median", "p95"):
        assert getattr(s, q) == pytest.approx(getattr(e, q), rel=0.01)
    assert s.mean == pytest.approx(exact.mean, rel=0.01)


def test_closed_form_refuses_non_lognormal_terms():
    assert lognormal_product([(ci(1, 2), 1), (normal(0, 1), 1)]) is None
    assert isinstance(lognormal_product([(Point(2), 1), (Point(3), -1)]), Point)


def test_summary_statistics_and_format():
    x = np.arange(1, 1001, dtype=float)
    s = summarize(x, "FLOP")
    assert s.median == pytest.approx(500.5)
    assert s.p5 == pytest.approx(np.percentile(x, 5)) and s.p95 == pytest.approx(np.percentile(x, 95))
    assert s.percentile(25) == pytest.approx(250.75)
    assert s.interval(0.5) == (pytest.approx(250.75), pytest.approx(750.25))
    s2 = Summary(3.1e23, 3.2e23, 2.5e23, 3.9e23, "FLOP")
    assert str(s2) == "3.1e23 FLOP (90% CI 2.5e23-3.9e23)"
    assert str(Summary(4.3e6, 4.3e6, 4.3e6, 4.3e6, "USD")) == "$4.3M"
    with pytest.raises(InvalidInputError):
        s.percentile(101)


def test_sensitivity_shares_match_log_variance_shares():
    # log(output) = log a + log b with sigma_a = 2 sigma_b: variance shares 0.8 and 0.2
    a, b = LogNormal(0, 1.0), LogNormal(0, 0.5)
    x = draw({"a": a, "b": b, "k": 3.0}, 20_000, 1)
    rows = sensitivity(x, x["a"] * x["b"] * x["k"])
    shares = {r.input: r.share for r in rows}
    assert rows[0].input == "a"
    assert shares["a"] == pytest.approx(0.8, abs=0.03) and shares["b"] == pytest.approx(0.2, abs=0.03)
    assert "k" not in shares


@settings(max_examples=40, deadline=None)
@given(
    lo=st.floats(1e-3, 1e3),
    ratio=st.floats(1.01, 1e3),
    seed=st.integers(0, 2**32 - 1),
)
def test_summaries_are_ordered(lo, ratio, seed):
    x = draw({"a": ci(lo, lo * ratio)}, 256, seed)["a"]
    s = summarize(x)
    assert s.p5 <= s.median <= s.p95
    assert (x > 0).all()


def test_sobol_points_are_cached_exactly(tmp_path, monkeypatch):
    """The disk cache of scrambled Sobol points gives exactly what scipy makes, and survives a bad file."""
    from scipy.stats import qmc

    from flopcast.uncertainty import sampling

    monkeypatch.setenv("FLOPCAST_SOBOL_CACHE", str(tmp_path))
    expected = qmc.Sobol(d=5, scramble=True, seed=np.random.default_rng(7)).random_base2(6)
    first = sampling.sobol_points(5, 6, 7)
    (path,) = tmp_path.glob("sobol-d5-m6-seed7-*.npy")
    second = sampling.sobol_points(5, 6, 7)  # read back
    assert np.array_equal(first, expected) and np.array_equal(second, expected)
    # a seed gives the same uniforms through the cache as through a fresh generator
    assert np.array_equal(
        sampling.uniforms(5, 50, 7, "sobol"), sampling.uniforms(5, 50, np.random.default_rng(7), "sobol")
    )
    path.write_bytes(b"not an array")  # a damaged file is made again
    assert np.array_equal(sampling.sobol_points(5, 6, 7), expected)
    assert np.array_equal(np.load(path), expected)
    monkeypatch.setenv("FLOPCAST_SOBOL_CACHE", str(tmp_path / "file"))
    (tmp_path / "file").write_text("a file where the folder would be")  # a folder that cannot be made
    assert np.array_equal(sampling.sobol_points(5, 6, 7), expected)
    monkeypatch.setenv("FLOPCAST_SOBOL_CACHE", "off")
    assert np.array_equal(sampling.sobol_points(5, 6, 7), expected)


def test_the_sobol_cache_is_bounded(tmp_path, monkeypatch):
    """Each write removes the least recently used Sobol files beyond the bound; a file just read is kept."""
    from flopcast.uncertainty import sampling

    monkeypatch.setenv(sampling.SOBOL_CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(sampling, "SOBOL_CACHE_MAX_BYTES", 3 * (2**8 * 2 * 8 + 128))  # about three files
    first = sampling.sobol_points(2, 8, 1)
    for seed in range(2, 6):
        sampling.sobol_points(2, 8, seed)
        np.testing.assert_array_equal(sampling.sobol_points(2, 8, 1), first)  # read: used last, so kept
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3 and any("seed1-" in n for n in names) and any("seed5-" in n for n in names), names
