"""A precision asked for, not only a sample count (issue 19, point 2): ``--sampling-precision`` on the command
line, ``sampling_precision=`` in Python and in the web API's requests, all through one rule
(flopcast.service.sample_count -> flopcast.uncertainty.precision.samples_for_precision)."""

import json

import pytest

from flopcast.errors import InvalidInputError
from flopcast.service import sample_count
from flopcast.testing import run_cli as run


def test_the_rule_behind_every_front_end():
    # neither given: the default count, the one the default precision (1%) takes with Sobol points, 2^13
    assert sample_count(None, None) == 8192
    assert sample_count(4096, None) == 4096  # a count given is taken as it is
    # n = 8,192 x max(r, r^2) with r = 0.01 / precision, rounded up to a power of two (Sobol):
    # 0.02 -> r = 0.5 -> 4,096; 0.005 -> r = 2 -> 32,768; 0.03 -> r = 1/3 -> 2,731 -> 4,096
    assert sample_count(None, 0.02) == 4096
    assert sample_count(None, 0.005) == 32768
    assert sample_count(None, 0.03) == 4096
    # random points: n = 65,536 r^2, not rounded: 0.02 -> 16,384; 0.03 -> 65,536 / 9 = 7,281.8 -> 7,282
    assert sample_count(None, 0.02, "random") == 16384
    assert sample_count(None, 0.03, "random") == 7282


@pytest.mark.parametrize(
    ("samples", "precision", "limit", "words"),
    [
        (100, 0.01, 1_000_000, "--samples=100 and --sampling-precision=0.01: give one of them"),
        (None, 0.0001, 1_000_000, "--sampling-precision=0.0001 is outside 0.001..0.5"),
        (None, 0.9, 1_000_000, "--sampling-precision=0.9 is outside 0.001..0.5"),
        # 0.001 -> r = 10 -> 8,192 x 100 = 819,200 -> 2^20 = 1,048,576
        (None, 0.001, 1_000_000, "--sampling-precision=0.001 takes 1,048,576 sobol samples, more than the 1,000,000"),
        (None, 0.002, 100_000, "takes 262,144 sobol samples, more than the 100,000 allowed here"),
    ],
)
def test_bad_requests_say_what_is_allowed(samples, precision, limit, words):
    with pytest.raises(InvalidInputError, match=words.replace(".", r"\.").replace("(", r"\(")):
        sample_count(samples, precision, max_samples=limit)


def test_one_number_for_one_precision_everywhere(capsys):
    # the same precision gives the same count, so the same numbers, on the command line, in Python and on the web
    code, out, err = run(["estimate", "gpt-3", "--json", "--sampling-precision", "0.02"], capsys)
    assert code == 0, err
    cli = json.loads(out)
    code, out, err = run(["estimate", "gpt-3", "--json", "--samples", "4096"], capsys)
    assert code == 0, err
    assert json.loads(out) == cli and cli["samples"] == 4096

    import flopcast

    py = flopcast.estimate("gpt-3", sampling_precision=0.02).result
    assert py.samples == 4096
    assert py.cost_usd["cloud"].median == cli["cost_usd"]["cloud"]["median"]

    pytest.importorskip("fastapi", reason="the web app is an extra")
    from fastapi.testclient import TestClient

    from flopcast.web import create_app

    r = TestClient(create_app()).post("/api/estimate", json={"model": "gpt-3", "sampling_precision": 0.02})
    assert r.status_code == 200, r.text
    assert r.json()["cost_usd"] == cli["cost_usd"]


def test_the_front_ends_refuse_both_in_their_own_words(capsys):
    code, _, err = run(["estimate", "gpt-3", "--samples", "100", "--sampling-precision", "0.01"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "--samples=100 and --sampling-precision=0.01: give one of them" in err

    import flopcast

    with pytest.raises(InvalidInputError, match=r"^samples=100 and sampling_precision=0.01: give one of them"):
        flopcast.estimate("gpt-3", samples=100, sampling_precision=0.01)
    # random points: 65,536 x (0.01 / 0.001)^2 = 6,553,600
    with pytest.raises(InvalidInputError, match=r"sampling_precision=0.001 takes 6,553,600 random samples"):
        flopcast.deploy("llama-3-70b", hardware="h100", tokens_per_day=1e9, sampling_precision=0.001)

    pytest.importorskip("fastapi", reason="the web app is an extra")
    from fastapi.testclient import TestClient

    from flopcast.web import create_app

    client = TestClient(create_app())
    # a forecast draws random points and takes at most 10,000: 1% would take 65,536
    r = client.post("/api/forecast", json={"sampling_precision": 0.01})
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert "takes 65,536 random samples, more than the 10,000 allowed here" in item["msg"]
    r = client.post("/api/estimate", json={"model": "gpt-3", "samples": 100, "sampling_precision": 0.01})
    assert r.status_code == 422 and "give one of them" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    "argv",
    [
        ["costs", "--top", "3", "--format", "json"],
        ["trend", "cost", "--top", "5", "--json"],
        ["hardware", "plan", "--params", "7e9", "--tokens", "1e11", "--hardware", "h100,a100", "--json"],
        ["plan", "llama-2-70b", "--hardware", "h100", "--chips", "512", "--json"],
        ["deploy", "llama-3-70b", "--hardware", "h100", "--tokens-per-day", "1e9", "--json"],
        ["explain", "gpt-4", "gpt-3", "--json"],
    ],
)
def test_every_sampled_command_takes_a_precision(argv, capsys):
    # 0.02 is 4,096 Sobol (16,384 random) samples: the same output as asking for that count
    scheme = "random" if argv[0] == "deploy" else "sobol"
    count = sample_count(None, 0.02, scheme)
    code, by_precision, err = run([*argv, "--sampling-precision", "0.02"], capsys)
    assert code == 0, err
    code, by_count, err = run([*argv, "--samples", str(count)], capsys)
    assert code == 0, err
    assert json.loads(by_precision) == json.loads(by_count)
