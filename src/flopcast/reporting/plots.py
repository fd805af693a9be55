"""Plots of trends. matplotlib is imported inside the functions (Agg canvas, no pyplot state).

Install it with ``pip install flopcast[plot]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from flopcast.errors import InvalidInputError, MissingInputError

if TYPE_CHECKING:
    from matplotlib.transforms import Bbox

FORMATS = {".png": "png", ".svg": "svg"}
FIGSIZE_IN = (9.0, 5.5)
PNG_DPI = 150

_POINT_COLOR = "#1f4e79"
_LINE_COLOR = "#c0392b"


def _check_path(path, label: str = "plot path", *, probe: bool = False) -> tuple[Path, str]:
    from flopcast.reporting.output import name_path, output_target

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInputError(
            f"{name_path(label, str(path))} has suffix {p.suffix or '(none)'!r}; allowed: {', '.join(FORMATS)}"
        )
    output_target(path, label=label, probe=probe)
    return p, FORMATS[suffix]


def check_plot_path(path, label: str = "--plot") -> None:
    """Check, before the work, that a plot can be written to ``path`` (its suffix, its folder)."""
    _check_path(path, label, probe=True)


def _import_matplotlib():
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingInputError("plotting needs matplotlib: pip install 'flopcast[plot]'") from exc
    return matplotlib, Figure, FigureCanvasAgg


def _save(fig, path: Path, fmt: str, label: str, **kwargs) -> None:
    """Render to bytes, then write them with the one writer (atomically to a regular file); nothing is
    written if rendering fails."""
    import io

    from flopcast.reporting.output import write_output

    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **kwargs)
    write_output(path, buf.getvalue(), label=label)


def _label_indices(values: np.ndarray, labels, label_top: int) -> list[int]:
    """The ``label_top`` largest points that have a non-empty label."""
    if labels is None or label_top <= 0:
        return []
    has = np.array([bool(str(lab).strip()) if lab is not None else False for lab in labels])
    idx = np.flatnonzero(has)
    order = idx[np.argsort(values[idx])[::-1]]
    return [int(i) for i in order[:label_top]]


_LABEL_OFFSETS_PT = ((4, 4), (4, -11), (-4, 4), (-4, -11), (4, 14), (4, -21), (-4, 14), (-4, -21))


#: more places to try, further out, where the labelled points crowd (the report's peers)
_WIDE_OFFSETS_PT = (
    *_LABEL_OFFSETS_PT,
    *((dx, dy) for dy in (24, -31, 34, -41, 44, -51) for dx in (4, -4, 24, -24)),
)


def _annotate(fig, ax, years, vals, labels, indices, avoid=(), offsets=_LABEL_OFFSETS_PT) -> None:
    """Label points, trying a few offsets so that labels do not overlap each other (nor ``avoid``'s boxes)."""
    if not indices:
        return
    from matplotlib.text import Text

    fig.canvas.draw()  # fixes the layout so that text extents are final
    renderer = fig.canvas.get_renderer()
    placed: list[Bbox] = list(avoid)
    for i in sorted(indices, key=lambda k: years[k]):
        for dx, dy in offsets:
            ann = ax.annotate(
                str(labels[i]),
                (years[i], vals[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=7.5,
                color="#222222",
                zorder=4,
                ha="left" if dx > 0 else "right",
                arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.5} if abs(dy) > 20 else None,
            )
            # the text's own box (an Annotation's extent would include its leader line)
            box = Text.get_window_extent(ann, renderer)
            if not any(box.overlaps(b) for b in placed):
                placed.append(box)
                break
            ann.remove()
        else:  # every offset collides: keep the first one
            ann = ax.annotate(
                str(labels[i]),
                (years[i], vals[i]),
                xytext=_LABEL_OFFSETS_PT[0],
                textcoords="offset points",
                fontsize=7.5,
                color="#222222",
                zorder=4,
            )
            placed.append(Text.get_window_extent(ann, renderer))


def _growth_text(fit) -> str:
    g = fit.growth_per_year()
    return f"x{g['estimate']:.3g}/year ({g['credibility']:.0%} CI x{g['low']:.3g}-x{g['high']:.3g})"


def plot_trend(
    fit,
    dates,
    values,
    path,
    *,
    labels=None,
    label_top: int = 8,
    extrapolate_to=None,
    title: str | None = None,
    ylabel: str | None = None,
    caption: str | None = None,
    path_label: str = "plot path",
) -> Path:
    """Draw a fitted trend over its points and write it to ``path`` (.png or .svg).

    Log-scale y; the points; the fitted line with a shaded confidence band (where the
    trend is) and a lighter prediction band (where a new model would fall), carried on
    dashed to ``extrapolate_to`` (a date or decimal year) when given; text labels on the
    ``label_top`` largest points that have a non-empty label (``labels``, else the
    fit's); a caption (data source, snapshot date) under the axes. The file is written
    by :func:`flopcast.reporting.output.write_output` (atomically to a regular file);
    ``path_label`` names the path in error messages (``--plot``). Returns the path.
    """
    from flopcast.dates import decimal_year
    from flopcast.trends import check_series

    p, fmt = _check_path(path, path_label)
    years, log_vals = check_series(dates, values, min_points=1)
    vals = 10.0**log_vals
    if labels is None and fit.labels is not None and len(fit.labels) == vals.size:
        labels = fit.labels
    if labels is not None:
        labels = list(labels)
        if len(labels) != vals.size:
            raise InvalidInputError(f"labels has {len(labels)} entries but there are {vals.size} points")
    if isinstance(label_top, bool) or not isinstance(label_top, (int, np.integer)) or label_top < 0:
        raise InvalidInputError(f"label_top={label_top!r} must be a whole number >= 0")
    x_lo, x_hi = float(min(years.min(), fit.start_year)), float(max(years.max(), fit.end_year))
    x_end = x_hi
    if extrapolate_to is not None:
        x_end = float(decimal_year(extrapolate_to))
        if not np.isfinite(x_end):
            raise InvalidInputError(f"extrapolate_to={extrapolate_to!r} is not a date or year")
        x_end = max(x_end, x_hi)

    matplotlib, Figure, FigureCanvasAgg = _import_matplotlib()
    c = fit.credibility
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "flopcast", "font.size": 10}):
        fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_yscale("log")

        grid_in = np.linspace(x_lo, x_hi, 200)
        band_in = fit.predict(grid_in)
        ax.fill_between(
            grid_in,
            band_in["pred_low"],
            band_in["pred_high"],
            color=_LINE_COLOR,
            alpha=0.08,
            lw=0,
            label=f"{c:.0%} prediction interval (new model)",
        )
        ax.fill_between(
            grid_in,
            band_in["line_low"],
            band_in["line_high"],
            color=_LINE_COLOR,
            alpha=0.25,
            lw=0,
            label=f"{c:.0%} confidence interval (trend)",
        )
        ax.plot(grid_in, band_in["median"], color=_LINE_COLOR, lw=2, label=f"Trend: {_growth_text(fit)}")
        if x_end > x_hi:
            grid_out = np.linspace(x_hi, x_end, 100)
            band_out = fit.predict(grid_out)
            ax.fill_between(grid_out, band_out["pred_low"], band_out["pred_high"], color=_LINE_COLOR, alpha=0.05, lw=0)
            ax.fill_between(grid_out, band_out["line_low"], band_out["line_high"], color=_LINE_COLOR, alpha=0.15, lw=0)
            ax.plot(
                grid_out, band_out["median"], color=_LINE_COLOR, lw=2, ls="--", label=f"Extrapolation to {x_end:.0f}"
            )
        bp = fit.breakpoint
        if bp is not None and bp.preferred == "piecewise":
            ax.plot(
                grid_in,
                10.0 ** np.asarray(bp.predict_log10(grid_in)),
                color="#555555",
                lw=1.2,
                ls=":",
                label=(
                    f"Break {bp.break_year:.1f}: x{bp.growth_before_per_year:.3g} then "
                    f"x{bp.growth_after_per_year:.3g}/year"
                ),
            )
        ax.scatter(
            years,
            vals,
            s=22,
            color=_POINT_COLOR,
            alpha=0.8,
            edgecolor="white",
            linewidth=0.5,
            zorder=3,
            label=f"Models (n={vals.size})",
        )

        ax.set_xlim(x_lo - 0.02 * (x_end - x_lo), x_end + 0.02 * (x_end - x_lo))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("Publication date")
        if ylabel is None:
            ylabel = f"{fit.metric} ({fit.unit})" if fit.unit else (fit.metric or "Value")
        ax.set_ylabel(ylabel)
        ax.set_title(title if title is not None else (fit.metric or "Trend"), fontsize=12)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        if caption:
            fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
            fig.text(0.01, 0.01, caption, fontsize=7.5, color="#444444", ha="left", va="bottom", wrap=True)
        _annotate(fig, ax, years, vals, labels, _label_indices(vals, labels, label_top))

        kwargs = {"dpi": PNG_DPI} if fmt == "png" else {"metadata": {"Date": None}}
        _save(fig, p, fmt, path_label, **kwargs)
    return p


