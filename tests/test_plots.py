"""Trend plots: PNG and SVG written atomically, with title and caption."""

import os

import numpy as np
import pytest

from flopcast.errors import InvalidInputError
from flopcast.reporting.plots import plot_trend
from flopcast.trends import fit_trend

TITLE = "Amortized training cost of frontier models"
CAPTION = "Data: Epoch AI, Notable AI Models (snapshot 2025-01-15)"


@pytest.fixture(scope="module")
def series():
    rng = np.random.default_rng(0)
    years = np.sort(rng.uniform(2012, 2024, 40))
    values = 10 ** (3 + 0.4 * (years - 2012) + rng.normal(0, 0.3, 40))
    labels = [f"Model {i}" if i % 3 else "" for i in range(40)]
    fit = fit_trend(
        years, values, labels=labels, metric="Amortized training cost", unit="USD", bootstrap=200, breakpoint=True
    )
    return fit, years, values, labels


def test_png(series, tmp_path):
    fit, years, values, labels = series
    out = plot_trend(
        fit,
        years,
        values,
        tmp_path / "trend.png",
        labels=labels,
        extrapolate_to=2030,
        title=TITLE,
        ylabel="Amortized training cost (USD)",
        caption=CAPTION,
    )
    assert out == tmp_path / "trend.png"
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    assert [p.name for p in tmp_path.iterdir()] == ["trend.png"]  # no temporary file left


def test_svg_has_title_and_caption_text(series, tmp_path):
    fit, years, values, _ = series
    out = plot_trend(
        fit, years, values, str(tmp_path / "trend.svg"), title=TITLE, caption=CAPTION, extrapolate_to=2028.0
    )
    text = out.read_text(encoding="utf-8")
    assert "<svg" in text
    assert TITLE in text and CAPTION in text
    assert "Publication date" in text and "Amortized training cost (USD)" in text  # default y label has the unit
    assert "Model 38" in text  # a labelled large point (the fit's labels are the default)


def test_plain_fit_without_labels(tmp_path):
    fit = fit_trend([2019, 2020, 2021, 2022], [1e3, 1e4, 2e5, 1e6], bootstrap=0)
    out = plot_trend(fit, [2019, 2020, 2021, 2022], [1e3, 1e4, 2e5, 1e6], tmp_path / "t.svg")
    assert out.stat().st_size > 1000


@pytest.mark.parametrize("name", ["trend.pdf", "trend.jpg", "trend"])
def test_bad_suffix(series, tmp_path, name):
    fit, years, values, _ = series
    with pytest.raises(InvalidInputError, match=r"\.png, \.svg") as err:
        plot_trend(fit, years, values, tmp_path / name)
    assert (os.path.splitext(name)[1] or "(none)") in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_no_partial_file_on_error(series, tmp_path, monkeypatch):
    fit, years, values, _ = series
    target = tmp_path / "trend.png"
    target.write_bytes(b"old")
    from matplotlib.figure import Figure

    def boom(self, fh, **kwargs):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_trend(fit, years, values, target)
    assert target.read_bytes() == b"old"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["trend.png"]  # and no temporary file is left


def test_bad_data_and_folder(series, tmp_path):
    fit, years, values, _ = series
    with pytest.raises(InvalidInputError, match="does not exist"):
        plot_trend(fit, years, values, tmp_path / "nope" / "t.png")
    with pytest.raises(InvalidInputError, match=r"values\[0\]"):
        plot_trend(fit, years, np.r_[0.0, values[1:]], tmp_path / "t.png")
    with pytest.raises(InvalidInputError, match="labels"):
        plot_trend(fit, years, values, tmp_path / "t.png", labels=["a"])
    assert list(tmp_path.iterdir()) == []
