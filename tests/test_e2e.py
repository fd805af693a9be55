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
def browser(server):
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (Debian's chromium package); .ci/run installs it and runs these")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _new_page(browser, width: int = 1280, height: int = 800):
    pg = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    return pg


@pytest.fixture(scope="module")
def page(browser):
    pg = _new_page(browser)
    yield pg
    pg.close()


#: the two screens of the done-when: a laptop and a phone
SIZES = [(1280, 800), (390, 844)]


@pytest.fixture(scope="module", params=SIZES, ids=["laptop", "phone"])
def sized(request, browser):
    pg = _new_page(browser, *request.param)
    yield pg
    pg.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-loaded='1']")  # the script ran and filled the model lists


def _submit(page) -> None:
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)  # the results and chart are drawn


def _ready(page, state: str = "1") -> None:
    page.wait_for_selector(f"body[data-ready='{state}']", timeout=30_000)


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
    amortized = next(t for t in texts if t.startswith("Cost, amortized"))
    shown = _number(amortized.split("\t")[1])
    code, out, _ = run_cli(["estimate", "gpt-3", "--samples", "4000", "--json"], capsys)
    assert code == 0
    cli = json.loads(out)
    expected = cli["cost_usd"]["amortized"]["median"]
    assert shown == pytest.approx(expected, rel=0.005)  # shown to 3 significant figures
    # power and energy are shown too, in MW and MWh, with Epoch's own power figure beside them
    power = next(t for t in texts if t.startswith("Peak power"))
    shown_mw = float(power.split("\t")[1].split()[0].replace(",", ""))
    assert shown_mw == pytest.approx(cli["peak_power_w"]["median"] / 1e6, rel=0.005)
    assert any(t.startswith("Energy, facility-level") for t in texts)
    assert "Epoch's database gives a training power draw" in page.inner_text("#results")
    # the chart rendered: an SVG with one bar per histogram bin for each cost method
    assert page.locator("#chart svg rect.bar").count() == 3 * 60
    assert page.errors == []


def test_invalid_input_is_marked(page, server):
    _open(page, server + "/")
    page.fill("input[name=params]", "80B..60B")
    page.fill("input[name=tokens]", "2T")
    page.click("button[type=submit]")
    page.wait_for_selector(".field-error")
    # beside its field, with the field's label: "Parameters: low 8e+10 is greater than high 6e+10"
    assert "Parameters: low 8e+10 is greater than high 6e+10" in page.inner_text(
        "label:has(input[name=params]) .field-error"
    )
    assert "invalid" in page.get_attribute("input[name=params]", "class")


def test_deployment_hardware_and_trend_pages(page, server):
    _open(page, server + "/deploy")
    page.fill("input[name=model]", "bloom-176b")
    page.select_option("select[name=scenario]", "twitter-1pct")
    page.fill("input[name=samples]", "2000")
    _submit(page)
    assert "$ per million tokens" in page.inner_text("#results-table")
    assert "Time per output token" in page.inner_text("#results-table")
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
    _ready(page)  # the trend of the whole database is drawn at once, with the defaults
    page.fill("input[name=until]", "2023")
    page.fill("input[name=extrapolate]", "2030")
    _submit(page)
    # Cottier's 2.4x/yr; flopcast x2.55 (2.23-2.92), x2.59 (2.27-2.97) before issue 20's conditioned MFU prior
    assert "x2.55" in page.inner_text("#results-table")
    assert page.locator("#chart svg circle.point").count() > 10
    assert page.locator("#chart svg polygon.band-line").count() == 1
    assert page.errors == []


# -- issue 18: a page an analyst can send -----------------------------------------------------------------------

PAGES = ["/", "/deploy", "/hardware", "/trends"]
#: field keys a page must never show raw: the request fields and every labelled output and input
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _raw_keys(text: str) -> set[str]:
    from flopcast.formatting import LABELS
    from flopcast.web.schemas import DeployRequest, TrainingRequest, TrendRequest

    keys = set(LABELS) | set(TrainingRequest.model_fields) | set(DeployRequest.model_fields)
    keys |= set(TrendRequest.model_fields)
    found = set(_SNAKE.findall(text)) | set(re.findall(r"\bcost_usd\.[a-z]+\b", text))
    return {k for k in found if k in keys or k.startswith("cost_usd")}


