"""The report's tornado chart and trend peers: the swing arithmetic and the peer choice, pinned by hand."""

import numpy as np
import pytest

from flopcast.errors import InvalidInputError
from flopcast.reporting.plots import nearest_labelled
from flopcast.uncertainty.sensitivity import SensitivityRow, sensitivity
from flopcast.uncertainty.tornado import swings


def test_swing_by_hand():
    # median 100, 90% interval 25-400: p95/p5 = 16. An input with a quarter of the spread (sqrt 0.5) moves
    # the output by 16 ** (0.5 / 2) = 2 either way: 50 at its 5th percentile, 200 at its 95th.
    rows = [SensitivityRow("a", 0.5, 0.25), SensitivityRow("b", -0.5, 0.25), SensitivityRow("c", 1.0, 1.0)]
    out = {r.input: r for r in swings(rows, 100.0, 25.0, 400.0)}
    assert (out["a"].at_input_p5, out["a"].at_input_p95) == pytest.approx((50.0, 200.0), rel=1e-12)
    # a negative rank correlation: the input's low end gives the high cost
    assert (out["b"].at_input_p5, out["b"].at_input_p95) == pytest.approx((200.0, 50.0), rel=1e-12)
    assert out["b"].swing == pytest.approx(150.0, rel=1e-12)
    # the only uncertain input spans the output's whole 90% interval, 25 to 400
    assert (out["c"].low, out["c"].high) == pytest.approx((25.0, 400.0), rel=1e-12)
    assert [r.input for r in swings(rows, 100.0, 25.0, 400.0)] == ["c", "a", "b"]  # largest swing first
    assert [r.input for r in swings(rows, 100.0, 25.0, 400.0, min_share=0.5)] == ["c"]


def test_swing_matches_one_at_a_time_for_a_product_of_lognormals():
    # cost = a x b, ln a ~ N(0, 0.6), ln b ~ N(0, 0.3). Exactly: a at its 5th percentile with b at its median
    # gives exp(-1.645 x 0.6) = 0.3727, at its 95th exp(1.645 x 0.6) = 2.683; for b: 0.6105 and 1.638.
    rng = np.random.default_rng(1)
    a = np.exp(0.6 * rng.standard_normal(40_000))
    b = np.exp(0.3 * rng.standard_normal(40_000))
    cost = a * b
    p5, median, p95 = np.quantile(cost, [0.05, 0.5, 0.95])
    out = {r.input: r for r in swings(sensitivity({"a": a, "b": b}, cost), median, p5, p95)}
    z = 1.6448536269514722
    # tolerance: rank (Spearman) shares against variance shares, and 40,000 random draws
    assert out["a"].at_input_p5 == pytest.approx(np.exp(-z * 0.6), rel=0.03)
    assert out["a"].at_input_p95 == pytest.approx(np.exp(z * 0.6), rel=0.03)
    assert out["b"].at_input_p5 == pytest.approx(np.exp(-z * 0.3), rel=0.03)
    assert out["b"].at_input_p95 == pytest.approx(np.exp(z * 0.3), rel=0.03)


@pytest.mark.parametrize(("median", "p5", "p95"), [(0.0, 1.0, 2.0), (1.0, 2.0, 3.0), (np.nan, 1.0, 2.0)])
def test_swing_rejects_bad_summaries(median, p5, p95):
    with pytest.raises(InvalidInputError, match="must"):
        swings([SensitivityRow("a", 1.0, 1.0)], median, p5, p95)


def test_nearest_labelled_peers():
    # target (2020, 1e6): distances (years, orders of magnitude) 0.5, 2, 3 and the unlabelled point 0
    years, vals = [2019.5, 2020.0, 2023.0, 2020.0], [1e6, 1e4, 1e6, 1e6]
    labels = ["A", "B", "C", ""]
    assert nearest_labelled(years, vals, labels, 2020.0, 1e6, 2) == [0, 1]
    assert nearest_labelled(years, vals, labels, 2020.0, 1e6, 2, exclude=["A"]) == [1, 2]
    assert nearest_labelled(years, vals, labels, 2020.0, 1e6, 0) == []
