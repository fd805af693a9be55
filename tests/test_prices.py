"""Prices over time: the market price at a date from dated quotes, by provider and tier; depreciation choices."""

import datetime as dt
import math

import numpy as np
import pytest

from flopcast import training as T
from flopcast.catalogs.hardware import get_hardware
from flopcast.catalogs.prices import CloudRow, PriceBook, PriceQuote, PurchasePrice, market_price
from flopcast.errors import InvalidInputError, MissingInputError

D = dt.date
Z90 = 1.6448536269514722


def q(date, price, vendor="x"):
    return PriceQuote("h100-sxm", vendor, date, price, f"https://example.com/{vendor}")


def test_one_quote_moves_along_the_trend():
    # $2.00 on 2025-06-01, asked on 2026-06-01 (365 days = 0.99932 years) at 0.14 OOM/year:
    # 2.00 x 10 ** (-0.14 x 365 / 365.25) = $1.4479
    e = market_price([q(D(2025, 6, 1), 2.0)], D(2026, 6, 1), what="cloud 3y", trend_sd_oom_per_year=0.0)
    assert e.median_usd == pytest.approx(2.0 * 10 ** (-0.14 * 365 / 365.25), rel=1e-12)
    # one quote: the least spread, a log-sd of 0.1: the 90% interval is median x exp(+-1.645 x 0.1)
    assert e.sigma == pytest.approx(0.1) and e.high_usd / e.median_usd == pytest.approx(math.exp(Z90 * 0.1))
    assert not e.extrapolated and "moved to 2026-06-01" in e.describe()
    # the trend's own uncertainty (0.10-0.18 OOM/year: sd 0.0243) widens it with the years moved:
    # sqrt(0.1^2 + (ln 10 x 0.0243 x 0.99932)^2) = 0.1146
    w = market_price([q(D(2025, 6, 1), 2.0)], D(2026, 6, 1), what="cloud 3y")
    assert w.sigma == pytest.approx(math.hypot(0.1, math.log(10) * 0.0243 * 365 / 365.25), rel=1e-9)


def test_the_quotes_nearest_in_time_give_the_median_and_their_spread_the_interval():
    quotes = [q(D(2026, 1, 1), 2.0, "a"), q(D(2026, 1, 1), 2.5, "b"), q(D(2026, 1, 1), 3.2, "c"), q(D(2020, 1, 1), 9.0)]
    e = market_price(quotes, D(2026, 1, 1), what="cloud on-demand", trend_sd_oom_per_year=0.0)
    # the 2020 quote is six years away while three lie on the day: it is left out
    assert len(e.quotes) == 3 and e.median_usd == pytest.approx(2.5)
    # three quotes: the log-sd of ln 2, ln 2.5, ln 3.2 (sample sd) is their spread
    assert e.sigma == pytest.approx(float(np.std(np.log([2.0, 2.5, 3.2]), ddof=1)), rel=1e-12)
    assert e.vendors() == ["a", "b", "c"]


def test_beyond_the_quotes_the_trend_gives_the_price_and_says_so():
    e = market_price([q(D(2023, 6, 1), 4.0)], D(2026, 6, 1), what="cloud 3y")
    assert e.extrapolated and e.gap_days == (D(2026, 6, 1) - D(2023, 6, 1)).days
    assert "no quote within a year of 2026-06-01: the nearest is 2023-06-01 ($4.00/h), so the price is the trend's" in (
        e.describe()
    )
    assert e.median_usd == pytest.approx(4.0 * 10 ** (-0.14 * 1096 / 365.25))
    assert market_price([], D(2026, 1, 1), what="x") is None


