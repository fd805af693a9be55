"""The report in a real headless browser (Debian's Chromium via Playwright): it fits a laptop and a phone."""

import os
import shutil

import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="part of the test extra")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
REQUIRED = os.environ.get("FLOPCAST_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="module")
def report_path(tmp_path_factory):
    from flopcast.reporting.html import build_report, write_report

    path = tmp_path_factory.mktemp("report") / "gpt-3.html"
    write_report(path, build_report("gpt-3", samples=2000, seed=0))
    return path


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (Debian's chromium package); .ci/run installs it and runs these")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_report_has_no_horizontal_scroll(browser, report_path, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(report_path.as_uri())
        # the page itself never scrolls sideways (it was 1,442 px wide on a 1,280 px screen)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # nothing pokes out of the viewport, except inside a table's own scrolling box
        out = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 0.5)
                 .map(e => e.tagName)"""
        )
        assert out == []
        # the charts scale to the column: each fits the page and keeps its proportions
        for box in page.evaluate(
            "[...document.querySelectorAll('.chart svg')].map(s => s.getBoundingClientRect().width)"
        ):
            assert 0 < box <= width
        # the first sentence is the first thing read, on screen without scrolling
        lead = page.locator("#headline").bounding_box()
        assert lead is not None and lead["y"] + lead["height"] <= height
    finally:
        page.close()
