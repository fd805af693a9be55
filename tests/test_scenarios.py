"""Deployment scenarios: bundled files, load arithmetic, and validation of malformed files."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from flopcast.errors import CatalogError, MissingInputError, UnknownNameError
from flopcast.scenarios import LoadSpec, generated_tokens_per_day, list_scenarios, load_scenario, scenario_names
from flopcast.uncertainty.distributions import LogNormal, Point

BUNDLED = ["150m-words-per-day", "chat-assistant", "one-million-developers", "twitter-1pct"]


# -- bundled scenarios -------------------------------------------------------------------


def test_every_bundled_scenario_loads_cleanly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unused inputs in shipped files
        scenarios = list_scenarios()
    assert [s.key for s in scenarios] == BUNDLED == scenario_names()
    for s in scenarios:
        assert s.source_file == f"bundled:scenarios/{s.key}.toml"
        assert s.title and s.description and s.duration_days > 0
        assert load_scenario(s.key).key == s.key
        assert s.central_generated_tokens_per_day() > 0


@pytest.mark.parametrize("key", BUNDLED)
def test_every_input_is_cited(key):
    s = load_scenario(key)
    for inp in s.inputs.values():
        assert inp.source.strip(), f"{key}: input {inp.name} has no source"
        assert inp.unit.strip(), f"{key}: input {inp.name} has no unit"


def test_150m_words_per_day():
    # Cottier (2022): one self-hosted BLOOM instance writes about 150M English words a day.
    # OpenAI's rule of thumb: 0.75 words per token -> 4/3 tokens per word; the interval
    # 1.2..1.4814815 has geometric mean sqrt(1.2 * 1.4814815) = sqrt(16/9) = 4/3.
    # Central load: 150e6 words/day * 4/3 tokens/word = 2.0e8 tokens/day.
    s = load_scenario("150m-words-per-day")
    assert s.inputs["words_per_day"].distribution.is_point
    c = s.central_values()
    assert c["words_per_day"] == 150e6
    assert math.isclose(c["tokens_per_word"], 4 / 3, rel_tol=1e-6)
    assert math.isclose(s.central_generated_tokens_per_day(), 150e6 * c["tokens_per_word"], rel_tol=1e-12)
    assert math.isclose(s.central_generated_tokens_per_day(), 2.0e8, rel_tol=1e-6)
    assert s.central_prompt_tokens_per_day() == 0.0  # no prompt ratio in this scenario


def test_twitter_1pct():
    # 1% of Twitter: 0.01 * tweets/day * words/tweet * tokens/word at the medians:
    # tweets/day sqrt(4e8 * 6.25e8) = 5e8 (Twitter's "500 million Tweets a day", 2013);
    # words/tweet sqrt(9 * 25) = 15; tokens/word 4/3.
    # 0.01 * 5e8 * 15 * 4/3 = 5e6 * 20 = 1.0e8 tokens/day.
    s = load_scenario("twitter-1pct")
    c = s.central_values()
    assert math.isclose(c["tweets_per_day"], 5e8, rel_tol=1e-12)
    assert math.isclose(c["words_per_tweet"], 15.0, rel_tol=1e-12)
    expected = 0.01 * c["tweets_per_day"] * c["words_per_tweet"] * c["tokens_per_word"]
    assert math.isclose(s.central_generated_tokens_per_day(), expected, rel_tol=1e-12)
    assert math.isclose(s.central_generated_tokens_per_day(), 1.0e8, rel_tol=1e-6)
    # all factors lognormal or points: the load has a closed form whose median is the central value
    d = s.generated_tokens_per_day_distribution()
    assert isinstance(d, LogNormal)
    assert math.isclose(d.median, expected, rel_tol=1e-9)


def test_prompt_tokens_and_central_values_of_the_other_scenarios():
    # one million developers x sqrt(1e3 * 3e4) = sqrt(3e7) = 5477.2 tokens -> 5.477e9 tokens/day;
    # prompt ratio sqrt(5 * 100) = sqrt(500) = 22.36 -> 1.2247e11 prompt tokens/day
    dev = load_scenario("one-million-developers")
    assert math.isclose(dev.central_generated_tokens_per_day(), 1e6 * math.sqrt(3e7), rel_tol=1e-12)
    assert math.isclose(dev.central_prompt_tokens_per_day(), 1e6 * math.sqrt(3e7) * math.sqrt(500), rel_tol=1e-12)
    # 1e8 weekly users x sqrt(200 * 5000) = 1000 tokens -> 1e11 tokens/day
    chat = load_scenario("chat-assistant")
    assert math.isclose(chat.central_generated_tokens_per_day(), 1e11, rel_tol=1e-12)


def test_stage_functions_scalar_array_and_broadcast():
    load = LoadSpec(("a", "b"), "r")
    assert generated_tokens_per_day(load, {"a": 2.0, "b": 3.0}) == 6.0
    arr = generated_tokens_per_day(load, {"a": np.array([1.0, 2.0]), "b": 3.0})
    np.testing.assert_allclose(arr, [3.0, 6.0])
    grid = generated_tokens_per_day(load, {"a": np.array([[1.0], [2.0]]), "b": np.array([1.0, 10.0])})
    assert grid.shape == (2, 2)
    s = load_scenario("chat-assistant")
    vals = {
        "weekly_active_users": 1e8,
        "tokens_per_user_per_day": np.array([100.0, 1000.0]),
        "prompt_tokens_per_generated_token": 2.0,
    }
    np.testing.assert_allclose(s.prompt_tokens_per_day(vals), [2e10, 2e11])
    with pytest.raises(MissingInputError, match="tokens_per_user_per_day"):
        s.generated_tokens_per_day({"weekly_active_users": 1e8})


def test_distributions_feed_the_load_with_samples():
    s = load_scenario("twitter-1pct")
    dists = s.distributions()
    assert set(dists) == set(s.inputs)  # unprefixed names
    assert isinstance(dists["fraction_of_twitter"], Point)
    u = np.random.default_rng(0).uniform(size=(len(dists), 20_000))
    samples = {name: d.ppf(u[i]) for i, (name, d) in enumerate(dists.items())}
    tpd = s.generated_tokens_per_day(samples)
    assert tpd.shape == (20_000,) and (tpd > 0).all()
    assert math.isclose(np.median(tpd), 1e8, rel_tol=0.03)


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownNameError) as exc:
        load_scenario("no-such-scenario")
    for key in BUNDLED:
        assert key in str(exc.value)


# -- user files and validation ------------------------------------------------------------

GOOD = """\
name = "my-app"
title = "My app"
duration_days = 30

