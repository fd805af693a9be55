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
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from flopcast.defaults import DEFAULT_COST_METHOD, DEFAULT_SAMPLES, DEFAULT_SEED
from flopcast.errors import FlopcastError, MissingInputError
from flopcast.formatting import format_summary, format_usd, label

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
        deploy_rows=F.deployment_rows,
        label=F.label,
        plural=lambda n, word: F.plural(int(n), word),
        input_value=input_value,
    )
    return env


def _template_source(name: str) -> str:
    return resources.files("flopcast.reporting").joinpath("templates", name).read_text(encoding="utf-8")


#: where a method's figures come from, for the first sentence
METHOD_CITATION = {
    "amortized": "Cottier et al. 2024",
    "cloud": "Cottier et al. 2024",
    "acquisition": "Cottier et al. 2024",
}

#: a catalog constant's source reads ``name.variant = value: where``; the report shows its label instead
_CONSTANT = re.compile(r"^([a-z][a-z0-9_]*(?:\.[a-z0-9_-]+)?) = ([^:]+): (.*)$", re.DOTALL)


def input_value(x: float, unit: str) -> str:
    """An input's value in the words of its unit: fractions as percentages, prices in dollars, hours as a
    duration; everything else through :func:`flopcast.formatting.format_value`."""
    from flopcast import formatting as F

    if unit == "fraction":
        return f"{x:.1%}"
    if unit == "hours":
        return F.format_value(x * 3600.0, "s")
    if unit.startswith("USD/"):
        return f"{F.format_usd(x)}/{unit[4:]}"
    if unit in ("parameters", "tokens"):
        return f"{F.format_count(x)} {unit}"
    if unit in ("", "ratio"):
        return f"{x:,.0f}" if float(x).is_integer() and abs(x) < 1e6 else F.format_sci(x)
    return F.format_value(x, unit)


def source_text(name: str, source: str) -> tuple[str, str]:
    """(what the report shows, the raw text kept for the tooltip) of an input's source: a catalog
    constant's key (``server_power_ratio.v100 = 1.667: URL``) is shown as the input's label."""
    m = _CONSTANT.match(source or "")
    if m is None:
        return source, ""
    return f"{label(name)} = {m.group(2)}: {m.group(3)}", f"catalog constant {m.group(1)}"


def headline(est, adhoc: bool = False) -> dict[str, Any]:
    """The report's first sentence: the cost by the default method (or the first one estimated), its 90%
    interval and the method, then the other methods; the numbers are the estimate's own summaries. An
    ``adhoc`` run (inputs given, no database model) "would cost"."""
    from flopcast.methods import COST_METHODS

    costs = est.cost_usd
    method = DEFAULT_COST_METHOD if DEFAULT_COST_METHOD in costs else next(iter(costs), None)
    subject = "This run" if adhoc else f"{est.name}'s final training run"
    verb = "would cost" if adhoc else "cost"
    if method is None:
        why = "; ".join(f"{label('cost_usd.' + m)}: {w}" for m, w in est.skipped_methods.items())
        return {
            "method": None,
            "sentence": (
                f"{'This run' if adhoc else est.name + chr(39) + 's final training run'} takes "
                f"{format_summary(est.training_compute_flop)} of compute; "
                f"no cost could be estimated ({why or 'no cost method had its inputs'})."
            ),
            "others": [],
        }
    s = costs[method]
    title = COST_METHODS[method].title if method in COST_METHODS else label(f"cost_usd.{method}")
    cite = METHOD_CITATION.get(method)
    sentence = (
        f"{subject} {verb} {format_summary(s)} by the {title[0].lower() + title[1:]} method"
        f"{f' ({cite})' if cite else ''}, in {est.dollars}."
    )
    others = [
        f"{COST_METHODS[m].title if m in COST_METHODS else m}: {format_summary(o)}"
        for m, o in costs.items()
        if m != method
    ]
    return {"method": method, "title": title, "summary": s, "sentence": sentence, "others": others}


