"""`POST /api/plan` and the `/plan` page: the numbers of `flopcast plan` (one model, one number), a layout that
does not hold the run refused with the reason and one that fits, and bad fields as 422 in the app's one shape."""

import json

import pytest

pytest.importorskip("fastapi", reason="the web extra is part of the test extra")
from fastapi.testclient import TestClient

from flopcast.service import training_plan
from flopcast.testing import run_cli as run
from flopcast.web import create_app

SAMPLES = 2000


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


def _plan(client, body: dict):
    r = client.post("/api/plan", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    display = d.pop("display")
    return d, display


def test_the_page_and_the_endpoint_are_served(client):
    r = client.get("/plan")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert 'id="plan-form"' in r.text and 'data-endpoint="/api/plan"' in r.text
    assert 'href="/plan"' in client.get("/").text  # in the header of every page
    spec = client.get("/api/openapi.json").json()
    assert "/api/plan" in spec["paths"]
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    responses = spec["paths"]["/api/plan"]["post"]["responses"]
    for code in ("413", "415", "421", "422", "503"):
        assert responses[code]["content"]["application/json"]["schema"] == error_ref, code


def test_the_json_is_the_service_plan(client, db):
    # Llama 3.1 405B on 16,384 H100 with a 16M-token global batch (Meta's run: 16K H100s, Dubey et al. 2024,
    # arXiv 2407.21783, section 3.3): the API's JSON is training_plan(...).to_dict() for the same inputs
    body = {"model": "llama-3.1-405b", "chips": 16384, "global_batch_tokens": 16e6, "samples": SAMPLES, "seed": 1}
    api, display = _plan(client, body)
    expected = training_plan(db=db, **body)
    assert api == json.loads(json.dumps(expected.to_dict()))
    # and the page's rows are the same numbers, formatted by the one formatter
    from flopcast.formatting import format_value, plan_texts

    rows = {r["key"]: r for r in display["rows"]}
    assert rows["duration_s"]["median"] == format_value(expected.duration_s.median, "s")
    assert rows["cost_usd.amortized"]["median"] == format_value(expected.cost_usd["amortized"].median, "USD")
    assert display["title"] == plan_texts(expected)["title"]
    assert display["binding"].startswith(f"Bound by {expected.binding}: ")
    terms = [m["label"] for m in display["memory"]]
    assert terms == list(expected.memory.terms())
    assert len(display["alternatives"]) == len(expected.alternatives)


def test_the_json_is_what_the_cli_prints(client, capsys):
    body = {"model": "llama-2-70b", "chips": 2048, "tp": 8, "recompute": "selective", "samples": SAMPLES}
    api, _ = _plan(client, body)
    argv = ["plan", "llama-2-70b", "--chips", "2048", "--tp", "8", "--recompute", "selective"]
    code, out, err = run([*argv, "--samples", str(SAMPLES), "--json"], capsys)
    assert code == 0, err
    assert api == json.loads(out)
    assert api["layout"]["tp"] == 8 and api["layout"]["recompute"] == "selective" and api["layout"]["chips"] == 2048


def test_an_interval_and_a_deadline_reach_the_plan(client, db):
    body = {"model": "llama-2-70b", "days": 30, "utilization": [0.35, 0.45], "samples": SAMPLES}
    api, _ = _plan(client, body)
    expected = training_plan(db=db, **{**body, "utilization": (0.35, 0.45)})
    assert api == json.loads(json.dumps(expected.to_dict()))
    assert api["binding"] in ("deadline", "memory")


def test_a_layout_that_does_not_fit_is_refused_with_the_reason(client, capsys):
    # issue 20: Llama 2 70B under ZeRO-3 at micro-batch 1 and 4,096 tokens with selective recompute holds
    # 34·s·b·h·L = 34 x 4096 x 1 x 8192 x 80 = 91 GB of activations per rank with no tensor or pipeline
    # parallelism (Korthikanti et al. 2022, arXiv 2205.05198, eq. 2 with the selective term): more than an 80 GB chip
    body = {
        "model": "llama-2-70b",
        "chips": 64,
        "tp": 1,
        "pp": 1,
        "zero": 3,
        "micro_batch": 1,
        "recompute": "selective",
        "samples": SAMPLES,
    }
    r = client.post("/api/plan", json=body)
    assert r.status_code == 422, r.text
    (e,) = r.json()["detail"]
    assert e["type"] == "value_error" and e["loc"][0] == "body"
    assert "activations alone" in e["msg"] and "a layout that fits:" in e["msg"]
    # the same words as the CLI's one-line error
    code, _, err = run(
        ["plan", "llama-2-70b", "--chips", "64", "--tp", "1", "--pp", "1", "--zero", "3", "--micro-batch", "1",
         "--recompute", "selective", "--samples", str(SAMPLES)],
        capsys,
    )  # fmt: skip
    assert code == 2 and e["msg"] in " ".join(err.split())


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"model": "llama-2-70b", "tp": 3}, "tp", "tp=3 is not allowed; tensor parallelism is a power of 2"),
        ({"model": "llama-2-70b", "tp": 0}, "tp", "tp=0 must be >= 1"),
        ({"model": "llama-2-70b", "zero": 4}, "zero", "zero=4 must be <= 3"),
        ({"model": "llama-2-70b", "recompute": "some"}, "recompute", "recompute='some' is not one of"),
        ({"model": "llama-2-70b", "chips": 0}, "chips", "chips=0 must be >= 1"),
        ({"model": "llama-2-70b", "chips": 2.5}, "chips", "chips=2.5 is not a whole number"),
        ({"model": "llama-2-70b", "days": -1}, "days", "days=-1 must be > 0"),
        ({"model": "llama-2-70b", "global_batch_tokens": -1}, "global_batch_tokens", "must be > 0"),
        ({"model": "llama-2-70b", "utilization": 1.5}, "utilization", "utilization=1.5 must be <= 1"),
        ({"model": "llama-2-70b", "tokens": [2e12, 1e12]}, "tokens", "low 2e+12 is greater than high 1e+12"),
        ({"model": "llama-2-70b", "precision": "fp3"}, "precision", "precision='fp3' is not one of"),
        ({"model": "llama-2-70b", "samples": 1}, "samples", "samples=1 must be >= 2"),
        ({"model": "llama-2-70b", "colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"model": "llama-2-70b", "start_date": "2024-13-01"}, "start_date", "valid date"),
        ({"model": "nosuchmodel"}, "model", "unknown model"),
        ({"model": "<script>"}, "model", "String should match pattern"),
        ({"model": "llama-2-70b", "hardware": "zzz"}, "hardware", "unknown hardware"),
        ({"model": "gpt-4o"}, "params", "a plan needs the model's parameters"),
        ({"params": 7e9}, "tokens", "needs its training tokens"),
        ({"model": "llama-2-70b", "chips": 8, "days": 3}, None, "give chips (the cluster size) or days"),
    ],
)
def test_bad_input_is_a_422_in_the_documented_shape(client, body, field, message):
    r = client.post("/api/plan", json={"samples": SAMPLES, **body})
    assert r.status_code == 422, r.text
    payload = r.json()
    assert set(payload) == {"detail"}
    for e in payload["detail"]:
        assert set(e) == {"loc", "msg", "type"} and e["loc"][0] == "body"
    assert any((field is None or field in e["loc"]) and message in e["msg"] for e in payload["detail"]), payload


