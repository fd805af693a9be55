"""End to end in a real headless browser: Debian's Chromium driven by Playwright against `flopcast serve`."""

import os
import re
import shutil
import socket
import threading
import time

import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="part of the test extra")
uvicorn = pytest.importorskip("uvicorn")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# flags for a closed network: no background connections, no component updates (see the tool notes)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: set by .ci/run: there a missing browser is a failure, under `make test` a skip with the reason
REQUIRED = os.environ.get("FLOPCAST_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="module")
def server():
    from flopcast.web import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (Debian's chromium package); .ci/run installs it and runs these")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        pg = browser.new_page()
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.errors = errors
        yield pg
        browser.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-loaded='1']")  # the script ran and filled the model lists


def _submit(page) -> None:
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)  # the results and chart are drawn


def _number(text: str) -> float:
    m = re.match(r"\$([\d.]+)([kMB]?)", text.strip())
    return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "B": 1e9}[m.group(2)]


def test_training_calculator(page, server, capsys):
    import json

    from flopcast.testing import run_cli

    _open(page, server + "/")
    # every model of the database is offered (a datalist of names); GPT-4o is one
    assert page.locator("datalist#model-names option").count() > 1800
    assert page.locator("datalist#model-names option[value='GPT-4o']").count() == 1
    page.fill("input[name=model]", "gpt-3")
    page.fill("input[name=samples]", "4000")
    _submit(page)
    rows = page.locator("#results-table tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    amortized = next(t for t in texts if t.startswith("cost (amortized)"))
    shown = _number(amortized.split("\t")[1])
    code, out, _ = run_cli(["estimate", "gpt-3", "--samples", "4000", "--json"], capsys)
    assert code == 0
    cli = json.loads(out)
    expected = cli["cost_usd"]["amortized"]["median"]
    assert shown == pytest.approx(expected, rel=0.005)  # shown to 3 significant figures
    # power and energy are shown too, in MW and MWh, with Epoch's own power figure beside them
    power = next(t for t in texts if t.startswith("peak power"))
    shown_mw = float(power.split("\t")[1].split()[0].replace(",", ""))
    assert shown_mw == pytest.approx(cli["peak_power_w"]["median"] / 1e6, rel=0.005)
    assert any(t.startswith("energy, facility-level") for t in texts)
    assert "Epoch's database gives a training power draw" in page.inner_text("#extra")
    # the chart rendered: an SVG with one bar per histogram bin for each cost method
    assert page.locator("#chart svg rect.bar").count() == 3 * 60
    assert page.errors == []


def test_invalid_input_is_marked(page, server):
    _open(page, server + "/")
    page.fill("input[name=params]", "80B..60B")
    page.fill("input[name=tokens]", "2T")
    page.click("button[type=submit]")
    page.wait_for_selector(".status.error")
    assert "greater than high" in page.inner_text(".status")
    assert "invalid" in page.get_attribute("input[name=params]", "class")


def test_deployment_hardware_and_trend_pages(page, server):
    _open(page, server + "/deploy")
    page.select_option("select[name=model]", "bloom-176b")
    page.select_option("select[name=scenario]", "twitter-1pct")
    page.fill("input[name=samples]", "2000")
    _submit(page)
    assert "$ per million tokens" in page.inner_text("#results-table")
    assert "time per output token" in page.inner_text("#results-table")
    assert page.locator("#chart svg rect.bar").count() == 60
    # the planner's answer: the configuration it chose and whether a latency target binds, as the CLI says
    results = page.inner_text("#results")
    assert "configurations that fit, within time to first token" in results and "binds" in results
    # prompts on instances of their own, chosen in the form, reach the planner
    page.select_option("select[name=scenario]", "one-million-developers")
    page.select_option("select[name=disaggregated]", "true")
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('#results').innerText.includes('prefill on instances')")

    _open(page, server + "/hardware")
    _submit(page)
    assert "2.50x" in page.inner_text("#results-table")  # A100 / V100 peak: 312 / 125

    _open(page, server + "/trends")
    page.fill("input[name=until]", "2023")
    page.fill("input[name=extrapolate]", "2030")
    _submit(page)
    assert "x2.59" in page.inner_text("#results-table")  # Cottier's 2.4x/yr; flopcast x2.59 (2.27-2.97)
    assert page.locator("#chart svg circle.point").count() > 10
    assert page.locator("#chart svg polygon.band-line").count() == 1
    assert page.errors == []
