"""Regenerate the README's screenshots: the web app's calculator with GPT-3, and the HTML report of gpt-3.

    .venv/bin/python scripts/screenshots.py            # writes docs/img/web-calculator.png, docs/img/report.png
    .venv/bin/python scripts/screenshots.py --out DIR  # somewhere else

Headless Debian Chromium driven by Playwright, as tests/test_e2e.py does: the web app (`flopcast serve`'s app)
runs in this process on a free loopback port; the report is built by `flopcast.reporting.html.build_report`
and opened from a temporary file. Each PNG is one 1280x800 viewport (no full-page captures, so each stays
well under 300 KB). It takes about 10 s.

The calculator is opened at ``/?model=gpt-3`` (the form state in the URL); where the page does not run from
the URL, the script fills the model field and submits, so a change of the app's layout does not break it.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1280, "height": 800}
#: flags for a closed network, the same as tests/test_e2e.py
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAX_BYTES = 300 * 1024


def _serve():
    """The web app on a free loopback port, in a thread; returns (base URL, server)."""
    import uvicorn

    from flopcast.web import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("screenshots: the web app did not start within 15 s")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def _calculator(page, base: str, path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{base}/?model=gpt-3")
    try:  # the result drawn from the URL's state
        page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    except PlaywrightTimeout:  # the page did not run from the URL: fall back to the form
        page.goto(f"{base}/")
        page.wait_for_load_state("networkidle")
        page.fill("input[name=model]", "gpt-3")
        page.click("button[type=submit]")
        try:
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        except PlaywrightTimeout:  # an app without the ready flag: wait for its requests instead
            page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # let the charts finish their transitions
    page.screenshot(path=str(path))


def _report(page, path: Path) -> None:
    from flopcast.reporting.html import build_report, write_report

    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "gpt-3.html"
        write_report(html, build_report("gpt-3"))
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNGs")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("screenshots: Chromium is not installed (Debian's chromium package)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    base, server = _serve()
    shots = {"web-calculator.png": None, "report.png": None}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
            page = browser.new_page(viewport=VIEWPORT)
            # written beside the targets, then moved: a failed run leaves the old images in place
            tmp = {name: args.out / f".{name}.tmp.png" for name in shots}
            _calculator(page, base, tmp["web-calculator.png"])
            _report(page, tmp["report.png"])
            browser.close()
        for name, t in tmp.items():
            t.replace(args.out / name)
    finally:
        server.should_exit = True
    for name in shots:
        size = (args.out / name).stat().st_size
        flag = "" if size <= MAX_BYTES else f"  (over {MAX_BYTES // 1024} KB)"
        print(f"wrote {args.out / name} ({size / 1024:,.0f} KB){flag}")
    print(f"screenshots: {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