def plot_reproduction(
    curve,
    path,
    *,
    title: str = "Cost to reproduce",
    budgets=(),
    caption: str | None = None,
    path_label: str = "plot path",
) -> Path:
    """The falling cost to reproduce a reference (median and 90% band, log scale) with budget lines.

    ``curve`` is a :class:`flopcast.reproduction.ReproductionCost` over an array of dates;
    ``budgets`` are rows of :func:`flopcast.reproduction.affordability_table`.
    """
    p, fmt = _check_path(path, path_label)
    years = np.atleast_1d(np.asarray(curve.target_year, dtype=float))
    if years.size < 2:
        raise InvalidInputError("plot_reproduction needs a curve over at least two dates")
    matplotlib, Figure, FigureCanvasAgg = _import_matplotlib()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "flopcast", "font.size": 10}):
        fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_yscale("log")
        ax.fill_between(years, curve.p5_usd, curve.p95_usd, color=_LINE_COLOR, alpha=0.2, lw=0, label="90% interval")
        ax.plot(years, curve.median_usd, color=_LINE_COLOR, lw=2, label="Median cost to reproduce")
        for row in budgets:
            ax.axhline(row["budget_usd"], color=_POINT_COLOR, lw=0.8, ls="--", alpha=0.7)
            ax.text(
                years[0],
                row["budget_usd"] * 1.08,
                f"{row['name']} (${row['budget_usd']:,.0f})",
                fontsize=8,
                color=_POINT_COLOR,
            )
        ax.set_xlabel("Year")
        ax.set_ylabel("Cost (USD)")
        ax.set_title(title, fontsize=12)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper right", fontsize=8, frameon=False)
        if caption:
            fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
            fig.text(0.01, 0.01, caption, fontsize=7.5, color="#444444", ha="left", va="bottom", wrap=True)
        kwargs = {"dpi": PNG_DPI} if fmt == "png" else {"metadata": {"Date": None}}
        _save(fig, p, fmt, path_label, **kwargs)
    return p


