"""One model, one number: `estimate NAME` is exactly NAME's row of `costs`, and the web app and the report show
the same medians. Every front-end calls flopcast.pipeline on the same database with the same defaults."""

import json

import pytest

from flopcast.service import cost_table, training_estimate
from flopcast.testing import run_cli as run

SAMPLES = 1024  # the check is of identity, so any sample count does; the CLI checks below use the default


def _comparable(d: dict) -> dict:
    """What a costs row and an estimate both carry (an estimate also lists its inputs in full, and its development
    cost beyond the final run, which costs leaves out)."""
    return {k: v for k, v in d.items() if k not in ("inputs", "sensitivity", "development")}


@pytest.fixture(scope="module")
def table(db):
    return cost_table(samples=SAMPLES, db=db)


@pytest.mark.slow  # about 1,000 single estimates
def test_every_model_estimate_equals_its_costs_row(db, table):
    res = table.result
    assert len(res.estimates) > 980  # every model with a compute, chip-hours or parameters x tokens, fine-tunes too
    rows = {e.key: e.to_dict(inputs=False) for e in res.estimates}
    for key, row in rows.items():
        single = training_estimate(key, samples=SAMPLES, db=db).to_dict()
        assert _comparable(single) == row, key
    # and every model costs leaves out is refused by estimate with the same reason
    for s in res.skipped:
        with pytest.raises(Exception) as info:
            training_estimate(s["key"], samples=SAMPLES, db=db)
        assert str(info.value) == s["reason"]


@pytest.fixture(scope="module")
def costs_json():
    import contextlib
    import io

    from flopcast.cli.main import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(["costs", "--format", "json", "--year-dollars", "2023"])
    return {m["key"]: m for m in json.loads(buf.getvalue())["models"]}


@pytest.mark.parametrize("name", ["GPT-4o", "GPT-4.5", "gpt-3", "FLAN 137B", "DeepSeek-V3"])
def test_cli_estimate_json_is_the_costs_json_row(name, capsys, db, costs_json):
    # the cases: GPT-4o ($38.9M in costs against $43.7M in estimate) and GPT-4.5 ($116B against $22.4B)
    # came from two orchestrators with their own imputation; there is one now
    costs = costs_json
    key = db.find(name).key
    code, out, err = run(["estimate", name, "--json", "--year-dollars", "2023"], capsys)
    assert code == 0, err
    assert _comparable(json.loads(out)) == costs[key]


def test_web_app_and_report_show_the_cli_medians(capsys, db):
    pytest.importorskip("fastapi", reason="the web app is an extra")
    from fastapi.testclient import TestClient

    from flopcast.formatting import format_usd
    from flopcast.reporting.html import build_report
    from flopcast.web import create_app

    code, out, _ = run(["estimate", "GPT-4o", "--json"], capsys)
    assert code == 0
    cli = json.loads(out)
    r = TestClient(create_app()).post("/api/estimate", json={"model": "GPT-4o"})
    assert r.status_code == 200, r.text
    web = r.json()
    for m in ("cloud", "amortized", "acquisition"):
        assert web["cost_usd"][m] == cli["cost_usd"][m]
    assert web["training_compute_flop"] == cli["training_compute_flop"]
    html = build_report("GPT-4o", samples=cli["samples"], seed=0)  # the CLI's samples: the same draws
    assert format_usd(cli["cost_usd"]["amortized"]["median"]) in html


def test_the_training_plan_is_one_number_in_the_cli_the_web_app_and_the_report(capsys):
    # `flopcast plan`: Llama 3.1 405B on its own chip and reported cluster (16,384 H100s; Dubey et al. 2024, arXiv
    # 2407.21783, section 3.3.1), at the defaults; the web app's JSON is the CLI's, and the report shows the CLI's
    # median wall-clock time and layout (one training_plan call behind each)
    pytest.importorskip("fastapi", reason="the web app is an extra")
    from fastapi.testclient import TestClient

    from flopcast.formatting import format_value
    from flopcast.reporting.html import build_report
    from flopcast.web import create_app

    code, out, err = run(["plan", "llama-3.1-405b", "--hardware", "h100-sxm", "--json"], capsys)
    assert code == 0, err
    cli = json.loads(out)
    r = TestClient(create_app()).post("/api/plan", json={"model": "llama-3.1-405b", "hardware": "h100-sxm"})
    assert r.status_code == 200, r.text
    web = r.json()
    web.pop("display")
    assert web == cli
    html = build_report("llama-3.1-405b")
    plan = html[html.index('<h2 id="plan">') : html.index('<h2 id="deployment">')]
    assert cli["layout"]["describe"] in plan and cli["layout"]["chips"] == 16384
    assert format_value(cli["duration_s"]["median"], "s") in plan
    assert format_value(cli["cost_usd"]["amortized"]["median"], "USD") in plan
