"""Physically impossible values are refused by the service (src/flopcast/service/checks.py, with the limits of
flopcast.limits), so the CLI and the web API get the same check: one line that starts ``field=value`` and says
what is allowed. The CLI's cases, with their exact messages, are rows of docs/hardening.md (tests/test_hardening.py);
here are the checks themselves, the service functions that call them, and the web API's answer.
"""

from __future__ import annotations

import datetime as dt

import pytest

from flopcast.errors import InvalidInputError
from flopcast.testing import run_cli as run

INF = float("inf")


def _checks():
    from flopcast.service import checks

    return checks


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: c.check_chips("chips", 0.5), "chips=0.5 must be a whole number of chips in 1..10,000,000"),
        (lambda c: c.check_chips("chips", 1e30), "chips=1e+30 must be a whole number of chips in 1..10,000,000"),
        (lambda c: c.check_chips("chips", INF), "chips=inf must be a whole number of chips in 1..10,000,000"),
        (lambda c: c.check_chips("chips", 0), "chips=0 must be a whole number of chips in 1..10,000,000"),
        (
            lambda c: c.check_chips("chips", (8, 1e30)),
            "chips=8..1e+30: high 1e+30 must be a whole number of chips in 1..10,000,000",
        ),
        (
            lambda c: c.check_chips("chips", 4097, per_instance=True),
            "chips=4097 must be a whole number of chips per instance in 1..4,096",
        ),
        (lambda c: c.check_chips("chips", "8"), "chips='8' is not a number"),
        (lambda c: c.check_chips("chips", True), "chips=True is not a number"),
        (
            lambda c: c.check_duration("hours", 1e-300, unit_s=3600, unit="hours"),
            "hours=1e-300 is under 1 second; a training run lasts at least 1 s",
        ),
        (
            lambda c: c.check_duration("days", INF, unit_s=86400, unit="days", what="a serving period"),
            "days=inf is not finite; a serving period lasts from 1 s to 1e100 days",
        ),
        (
            lambda c: c.check_duration("days", (1e-9, 1), unit_s=86400, unit="days"),
            "days=1e-09..1: low 1e-09 is under 1 second; a training run lasts at least 1 s",
        ),
        (
            lambda c: c.check_chip_hours("chip_hours", 1e-4),
            "chip_hours=0.0001 is under 1 chip-second; give chip-hours from 1 chip for 1 s (0.000278) to 1e100",
        ),
        (
            lambda c: c.check_params("params", 1e30),
            "params=1e+30 is above 1e16 parameters; give a parameter count in 1..1e16",
        ),
        (
            lambda c: c.check_params("params", 1e-320),
            "params=1e-320 is under 1 parameter; give a parameter count in 1..1e16",
        ),
        (
            lambda c: c.check_params("params", float("nan")),
            "params=nan is not finite; give a parameter count in 1..1e16",
        ),
        (
            lambda c: c.check_params("params", 10**400),
            "params=1e+400 is above 1e16 parameters; give a parameter count in 1..1e16",
        ),
        (
            lambda c: c.check_count("tokens", 0.5, unit="tokens", one="token"),
            "tokens=0.5 is under 1 token; give a number of tokens in 1..1e100",
        ),
        (
            lambda c: c.check_positive("price_per_chip_hour", 1e300),
            "price_per_chip_hour=1e+300 is above 1e100; give a positive number in 1e-100..1e100",
        ),
        (
            lambda c: c.check_positive("budget", -5),
            "budget=-5 is not positive; give a positive number in 1e-100..1e100",
        ),
        (
            lambda c: c.check_fraction("load_factor", 1.5, what="the fleet's average utilization"),
            "load_factor=1.5 is outside (0, 1]; it is the fleet's average utilization",
        ),
        (lambda c: c.check_year("year", 99999), "year=99999 is outside 1950..2100"),
        (lambda c: c.check_year("since", 1949), "since=1949 is outside 1950..2100"),
        (lambda c: c.check_year("year", 2020.5), "year=2020.5 is not a whole year in 1950..2100"),
        (lambda c: c.check_date("date", dt.date(2100, 1, 2)), "date=2100-01-02 is outside 1950-01-01..2100-01-01"),
        (
            lambda c: c.check_date("date", dt.datetime(1949, 12, 31, 23)),
            "date=1949-12-31T23:00:00 is outside 1950-01-01..2100-01-01",
        ),
    ],
)
def test_each_check_names_the_field_the_value_and_the_range(call, message):
    with pytest.raises(InvalidInputError) as err:
        call(_checks())
    assert str(err.value) == message