def _book():
    cloud = (
        CloudRow("h100", "aws", D(2025, 6, 5), 6.88, None, None, "aws-page"),
        CloudRow("h100", "lambda", D(2025, 6, 1), 2.99, None, None, "lambda-page", kind="neocloud"),
        CloudRow("h100", "vast", D(2025, 6, 1), None, None, None, "vast-page", spot=1.60, kind="marketplace"),
        CloudRow("tpu-v4", "gcp", D(2022, 5, 11), 3.22, 2.03, 1.45, "gcp-page"),
    )
    purchases = (
        PurchasePrice("h100", D(2024, 1, 1), 30_000.0, False, "chip-page", ""),
        PurchasePrice("h100", D(2024, 1, 1), 37_500.0, True, "dgx-page", ""),
    )
    discounts = {"aws": {"1y": 0.41, "3y": 0.64}, "lambda": {"1y": 0.34, "3y": 0.56}}
    return PriceBook(purchases, cloud, discounts, "test")


def test_the_market_is_every_provider_and_options_pick_one_or_a_kind():
    book, h100 = _book(), get_hardware("h100")
    when = D(2025, 6, 5)
    market = book.market_cloud_price(h100, when=when, tier="on-demand")
    assert {x.vendor for x in market.quotes} == {"aws", "lambda"}  # the marketplace sells spot only
    # the median of the two on-demand quotes moved to the date: 6.88 on the day and 2.99 four days earlier
    moved = 2.99 * 10 ** (-0.14 * 4 / 365.25)
    assert market.median_usd == pytest.approx(math.sqrt(6.88 * moved))
    aws = book.market_cloud_price(h100, when=when, tier="on-demand", vendor="aws")
    assert aws.median_usd == pytest.approx(6.88) and aws.vendor == "aws"
    neo = book.market_cloud_price(h100, when=when, tier="on-demand", vendor="neocloud")
    assert [x.vendor for x in neo.quotes] == ["lambda"]
    # a committed tier is converted with the provider's discount: AWS 3-year = 6.88 x (1 - 0.64)
    aws3 = book.market_cloud_price(h100, when=when, tier="3y", vendor="aws")
    assert aws3.median_usd == pytest.approx(6.88 * 0.36)
    # spot prices are only ever quoted, never converted
    spot = book.market_cloud_price(h100, when=when, tier="spot")
    assert [x.vendor for x in spot.quotes] == ["vast"]
    assert spot.median_usd == pytest.approx(1.60 * 10 ** (-0.14 * 4 / 365.25))  # quoted four days before


def test_a_missing_price_names_what_is_missing_and_the_nearest_dated_price():
    book = _book()
    with pytest.raises(MissingInputError) as exc:
        book.market_cloud_price(get_hardware("tpu-v4"), when=D(2026, 1, 1), tier="3y", vendor="lambda")
    assert str(exc.value) == (
        "no 3y cloud price for Google TPU v4 from lambda in the price tables (the nearest 3y quote is gcp's of "
        "2022-05-11 ($1.45/h)); give price_usd_per_chip_hour (--price-per-chip-hour)"
    )
    with pytest.raises(MissingInputError, match=r"\(none for the b200 family in any tier\)"):
        book.market_cloud_price(get_hardware("b200"), when=D(2026, 1, 1))
    with pytest.raises(InvalidInputError, match="cloud_vendor='ibm' is not one of market, organization"):
        book.market_cloud_price(get_hardware("h100"), when=D(2026, 1, 1), vendor="ibm")


def test_purchase_prices_per_chip_and_per_server():
    book, h100 = _book(), get_hardware("h100")
    chip = book.market_purchase_price(h100, when=D(2024, 1, 1), server=False)
    server = book.market_purchase_price(h100, when=D(2024, 1, 1), server=True)
    assert chip.median_usd == pytest.approx(30_000) and server.median_usd == pytest.approx(37_500)
    assert book.market_purchase_price(get_hardware("b200"), when=D(2024, 1, 1), server=False) is None