def plot_plan(plan, path, *, path_label: str = "plot path") -> Path:
    """A run planned across chips (:class:`flopcast.planning.RunPlan`): cost by method and energy, per chip.

    Two panels, log scale: the median cost of each method with its 90% interval, and facility energy
    with peak power written above each bar. A chip without an estimate is left out and named in the
    caption.
    """
    p, fmt = _check_path(path, path_label)
    rows = [r for r in plan.rows if r.estimate is not None]
    if not rows:
        raise InvalidInputError("the plan has no chip with an estimate to plot")
    matplotlib, Figure, FigureCanvasAgg = _import_matplotlib()
    from flopcast.formatting import format_power

    names = [r.estimate.hardware for r in rows]
    x = np.arange(len(rows))
    width = 0.8 / max(len(plan.methods), 1)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "flopcast", "font.size": 9}):
        fig = Figure(figsize=(FIGSIZE_IN[0], FIGSIZE_IN[1] * 1.3), layout="constrained")
        FigureCanvasAgg(fig)
        ax, ax2 = fig.subplots(2, 1, sharex=True)
        for i, m in enumerate(plan.methods):
            med, lo, hi = [], [], []
            for r in rows:
                s = r.estimate.cost_usd.get(m)
                med.append(s.median if s is not None else np.nan)
                lo.append(s.median - s.p5 if s is not None else 0.0)
                hi.append(s.p95 - s.median if s is not None else 0.0)
            ax.bar(x + (i - (len(plan.methods) - 1) / 2) * width, med, width, yerr=[lo, hi], capsize=2, label=m)
        ax.set_yscale("log")
        ax.set_ylabel("Cost (USD), median and 90% interval")
        ax.set_title(f"The run on each chip: {plan.describe}", fontsize=10)
        ax.legend(fontsize=8, frameon=False)
        ax.grid(True, axis="y", alpha=0.3)
        energy = [r.estimate.energy_facility_j for r in rows]
        vals = [e.median / 3.6e9 if e is not None else np.nan for e in energy]
        errs = [
            [(e.median - e.p5) / 3.6e9 if e is not None else 0.0 for e in energy],
            [(e.p95 - e.median) / 3.6e9 if e is not None else 0.0 for e in energy],
        ]
        ax2.bar(x, vals, 0.5, yerr=errs, capsize=3, color=_POINT_COLOR)
        for xi, r, e in zip(x, rows, energy, strict=True):
            pk = r.estimate.peak_power_w
            if pk is not None and e is not None:
                top = e.p95 / 3.6e9
                ax2.text(xi, top * 1.02, f"peak {format_power(pk.median)}", ha="center", va="bottom", fontsize=8)
        ax2.margins(y=0.12)
        ax2.set_ylabel("Facility energy (MWh)")
        ax2.set_xticks(x, names, rotation=15, ha="right")
        ax2.grid(True, axis="y", alpha=0.3)
        left_out = [r.hardware for r in plan.rows if r.estimate is None]
        caption = f"Training start {plan.start_date}; {plan.dollars}."
        if left_out:
            caption += f" No estimate for: {', '.join(left_out)}."
        fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
        fig.text(0.01, 0.005, caption, fontsize=7.5, color="#444444", ha="left", va="bottom")
        kwargs = {"dpi": PNG_DPI} if fmt == "png" else {"metadata": {"Date": None}}
        _save(fig, p, fmt, path_label, **kwargs)
    return p