def test_a_fixed_layout_on_a_cluster_nothing_fits_is_a_422():
    r = TestClient(create_app(), raise_server_exceptions=False).post(
        "/api/plan", json={"model": "llama-2-70b", "chips": 10_000_000, "zero": 3, "samples": SAMPLES}
    )
    assert r.status_code == 422, r.text


def test_the_request_fields_are_the_service_keywords_with_its_defaults():
    import inspect

    from flopcast.service import DEFAULTS, MoneyOptions
    from flopcast.web.schemas import PlanRequest

    keywords = set(inspect.signature(training_plan).parameters) - {"money", "data", "db"}
    money = set(inspect.signature(MoneyOptions).parameters)
    # sampling_precision is turned into samples by the request itself (schemas._Sampled), before the service
    assert set(PlanRequest.model_fields) == keywords | money | {"sampling_precision"}
    for field, info in PlanRequest.model_fields.items():
        if field in DEFAULTS:
            assert info.default == DEFAULTS[field], field


def test_the_schema_takes_the_services_choices():
    from flopcast.service.plan import MAX_PARALLEL, PLAN_RECOMPUTE, PLAN_ZERO
    from flopcast.web import schemas

    assert schemas.PLAN_RECOMPUTE == PLAN_RECOMPUTE and schemas.MAX_PARALLEL == MAX_PARALLEL
    import pydantic

    for z in PLAN_ZERO:
        assert schemas.PlanRequest(zero=z).zero == z
    for z in (min(PLAN_ZERO) - 1, max(PLAN_ZERO) + 1):
        with pytest.raises(pydantic.ValidationError):
            schemas.PlanRequest(zero=z)


def test_the_app_starts_without_the_planner():
    # the web's heavy imports stay lazy: importing the app loads neither the planner nor numpy (a fresh process)
    import subprocess
    import sys

    code = (
        "import sys, flopcast.web.app; print(sorted(m for m in ('numpy', 'flopcast.layout_plan') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
