"""Catch-up lags from the database, pinned to Cottier's diffusion figures."""

import datetime as dt

import pytest

from flopcast.datasets.records import ModelRecord
from flopcast.errors import InvalidInputError, UnknownModelError
from flopcast.lags import catch_up_lags, lag_between, months_between, summarize_lags


@pytest.fixture(scope="module")
def records(db):
    return db.records


def test_published_lags_from_publication_dates(records):
    # Cottier 2022: OPT-175B (2022-05-02) came 23 months after GPT-3 (2020-05-28): 704 days / 30.4375 = 23.1.
    # Gopher (published 2021-12-08) came 18.4 months after (the "19 months" counts calendar months);
    # Cottier's 7 months for Gopher counts from the end of its training (December 2020).
    assert lag_between(records, "GPT-3 175B (davinci)", "OPT-175B") == pytest.approx(704 / 30.4375)
    assert lag_between(records, "GPT-3 175B (davinci)", "OPT-175B") == pytest.approx(23, abs=0.5)
    assert lag_between(records, "GPT-3 175B (davinci)", "Gopher (280B)") == pytest.approx(19, abs=1)
    with pytest.raises(UnknownModelError):
        lag_between(records, "GPT-3", "nope")


def test_frontier_lags_on_the_snapshot(records):
    lags = {x.model: x for x in catch_up_lags(records, top=10, since=2016)}
    gpt3 = lags["GPT-3 175B (davinci)"]
    # first open-weights model at >= 3.14e23 FLOP: OPT-175B, 23.1 months later
    assert gpt3.open_weights_model == "OPT-175B" and gpt3.open_weights_months == pytest.approx(23.1, abs=0.1)
    assert gpt3.other_org_months is not None and gpt3.other_org_months < gpt3.open_weights_months
    assert gpt3.date_basis == "publication"
    summary = summarize_lags(list(lags.values()))
    assert sum(r["frontier_models"] for r in summary) == len(lags)
    for r in summary:
        assert r["other_org_caught_up"] + r["other_org_not_yet"] == r["frontier_models"]


def test_training_end_basis_and_censoring():
    d = dt.date
    recs = [
        # reference: training ended 2020-12-01 (start 2020-11-01 + 720 h), published 2021-12-01
        ModelRecord(
            "Ref",
            "Ref",
            d(2021, 12, 1),
            ("A",),
            training_compute_flop=1e24,
            training_time_hours=720,
            training_start_date=d(2020, 11, 1),
        ),
        ModelRecord(
            "Follower",
            "Follower",
            d(2022, 6, 1),
            ("B",),
            training_compute_flop=2e24,
            accessibility="Open weights (unrestricted)",
        ),
        ModelRecord("Late", "Late", d(2023, 6, 1), ("C",), training_compute_flop=1e23),
    ]
    # from training end: 2020-12-01 -> 2022-06-01 = 547 days = 17.97 months; from publication: 6.0 months
    assert lag_between(recs, "Ref", "Follower", "training_end") == pytest.approx(547 / 30.4375)
    lags = {x.model: x for x in catch_up_lags(recs, top=1, date_basis="training_end")}
    assert lags["Ref"].date_basis == "training_end" and lags["Ref"].other_org_months == pytest.approx(547 / 30.4375)
    # Follower leads from 2022-06 on and nobody catches it by the end of the table (2023-06-01): censored at 12 months
    f = lags["Follower"]
    assert f.other_org_model is None and f.censored_months == pytest.approx(
        months_between(d(2022, 6, 1), d(2023, 6, 1))
    )
    assert f.open_weights_months == 0.0  # it is open weights itself
    with pytest.raises(InvalidInputError, match="date_basis"):
        catch_up_lags(recs, date_basis="release")
