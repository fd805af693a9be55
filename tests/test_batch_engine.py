"""The batch engine: exact quantiles by the fast paths, one model one number, and sample counts for a precision.

Every fast path (the bit-pattern partition, the sample orders of single-input outputs, a spread drawn in place)
must give numpy's numbers bit for bit, so a model's row of a batch never depends on what else is in the batch.
"""

import math

import numpy as np
import pytest

from flopcast.defaults import DEFAULT_PRECISION, DEFAULT_SAMPLES, DEFAULT_SAMPLING
from flopcast.errors import FlopcastError, InvalidInputError
from flopcast.pipeline import Draws, RunSpec, Settings, evaluate, resolve
from flopcast.pipeline.draws import _stack
from flopcast.training import depreciated_value_usd
from flopcast.uncertainty import LogNormal, Point
from flopcast.uncertainty.precision import MEASURED_AT_1_PERCENT, samples_for_precision
from flopcast.uncertainty.summary import row_quantiles
from flopcast.units import check_positive

Q = [0.05, 0.5, 0.95]


def _cases():
    rng = np.random.default_rng(19)
    for trial in range(120):
        m = int(rng.integers(1, 6))
        n = int(rng.choice([2, 3, 7, 100, 1001, 4096, 10_000]))
        u = rng.random((3, n))
        scale = rng.uniform(0.1, 10.0, (m, 1))
        kind = trial % 6
        if kind == 0:  # positive, spread: the bit-pattern partition
            x = np.exp(rng.normal(size=(m, n)) * rng.uniform(0.01, 3.0))
        elif kind == 1:  # signed: the float partition
            x = rng.normal(size=(m, n))
        elif kind == 2:  # one input's monotone function, one row rounded up (ties): the order path
            x = scale * np.exp(2.0 * u[1])[None, :]
            x[0] = np.ceil(x[0])
        elif kind == 3:  # decreasing in one input, one row of two inputs
            x = -scale * u[2][None, :] + scale * u[0][None, :] * (np.arange(m)[:, None] == m - 1)
        elif kind == 4:  # zeros and a NaN
            x = scale * u[0][None, :]
            x[:, ::3] = 0.0
            if n > 2:
                x[0, 1] = np.nan
        else:  # ties everywhere
            x = np.round(scale * u[1][None, :], 1)
        yield x, np.argsort(u, axis=1, kind="stable")


@pytest.mark.parametrize("scratch", [False, True])
def test_row_quantiles_are_numpys_bit_for_bit(scratch):
    for x, orders in _cases():
        want = np.quantile(x, Q, axis=1)
        for o in (None, orders):
            got = row_quantiles(x.copy(), Q, scratch=scratch, orders=o)
            assert np.array_equal(got, want, equal_nan=True), (x.shape, o is None)


def test_row_quantiles_refuses_a_vector():
    with pytest.raises(InvalidInputError, match="2-D"):
        row_quantiles(np.ones(5))


@pytest.fixture(scope="module")
def runs(db):
    settings = Settings.from_options(db)
    out = []
    for r in db.records:
        try:
            out.append(resolve(r, RunSpec(), settings, db))
        except FlopcastError:
            continue
    return settings, out[::8]  # about 125 runs: every path, fast


def test_batch_rows_are_the_single_estimates_bit_for_bit(runs):
    settings, rs = runs
    draws = Draws(1024, 0, "sobol")
    batch = evaluate(rs, draws, settings)  # >= ORDERS_FROM_RUNS runs: single-input outputs via the slot orders
    assert len(rs) >= 32
    for run, row in zip(rs[::6], batch[::6], strict=True):
        alone = evaluate([run], Draws(1024, 0, "sobol"), settings)[0]  # a call of one: partitions only
        assert alone.to_dict() == row.to_dict(), run.key


def test_batch_quantiles_are_those_of_its_samples(runs):
    """The reported p5/p50/p95 and mean are numpy's of the very samples a keep_samples caller gets."""
    settings, rs = runs
    draws = Draws(2048, 3, "random")
    for est in evaluate(rs, draws, settings, keep_samples=True):
        for key, s in est.outputs().items():
            if s.samples is None:
                continue
            if s.dist is not None:  # the closed form: the lognormal's own quantiles and mean, samples kept beside
                assert isinstance(s.dist, LogNormal), (est.key, key)
                exact = tuple(s.dist.ppf(np.array(Q)))
                if key == "energy_chip_j":  # chip-hours' closed form x 3,600 x TDP: to rounding
                    assert (s.p5, s.median, s.p95) == pytest.approx(exact, rel=1e-14), est.key
                else:
                    assert (s.p5, s.median, s.p95) == exact, (est.key, key)
                assert s.mean == pytest.approx(s.dist.mean, rel=1e-14), (est.key, key)
                continue
            want = tuple(np.quantile(s.samples, Q))
            if key == "energy_chip_j":  # chip-hours' quantiles x 3,600 x TDP (evaluate's _SCALED): to rounding
                assert (s.p5, s.median, s.p95) == pytest.approx(want, rel=1e-15), est.key
            else:
                assert (s.p5, s.median, s.p95) == want, (est.key, key)
            assert s.mean == pytest.approx(float(np.mean(s.samples)), rel=1e-13), (est.key, key)