def _no_horizontal_scroll(page) -> None:
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: the page is {width} px wide in a {inner} px window"


def _visible_text(page) -> str:
    return page.evaluate("document.body.innerText")


@pytest.mark.parametrize(
    "path",
    [
        "/?model=gpt-3&samples=2000",
        "/deploy?model=bloom-176b&scenario=twitter-1pct&samples=2000",
        "/hardware?a=v100&b=h100",
        "/trends",
    ],
)
def test_every_page_fits_the_screen_and_speaks_in_labels(sized, server, path):
    """At 1280x800 and 390x844: no horizontal scroll, the header's links on the dark header, histogram and axis
    text at least 11 px high, and no raw field key in the rendered text, with a result drawn (the query runs it)."""
    _open(sized, server + path)
    _ready(sized)
    _no_horizontal_scroll(sized)
    # every link of the header is inside the dark header (none falls onto the white page below it)
    inside = sized.evaluate(
        """() => { const h = document.querySelector('header').getBoundingClientRect();
        return [...document.querySelectorAll('header a')].every((a) => { const r = a.getBoundingClientRect();
          return r.top >= h.top && r.bottom <= h.bottom && r.right <= h.right && r.left >= h.left; }); }"""
    )
    assert inside
    # chart text is drawn at the chart's own width: each label's rendered height is 11 px or more
    heights = sized.evaluate(
        "[...document.querySelectorAll('#results svg text')].map((t) => t.getBoundingClientRect().height)"
    )
    assert min(heights, default=11) >= 11, min(heights)
    assert heights or path.startswith("/hardware")  # every page but the chip comparison draws a chart
    assert _raw_keys(_visible_text(sized)) == set()
    assert sized.errors == []


def test_a_warning_and_the_refused_case_of_gpt3_are_beside_the_result(sized, server):
    # GPT-3 with 1e12 parameters: 6ND = 6 x 1e12 x 300e9 = 1.8e24 FLOP on 3.55M V100-hours at 125 TFLOP/s implies
    # 1.8e24 / (3.552e6 x 3600 x 1.25e14) = 113% utilization: the estimate is refused, and the page says so beside
    # Parameters, naming the form's fields (not the CLI's --chips/--hours)
    _open(sized, server + "/?model=gpt-3&params=1e12&samples=2000")
    _ready(sized, "error")
    err = sized.inner_text("label:has(input[name=params]) .field-error")
    assert "imply 113% utilization" in err and "--" not in err
    assert "check Parameters/Training tokens/Training compute, FLOP against Chips/Days and Hardware" in err
    # GPT-3 with a training compute of 1e24 FLOP: 3.1x its 6ND (3.24e23 with the attention term), more than 3x: the
    # warning stands right under the result table, before anything else
    _open(sized, server + "/?model=gpt-3&compute=1e24&samples=2000")
    _ready(sized)
    warning = sized.locator("#result-notes .warning").first
    assert warning.is_visible()
    text = warning.inner_text()
    assert "differ by 3.1x" in text and text.startswith("Warning: Training compute:"), text
    table = sized.locator("#results-table").bounding_box()
    box = warning.bounding_box()
    assert 0 <= box["y"] - (table["y"] + table["height"]) < 60  # beside the result, not at the foot of the page
    _no_horizontal_scroll(sized)


@pytest.mark.parametrize(
    "value, words",
    [
        ("-5", "Parameters=-5 must be > 0"),  # the CLI: "--params=-5 must be > 0"
        ("1e400", "Parameters=1e400 is not finite"),  # the CLI: "--params='1e400' is not finite"
        ("lots", 'Parameters="lots" is not a number'),
    ],
)
def test_bad_input_is_beside_its_field_in_the_cli_words(page, server, value, words):
    _open(page, server + "/")
    page.fill("input[name=model]", "gpt-3")
    page.fill("input[name=params]", value)
    page.click("button[type=submit]")
    _ready(page, "error")
    err = page.locator("label:has(input[name=params]) .field-error")
    assert err.is_visible() and words in err.inner_text()
    assert page.get_attribute("input[name=params]", "aria-invalid") == "true"
    text = _visible_text(page)
    assert "constrained-float" not in text and "--chips" not in text and "list[" not in text


