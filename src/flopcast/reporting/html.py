"""``flopcast report``: one self-contained HTML file per estimate, to share.

Everything is inline (CSS, SVG charts drawn with matplotlib), so the file opens with no
network. The numbers come from :mod:`flopcast.service` and the deployment chain, the same
functions the CLI and the web app call. Needs ``flopcast[report]`` (Jinja2, matplotlib).

The file is byte-reproducible: the same inputs, data and seed give the same bytes. It holds no
clock time (it names the data's date), and the SVG charts carry no date and take their element
ids from a fixed salt per chart rather than from random numbers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from flopcast.defaults import DEFAULT_COST_METHOD, DEFAULT_SAMPLES, DEFAULT_SEED
from flopcast.errors import FlopcastError, MissingInputError
from flopcast.formatting import OUTPUT_LABELS

#: chips the report compares the model's chip with, newest first
COMPARE_WITH = ("h100", "a100", "v100")
DEFAULT_SCENARIO = "twitter-1pct"


def _jinja():
    try:
        import jinja2
    except ImportError:  # pragma: no cover - the report extra installs it
        raise MissingInputError("reports need Jinja2 and matplotlib: pip install 'flopcast[report]'") from None
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from flopcast import formatting as F

    env.filters.update(
        value=F.format_value,
        usd=F.format_usd,
        sci=F.format_sci,
        summary=F.format_summary,
        pct=lambda x: f"{x:.0%}" if x is not None else "-",
        deploy_label=F.deployment_label,
    )
    return env


def _template_source(name: str) -> str:
    return resources.files("flopcast.reporting").joinpath("templates", name).read_text(encoding="utf-8")


def _svg(fig, salt: str) -> str:
    """The figure as inline SVG, the same bytes on every run: no date in its metadata, and element ids
    hashed from ``salt`` (one per chart, so that two charts of one page never share an id) instead of
    random ones."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"flopcast-report-{salt}"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inlined in HTML


def _figure(width=6.4, height=3.0):
    from flopcast.reporting.plots import _import_matplotlib

    _, Figure, FigureCanvasAgg = _import_matplotlib()
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def cost_histograms_svg(cost: dict) -> str:
    """One log-x histogram per cost method, median and 90% interval marked."""
    from flopcast import formatting as F

    methods = [(m, s) for m, s in cost.items() if s.samples is not None]
    fig = _figure(6.4, 1.0 + 1.3 * max(len(methods), 1))
    for i, (m, s) in enumerate(methods):
        ax = fig.add_subplot(len(methods), 1, i + 1)
        x = np.log10(np.asarray(s.samples)[np.asarray(s.samples) > 0])
        ax.hist(x, bins=60, color="#4c78a8", alpha=0.85)
        for q, style in ((s.p5, ":"), (s.median, "-"), (s.p95, ":")):
            ax.axvline(np.log10(q), color="#d62728", linestyle=style, linewidth=1.2)
        ax.set_yticks([])
        ax.set_ylabel(m, rotation=0, ha="right", va="center")
        lo, hi = np.floor(x.min()), np.ceil(x.max())
        ticks = np.arange(lo, hi + 1)
        ax.set_xticks(ticks)
        ax.set_xticklabels([F.format_usd(10**t) for t in ticks], fontsize=8)
    fig.suptitle("Training cost, USD (log scale): median solid, 90% interval dotted", fontsize=10)
    return _svg(fig, "distributions")


def sensitivity_svg(rows) -> str:
    fig = _figure(6.4, 0.6 + 0.35 * len(rows))
    ax = fig.add_subplot(1, 1, 1)
    names = [r.input for r in rows][::-1]
    shares = [r.share for r in rows][::-1]
    ax.barh(names, shares, color="#59a14f")
    ax.set_xlabel("share of the spread (squared rank correlation, normalized)")
    ax.set_xlim(0, 1)
    return _svg(fig, "sensitivity")