def plot_serving_frontier(est, path, *, path_label: str = "plot path") -> Path:
    """The planner's frontier (:class:`flopcast.serving.DeploymentEstimate`'s ``plan``): output tokens a second
    per chip against the time per output token, one series per chip, at central efficiencies.

    Every point is a configuration no other beats on both speed and cost at capacity; the chosen one
    is ringed and the time-per-output-token target drawn as a line.
    """
    p, fmt = _check_path(path, path_label)
    plan = est.plan or {}
    rows = plan.get("frontier") or []
    if not rows:
        raise InvalidInputError("the deployment has no frontier to plot (every choice was fixed)")
    matplotlib, Figure, FigureCanvasAgg = _import_matplotlib()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "flopcast", "font.size": 9}):
        fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for hw in dict.fromkeys(r["hardware"] for r in rows):
            mine = [r for r in rows if r["hardware"] == hw]
            ax.plot(
                [r["time_per_output_token_s"] * 1e3 for r in mine],
                [r["output_tokens_per_s_per_chip"] for r in mine],
                marker="o",
                ms=4,
                lw=1,
                label=hw,
            )
        chosen = next(
            (r for r in rows if r["hardware"] == est.hardware and r["chips"] == est.chips_per_instance
             and r["batch"] == est.batch and r["precision"] == est.precision),
            None,
        )  # fmt: skip
        if chosen is not None:
            ax.plot(
                chosen["time_per_output_token_s"] * 1e3, chosen["output_tokens_per_s_per_chip"], "o", ms=11,
                mfc="none", mec="black", label="chosen",
            )  # fmt: skip
        target = (plan.get("targets") or {}).get("tpot_s")
        if target:
            ax.axvline(target * 1e3, color="#999999", ls="--", lw=1)
            ax.text(target * 1e3, ax.get_ylim()[1], " target", va="top", fontsize=8, color="#666666")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Time per output token (ms)")
        ax.set_ylabel("Output tokens a second per chip")
        ax.set_title(f"Serving {est.model}: throughput against latency", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
        caption = (
            f"Requests of {est.prompt_tokens:,.0f} prompt and {est.output_tokens:,.0f} output tokens; "
            f"central efficiencies; chosen: {est.configuration}."
        )
        fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
        fig.text(0.01, 0.005, caption, fontsize=7.5, color="#444444", ha="left", va="bottom")
        kwargs = {"dpi": PNG_DPI} if fmt == "png" else {"metadata": {"Date": None}}
        _save(fig, p, fmt, path_label, **kwargs)
    return p


#: the waterfall's tick label of each factor of :mod:`flopcast.explanation` (``{at}``: the common date)
_WATERFALL_TICKS = {
    "compute": "compute\n(FLOP)",
    "peak_flop_per_s": "chip peak\nFLOP/s",
    "utilization": "utilization\n(MFU)",
    "price_per_chip_hour": "price per\nchip-hour",
    "price_per_chip_hour_at_date": "price per\nchip-hour\non {at}",
    "price_date": "price drift\nto the runs'\nown dates",
    "memory_chips": "chips raised\nfor memory",
    "other": "other\n(Monte Carlo)",
}


def plot_cost_waterfall(ex, path, *, path_label: str = "plot path") -> Path:
    """Why run A cost more than run B (:class:`flopcast.service.explain.CostExplanation`): a waterfall of factors.

    Log scale, in units of B's cost: B's run is 1, each factor moves the running product up (red) or
    down (green), and the last bar is A's cost, the ratio. Each bar is labelled with its factor and
    its share of ln(ratio). A factor of exactly 1 (a factor that does not apply) is left out and
    named in the caption.
    """
    p, fmt = _check_path(path, path_label)
    shown = [f for f in ex.factors if f.factor != 1.0]
    matplotlib, Figure, FigureCanvasAgg = _import_matplotlib()
    import textwrap

    def wrap(text: str) -> str:
        return "\n".join(textwrap.wrap(text, 16))

    labels = [f"{wrap(ex.b.name)}\n(B = 1)"]
    bottoms, heights, colors = [1.0], [1.0], ["#7f8c8d"]
    level = 1.0
    for f in shown:
        top = level * f.factor
        bottoms.append(min(level, top))
        heights.append(max(level, top))
        colors.append(_LINE_COLOR if f.factor > 1 else "#27ae60")
        labels.append(_WATERFALL_TICKS.get(f.name, f.name.replace("_", " ")).format(at=ex.at))
        level = top
    labels.append(f"{wrap(ex.a.name)}\n(A / B)")
    bottoms.append(1.0)
    heights.append(ex.ratio)
    colors.append(_POINT_COLOR)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "flopcast", "font.size": 9}):
        fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        x = np.arange(len(labels))
        lo, hi = np.array(bottoms), np.array(heights)
        flat = hi / lo < 1.0005  # a bar of ~1: a sliver, so that it still shows
        ax.bar(x, np.where(flat, lo * 1.01, hi) - lo, bottom=lo, color=colors, width=0.6)
        for i in range(1, len(x) - 1):  # connectors from one bar's end to the next bar's start
            end = bottoms[i] if shown[i - 1].factor < 1 else heights[i]
            ax.plot([x[i] + 0.3, x[i] + 0.7], [end, end], color="#999999", lw=0.8)
        ax.plot([x[0] + 0.3, x[0] + 0.7], [1.0, 1.0], color="#999999", lw=0.8)
        for i, f in enumerate(shown, start=1):
            share = "" if f.share is None else f" ({f.share if abs(f.share) >= 0.005 else 0.0:.0%})"
            ax.text(x[i], heights[i] * 1.04, f"x{f.factor:.3g}{share}", ha="center", va="bottom", fontsize=8)
        ax.text(x[-1], ex.ratio * 1.04, f"x{ex.ratio:.3g}", ha="center", va="bottom", fontsize=8, weight="bold")
        ax.set_yscale("log")
        ax.set_ylim(min(min(bottoms), 1.0) / 1.6, max(max(heights), 1.0) * 1.8)
        ax.set_xticks(x, labels, fontsize=7.5)
        ax.set_ylabel(f"{ex.method} cost relative to B's run")
        what = "point estimates" if ex.point else "medians"
        ax.set_title(f"Why {ex.a.name} cost {ex.ratio:.3g}x as much as {ex.b.name} ({ex.method}, {what})", fontsize=10)
        ax.grid(True, axis="y", which="both", alpha=0.3)
        left_out = [f.name for f in ex.factors if f.factor == 1.0]
        caption = f"A on {ex.a.hardware}, B on {ex.b.hardware}; {ex.a.dollars} against {ex.b.dollars}."
        if left_out:
            caption += f" Factors of 1 left out: {', '.join(left_out)}."
        fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
        fig.text(0.01, 0.005, caption, fontsize=7.5, color="#444444", ha="left", va="bottom")
        kwargs = {"dpi": PNG_DPI} if fmt == "png" else {"metadata": {"Date": None}}
        _save(fig, p, fmt, path_label, **kwargs)
    return p