def test_the_server_says_a_bad_field_in_the_cli_words(page, server):
    # what the page shows for a value only the server refuses: utilization 1.5 (the CLI: "--utilization=1.5 is
    # outside (0, 1]"), beside Utilization
    _open(page, server + "/?model=gpt-3&utilization=1.5&samples=2000")
    _ready(page, "error")
    assert "Utilization (MFU)=1.5 must be <= 1" in page.inner_text("label:has(input[name=utilization]) .field-error")


def test_a_url_reproduces_the_form_and_the_result(page, browser, server):
    _open(page, server + "/")
    page.fill("input[name=model]", "gpt-3")
    page.fill("input[name=chips]", "8000")
    page.fill("input[name=samples]", "2000")
    _submit(page)
    url = page.url
    assert "model=gpt-3" in url and "chips=8000" in url
    first = page.inner_text("#results-table")
    other = _new_page(browser)  # a colleague opens the link
    _open(other, url)
    _ready(other)
    assert other.input_value("input[name=model]") == "gpt-3" and other.input_value("input[name=chips]") == "8000"
    assert other.inner_text("#results-table") == first
    other.close()


def test_gpt4o_is_found_and_estimated(sized, server):
    _open(sized, server + "/")
    box = sized.locator("input[name=model]")
    # the search box completes over every model of the database (Epoch's 1,800+ and the curated ones)
    assert sized.locator("datalist#model-names option").count() > 1800
    assert sized.locator("datalist#model-names option[value='GPT-4o']").count() == 1
    assert "GPT-4o" in sized.eval_on_selector(
        "input[name=model]",
        "el => el.list.id && [...el.list.options].map(o => o.value).filter(v => v.toLowerCase().includes('gpt-4o')).join(',')",
    )
    box.focus()
    sized.keyboard.type("GPT-4o")
    sized.fill("input[name=samples]", "2000")
    sized.keyboard.press("Enter")  # the keyboard alone submits the form
    _ready(sized)
    assert sized.inner_text("#results h2").startswith("GPT-4o")
    assert "$" in sized.inner_text("#results-table tr[data-key='cost_usd.amortized']")


def test_tornado_shows_each_inputs_swing_in_dollars(page, server):
    from flopcast.service import cost_swings, training_estimate

    _open(page, server + "/?model=gpt-3&samples=2000")
    _ready(page)
    rows = page.locator("table.sensitivity tr")
    texts = [rows.nth(i).inner_text() for i in range(1, rows.count())]
    est = training_estimate("gpt-3", samples=2000, sensitivity=True)
    swings = cost_swings(est, "amortized", min_share=0.005)
    # the same rows, in the same order (largest swing first), the purchase price first
    assert len(texts) == len(swings) and texts[0].startswith("Purchase price per chip")
    assert "0%" not in [t.split("\t")[-1] for t in texts]  # no row at 0%: under 0.5% is left out
    assert page.locator("#tornado svg rect").count() == len(swings)


_CONTRAST = """() => {
  const rgb = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return m.length > 3 && m[3] === 0 ? null : m.slice(0, 3); };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c) return c; } return [255, 255, 255]; };
  const worst = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || el.closest("svg, option, datalist") || !el.offsetParent) continue;
    const fg = rgb(getComputedStyle(el).color), b = bg(el);
    const [hi, lo] = [lum(fg), lum(b)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < 4.5) worst.push(`${n.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)}`);
  }
  return worst;
}"""


@pytest.mark.parametrize("path", ["/?model=gpt-3&compute=1e24&samples=2000", "/deploy", "/hardware", "/trends"])
def test_text_contrast_labels_and_keyboard(page, server, path):
    """WCAG AA: every text at least 4.5:1 against its background; every control has a label; focus is visible."""
    _open(page, server + path)
    if "?" in path or path == "/trends":
        _ready(page)
    assert page.evaluate(_CONTRAST) == []
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select')].filter((e) => !e.closest('label')).map((e) => e.name)"
    )
    assert unlabelled == []
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focused link or field shows where the keyboard is


def test_a_skipped_cost_says_why_in_its_row(page, server):
    # 7B parameters on 1T tokens with no chip: compute only; each cost's row says why it is missing, in the form's
    # words ("Hardware", not the CLI's "--hardware")
    _open(page, server + "/?params=7e9&tokens=1e12&samples=500")
    _ready(page)
    row = page.inner_text("#results-table tr[data-key='cost_usd.cloud']")
    assert "not estimated" in row and "no hardware given (Hardware)" in row and "--" not in row