def trend_svg(analysis, highlight_year: float | None, highlight_value: float | None, highlight_label: str) -> str:
    """The frontier trend with its bands and this model's point."""
    from flopcast.service import trend_band

    fit = analysis.fit
    fig = _figure(6.4, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(analysis.years, analysis.values, s=14, color="#4c78a8", label="models")
    p = trend_band(fit, analysis.dates, points=120, also=[highlight_year] if highlight_year else [], margin=0.3)
    grid = p["year"]
    ax.plot(
        grid, p["median"], color="#333", linewidth=1.5, label=f"trend x{fit.growth_per_year()['estimate']:.2f}/year"
    )
    ax.fill_between(grid, p["line_low"], p["line_high"], color="#333", alpha=0.18, label="90% CI of the trend")
    ax.fill_between(grid, p["pred_low"], p["pred_high"], color="#333", alpha=0.07, label="90% prediction band")
    if highlight_year is not None and highlight_value is not None:
        ax.scatter(
            [highlight_year], [highlight_value], s=70, marker="*", color="#d62728", zorder=5, label=highlight_label
        )
    ax.set_yscale("log")
    ax.set_ylabel(analysis.unit)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(analysis.title, fontsize=10)
    return _svg(fig, "trend")


@dataclass
class Section:
    title: str
    ok: bool = True
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def build_report(
    name: str | None = None,
    *,
    estimate_args: dict | None = None,
    scenario: str | None = None,
    data: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    compare_with: tuple[str, ...] = COMPARE_WITH,
) -> str:
    """The report's HTML. ``estimate_args`` are :func:`flopcast.service.training_estimate`'s keywords.

    ``scenario`` (a bundled name or a TOML file; default twitter-1pct) is looked up first, as
    ``flopcast deploy --scenario`` does: an unknown name or a bad file raises before any work.
    """
    from flopcast import __version__
    from flopcast.scenarios import load_scenario
    from flopcast.service import database, training_estimate

    env = _jinja()
    scenario = scenario or DEFAULT_SCENARIO
    load = load_scenario(scenario)
    db = database(data)  # read once: the model and the trend
    args = dict(estimate_args or {})
    args.setdefault("samples", samples)
    args.setdefault("seed", seed)
    est = training_estimate(name, sensitivity=True, db=db, **args)
    sections: dict[str, Any] = {}

    # distributions and sensitivity
    sections["distributions"] = cost_histograms_svg(est.cost_usd)
    sens_key = next(
        (k for k in ("cost_usd.amortized", "cost_usd.cloud", "cost_usd.acquisition") if k in est.sensitivity),
        next(iter(est.sensitivity), None),
    )
    sens_rows = est.sensitivity.get(sens_key, []) if sens_key else []
    sections["sensitivity"] = {
        "method": sens_key,
        "rows": sens_rows,
        "svg": sensitivity_svg(sens_rows) if sens_rows else "",
    }

    # hardware comparison
    params = est.central.get("params") or _input_median(est, "params") or 175e9
    hw = []
    for other in compare_with:
        try:
            c = _compare(est.hardware, other, params, est.publication_date)
        except FlopcastError as exc:
            hw.append({"other": other, "error": str(exc)})
            continue
        if c is not None:
            hw.append({"other": other, "c": c})
    sections["hardware"] = hw

    # deployment
    sections["deployment"] = _deployment_section(name, est, scenario, load, seed)

    # trend context
    sections["trend"] = _trend_section(est, name, db, seed)

    outputs = []
    for key, s in est.outputs().items():
        outputs.append(
            {"name": key, "label": OUTPUT_LABELS.get(key, key), "summary": s, "central": est.central.get(key)}
        )
    html = env.get_template("report.html.j2").render(
        est=est,
        outputs=outputs,
        sections=sections,
        version=__version__,
        data_date=db.data_date,
        title=f"flopcast report: {est.name}",
    )
    return html


def _input_median(est, name: str):
    for r in est.inputs:
        if r.name == name:
            return float(r.value.median)
    return None


def _compare(model_hw: str, other: str, params: float, when):
    from flopcast.catalogs import bundled_hardware
    from flopcast.catalogs.prices import family_token
    from flopcast.comparison import compare_hardware

    cat = bundled_hardware()  # the comparison prices come from the curated catalog
    try:
        a, _ = cat.resolve(model_hw)
    except FlopcastError:  # a database's chip name: compare its family's default chip
        try:
            a, _ = cat.resolve(family_token(model_hw))
        except FlopcastError:
            return None
    b, _ = cat.resolve(other)
    if a.key == b.key:
        return None
    return compare_hardware(a.key, b.key, params=float(params), when=when)


def _deployment_section(name, est, scenario: str, load, seed: int) -> Section:
    from flopcast.serving import estimate_deployment

    sec = Section(f"Serving it: scenario {scenario}")
    try:
        if name is None:
            params = _input_median(est, "params")
            if params is None:
                sec.ok, sec.note = False, "an ad-hoc run without a parameter count cannot be served"
                return sec
            d = estimate_deployment(
                params=params, scenario=load, samples=4_000, seed=seed, price_date=est.publication_date
            )
        else:
            from flopcast.catalogs import bundled_models

            spec = bundled_models().find(est.key)
            if spec is None:
                sec.ok, sec.note = (
                    False,
                    (
                        f"not estimated: serving needs the model's architecture, which the curated "
                        f"catalog has for {len(bundled_models())} models; {est.name} is not one"
                    ),
                )
                return sec
            d = estimate_deployment(
                spec, scenario=load, vs_training=True, samples=4_000, seed=seed, price_date=est.publication_date
            )
    except FlopcastError as exc:
        sec.ok, sec.note = False, f"not estimated: {exc}"
        return sec
    sec.data = {"d": d}
    return sec


def _trend_section(est, name, db, seed: int) -> Section:
    from flopcast.dates import decimal_year
    from flopcast.service import trend_analysis

    sec = Section("Where it sits on the frontier cost trend")
    try:
        t = trend_analysis("cost", top=10, since=2016, bootstrap=0, seed=seed, db=db)
    except FlopcastError as exc:
        sec.ok, sec.note = False, f"trend not fitted: {exc}"
        return sec
    date = est.publication_date if name is not None else None
    value = est.cost_usd[DEFAULT_COST_METHOD].median if DEFAULT_COST_METHOD in est.cost_usd else None
    year = decimal_year(date) if date is not None else None
    residual = None
    if year is not None and value is not None:
        residual = value / float(t.fit.predict(year)["median"])
    sec.data = {
        "svg": trend_svg(t, year, value, est.name),
        "t": t,
        "residual": residual,
        "year": year,
        "growth": t.fit.growth_per_year(),
    }
    if date is None:
        sec.note = "the run has no date (give a catalog model or a start date) so it is not placed on the trend"
    return sec


def write_report(path, html: str, *, label: str = "output path"):
    """Write the report with the one writer (atomically to a regular file; ``-`` is standard output)."""
    from flopcast.reporting.output import write_text_atomic

    return write_text_atomic(path, html, label=label)