__all__ = [
    "FORMATS",
    "check_plot_path",
    "plot_cost_waterfall",
    "plot_plan",
    "plot_reproduction",
    "plot_serving_frontier",
    "plot_trend",
]


_FORECAST_AXIS = {"cost": "Cost (USD)", "compute": "Training compute (FLOP)", "power": "Power (W)", "chips": "Chips"}


def plot_forecast(result, path, *, path_label: str = "plot path") -> Path:
    """A forecast (:class:`flopcast.service.outlook.FrontierForecast`): the frontier runs it was fitted to, the
    median of each year and its 90% band (log scale), each threshold as a dashed line with the median year it
    is passed, and the assumptions in the caption."""
    p, fmt = _check_path(path, path_label)
    fc = result.forecast
    if not fc.years:
        raise InvalidInputError("plot_forecast needs at least one forecast year")
    from flopcast.formatting import format_value

    matplotlib, Figure, FigureCanvasAgg = _import_matplotlib()
    from matplotlib.ticker import MaxNLocator

    curve = fc.curve or {
        "year": [y.year + 0.5 for y in fc.years],
        "median": [y.median for y in fc.years],
        "p5": [y.p5 for y in fc.years],
        "p95": [y.p95 for y in fc.years],
    }
    years = np.array(curve["year"])
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "flopcast", "font.size": 10}):
        fig = Figure(figsize=FIGSIZE_IN, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_yscale("log")
        px = np.array([q["year"] for q in fc.points])
        py = np.array([q["value"] for q in fc.points])
        ax.scatter(px, py, s=14, color=_POINT_COLOR, alpha=0.7, label=f"frontier runs fitted ({fc.n_runs})")
        ax.fill_between(years, curve["p5"], curve["p95"], color=_LINE_COLOR, alpha=0.2, lw=0, label="90% interval")
        what = "largest run" if fc.target == "largest" else "top-frontier trend"
        ax.plot(years, curve["median"], color=_LINE_COLOR, lw=2, label=f"median, {what}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for key, c in fc.crossings.items():
            t = float(key)
            when = "not by the horizon" if c["median"] is None else f"median {c['median']:.1f}"
            ax.axhline(t, color="#555555", lw=0.8, ls="--")
            ax.text(px.min(), t * 1.15, f"{format_value(t, fc.unit)}: {when}", fontsize=8, color="#333333")
        ax.axvline(fc.anchor_year, color="#999999", lw=0.8, ls=":")
        ax.set_xlabel("Year (forecast values at mid-year)")
        ax.set_ylabel(_FORECAST_AXIS.get(fc.metric, fc.metric))
        ax.set_title(f"Forecast: {fc.metric} of the {what}", fontsize=12)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        a = result.assumptions
        shares = fc.years[-1].variance
        spread = ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
        caption = (
            f"{a['selection']}, {a['fit_since'] or 'first'}-{a['fit_until'] or 'last'}; {a['cost_method']} cost, "
            f"{a['dollars']}. Variance in {fc.years[-1].year}: {spread}. {a['source']}."
        )
        fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
        fig.text(0.01, 0.01, caption, fontsize=7.5, color="#444444", ha="left", va="bottom", wrap=True)
        kwargs = {"dpi": PNG_DPI} if fmt == "png" else {"metadata": {"Date": None}}
        _save(fig, p, fmt, path_label, **kwargs)
    return p


def draw_tornado(ax, rows, median: float, *, labels=None, value_format=None, xlabel: str = "") -> None:
    """A tornado chart on ``ax``: one horizontal bar per :class:`~flopcast.uncertainty.tornado.SwingRow`
    (largest swing on top) from the output with the input at its 5th percentile to the output with it at
    its 95th, around a vertical line at ``median``; each bar is annotated with its two ends.

    ``labels`` maps an input name to what people read (default: the name); ``value_format`` formats an
    output value (default: ``format_usd``), on the bar ends and on the log-scale x ticks.
    """
    from matplotlib.ticker import FuncFormatter

    from flopcast.formatting import format_usd

    fmt = value_format or format_usd
    rows = list(rows)[::-1]  # barh draws bottom-up: the largest swing goes on top
    names = [(labels or {}).get(r.input, r.input) for r in rows]
    y = np.arange(len(rows))
    for yi, r in zip(y, rows, strict=True):
        left_low = r.at_input_p5 <= r.at_input_p95  # the input's low end gives the lower output
        # each bar is findable in an SVG by its input: <g id="swing-INPUT-low"> and "-high"
        low = ax.barh(yi, median - r.low, left=r.low, color="#4c78a8" if left_low else "#e45756", height=0.6)
        high = ax.barh(yi, r.high - median, left=median, color="#e45756" if left_low else "#4c78a8", height=0.6)
        low.patches[0].set_gid(f"swing-{r.input}-low")
        high.patches[0].set_gid(f"swing-{r.input}-high")
        ax.annotate(
            fmt(r.low), (r.low, yi), xytext=(-3, 0), textcoords="offset points", ha="right", va="center", fontsize=7.5
        )
        ax.annotate(
            fmt(r.high), (r.high, yi), xytext=(3, 0), textcoords="offset points", ha="left", va="center", fontsize=7.5
        )
    ax.axvline(median, color="#222222", linewidth=1)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xscale("log")
    lo = min((r.low for r in rows), default=median)
    hi = max((r.high for r in rows), default=median)
    ax.set_xlim(lo / (hi / lo) ** 0.35 if hi > lo else lo / 2, hi * (hi / lo) ** 0.35 if hi > lo else hi * 2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: ""))
    ax.tick_params(axis="x", labelsize=8)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=8.5)
    ax.grid(True, axis="x", which="major", alpha=0.3)