def data_row(est, name: str | None, db) -> dict[str, str]:
    """Which database row the estimate used, and the data's date and source."""
    from flopcast.errors import UnknownModelError

    out = {"source": db.describe(), "date": db.data_date or "", "row": ""}
    if name is None:
        out["row"] = "no database row: an ad-hoc run from the inputs given"
        return out
    try:
        rec = db.find(est.key or name)
    except UnknownModelError:
        return out
    files = dict(db.source.files)
    file = files["models"].name if "models" in files else "the models table"
    if rec.origin == "curated":
        out["row"] = f"flopcast's curated catalog entry “{rec.key}” (not in Epoch's table)"
    else:
        where = f"line {rec.line:,} of {file}" if rec.line else file
        out["row"] = f"Epoch's row “{rec.name}” ({where}), key “{rec.key}”"
        if rec.origin == "epoch+curated":
            out["row"] += ", with flopcast's curated catalog entry overlaid (its sources are cited per input)"
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def _svg(fig, salt: str, alt: str = "") -> str:
    """The figure as inline SVG, the same bytes on every run: no date in its metadata, and element ids
    hashed from ``salt`` (one per chart, so that two charts of one page never share an id) instead of
    random ones."""
    import matplotlib

    buf = io.StringIO()
    # text is drawn as paths, so that labels placed apart by matplotlib stay apart in any browser's fonts;
    # ``alt`` (the chart's words) is the SVG's accessible name; ids come from the salt, not from random numbers
    with matplotlib.rc_context({"svg.hashsalt": f"flopcast-report-{salt}"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # scale with the page: the viewBox keeps the drawing, the CSS width (max 100%) sets the size
    text = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", text, count=1)
    if alt:
        from html import escape

        text = text.replace("<svg", f'<svg role="img" aria-label="{escape(alt, quote=True)}"', 1)
    return text  # drop the XML prolog and doctype: the SVG is inlined in HTML


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
        ax.set_ylabel(
            F.label(f"cost_usd.{m}").replace("Cost, ", "").replace(" + ", " +\n"),
            rotation=0,
            ha="right",
            va="center",
            fontsize=8,
        )
        lo, hi = np.floor(x.min()), np.ceil(x.max())
        ticks = np.arange(lo, hi + 1)
        ax.set_xticks(ticks)
        ax.set_xticklabels([F.format_usd(10**t) for t in ticks], fontsize=8)
    fig.suptitle("Training cost, USD (log scale): median solid, 90% interval dotted", fontsize=10)
    return _svg(fig, "distributions")


#: inputs with a smaller share of the spread are left off the tornado chart
TORNADO_MIN_SHARE = 0.005
TORNADO_MAX_ROWS = 8


def tornado_svg(rows, median: float, method_title: str) -> str:
    """Each input's swing in dollars: the cost with the input at its 5th and 95th percentile, the others
    at their medians (:func:`flopcast.uncertainty.tornado.swings`), largest on top."""
    from flopcast.formatting import LABELS
    from flopcast.reporting.plots import draw_tornado

    fig = _figure(6.4, 0.9 + 0.38 * len(rows))
    ax = fig.add_subplot(1, 1, 1)
    draw_tornado(
        ax,
        rows,
        median,
        labels={r.input: LABELS.get(r.input, label(r.input)) for r in rows},
        xlabel=f"{method_title} cost (log scale); blue: the input at its 5th percentile, red: at its 95th",
    )
    return _svg(
        fig,
        "tornado",
        "Each input's swing in dollars: "
        + "; ".join(f"{label(r.input)} {format_usd(r.low)} to {format_usd(r.high)}" for r in rows),
    )


#: how many named models near the estimate the trend chart labels
PEERS = 6


def trend_svg(
    analysis, highlight_year: float | None, highlight_value: float | None, highlight_label: str
) -> tuple[str, list[str]]:
    """The frontier trend with its bands, this model's point and its nearest named peers labelled; returns
    the SVG and the peers' names."""
    from matplotlib.ticker import FuncFormatter

    from flopcast.reporting.plots import annotate_points, nearest_labelled
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
    if analysis.unit == "USD":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_usd(v)))
        ax.set_ylabel("amortized cost (log scale)")
    else:
        ax.set_ylabel(analysis.unit)
    ax.set_xlabel("publication date")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(analysis.title, fontsize=10)
    peers: list[str] = []
    labels = list(analysis.labels) if analysis.labels is not None else []
    if highlight_year is not None and highlight_value is not None and len(labels) == len(analysis.values):
        idx = nearest_labelled(
            analysis.years, analysis.values, labels, highlight_year, highlight_value, PEERS, exclude=[highlight_label]
        )
        peers = [str(labels[i]) for i in idx]
        ax.scatter(
            analysis.years[idx],
            np.asarray(analysis.values)[idx],
            s=18,
            color="#f28e2b",
            zorder=4,
            label="nearest models, labelled",
        )
        ax.legend(fontsize=7, loc="lower right")
        star = ax.annotate(
            highlight_label,
            (highlight_year, highlight_value),
            xytext=(-6, 6),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="#d62728",
            fontweight="bold",
            zorder=6,
        )
        fig.canvas.draw()
        annotate_points(
            fig,
            ax,
            analysis.years,
            analysis.values,
            labels,
            idx,
            avoid=[star.get_window_extent(fig.canvas.get_renderer())],
        )
        for text in ax.texts:  # each peer's label is findable in the SVG: <g id="peer-NAME">
            if text.get_text() in peers:
                text.set_gid(f"peer-{_slug(text.get_text())}")
        star.set_gid(f"estimate-{_slug(highlight_label)}")
    alt = f"{analysis.title} by publication date, with the fitted trend"
    if peers:
        alt += f"; {highlight_label} and its nearest models labelled: {', '.join(peers)}"
    return _svg(fig, "trend", alt), peers


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
    sections["sensitivity"] = _sensitivity_section(est, sens_key, sens_rows)

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

    # the training plan: the run's layout, memory per rank, time and cost (`flopcast plan`)
    sections["plan"] = _plan_section(name, est, args, db)

    # deployment
    sections["deployment"] = _deployment_section(name, est, scenario, load, seed)

    # trend context
    sections["trend"] = _trend_section(est, name, db, seed)

    outputs = []
    for key, s in est.outputs().items():
        outputs.append({"name": key, "label": label(key), "summary": s, "central": est.central.get(key)})
    inputs = []
    for r in est.inputs:
        shown, raw = source_text(r.name, r.source)
        inputs.append({"r": r, "d": r.to_dict(), "label": label(r.name), "source": shown, "source_key": raw})
    html = env.get_template("report.html.j2").render(
        est=est,
        headline=headline(est, adhoc=name is None),
        row=data_row(est, name, db),
        inputs=inputs,
        outputs=outputs,
        sections=sections,
        version=__version__,
        data_date=db.data_date,
        title=f"flopcast report: {est.name}",
    )
    return html