[inputs.users]
low = 1e3
high = 1e4
unit = "users"
source = "my analytics"

[inputs.tokens_per_user_per_day]
value = 500
unit = "tokens/day"
source = "my logs"

[load]
generated_tokens_per_day = ["users", "tokens_per_user_per_day"]
"""


def _write(tmp_path, text, name="scenario.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_user_file_loads_by_path(tmp_path):
    p = _write(tmp_path, GOOD)
    for arg in (p, str(p)):
        s = load_scenario(arg)
        assert s.key == "my-app" and s.duration_days == 30 and s.source_file == str(p)
        # sqrt(1e3 * 1e4) = 3162.28 users x 500 tokens
        assert math.isclose(s.central_generated_tokens_per_day(), math.sqrt(1e7) * 500, rel_tol=1e-12)
        assert s.central_prompt_tokens_per_day() == 0.0


def test_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")


BAD_CASES = [
    # (description, transform of GOOD, field expected in the message, other text expected)
    ("missing name", lambda t: t.replace('name = "my-app"\n', ""), "'name'", "missing"),
    ("missing duration", lambda t: t.replace("duration_days = 30\n", ""), "'duration_days'", "missing"),
    (
        "missing inputs",
        lambda t: t.split("[inputs.users]")[0] + "[load]\ngenerated_tokens_per_day = ['users']\n",
        "'inputs'",
        "missing",
    ),
    ("missing load", lambda t: t.split("[load]")[0], "'load'", "missing"),
    (
        "no value nor low/high",
        lambda t: t.replace("value = 500\n", ""),
        "'inputs.tokens_per_user_per_day'",
        "neither value nor low and high",
    ),
    ("low without high", lambda t: t.replace("high = 1e4\n", ""), "'inputs.users'", "no high"),
    ("low > high", lambda t: t.replace("low = 1e3", "low = 1e5"), "'inputs.users'", "low=100000 > high=10000"),
    (
        "non-numeric value",
        lambda t: t.replace("value = 500", 'value = "500"'),
        "'inputs.tokens_per_user_per_day.value'",
        "is a str; expected a number",
    ),
    (
        "boolean value",
        lambda t: t.replace("value = 500", "value = true"),
        "'inputs.tokens_per_user_per_day.value'",
        "is a bool; expected a number",
    ),
    (
        "zero value",
        lambda t: t.replace("value = 500", "value = 0"),
        "'inputs.tokens_per_user_per_day.value'",
        "must be > 0",
    ),
    ("negative low", lambda t: t.replace("low = 1e3", "low = -1e3"), "'inputs.users.low'", "must be > 0"),
    (
        "non-positive duration",
        lambda t: t.replace("duration_days = 30", "duration_days = 0"),
        "'duration_days'",
        "must be > 0",
    ),
    (
        "string duration",
        lambda t: t.replace("duration_days = 30", 'duration_days = "30 days"'),
        "'duration_days'",
        "is a str; expected a number",
    ),
    (
        "load refers to unknown input",
        lambda t: t.replace('["users", ', '["userz", '),
        "'load.generated_tokens_per_day'",
        "unknown input 'userz'",
    ),
    (
        "prompt ratio refers to unknown input",
        lambda t: t + 'prompt_tokens_per_generated_token = "ratio"\n',
        "'load.prompt_tokens_per_generated_token'",
        "unknown input 'ratio'",
    ),
    (
        "load factors not a list",
        lambda t: t.replace('["users", "tokens_per_user_per_day"]', "3"),
        "'load.generated_tokens_per_day'",
        "expected a non-empty list",
    ),
    (
        "unknown top-level key",
        lambda t: t.replace("duration_days = 30", "duration_days = 30\nduraton = 3"),
        "'duraton'",
        "unknown key",
    ),
    (
        "unknown input key",
        lambda t: t.replace('unit = "users"', 'unit = "users"\nmedian = 3'),
        "'median'",
        "[inputs.users]",
    ),
    (
        "empty source",
        lambda t: t.replace('source = "my logs"', 'source = ""'),
        "'inputs.tokens_per_user_per_day.source'",
        "empty",
    ),
    (
        "value and interval",
        lambda t: t.replace("value = 500", "value = 500\nlow = 1\nhigh = 2"),
        "'inputs.tokens_per_user_per_day'",
        "both value and low/high",
    ),
    (
        "bad kind",
        lambda t: t.replace('unit = "users"', 'unit = "users"\nkind = "gamma"'),
        "'inputs.users.kind'",
        "lognormal, normal, beta",
    ),
]


@pytest.mark.parametrize("case", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_malformed_files_name_the_file_and_field(tmp_path, case):
    _, transform, field, text = case
    p = _write(tmp_path, transform(GOOD), name="bad-scenario.toml")
    with pytest.raises(CatalogError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert "bad-scenario.toml" in msg
    assert field in msg
    assert text in msg


def test_toml_syntax_error_reports_the_line(tmp_path):
    p = _write(tmp_path, GOOD.replace("duration_days = 30", "duration_days 30"), name="broken.toml")
    with pytest.raises(CatalogError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert "broken.toml" in msg and "TOML syntax error" in msg
    assert "line 3" in msg  # duration_days is on line 3


def test_unused_input_warns(tmp_path):
    p = _write(tmp_path, GOOD.replace("[load]", '[inputs.extra]\nvalue = 2\nunit = "x"\nsource = "s"\n\n[load]'))
    with pytest.warns(UserWarning, match="extra"):
        load_scenario(p)
