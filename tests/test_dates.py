"""flopcast.dates: the one home of decimal years, with one behaviour at year boundaries and for None.

Hand arithmetic: a decimal year is year + (day of year, 0-based) / days in the year.
2020 is a leap year (366 days): 2020-07-02 is day 183, 183/366 = 0.5 exactly; 28 May is
day 148, 2020 + 148/366 = 2020.404372. 2021 has 365 days: 2021-07-02 is day 182.
"""

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flopcast.dates import YEAR_RANGE, date_from_decimal_year, decimal_year, parse_year, year_label
from flopcast.errors import InvalidInputError, MissingInputError

GPT3_YEAR = 2020 + 148 / 366


@pytest.mark.parametrize(
    ("when", "year"),
    [
        (dt.date(2020, 7, 2), 2020.5),
        (np.datetime64("2020-07-02"), 2020.5),
        ("2020-07-02", 2020.5),
        ("2020-05-28", GPT3_YEAR),
        ("2020-05", 2020 + (31 + 29 + 31 + 30) / 366),  # a month means its first day
        (dt.date(2021, 7, 2), 2021 + 182 / 365),
        (dt.datetime(2021, 1, 1, 12), 2021 + 0.5 / 365),
        (dt.datetime(2021, 1, 1, 12, tzinfo=dt.UTC), 2021 + 0.5 / 365),
        (2019.25, 2019.25),
        (2025, 2025.0),
        ("2025.5", 2025.5),
    ],
)
def test_decimal_year_of_each_kind_of_date(when, year):
    assert decimal_year(when) == pytest.approx(year, abs=1e-12)
    assert parse_year(when) == pytest.approx(year, abs=1e-12)


def test_missing_dates_are_nan_in_data_and_an_error_from_a_user():
    assert math.isnan(decimal_year(None))
    out = decimal_year([dt.date(2020, 1, 1), None, np.datetime64("2021-01-01")])
    assert out[0] == 2020.0 and math.isnan(out[1]) and out[2] == 2021.0
    arr = decimal_year(np.array(["2022-06-29", "NaT"], dtype="datetime64[D]"))
    assert arr[0] == pytest.approx(2022 + 179 / 365, abs=1e-12) and math.isnan(arr[1])
    with pytest.raises(MissingInputError, match="reference_date is missing"):
        parse_year(None, "reference_date")


def test_year_boundaries():
    # 2020.999 lies within 2020's last day (it starts at 365/366 = 0.99727): the date is 2020-12-31
    assert date_from_decimal_year(2020.999) == dt.date(2020, 12, 31)
    assert date_from_decimal_year(2021.0) == dt.date(2021, 1, 1)
    assert date_from_decimal_year(2020.5) == dt.date(2020, 7, 2)
    assert date_from_decimal_year(decimal_year(dt.date(2023, 12, 31))) == dt.date(2023, 12, 31)
    assert decimal_year(dt.date(2020, 12, 31)) == pytest.approx(2020 + 365 / 366)
    assert year_label(2020.999) == "2020-12-31"
    assert year_label(1e9) == "1000000000.00"  # no calendar date: shown as a number


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_every_day_round_trips(day):
    assert date_from_decimal_year(decimal_year(day)) == day
    assert date_from_decimal_year(parse_year(day)) == day


@pytest.mark.parametrize("bad", ["May 2020", "last spring", "2020-13-01", True, object()])
def test_junk_is_not_a_date(bad):
    with pytest.raises(InvalidInputError, match="is not a date"):
        decimal_year(bad)
    with pytest.raises(InvalidInputError, match="is not a date"):
        parse_year(bad, "when")


@pytest.mark.parametrize("bad", ["1850-01-01", 1850, 4.6e6, "2400-01-01"])
def test_a_user_date_outside_the_years_says_so(bad):
    # the range error is not swallowed into "is not a date" (the old diffusion helper did that)
    lo, hi = YEAR_RANGE
    with pytest.raises(InvalidInputError, match=f"outside the years {lo:.0f}..{hi:.0f}"):
        parse_year(bad, "reference_date")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_user_date_must_be_finite(bad):
    with pytest.raises(InvalidInputError, match="not a finite date"):
        parse_year(bad)


def test_lists_of_user_dates():
    np.testing.assert_allclose(parse_year([2020, "2021-01-01", dt.date(2022, 1, 1)]), [2020, 2021, 2022])
    with pytest.raises(InvalidInputError, match="empty"):
        parse_year([])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -5.0, 1e6, "x"])
def test_no_calendar_date(bad):
    with pytest.raises(InvalidInputError):
        date_from_decimal_year(bad)