def test_the_edges_of_the_limits_are_inside_them():
    c = _checks()
    # accepted: the edges, and None (not given)
    c.check_chips("chips", 1)
    c.check_chips("chips", 10_000_000.0)
    c.check_chips("chips", (1, 10_000_000))
    c.check_chips("chips", 4096, per_instance=True)
    c.check_duration("hours", 1 / 3600, unit_s=3600, unit="hours")  # one second
    c.check_params("params", 1)
    c.check_params("params", 1e16)
    c.check_year("year", 1950)
    c.check_year("year", 2100)
    c.check_date("date", dt.date(2100, 1, 1))
    c.check_positive("price", 1e-100)
    for check in (c.check_chips, c.check_params, c.check_year, c.check_date, c.check_positive):
        check("x", None)
    # refused: just past each edge
    for call in (
        lambda: c.check_chips("chips", 10_000_001),
        lambda: c.check_chips("chips", 4097, per_instance=True),
        lambda: c.check_duration("hours", 0.99 / 3600, unit_s=3600, unit="hours"),
        lambda: c.check_params("params", 0.99),
        lambda: c.check_params("params", 1.0001e16),
        lambda: c.check_year("year", 2101),
        lambda: c.check_date("date", dt.date(1949, 12, 31)),
        lambda: c.check_positive("price", 1.1e100),
    ):
        with pytest.raises(InvalidInputError):
            call()


def _service(name):
    import flopcast.service as service

    return getattr(service, name)


RUN = dict(params=175e9, tokens=300e9, hardware="a100", point=True)
SERVE = dict(tokens_per_day=1e9, samples=200)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: _service("training_estimate")(**RUN, chips=0.5),
            "chips=0.5 must be a whole number of chips in 1..10,000,000",
        ),
        (
            lambda: _service("training_estimate")(**RUN, chips=(8, 1e30)),
            "chips=8..1e+30: high 1e+30 must be a whole number of chips in 1..10,000,000",
        ),
        (
            lambda: _service("training_estimate")(**RUN, hours=1e-300),
            "hours=1e-300 is under 1 second; a training run lasts at least 1 s",
        ),
        (
            lambda: _service("training_estimate")(**RUN, hours=INF),
            "hours=inf is not finite; a training run lasts from 1 s to 1e100 hours",
        ),
        (
            lambda: _service("training_estimate")(**RUN, days=INF),
            "days=inf is not finite; a training run lasts from 1 s to 1e100 days",
        ),
        (
            lambda: _service("training_estimate")(params=1e-320, tokens=1e12, hardware="a100"),
            "params=1e-320 is under 1 parameter; give a parameter count in 1..1e16",
        ),
        (
            lambda: _service("training_estimate")("gpt-3", start_date=dt.date(9999, 1, 1)),
            "start_date=9999-01-01 is outside 1950-01-01..2100-01-01",
        ),
        (lambda: _service("cost_table")(since=99999), "since=99999 is outside 1950..2100"),
        (lambda: _service("select_models")(until=1900), "until=1900 is outside 1950..2100"),
        (
            lambda: _service("deployment_estimate")("bloom-176b", **SERVE, chips=100_000),
            "chips=100000 must be a whole number of chips per instance in 1..4,096",
        ),
        (
            lambda: _service("deployment_estimate")(params=1e30, **SERVE),
            "params=1e+30 is above 1e16 parameters; give a parameter count in 1..1e16",
        ),
        (
            lambda: _service("deployment_estimate")("bloom-176b", **SERVE, duration_days=INF),
            "days=inf is not finite; a serving period lasts from 1 s to 1e100 days",
        ),
        (
            lambda: _service("deployment_estimate")("bloom-176b", **SERVE, hardware=""),
            "hardware='' is empty; give a name such as 'a100' or 'h100-sxm'",
        ),
        (
            lambda: _service("hardware_comparison")("a100", "h100", params=1e30),
            "params=1e+30 is above 1e16 parameters; give a parameter count in 1..1e16",
        ),
        (
            lambda: _service("trend_analysis")("cost", top=10, extrapolate=99999, bootstrap=0),
            "extrapolate=99999 is outside 1950..2100",
        ),
        (
            lambda: _service("trend_analysis")("compute", bootstrap=10**17),
            "bootstrap=100000000000000000 is outside 0..1,000,000 (0 skips the bootstrap)",
        ),
        (lambda: _service("lag_analysis")(since=99999), "since=99999 is outside 1950..2100"),
        (
            lambda: _service("diffusion_analysis")(
                _service("diffusion_reference")(cost_usd=1e6, date=dt.date(2020, 1, 1)), 99999
            ),
            "year=99999 is outside 1950..2099 (the cost is priced in mid-year; dates end on 2100-01-01)",
        ),
        (
            lambda: _service("diffusion_reference")(cost_usd=1e6, date=dt.date(2100, 6, 1)),
            "date=2100-06-01 is outside 1950-01-01..2100-01-01",
        ),
        (
            lambda: _service("emulation")(params=1e-320, tokens=1e12),
            "params=1e-320 is under 1 parameter; give a parameter count in 1..1e16",
        ),
    ],
)
def test_the_service_refuses_impossible_values_for_every_front_end(call, message):
    with pytest.raises(InvalidInputError) as err:
        call()
    assert str(err.value) == message


