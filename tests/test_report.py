"""`flopcast report`: one self-contained HTML file with the same numbers as the CLI."""

import json
import re

import numpy as np
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


@pytest.fixture(scope="module")
def gpt3_est(epoch_dir):
    from flopcast.service import training_estimate

    # the report's own estimate: the same model, data, samples and seed
    return training_estimate("gpt-3", data=str(epoch_dir), samples=4000, seed=0, sensitivity=True)


def _visible_text(html: str) -> str:
    """What a reader sees: the body without styles, tags or SVG drawing (charts draw their text as paths)."""
    import html as html_lib

    body = html[html.index("<body>") :]
    body = re.sub(r"<svg.*?</svg>", " ", body, flags=re.DOTALL)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html_lib.unescape(body)).strip()


def test_report_first_sentence_gives_the_cost_interval_and_method(gpt3_html, gpt3_est):
    from flopcast.formatting import format_usd

    first = re.search(r'<p class="lead" id="headline">(.*?)</p>', gpt3_html, re.DOTALL)
    assert first is not None and gpt3_html.index('id="headline"') < gpt3_html.index('id="results"')
    s = gpt3_est.cost_usd["amortized"]
    text = _visible_text("<body>" + first.group(1))
    # the estimate's own median and 90% interval, e.g. "$1.98M (90% CI $998k-$4.02M)" on the snapshot
    expected = f"{format_usd(s.median)} (90% CI {format_usd(s.p5)}-{format_usd(s.p95)})"
    assert text.startswith(f"{gpt3_est.name}'s final training run cost {expected} by the amortized hardware")
    assert "method (Cottier et al. 2024)" in text and "nominal USD of 2020-05" in text
    # GPT-3 on the snapshot: about $2M amortized (Cottier et al. 2024's Figure 1 puts it between $1M and $10M)
    assert 1e6 < s.median < 1e7
    # the other methods follow, with theirs
    c = gpt3_est.cost_usd["cloud"]
    assert f"Cloud rental: {format_usd(c.median)} (90% CI {format_usd(c.p5)}-{format_usd(c.p95)})" in gpt3_html


def test_report_shows_no_raw_field_name(gpt3_html, gpt3_est):
    from flopcast.formatting import label

    text = _visible_text(gpt3_html)
    fields = {
        *gpt3_est.outputs(),
        *(r.name for r in gpt3_est.inputs),
        *gpt3_est.sensitivity,
        *(f"cost_usd.{m}" for m in gpt3_est.cost_usd),
    }
    raw = [f for f in fields if "_" in f and re.search(rf"(?<![\w.-]){re.escape(f)}(?![\w-])", text)]
    assert raw == []
    # nor any field-like name with a unit suffix (cost_usd.amortized, duration_s, memory_bytes)
    assert re.findall(r"\b[a-z]+(?:_[a-z0-9]+)*_(?:usd|s|bytes|flop|j|w|hours|fraction)\b|cost_usd\.", text) == []
    # the labels are there instead
    for key in ("cost_usd.amortized", "duration_s", "memory_bytes", "chip_price_usd", "price_usd_per_chip_hour"):
        assert label(key) in text, key
    assert "4,000 samples" in text  # a plural with its thousands separator