def nearest_labelled(years, values, labels, year: float, value: float, k: int = 6, *, exclude=()) -> list[int]:
    """The indices of the ``k`` labelled points nearest to (``year``, ``value``): distance in years and in
    orders of magnitude of ``value`` (log10), one year counting as one order; ``exclude`` names to skip."""
    years = np.asarray(years, dtype=float)
    logv = np.log10(np.asarray(values, dtype=float))
    skip = {str(e) for e in exclude}
    idx = [i for i, lab in enumerate(labels) if lab is not None and str(lab).strip() and str(lab) not in skip]
    if not idx or k <= 0:
        return []
    d = np.hypot(years[idx] - year, logv[idx] - np.log10(value))
    order = np.argsort(d, kind="stable")[:k]
    return [idx[int(j)] for j in order]


def annotate_points(fig, ax, years, values, labels, indices, *, avoid=()) -> None:
    """Label the points ``indices`` with their ``labels``, moving each label until it overlaps no other
    label and none of the boxes ``avoid`` (display-space ``Bbox``, e.g. a highlighted point's label)."""
    _annotate(
        fig,
        ax,
        np.asarray(years, dtype=float),
        np.asarray(values, dtype=float),
        list(labels),
        list(indices),
        avoid,
        _WIDE_OFFSETS_PT,
    )