def test_an_empty_chip_name_is_not_the_default_chip(capsys):
    # the orchestrator reads a missing chip as a100: an empty name was taken for it
    code, out, err = run(["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--hardware", ""], capsys)
    assert (code, out) == (2, "")
    assert err == "error: hardware='' is empty; give a name such as 'a100' or 'h100-sxm'\n"


@pytest.fixture(scope="module")
def client(epoch_dir):
    pytest.importorskip("fastapi", reason="the web extra is part of the test extra")
    from fastapi.testclient import TestClient

    from flopcast.web.app import create_app

    return TestClient(create_app(data=str(epoch_dir)))


RUN_BODY = {"params": 175e9, "tokens": 300e9, "hardware": "a100", "samples": 200}


@pytest.mark.parametrize(
    "path, body, field, message",
    [
        (
            "/api/estimate",
            {**RUN_BODY, "chips": 0.5},
            "chips",
            "chips=0.5 must be a whole number of chips in 1..10,000,000",
        ),
        (
            "/api/estimate",
            {**RUN_BODY, "chips": [8, 1e30]},
            "chips",
            "chips=8..1e+30: high 1e+30 must be a whole number of chips in 1..10,000,000",
        ),
        (
            "/api/estimate",
            {**RUN_BODY, "days": 1e-300},
            "days",
            "days=1e-300 is under 1 second; a training run lasts at least 1 s",
        ),
        (
            "/api/estimate",
            {**RUN_BODY, "params": [1e9, 1e20]},
            "params",
            "params=1e+09..1e+20: high 1e+20 is above 1e16 parameters; give a parameter count in 1..1e16",
        ),
        (
            "/api/deploy",
            {"params": 1e20, "tokens_per_day": 1e9, "samples": 200},
            "params",
            "params=1e+20 is above 1e16 parameters; give a parameter count in 1..1e16",
        ),
        (
            "/api/deploy",
            {"model": "bloom-176b", "tokens_per_day": 1e-320, "samples": 200},
            "tokens_per_day",
            "tokens_per_day=1e-320 is under 1e-100; give a positive number in 1e-100..1e100",
        ),
    ],
)
def test_the_web_api_answers_422_naming_the_field(client, path, body, field, message):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json() == {"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]}