def test_report_tornado_chart_gives_each_inputs_swing_in_dollars(gpt3_html, gpt3_est):
    from flopcast.formatting import format_usd, label
    from flopcast.uncertainty.tornado import swings

    assert 'id="tornado"' in gpt3_html and 'id="swings"' in gpt3_html
    s = gpt3_est.cost_usd["amortized"]
    rows = swings(gpt3_est.sensitivity["cost_usd.amortized"], s.median, s.p5, s.p95, min_share=0.005)
    assert rows[0].input == "chip_price_usd"  # the chip's price drives the amortized cost (88% of the spread)
    # by hand: share 0.884, sqrt 0.940; p95/p5 = 4.03 gives x 4.03 ** 0.470 = 1.93 either side of $1.98M
    top = rows[0]
    ratio = (s.p95 / s.p5) ** (np.sqrt(top.share) / 2)
    assert (top.at_input_p5, top.at_input_p95) == pytest.approx((s.median / ratio, s.median * ratio), rel=1e-9)
    assert 1.7 < ratio < 2.2
    table = gpt3_html[gpt3_html.index('id="swings"') : gpt3_html.index("</table>", gpt3_html.index('id="swings"'))]
    for r in rows:
        # each input is a bar of the chart and a row of the table, with its two ends and its swing in dollars
        assert f'id="swing-{r.input}-low"' in gpt3_html and f'id="swing-{r.input}-high"' in gpt3_html
        assert label(r.input) in table
        for v in (r.at_input_p5, r.at_input_p95, r.swing):
            assert format_usd(v) in table


def test_report_labels_peers_on_the_trend_chart(gpt3_html):
    peers = re.search(r'<p class="muted" id="peers">[^<]*?of cost\): ([^<]*)\.</p>', gpt3_html)
    assert peers is not None
    names = peers.group(1).split(", ")
    assert len(names) == 6 and "GPT-3 175B (davinci)" not in names
    chart = gpt3_html[gpt3_html.index('id="trend-chart"') :]
    chart = chart[: chart.index("</svg>")]
    for n in names:
        assert f'id="peer-{re.sub(r"[^A-Za-z0-9]+", "-", n).strip("-")}"' in chart, n
    assert 'id="estimate-GPT-3-175B-davinci"' in chart
    # its neighbours on the frontier of 2019-2021 (OpenAI Five: December 2019, about $4M), not 2024's models
    assert "OpenAI Five" in names


def test_report_names_the_database_row_and_date(gpt3_html, epoch_dir):
    from flopcast.service import database

    db = database(str(epoch_dir))
    rec = db.find("gpt-3")
    row = re.search(r'<p class="muted" id="data-row">(.*?)</p>', gpt3_html, re.DOTALL)
    assert row is not None
    text = _visible_text("<body>" + row.group(1))
    assert f"Epoch's row “{rec.name}” (line {rec.line:,} of" in text and "key “gpt-3”" in text
    assert db.data_date and db.data_date in text  # the snapshot's date
    assert db.describe() in text


def test_report_shows_the_training_plan_as_the_cli_prints_it(gpt3_html, capsys, epoch_dir):
    # the run laid out on its own chip and reported cluster (GPT-3: 10,000 V100s, Brown et al. 2020 via Epoch's
    # row): the section names the `flopcast plan` command, and shows its layout and median wall-clock time as the
    # command prints them (one model, one number: the same training_plan call)
    section = gpt3_html[gpt3_html.index('<h2 id="plan">') : gpt3_html.index('<h2 id="deployment">')]
    text = _visible_text("<body>" + section)
    assert "flopcast plan gpt-3 --hardware v100-sxm2-32gb --samples 4000" in text
    code, out, err = run(
        ["plan", "gpt-3", "--hardware", "v100-sxm2-32gb", "--data", str(epoch_dir), "--samples", "4000"], capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    head = " ".join(" ".join(lines[:3]).split())  # the title line, which the terminal may wrap
    layout = head.split(": ", 1)[1].split(" Bound by ")[0].strip()
    assert layout.startswith("TP ") and layout in text
    wall = next(ln for ln in lines if "Wall-clock time (failures included)" in ln)
    median = wall.split("│")[2].strip()  # "10.7 days"
    assert f"Wall-clock time (failures included) {median}" in text
    assert head.split(" Bound by ")[1].split(".")[0] in text  # what binds: "reported cluster: ..."
    for term in ("weights", "optimizer states", "activations", "ZeRO-3 gather buffers"):
        assert term in text
    for row in ("MFU (of the steps)", "HFU (recompute included)", "Effective utilization (x goodput)", "Goodput"):
        assert row in text