def _sensitivity_section(est, key: str | None, rows) -> dict[str, Any]:
    from flopcast.methods import COST_METHODS
    from flopcast.uncertainty.tornado import swings

    method = key.split(".", 1)[1] if key and key.startswith("cost_usd.") else None
    out: dict[str, Any] = {"method": label(key) if key else "", "rows": rows, "swings": [], "svg": ""}
    s = est.cost_usd.get(method) if method else None
    if method is None or s is None or not rows or s.is_point:
        return out
    title = COST_METHODS[method].title if method in COST_METHODS else method
    sw = swings(rows, s.median, s.p5, s.p95, min_share=TORNADO_MIN_SHARE)[:TORNADO_MAX_ROWS]
    out.update(swings=sw, title=title, median=s.median, svg=tornado_svg(sw, s.median, title) if sw else "")
    return out


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


def plan_arguments(name: str | None, est, args: dict[str, Any], db) -> tuple[dict[str, Any], list[str]]:
    """:func:`flopcast.service.training_plan`'s keywords for the report's run, and the ``flopcast plan`` arguments
    that give the same plan: the model, its chip (the one given, else the estimate's), the tokens, compute and
    utilization given, one parameter count, one cluster size (else one deadline) where a point is given, and the
    estimate's samples and seed. A plan takes no prices: its costs are at the catalog's."""
    from flopcast.errors import FlopcastError

    def point(v):
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def flag(v) -> str:
        def one(x: float) -> str:
            return f"{x:g}".replace("e+0", "e").replace("e+", "e")

        return f"{one(v[0])}..{one(v[1])}" if isinstance(v, (tuple, list)) else one(v)

    chip = args.get("hardware") or est.hardware
    try:
        hw_key = db.hardware.resolve(chip)[0].key if chip else None
    except FlopcastError:
        hw_key = chip
    kw: dict[str, Any] = {"hardware": hw_key}
    argv = ["flopcast", "plan"] + ([name] if name is not None else [])
    if hw_key:
        argv += ["--hardware", str(hw_key)]
    if point(args.get("params")) is not None:
        kw["params"] = float(args["params"])
    chips, days = point(args.get("chips")), point(args.get("days"))
    if chips is not None and float(chips).is_integer():
        kw["chips"] = int(chips)
    elif days is not None:
        kw["days"] = float(days)
    for k in ("tokens", "compute", "utilization"):
        if args.get(k) is not None:
            kw[k] = args[k]
    for k in ("params", "chips", "days", "tokens", "compute", "utilization"):
        if k in kw:
            argv += [f"--{k}", flag(kw[k])]
    kw.update(samples=est.samples, seed=est.seed)
    if est.samples != DEFAULT_SAMPLES:
        argv += ["--samples", str(est.samples)]
    if est.seed != DEFAULT_SEED:
        argv += ["--seed", str(est.seed)]
    return kw, argv


def _plan_section(name: str | None, est, args: dict[str, Any], db) -> Section:
    """The run planned on its chip (:func:`flopcast.service.training_plan`, what ``flopcast plan`` prints): the
    layout and what binds, the memory of the most-loaded rank term by term, the time, MFU, HFU, effective
    utilization, goodput and cost with their intervals, the other layouts that fit and the notes."""
    import shlex

    from flopcast.formatting import plan_rows, plan_texts
    from flopcast.service import training_plan

    sec = Section("Training plan")
    kw, argv = plan_arguments(name, est, args, db)
    sec.data = {"command": shlex.join(argv)}
    try:
        plan = training_plan(name, db=db, **kw)
    except FlopcastError as exc:
        sec.ok, sec.note = False, f"not planned: {exc}"
        return sec
    rows = [{"key": k, "label": n, "summary": s} for k, n, s in plan_rows(plan)]
    sec.data.update(plan=plan, texts=plan_texts(plan), rows=rows, memory=list(plan.memory.terms().items()))
    return sec


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
    svg, peers = trend_svg(t, year, value, est.name)
    sec.data = {
        "svg": svg,
        "peers": peers,
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
