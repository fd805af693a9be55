"""One registry of cost methods: every list of choices (CLI, web schema, pages, docs) is derived from it."""

from pathlib import Path

import pytest

from flopcast.methods import COST_METHODS, METHOD_CHOICES, METHOD_NAMES, markdown_table, parse_methods

ROOT = Path(__file__).resolve().parents[1]


def test_registry_names_inputs_and_stage_functions():
    assert METHOD_NAMES == ("cloud", "amortized", "acquisition") and METHOD_CHOICES[-1] == "all"
    for m in COST_METHODS.values():
        assert m.title and m.description and m.needs and callable(m.cost)
    assert parse_methods(None) == (METHOD_NAMES, False) and parse_methods("all") == (METHOD_NAMES, False)
    assert parse_methods("cloud") == (("cloud",), True)
    with pytest.raises(ValueError, match="method='rent' is not one of cloud, amortized, acquisition, all"):
        parse_methods("rent")


def test_docs_methods_table_is_the_registry():
    assert markdown_table() in (ROOT / "docs" / "methods.md").read_text(), (
        "docs/methods.md: paste flopcast.methods.markdown_table() between the methods-table markers"
    )


def test_web_schema_and_pages_take_the_registry():
    pytest.importorskip("fastapi", reason="the web app is an extra")
    from typing import get_args

    from flopcast.web.app import _render
    from flopcast.web.schemas import TrainingRequest, TrendRequest

    assert get_args(TrainingRequest.model_fields["method"].annotation) == METHOD_CHOICES
    assert get_args(TrendRequest.model_fields["cost_method"].annotation) == METHOD_NAMES
    page = _render("calculator.html")
    assert all(f"<option{' selected' if m == 'all' else ''}>{m}</option>" in page for m in METHOD_CHOICES)
    assert "<option selected>amortized</option>" in _render("trends.html")


def test_cli_choices_come_from_the_registry():

    from flopcast.cli.app import tree

    cmd = tree()
    for name, option in (("estimate", "method"), ("costs", "method"), ("trend", "cost_method")):
        param = next(p for p in cmd.commands[name].params if p.name == option)
        names = METHOD_CHOICES if option == "method" else METHOD_NAMES
        assert all(m in param.help for m in names), (name, param.help)


def test_shared_options_have_one_default_everywhere():
    """One name per option across commands, with the same default: every CLI command and API body that takes a
    shared option defaults it to service.DEFAULTS (8,192 sobol samples for 1%, seed 0, every method, 3-year cloud...)."""

    from flopcast.cli.app import tree
    from flopcast.service import DEFAULTS, sample_count

    assert DEFAULTS["samples"] == 8_192 and DEFAULTS["seed"] == 0 and DEFAULTS["sampling"] == "sobol"
    assert DEFAULTS["cost_method"] == "amortized" and DEFAULTS["cloud_tier"] == "3y" and DEFAULTS["method"] == "all"

    def commands(group, prefix=""):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                yield from commands(cmd, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", cmd

    checked = 0
    for name, cmd in commands(tree()):
        for p in cmd.params:
            if p.name == "samples":  # none given (--samples or --sampling-precision): sample_count's default count
                assert p.default is None and sample_count(None, None) == DEFAULTS["samples"], name
                checked += 1
            elif p.name in DEFAULTS and not (name == "mfu measure" and p.name == "seed"):
                assert p.default == DEFAULTS[p.name], (name, p.name, p.default)
                checked += 1
    assert checked >= 25
    pytest.importorskip("fastapi", reason="the web app is an extra")
    from flopcast.web import schemas

    for body in (schemas.TrainingRequest, schemas.DeployRequest, schemas.TrendRequest):
        for field, info in body.model_fields.items():
            if field in DEFAULTS:
                assert info.default == DEFAULTS[field], (body.__name__, field, info.default)
