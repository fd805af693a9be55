"""Property-based invariants (hypothesis): monotone costs, ordered intervals, reproducible seeds, round trips."""

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flopcast.cli.parse import parse_number
from flopcast.dates import date_from_decimal_year, decimal_year
from flopcast.pipeline import estimate
from flopcast.training import amortized_hardware_cost_usd, cloud_cost_usd, energy_cost_usd
from flopcast.uncertainty import Summary, ci

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
pos = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
scale = st.floats(min_value=1.0001, max_value=100.0)


def _central(**kw):
    e = estimate(hardware="a100", chips=1024, utilization=0.4, point=True, samples=2, **kw)
    return e.central


@SETTINGS
@given(compute=st.floats(min_value=1e18, max_value=1e27), k=scale, price=st.floats(min_value=0.1, max_value=50))
def test_cost_is_monotone_in_compute(compute, k, price):
    a = _central(training_compute_flop=compute, price_usd_per_chip_hour=price)
    b = _central(training_compute_flop=compute * k, price_usd_per_chip_hour=price)
    for m in ("cost_usd.cloud", "cost_usd.amortized"):
        assert b[m] > a[m]
    assert b["chip_hours"] > a["chip_hours"]


@SETTINGS
@given(price=st.floats(min_value=0.01, max_value=100), k=scale)
def test_cloud_cost_is_monotone_in_price(price, k):
    a = _central(training_compute_flop=1e23, price_usd_per_chip_hour=price)
    b = _central(training_compute_flop=1e23, price_usd_per_chip_hour=price * k)
    assert b["cost_usd.cloud"] > a["cost_usd.cloud"]
    assert b["cost_usd.cloud"] / a["cost_usd.cloud"] == pytest.approx(k, rel=1e-9)  # linear in price


@SETTINGS
@given(hours=pos, k=scale, price=st.floats(min_value=1, max_value=1e5), tdp=st.floats(min_value=50, max_value=2000))
def test_stage_costs_are_monotone_in_chip_hours_and_price(hours, k, price, tdp):
    assert cloud_cost_usd(hours * k, 2.0) > cloud_cost_usd(hours, 2.0)
    kw = dict(depreciation_oom_per_year=0.14, interconnect_fraction=0.19)
    assert amortized_hardware_cost_usd(hours * k, price, **kw) > amortized_hardware_cost_usd(hours, price, **kw)
    assert amortized_hardware_cost_usd(hours, price * k, **kw) > amortized_hardware_cost_usd(hours, price, **kw)
    e = dict(server_power_ratio=1.8, average_power_fraction=0.75, pue=1.25, usd_per_kwh=0.08)
    assert energy_cost_usd(hours * k, tdp, **e) > energy_cost_usd(hours, tdp, **e)


@SETTINGS
@given(
    lo=st.floats(min_value=1e-6, max_value=1e20),
    spread=st.floats(min_value=1.0, max_value=1e4),
    seed=st.integers(0, 2**31),
)
def test_intervals_are_ordered(lo, spread, seed):
    d = ci(lo, lo * spread)
    s = Summary.from_samples(d.ppf(np.random.default_rng(seed).random(2000)))
    assert s.p5 <= s.median <= s.p95
    p5, p95 = d.interval(0.9)
    assert p5 <= d.median <= p95


@settings(max_examples=8, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31), sampling=st.sampled_from(["random", "sobol"]))
def test_same_seed_same_output(seed, sampling):
    kw = dict(
        params=ci(60e9, 80e9),
        tokens=2e12,
        hardware="h100",
        chips=1024,
        utilization=ci(0.3, 0.5, kind="beta"),
        price_usd_per_chip_hour=ci(2, 3.5),
        samples=1024,
        seed=seed,
        sampling=sampling,
    )
    a, b = estimate(**kw).to_dict(), estimate(**kw).to_dict()
    assert a == b
    for k in ("training_compute_flop", "chip_hours"):
        assert a[k]["p5"] <= a[k]["median"] <= a[k]["p95"]


@SETTINGS
@given(x=st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False))
def test_number_parsing_round_trips(x):
    assert parse_number("v", repr(x)) == x
    assert parse_number("v", f"{x:e}") == pytest.approx(x, rel=1e-6)


@SETTINGS
@given(
    n=st.floats(min_value=1, max_value=999), suffix=st.sampled_from([("k", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12)])
)
def test_suffixes(n, suffix):
    text = f"{n:g}{suffix[0]}"
    assert parse_number("v", text) == pytest.approx(float(f"{n:g}") * suffix[1], rel=1e-12)


@SETTINGS
@given(day=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_decimal_year_round_trips(day):
    y = decimal_year(day)
    assert math.floor(y) == day.year
    assert date_from_decimal_year(y) == day
