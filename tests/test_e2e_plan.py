"""The training plan page (`/plan`) in a real headless browser, as tests/test_e2e.py drives the other pages: the
layout, the memory per rank and the time of `flopcast plan`, a refused layout beside the form, and the page fitting
a laptop and a phone."""

import json
import re

import pytest

from flopcast.testing import run_cli

pytest.importorskip("playwright.sync_api", reason="part of the test extra")
pytest.importorskip("uvicorn")
from test_e2e import (  # the server, the browser (skipped with a one-line reason without Chromium) and the helpers
    SIZES,
    _new_page,
    _no_horizontal_scroll,
    _open,
    _ready,
    _submit,
    _visible_text,
    browser,  # noqa: F401 (a fixture)
    page,  # noqa: F401 (a fixture)
    server,  # noqa: F401 (a fixture)
)

_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


@pytest.fixture(scope="module", params=SIZES, ids=["laptop", "phone"])
def sized(request, browser):  # noqa: F811
    pg = _new_page(browser, *request.param)
    yield pg
    pg.close()


def test_the_plan_page_shows_the_cli_plan(page, server, capsys):  # noqa: F811
    _open(page, server + "/plan")
    page.fill("input[name=model]", "llama-3.1-405b")
    page.fill("input[name=chips]", "16384")
    page.fill("input[name=global_batch_tokens]", "16M")
    page.fill("input[name=samples]", "2000")
    _submit(page)
    code, out, _ = run_cli(
        ["plan", "llama-3.1-405b", "--chips", "16384", "--global-batch-tokens", "16e6", "--samples", "2000", "--json"],
        capsys,
    )
    assert code == 0
    cli = json.loads(out)
    from flopcast.formatting import format_value

    assert cli["layout"]["describe"] in page.inner_text("#results h2")
    assert page.inner_text("#plan-binding").startswith(f"Bound by {cli['binding']}")
    wall = page.inner_text("#results-table tr[data-key='duration_s']")
    assert format_value(cli["duration_s"]["median"], "s") in wall and "\u2013" in wall  # the median, its interval
    memory = page.inner_text("#plan-memory")
    for term in ("weights", "gradients", "optimizer states", "activations", "ZeRO-3 gather buffers", "Total"):
        assert term in memory
    assert format_value(cli["memory_per_rank_bytes"]["total"], "bytes") in memory
    for key in ("mfu", "hfu", "effective_utilization", "goodput", "cost_usd.amortized"):
        assert page.locator(f"#results-table tr[data-key='{key}']").count() == 1, key
    assert page.locator("#plan-alternatives tr").count() == 1 + len(cli["alternatives"])
    assert "global_batch_tokens=16M" in page.url  # the URL holds the form
    assert page.errors == []


def test_a_refused_layout_says_why_and_the_page_fits_the_screen(sized, server):  # noqa: F811
    # Llama 2 70B under ZeRO-3, no tensor or pipeline parallelism, micro-batch 1, selective recompute on 64 chips:
    # refused with the reason and a layout that fits (issue 20's case), said on the page in the form's words
    _open(sized, server + "/plan?model=llama-2-70b&chips=64&tp=1&pp=1&zero=3&micro_batch=1&recompute=selective")
    _ready(sized, "error")
    status = sized.inner_text("#plan-form .status")
    assert "activations alone" in status and "a layout that fits:" in status
    # a plan that runs from its URL, at the laptop's and the phone's width: no horizontal scroll, no raw keys
    _open(sized, server + "/plan?model=llama-2-70b&chips=2048&samples=2000")
    _ready(sized)
    _no_horizontal_scroll(sized)
    from flopcast.web.schemas import PlanRequest

    text = re.sub(r"\b[\w.-]+\.csv\b", " ", _visible_text(sized))  # a catalog file is named as it is
    assert {k for k in _SNAKE.findall(text) if k in PlanRequest.model_fields} == set()
    assert "--" not in sized.inner_text("#result-notes")  # the CLI's flags are said with the form's labels
    assert sized.errors == []