def test_straight_line_depreciation_by_hand():
    # a $30,000 chip in a server (x1.64) with 19% interconnect: $60,741 a chip of cluster value;
    # over 5 years at no cost of capital: $12,148 a year, $1.3858 a chip-hour; 1M chip-hours: $1.386M
    value = 30_000 * 1.64 / 0.81
    got = T.straight_line_hardware_cost_usd(
        1e6, 30_000, depreciation_years=5, server_overhead=1.64, interconnect_fraction=0.19, years_held=1.0
    )
    assert got == pytest.approx(1e6 * value / 5 / 8766, rel=1e-12)
    # with an 8% cost of capital the annual charge is the annuity: r / (1 - 1.08^-5) = 0.25046
    assert T.capital_recovery_factor(0.08, 5) == pytest.approx(0.08 / (1 - 1.08**-5), rel=1e-12)
    with_r = T.straight_line_hardware_cost_usd(
        1e6, 30_000, depreciation_years=5, server_overhead=1.64, interconnect_fraction=0.19, cost_of_capital=0.08
    )
    assert with_r == pytest.approx(1e6 * value * 0.08 / (1 - 1.08**-5) / 8766, rel=1e-12)
    # held past its book life, hardware is fully depreciated
    assert T.straight_line_hardware_cost_usd(1e6, 30_000, depreciation_years=5, years_held=6.0) == 0.0
    # arrays: book lives of 4, 5 and 6 years
    arr = T.straight_line_hardware_cost_usd(1e6, 30_000, depreciation_years=np.array([4.0, 5.0, 6.0]))
    assert arr.shape == (3,) and arr[0] > arr[1] > arr[2]
    with pytest.raises(InvalidInputError, match=r"cost_of_capital=1\.5 is outside \[0, 1\)"):
        T.capital_recovery_factor(1.5, 5)


def test_cost_of_capital_on_the_price_performance_method():
    # Cottier et al.'s hourly rate 0.14 x ln 10 / 8766 = 3.677e-5, plus ln(1.08) / 8766 for an 8% cost of capital
    base = T.amortized_hardware_cost_usd(1e6, 30_000, interconnect_fraction=0.0)
    with_r = T.amortized_hardware_cost_usd(1e6, 30_000, interconnect_fraction=0.0, cost_of_capital=0.08)
    assert base == pytest.approx(1e6 * 30_000 * 0.14 * math.log(10) / 8766, rel=1e-12)
    assert with_r - base == pytest.approx(1e6 * 30_000 * math.log(1.08) / 8766, rel=1e-12)


def test_depreciation_options_in_an_estimate():
    from flopcast import estimate

    base = estimate("gpt-3", point=True)
    sl = estimate("gpt-3", point=True, depreciation="straight-line")
    rec = {r.name: r for r in sl.inputs}
    assert rec["depreciation_years"].central == 5 and rec["depreciation_years"].provenance == "default"
    assert "depreciation_oom_per_year" not in rec
    # GPT-3's V100s (DGX-1 at $18,625 a chip, server included) held 1.27 years: $18,625 / 0.81 / 5 a year
    # x 3,552,000 h / 8766, plus the same energy as the default
    energy = base.central["cost_usd.amortized"] - float(
        T.amortized_hardware_cost_usd(
            3_552_000,
            18_625,
            interconnect_fraction=0.19,
            years_held=next(r for r in base.inputs if r.name == "years_held").central,
        )
    )
    expected = 3_552_000 * 18_625 / 0.81 / 5 / 8766 + energy
    assert sl.central["cost_usd.amortized"] == pytest.approx(expected, rel=1e-6)
    with pytest.raises(InvalidInputError, match="depreciation_years=4 needs depreciation='straight-line'"):
        estimate("gpt-3", depreciation_years=4)
    with pytest.raises(InvalidInputError, match="depreciation_years=40 is outside 1-30"):
        estimate("gpt-3", depreciation="straight-line", depreciation_years=40)
    with pytest.raises(InvalidInputError, match="depreciation='linear' is not one of price-performance, straight"):
        estimate("gpt-3", depreciation="linear")


def test_grace_superchips_are_families_of_their_own():
    # Epoch's price rows are filed by family: a GB200 or GH200 quote is not a B200's or an H200's
    from flopcast.catalogs.prices import family_token

    assert family_token("NVIDIA GB200 NVL2") == "gb200" and family_token("NVIDIA GH200") == "gh200"
    assert family_token("NVIDIA B200") == "b200" and family_token("NVIDIA H200 SXM") == "h200"
    # the Quadro GP100 is a P100-class chip, priced as one (as Cottier et al.'s code does)
    assert family_token("NVIDIA Quadro GP100") == "p100"
