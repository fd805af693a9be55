"""`flopcast report`: one self-contained HTML file with the same numbers as the CLI."""

import json
import re

import pytest

from flopcast.reporting.html import build_report
from flopcast.testing import run_cli as run


@pytest.fixture(scope="module")
def gpt3_html(epoch_dir):
    return build_report("gpt-3", data=str(epoch_dir), samples=4000, seed=0)


def test_report_is_self_contained(gpt3_html):
    # nothing that a browser would fetch: no external scripts, stylesheets, images or fonts
    assert not re.search(r"<script[^>]+src=", gpt3_html)
    assert not re.search(r"<link[^>]+href=", gpt3_html)
    assert not re.search(r"""(src|href)=["']https?://""", gpt3_html)
    assert "url(http" not in gpt3_html and "@import" not in gpt3_html
    assert gpt3_html.count("<svg") >= 3  # distributions, sensitivity, trend


def test_report_has_every_section_and_the_cli_numbers(gpt3_html, capsys, epoch_dir):
    for anchor in ("results", "inputs", "distributions", "sensitivity", "hardware", "deployment", "trend"):
        assert f'id="{anchor}"' in gpt3_html
    # provenance of the inputs is shown
    assert "reported" in gpt3_html and ("imputed" in gpt3_html or "default" in gpt3_html)
    # the same estimate through the CLI: its medians appear in the report, formatted the same way
    code, out, _ = run(["estimate", "gpt-3", "--data", str(epoch_dir), "--samples", "4000", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    from flopcast.formatting import format_value

    for m in ("cloud", "amortized", "acquisition"):
        assert format_value(d["cost_usd"][m]["median"], "USD") in gpt3_html
        # and the point estimate (every input at its central value) is the central column
        assert format_value(d["cost_usd"][m]["central"], "USD") in gpt3_html
    # power and energy are reported too, in the CLI's units
    assert format_value(d["energy_facility_j"]["median"], "J") in gpt3_html
    # the hardware comparison has the V100 -> A100 peak ratio 312 / 125 = 2.50x
    assert "2.50x" in gpt3_html
    # the trend section places the model against the fitted growth
    assert "the trend at its release date" in gpt3_html


def test_report_cli_writes_atomically_and_rejects_bad_input(capsys, tmp_path):
    out = tmp_path / "r.html"
    code, text, _ = run(
        [
            "report",
            "--params",
            "7e9",
            "--tokens",
            "1e12",
            "--hardware",
            "a100",
            "--chips",
            "64",
            "--utilization",
            "0.4",
            "--samples",
            "2000",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0 and out.exists() and "wrote" in text
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left behind
    code, _, err = run(["report", "gpt-3", "--out", str(tmp_path / "r.pdf")], capsys)
    assert code == 2 and "must end in .html" in err
    code, _, err = run(["report", "nosuchmodel", "--out", str(tmp_path / "x.html")], capsys)
    assert code == 2 and "unknown model" in err and not (tmp_path / "x.html").exists()