def test_a_lognormal_passed_through_is_summarized_in_closed_form(runs):
    """A reported compute or chip-hours is a lognormal input passed through: its summary is exact, the same in a
    batch and alone, and its samples (kept for sensitivity and keep_samples) are still that lognormal's draws."""
    settings, rs = runs
    batch = evaluate(rs, Draws(4096, 0, "sobol"), settings, keep_samples=True)
    closed = 0
    for run, est in zip(rs, batch, strict=True):
        for key in ("training_compute_flop", "chip_hours"):
            rec = run.inputs.get(key)
            s = getattr(est, key)
            if rec is None or not isinstance(rec.value, LogNormal):
                continue
            closed += 1
            d = rec.value
            assert s.median == pytest.approx(math.exp(d.mu), rel=1e-15)
            assert s.p95 == pytest.approx(math.exp(d.mu + 1.6448536269514722 * d.sigma), rel=1e-14)
            assert s.mean == pytest.approx(math.exp(d.mu + d.sigma**2 / 2), rel=1e-14)
            assert s.percentile(95) == s.p95  # percentiles come from the same distribution
            assert s.samples is not None and np.quantile(s.samples, 0.95) == pytest.approx(s.p95, rel=0.05)
    assert closed > 50


def test_a_spread_of_its_own_draws_the_same_numbers_as_a_shared_one():
    """_stack draws a lognormal that no other run of the chunk shares in place (no cache): the same bits."""
    draws = Draws(4096, 1, "sobol")
    a, b, c = LogNormal(math.log(2.0), 0.3), LogNormal(math.log(5.0), 0.7), Point(3.0)
    mixed = _stack([a, b, c, b], draws, "price_usd_per_chip_hour")
    assert not draws.has_exp_z("price_usd_per_chip_hour", 0.3)  # a's spread was drawn in place
    alone = _stack([a], Draws(4096, 1, "sobol"), "price_usd_per_chip_hour")
    assert np.array_equal(mixed[0], alone[0])
    assert np.array_equal(mixed[1], mixed[3])
    assert np.array_equal(mixed[2], np.full(4096, 3.0))


def test_depreciation_by_exp_is_the_power_of_ten():
    # Cottier et al. 2024's rate, 0.14 orders of magnitude a year: after 2 years 10 ** -0.28 of the value is left
    assert float(depreciated_value_usd(10_000.0, 2.0, 0.14)) == pytest.approx(10_000.0 * 10**-0.28, rel=1e-15)
    rng = np.random.default_rng(0)
    rate, years, value = rng.normal(0.14, 0.02, (4, 500)), rng.normal(1.0, 1.0, (4, 500)), rng.uniform(1, 9, (4, 1))
    power = value * 10.0 ** (-rate * np.maximum(years, 0.0))
    assert np.allclose(depreciated_value_usd(value, years, rate), power, rtol=1e-14, atol=0)


def test_a_shared_row_is_checked_once_and_still_caught():
    bad = np.broadcast_to(np.array([1.0, 0.0, 2.0]), (1000, 3))
    with pytest.raises(InvalidInputError, match="chip_hours=0"):
        check_positive("chip_hours", bad)
    check_positive("chip_hours", np.broadcast_to(np.array([1.0, 2.0]), (1000, 2)))


# -- sample counts for a precision ------------------------------------------------------------------


def test_the_default_sample_count_is_the_default_precisions():
    assert samples_for_precision(DEFAULT_PRECISION, DEFAULT_SAMPLING) == DEFAULT_SAMPLES == 2**13
    assert samples_for_precision(0.01, "random") == 2**16  # benchmarks/RESULTS.md, section 1
    assert Draws(None, 0, "random").samples == 2**16
    assert Draws(None, 0, "sobol", precision=0.02).samples == 2**12
    assert Draws(1000, 0, "sobol", precision=0.001).samples == 1000  # an explicit count wins


@pytest.mark.parametrize("precision", [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.2, 0.5])
def test_sample_counts_follow_the_stated_rules(precision):
    r = 0.01 / precision
    random_n = samples_for_precision(precision, "random")
    sobol_n = samples_for_precision(precision, "sobol")
    # random: the error falls as n^(-1/2), n = N1 r^2 (at least 1,024)
    assert random_n == max(1024, math.ceil(MEASURED_AT_1_PERCENT["random"] * r * r))
    # Sobol: never fewer than the slower of the two rates allows, a power of two, and no more than twice that
    need = MEASURED_AT_1_PERCENT["sobol"] * max(r, r * r)
    assert sobol_n & (sobol_n - 1) == 0
    assert max(1024, need) <= sobol_n < 2 * max(1024, need)


@pytest.mark.parametrize("bad", [0, -0.01, 0.0005, 0.9, float("nan"), "1%", True])
def test_a_precision_out_of_range_is_refused(bad):
    with pytest.raises(InvalidInputError, match="precision="):
        samples_for_precision(bad)


def test_an_unknown_sampling_is_refused():
    with pytest.raises(InvalidInputError, match="sampling="):
        samples_for_precision(0.01, "latin")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2, r"^sampling_precision=2 is outside 0.001..0.5; it is the relative error"),
        ("x", r"^sampling_precision='x' is not a number; it is the relative error"),
        (True, r"^sampling_precision=True is not a number"),
    ],
)
def test_a_bad_sampling_precision_names_its_argument(value, message):
    """``estimate(..., sampling_precision=)`` names that argument, not ``precision`` (the chip's numeric precision)."""
    from flopcast.errors import InvalidInputError
    from flopcast.pipeline import estimate

    with pytest.raises(InvalidInputError, match=message):
        estimate("gpt-3", samples=None, sampling_precision=value)
