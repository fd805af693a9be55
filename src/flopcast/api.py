"""The Python API for notebooks: one function per question, each returning a typed result with ``.to_frame()``
(a pandas DataFrame), ``.plot()`` and a short ``repr``.

- :func:`costs`: every costed model of the database, one row each (the rows of ``flopcast costs``)
- :func:`estimate`: one training run (``flopcast estimate``)
- :func:`deploy`: serving a model for a load (``flopcast deploy``)
- :func:`trend`: a log-linear trend against publication date (``flopcast trend``)
- :func:`compare`: two chips at one date (``flopcast hardware compare``), for a model size you state
- :func:`forecast`: the largest run of each year to a horizon (``flopcast forecast``)
- :func:`plan`: a training run's layout, memory per rank, time and cost on one chip (``flopcast plan``)

This is a front-end, like ``flopcast.cli``: it calls :mod:`flopcast.service` (and draws with
:mod:`flopcast.reporting.plots`), so every number is the CLI's for the same inputs. Messages speak Python:
where the layers below name a command-line flag (``give price_usd_per_chip_hour (--price-per-chip-hour)``),
the API names its own argument (``give price_usd_per_chip_hour``); see :class:`Speaker`. docs/api.md has
examples, run as doctests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from flopcast.defaults import (
    DEFAULT_ATTENTION,
    DEFAULT_CLOUD_TIER,
    DEFAULT_DEPRECIATION,
    DEFAULT_METHOD,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
    RANDOM_SAMPLING,
)
from flopcast.errors import FlopcastError, InvalidInputError
from flopcast.formatting import (
    deployment_label,
    format_display,
    format_range,
    format_summary,
    format_value,
    label,
    plural,
)
from flopcast.service import DEFAULT_EXPERIMENTS

if TYPE_CHECKING:
    from flopcast.comparison import HardwareComparison
    from flopcast.datasets.database import Database
    from flopcast.layout_plan import TrainingPlan
    from flopcast.pipeline import TrainingEstimate
    from flopcast.quantities import QuantityInput
    from flopcast.service import FrontierForecast, TrendAnalysis
    from flopcast.serving import DeploymentEstimate
    from flopcast.uncertainty import Summary

__all__ = [
    "Chart",
    "Comparison",
    "CostFrame",
    "Deployment",
    "Estimate",
    "Forecast",
    "Plan",
    "Speaker",
    "Trend",
    "compare",
    "costs",
    "deploy",
    "estimate",
    "forecast",
    "plan",
    "trend",
]

# ----------------------------------------------------------------------------- messages that speak Python

_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?![\w-])")
_PAREN_FLAG = re.compile(r" ?\(--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\)")
_LAST_TOKEN = re.compile(r"(\w+)(?:=\S*)?$")


@dataclasses.dataclass(frozen=True)
class Speaker:
    """How one API function names, in a message, what the layers below call by a command-line flag or by the
    service's field name.

    The layers below write their hints for the command line (``(--price-per-chip-hour)``, ``give --chip-price``,
    ``check --params/--tokens``), so the CLI prints them unchanged. The API passes each message of an error, and
    each note, warning and input source of a result, through its function's speaker:

    1. a service field name becomes the function's argument (``names``): ``price_per_chip_hour=-1`` reads
       ``price_usd_per_chip_hour=-1`` through :func:`estimate`; a name without an underscore (``compute``,
       ``days``) only where it is followed by ``=``, so that prose is never touched;
    2. a flag in parentheses right after the argument it names is dropped (``give price_usd_per_chip_hour
       (--price-per-chip-hour)`` reads ``give price_usd_per_chip_hour``); elsewhere it reads ``(argument=...)``;
    3. every other flag becomes its argument: the flag's own name with underscores (typer's rule), unless
       ``flags`` names another (``--compute`` is ``training_compute_flop`` of :func:`estimate`).

    >>> s = Speaker("estimate", flags={"price-per-chip-hour": "price_usd_per_chip_hour"})
    >>> s("no on-demand cloud price for X; give price_usd_per_chip_hour (--price-per-chip-hour)")
    'no on-demand cloud price for X; give price_usd_per_chip_hour'
    >>> s("no hardware given (--hardware)")
    'no hardware given (hardware=...)'
    >>> s("a price index needs year_dollars (--year-dollars): the year whose dollars to express costs in")
    'a price index needs year_dollars: the year whose dollars to express costs in'
    """

    function: str
    #: flag without its dashes -> the argument, where it is not the flag with underscores
    flags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: the service's field name -> the argument
    names: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def argument(self, flag: str) -> str:
        """The argument of this function that the command-line flag ``--flag`` stands for."""
        if flag == "help":
            return f"help(flopcast.{self.function})"
        return self.flags.get(flag, flag.replace("-", "_"))

    def __call__(self, text: str) -> str:
        if self.names:
            text = self._names_pattern().sub(lambda m: self.names[m.group(1) or m.group(2)], text)

        def paren(m: re.Match[str]) -> str:
            arg = self.argument(m.group(1))
            before = _LAST_TOKEN.search(text[: m.start()])
            return "" if before is not None and before.group(1) == arg else f" ({arg}=...)"

        text = _PAREN_FLAG.sub(paren, text)
        return _FLAG.sub(lambda m: self.argument(m.group(1)), text)

    def _names_pattern(self) -> re.Pattern[str]:
        words = [re.escape(n) for n in self.names if "_" in n]
        bare = [re.escape(n) for n in self.names if "_" not in n]
        alts = [f"({'|'.join(words) or '(?!)'})(?!\\w)", f"({'|'.join(bare) or '(?!)'})(?==)"]
        return re.compile(rf"(?<![\w.])(?:{'|'.join(alts)})")

    def texts(self, items: Sequence[str]) -> list[str]:
        return [self(t) for t in items]

    @contextmanager
    def speaking(self) -> Iterator[None]:
        """Re-raise a :class:`~flopcast.errors.FlopcastError` from the layers below with its message in Python."""
        try:
            yield
        except FlopcastError as exc:
            said = str(exc)
            python = self(said)
            if python != said:
                exc.args = (python, *exc.args[1:])
                if hasattr(exc, "message"):  # UnknownNameError keeps its text apart from KeyError's args
                    exc.message = python
            raise


#: the arguments of :func:`estimate` and :func:`costs` whose names differ from the CLI's flags and the service's
_TRAINING_FLAGS = {
    "compute": "training_compute_flop",
    "hours": "training_time_hours",
    "days": "training_time_days",
    "price-per-chip-hour": "price_usd_per_chip_hour",
    "chip-price": "chip_price_usd",
    "sensitivity": "with_sensitivity",
}
_TRAINING_NAMES = {
    "compute": "training_compute_flop",
    "hours": "training_time_hours",
    "days": "training_time_days",
    "price_per_chip_hour": "price_usd_per_chip_hour",
    "chip_price": "chip_price_usd",
}
SPEAKERS: dict[str, Speaker] = {
    "estimate": Speaker("estimate", _TRAINING_FLAGS, _TRAINING_NAMES),
    "costs": Speaker("costs", _TRAINING_FLAGS, _TRAINING_NAMES),
    "deploy": Speaker(
        "deploy",
        {
            "price-per-chip-hour": "price_usd_per_chip_hour",
            "requests-per-second": "requests_per_s",
            "ttft": "ttft_s",
            "tpot": "tpot_s",
            "days": "duration_days",
            "api-price": "api_usd_per_1k_tokens",
            "prefill": "disaggregated",
        },
        {
            "price_per_chip_hour": "price_usd_per_chip_hour",
            "api_price": "api_usd_per_1k_tokens",
            "ttft": "ttft_s",
            "tpot": "tpot_s",
            "days": "duration_days",
        },
    ),
    "trend": Speaker("trend"),
    "compare": Speaker("compare"),
    "forecast": Speaker("forecast", {"threshold": "thresholds", "prior": "priors", "cap": "caps"}),
    "plan": Speaker(
        "plan", {"layers": "n_layers", "heads": "n_heads", "kv-heads": "n_kv_heads", "ffn": "ffn_activation"}
    ),
}


# ----------------------------------------------------------------------------- charts


@dataclasses.dataclass(frozen=True, repr=False)
class Chart:
    """A drawn chart: its bytes (PNG or SVG), shown inline by Jupyter; ``path`` where it was written, if anywhere."""

    data: bytes
    format: str
    path: Path | None = None

    def _repr_png_(self) -> bytes | None:
        return self.data if self.format == "png" else None

    def _repr_svg_(self) -> str | None:
        return self.data.decode("utf-8") if self.format == "svg" else None

    def __repr__(self) -> str:
        where = f", written to {str(self.path)!r}" if self.path is not None else ""
        return f"<Chart: {self.format.upper()}, {len(self.data):,} bytes{where}>"

    def save(self, path: str | Path) -> Path:
        """Write the chart to ``path`` (atomically); its suffix must be the chart's format."""
        from flopcast.reporting.output import write_output

        p = Path(path)
        if p.suffix.lower() != f".{self.format}":
            raise InvalidInputError(f"path={str(path)!r} must end in .{self.format} (this chart is {self.format})")
        write_output(p, self.data, label="path")
        return p


def _drawn(draw: Any, path: str | Path | None) -> Chart:
    """Run ``draw(path)`` (a function of :mod:`flopcast.reporting.plots`), into ``path`` or a temporary PNG."""
    import tempfile

    if path is not None:
        written = Path(draw(path))
        return Chart(written.read_bytes(), written.suffix.lower().lstrip("."), written)
    with tempfile.TemporaryDirectory(prefix="flopcast-chart-") as tmp:
        written = Path(draw(Path(tmp) / "chart.png"))
        return Chart(written.read_bytes(), "png")


def _figure() -> tuple[Any, Any]:
    """A matplotlib Figure with one Axes (no pyplot state), or a one-line error naming the extra."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise InvalidInputError("plotting needs matplotlib: pip install 'flopcast[plot]'") from None
    fig = Figure(figsize=(8.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _finish(fig: Any, path: str | Path | None) -> Chart:
    """Render ``fig`` to PNG or SVG bytes (by ``path``'s suffix; PNG without a path) and write them to ``path``."""
    import io

    fmt = "png"
    if path is not None:
        fmt = Path(path).suffix.lower().lstrip(".")
        if fmt not in ("png", "svg"):
            raise InvalidInputError(
                f"path={str(path)!r} has suffix {Path(path).suffix or '(none)'!r}; allowed: .png, .svg"
            )
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **({"dpi": 120} if fmt == "png" else {"metadata": {"Date": None}}))
    chart = Chart(buf.getvalue(), fmt)
    return dataclasses.replace(chart, path=chart.save(path)) if path is not None else chart


def _money_axis(ax: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _pos: format_value(v, "USD") if v > 0 else "")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


# ----------------------------------------------------------------------------- costs


class CostFrame(pd.DataFrame):
    """Every costed model, one row each: the columns of ``flopcast costs --format csv`` (medians, 5th and 95th
    percentiles of compute, chip-hours, each cost method, power and emissions; the hardware, where compute
    came from and which inputs were imputed) plus ``hardware_provenance``.

    ``source``, ``dollars``, ``samples``, ``seed``, ``sampling``, ``selection``, ``methods`` and ``skipped`` (the
    models that could not be costed, with the reason) say how the table was made. ``.plot()`` draws each model's
    cost against its publication date; pandas' own plotting is ``.to_frame().plot``.
    """

    _metadata: ClassVar[list[str]] = [
        "source",
        "dollars",
        "samples",
        "seed",
        "sampling",
        "selection",
        "skipped",
        "methods",
    ]

    @property
    def _constructor(self) -> type:
        return CostFrame

    def to_frame(self) -> pd.DataFrame:
        """A plain pandas DataFrame of the same rows."""
        return pd.DataFrame(self)

    def plot(self, path: str | Path | None = None, *, method: str | None = None) -> Chart:
        """Cost (median and 90% interval) by ``method`` (default: amortized where the table has it) against
        publication date, log scale; returns a :class:`Chart`, written to ``path`` (.png, .svg) if given."""
        methods = list(self.methods)
        m = method or ("amortized" if "amortized" in methods else methods[0])
        if m not in methods:
            raise InvalidInputError(f"method={m!r} is not one of {', '.join(methods)}")
        col = f"cost_{m}_usd"
        rows = self[self[col].notna() & self["publication_date"].notna()]
        fig, ax = _figure()
        lo = (rows[col] - rows[f"{col}_p5"]).to_numpy(float)
        hi = (rows[f"{col}_p95"] - rows[col]).to_numpy(float)
        ax.errorbar(rows["publication_date"], rows[col], yerr=[lo, hi], fmt="o", ms=3, lw=0.6, alpha=0.7)
        ax.set_yscale("log")
        _money_axis(ax)
        ax.set_xlabel("Publication date")
        ax.set_ylabel(f"{label(f'cost_usd.{m}')} (median, 90% CI)")
        ax.set_title(f"{plural(len(rows), 'model')}: {self.dollars}", fontsize=10)
        ax.grid(True, alpha=0.3)
        fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
        fig.text(0.01, 0.005, f"Source: {self.source}", fontsize=7, color="#444444")
        return _finish(fig, path)


def _sample_count(options: dict[str, Any], sampling: str) -> dict[str, Any]:
    """``options`` with ``sampling_precision`` turned into ``samples`` (:func:`flopcast.service.sample_count`, as
    the command line and the web API do), for the functions whose options go to the service as they are."""
    if options.get("sampling_precision") is None:
        return {k: v for k, v in options.items() if k != "sampling_precision"}
    from flopcast.service import sample_count

    rest = dict(options)
    precision = rest.pop("sampling_precision")
    rest["samples"] = sample_count(rest.get("samples"), precision, rest.get("sampling", sampling))
    return rest


def costs(
    *,
    top: int | None = None,
    since: int | None = None,
    until: int | None = None,
    domain: str | None = None,
    org: str | None = None,
    include_finetunes: bool | None = None,
    method: str = DEFAULT_METHOD,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
    depreciation: str = DEFAULT_DEPRECIATION,
    depreciation_years: float | None = None,
    cost_of_capital: float = 0.0,
    grid: str | float | None = None,
    utilization_prior: str = DEFAULT_UTILIZATION_PRIOR,
    samples: int | None = None,
    sampling_precision: float | None = None,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    data: str | None = None,
    db: Database | None = None,
) -> CostFrame:
    """Every costed model of the database as a DataFrame (a :class:`CostFrame`): ``flopcast costs``, row for row.

    The options are ``flopcast costs``'s (``top=10`` the frontier, ``since``/``until`` publication years,
    ``include_finetunes``: None keeps them in a listing and leaves them out of ``top``; ``method``: ``all`` or one
    cost method). Each row is :func:`estimate` of that model for the same samples and seed.
    """
    from flopcast.service import MoneyOptions, cost_table, sample_count

    speak = SPEAKERS["costs"]
    with speak.speaking():
        table = cost_table(
            data=data,
            top=top,
            since=since,
            until=until,
            domain=domain,
            org=org,
            include_finetunes=include_finetunes,
            method=method,
            cloud_tier=cloud_tier,
            cloud_vendor=cloud_vendor,
            year_dollars=year_dollars,
            price_index=price_index,
            attention=attention,
            samples=sample_count(samples, sampling_precision, sampling),
            seed=seed,
            sampling=sampling,
            db=db,
            money=MoneyOptions(depreciation, depreciation_years, cost_of_capital, grid, utilization_prior),
        )
    res = table.result
    rows = res.rows()
    for row, e in zip(rows, res.estimates, strict=True):
        row["notes"] = speak(row["notes"])
        row["hardware_provenance"] = e.hardware_provenance
    frame = CostFrame(rows)
    if len(frame):
        frame["publication_date"] = pd.to_datetime(frame["publication_date"].replace("", None))
    frame.source, frame.dollars, frame.samples, frame.seed = res.source, res.dollars, res.samples, res.seed
    frame.sampling, frame.selection, frame.methods = res.sampling, res.selection, tuple(res.methods)
    frame.skipped = [dict(s, reason=speak(str(s.get("reason", "")))) for s in res.skipped]
    return frame


# ----------------------------------------------------------------------------- one training run


class _Wrapped:
    """A typed result of the notebook API around the service's result (``.result``): every field of that result
    reads through, ``to_dict()`` is the CLI's ``--json``."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def __getattr__(self, name: str) -> Any:
        if name == "result":  # not yet set (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.result, name)

    @property
    def notes(self) -> list[str]:
        return self.result.notes

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()


class Estimate(_Wrapped):
    """One training run's estimate (:class:`flopcast.pipeline.TrainingEstimate`, ``.result``): compute, chip-hours,
    time, memory, each cost method, power and emissions, each a Summary (median, mean, p5, p95, unit), with every
    input's provenance and source. Every field of the TrainingEstimate reads through (``.inputs``,
    ``.peak_power_w``, ``.development``...); ``.to_dict()`` is ``flopcast estimate --json``."""

    result: TrainingEstimate

    @property
    def name(self) -> str:
        return self.result.name

    @property
    def training_compute_flop(self) -> Summary:
        return self.result.training_compute_flop

    @property
    def chip_hours(self) -> Summary | None:
        return self.result.chip_hours

    @property
    def cost_usd(self) -> dict[str, Summary]:
        """Cost by method (``cloud``, ``amortized``, ``acquisition``), USD; the methods the inputs allow."""
        return self.result.cost_usd

    @property
    def warnings(self) -> list[str]:
        return self.result.warnings

    def to_frame(self) -> pd.DataFrame:
        """One row per output (index: its key): label, unit, median, mean, p5, p95, central value."""
        frame = self.result.to_frame()
        frame.insert(0, "label", [label(k).strip() for k in frame.index])
        return frame

    def summary(self) -> str:
        return self.result.summary()

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        r = self.result
        shown = {"training_compute_flop": r.training_compute_flop, "chip_hours": r.chip_hours}
        shown.update({f"cost_usd.{m}": s for m, s in r.cost_usd.items()})
        lines = [f"<Estimate {r.name} on {r.hardware or 'no hardware'} ({r.dollars or 'compute only'})"]
        lines += [f"  {label(k)}: {format_summary(s)}" for k, s in shown.items() if s is not None]
        told = [plural(len(r.notes), "note"), plural(len(r.warnings), "warning")]
        if r.skipped_methods:
            told.append(f"skipped: {', '.join(r.skipped_methods)}")
        lines.append(f"  {'; '.join(told)} (.notes, .warnings, .skipped_methods)>")
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None, *, output: str | None = None) -> Chart:
        """The distribution of each cost method (or of one ``output``, e.g. ``"chip_hours"``): counts over
        log-spaced bins of the samples; returns a :class:`Chart`, written to ``path`` (.png, .svg) if given."""
        from flopcast.service import histogram

        outs = self.result.outputs()
        keys = [output] if output is not None else [k for k in outs if k.startswith("cost_usd.")]
        if output is not None and output not in outs:
            raise InvalidInputError(f"output={output!r} is not one of {', '.join(outs)}")
        if not keys or all(outs[k].samples is None for k in keys):
            raise InvalidInputError("this estimate has no samples to plot (point=True); estimate without point=True")
        fig, ax = _figure()
        for k in keys:
            h = histogram(outs[k].samples)
            if h is None:
                continue
            edges = [10.0**e for e in h["log10_edges"]]
            ax.stairs(h["counts"], edges, fill=True, alpha=0.35, label=f"{label(k)}: {format_summary(outs[k])}")
        ax.set_xscale("log")
        unit = outs[keys[0]].unit
        if unit == "USD":
            _money_axis(ax, "x")
        ax.set_xlabel(label(keys[0]) if output is not None else "Cost (USD)")
        ax.set_ylabel(f"Samples (of {self.result.samples:,})")
        ax.set_title(f"{self.result.name} on {self.result.hardware}", fontsize=11)
        ax.legend(fontsize=8, frameon=False)
        return _finish(fig, path)


def _python_estimate(est: TrainingEstimate, speak: Speaker) -> TrainingEstimate:
    """``est`` with its notes, warnings, skipped methods' reasons and input sources in Python's words."""
    return dataclasses.replace(
        est,
        notes=speak.texts(est.notes),
        warnings=speak.texts(est.warnings),
        skipped_methods={m: speak(why) for m, why in est.skipped_methods.items()},
        inputs=[dataclasses.replace(r, source=speak(r.source)) for r in est.inputs],
    )


def _date(field: str, value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(f"{field}={value!r} is not a date; give a datetime.date or 'YYYY-MM-DD'") from None


def estimate(
    model: str | None = None,
    *,
    params: QuantityInput = None,
    params_active: QuantityInput = None,
    tokens: QuantityInput = None,
    epochs: QuantityInput = None,
    training_compute_flop: QuantityInput = None,
    hardware: str | None = None,
    precision: str | None = None,
    chips: QuantityInput = None,
    training_time_hours: QuantityInput = None,
    training_time_days: QuantityInput = None,
    chip_hours: QuantityInput = None,
    utilization: QuantityInput = None,
    price_usd_per_chip_hour: QuantityInput = None,
    chip_price_usd: QuantityInput = None,
    organization: str | None = None,
    start_date: dt.date | str | None = None,
    method: str = DEFAULT_METHOD,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    cloud_vendor: str | None = None,
    year_dollars: int | None = None,
    price_index: str | None = None,
    attention: str = DEFAULT_ATTENTION,
    depreciation: str = DEFAULT_DEPRECIATION,
    depreciation_years: float | None = None,
    cost_of_capital: float = 0.0,
    grid: str | float | None = None,
    utilization_prior: str = DEFAULT_UTILIZATION_PRIOR,
    experiments: str | None = DEFAULT_EXPERIMENTS,
    staff_share: QuantityInput = None,
    samples: int | None = None,
    sampling_precision: float | None = None,
    seed: int = DEFAULT_SEED,
    sampling: str = DEFAULT_SAMPLING,
    point: bool = False,
    with_sensitivity: bool = False,
    data: str | None = None,
    db: Database | None = None,
) -> Estimate:
    """Estimate a training run: a database ``model`` by name, a run described by the keywords, or a model with
    overrides; ``flopcast estimate`` with the same values gives the same numbers.

    Every numeric input takes a number, a ``(low, high)`` 90% interval or a distribution
    (:func:`flopcast.ci`). Units are in the names: ``training_compute_flop`` (FLOP), ``training_time_hours`` or
    ``training_time_days`` (wall-clock), ``price_usd_per_chip_hour``, ``chip_price_usd``; ``utilization`` is a
    fraction of peak in (0, 1]. ``method`` is ``all`` or one cost method; ``experiments`` (``per-model``,
    ``lab-wide`` or None) and ``staff_share`` set the development lines beyond the final run (``.development``).
    """
    from flopcast.service import MoneyOptions, sample_count, training_estimate

    speak = SPEAKERS["estimate"]
    if training_time_hours is not None and training_time_days is not None:
        raise InvalidInputError("give training_time_hours or training_time_days, not both")
    name = model if model is None or isinstance(model, str) else getattr(model, "key", model)
    with speak.speaking():
        est = training_estimate(
            name,
            params=params,
            tokens=tokens,
            epochs=epochs,
            params_active=params_active,
            compute=training_compute_flop,
            hardware=hardware,
            precision=precision,
            chips=chips,
            hours=training_time_hours,
            days=training_time_days,
            chip_hours=chip_hours,
            utilization=utilization,
            price_per_chip_hour=price_usd_per_chip_hour,
            chip_price=chip_price_usd,
            method=method,
            cloud_tier=cloud_tier,
            cloud_vendor=cloud_vendor,
            organization=organization,
            start_date=_date("start_date", start_date),
            year_dollars=year_dollars,
            price_index=price_index,
            attention=attention,
            seed=seed,
            samples=sample_count(samples, sampling_precision, sampling),
            sampling=sampling,
            data=data,
            point=point,
            sensitivity=with_sensitivity,
            max_samples=1_000_000,
            db=db,
            money=MoneyOptions(depreciation, depreciation_years, cost_of_capital, grid, utilization_prior),
            experiments=experiments,
            staff_share=staff_share,
        )
    return Estimate(_python_estimate(est, speak))


# ----------------------------------------------------------------------------- serving


class Deployment(_Wrapped):
    """Serving a model for a load (:class:`flopcast.serving.DeploymentEstimate`, ``.result``): the cheapest
    configuration within the latency targets, its throughput, latency, fleet and dollars, each a Summary. Every
    field of the DeploymentEstimate reads through (``.plan``, ``.inputs``, ``.configuration``...);
    ``.to_dict()`` is ``flopcast deploy --json``."""

    result: DeploymentEstimate

    @property
    def usd_per_million_tokens(self) -> Summary:
        return self.result.usd_per_million_tokens

    @property
    def usd_total(self) -> Summary:
        return self.result.usd_total

    def outputs(self) -> dict[str, Summary]:
        return self.result.outputs()

    def to_frame(self) -> pd.DataFrame:
        """One row per output (index: its key): label, unit, median, mean, p5, p95."""
        d = self.result.duration_days
        rows = [
            dict(output=k, label=deployment_label(k, d).strip(), unit=s.unit, **s.to_dict())
            for k, s in self.result.outputs().items()
        ]
        return pd.DataFrame(rows).set_index("output")

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        r = self.result
        d = r.duration_days
        keys = ("usd_per_million_tokens", "usd_total", "instances", "time_per_output_token_s", "time_to_first_token_s")
        outs = r.outputs()
        lines = [f"<Deployment {r.model}: {r.configuration}" + (f" ({r.scenario})" if r.scenario else "")]
        lines += [f"  {deployment_label(k, d).strip()}: {format_summary(outs[k])}" for k in keys if k in outs]
        lines.append(f"  {plural(len(r.notes), 'note')} (.notes); every output: .to_frame()>")
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None) -> Chart:
        """The planner's frontier of throughput against time per output token, one series per chip
        (:func:`flopcast.reporting.plots.plot_serving_frontier`)."""
        from flopcast.reporting.plots import plot_serving_frontier

        return _drawn(lambda p: plot_serving_frontier(self.result, p, path_label="path"), path)


def deploy(model: str | None = None, **options: Any) -> Deployment:
    """Serve ``model`` (a catalog name, or none with ``params=``) for a load: ``flopcast deploy``, the same numbers.

    The options are :func:`flopcast.service.deployment_estimate`'s, named with their units: the load
    ``tokens_per_day`` (generated tokens), ``requests_per_s`` or ``scenario``; ``hardware`` (one chip, a list, or
    None for every priced chip), ``chips``, ``tp``, ``ep``, ``precision``, ``batch``; targets ``ttft_s`` and
    ``tpot_s`` (``math.inf`` for none); ``price_usd_per_chip_hour``, ``owned``, ``load_factor``,
    ``duration_days``, ``api_usd_per_1k_tokens``, ``vs_training``; ``samples`` and ``seed``. Uncertain inputs take
    a number or a ``(low, high)`` 90% interval.
    """
    import inspect

    from flopcast.service import deployment_estimate

    speak = SPEAKERS["deploy"]
    allowed = set(inspect.signature(deployment_estimate).parameters) - {"model"} | {"sampling_precision"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidInputError(f"unknown argument(s) {', '.join(unknown)}; deploy takes {', '.join(sorted(allowed))}")
    with speak.speaking():
        est = deployment_estimate(model, **_sample_count(options, RANDOM_SAMPLING))
    python = dataclasses.replace(
        est,
        notes=speak.texts(est.notes),
        inputs=[dict(i, source=speak(str(i["source"]))) if "source" in i else i for i in est.inputs],
    )
    return Deployment(python)


# ----------------------------------------------------------------------------- a training run's layout


class Plan(_Wrapped):
    """A training run planned on one chip (:class:`flopcast.layout_plan.TrainingPlan`, ``.result``): the layout,
    the memory of the most-loaded rank term by term, the time with bubbles, communication and failures, MFU,
    HFU and effective utilization, the cost by method, and the constraint that binds. Every field reads through
    (``.layout``, ``.memory``, ``.binding``, ``.alternatives``...); ``.to_dict()`` is ``flopcast plan --json``."""

    result: TrainingPlan

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity (index: its key): label, unit, median, mean, p5, p95; memory terms in bytes."""
        from flopcast.service import PLAN_MEMORY_KEYS as MEMORY_KEYS

        r = self.result
        rows = [
            dict(quantity=f"memory.{key}", label=k, unit="bytes", median=v, mean=v, p5=v, p95=v)
            for key, (k, v) in zip(MEMORY_KEYS, r.memory.terms().items(), strict=True)
        ]
        rows.append(
            dict(
                quantity="memory.total",
                label="memory per rank",
                unit="bytes",
                median=r.memory.total_bytes,
                mean=r.memory.total_bytes,
                p5=r.memory.total_bytes,
                p95=r.memory.total_bytes,
            )
        )
        for key, name, s in (
            ("duration_s", "wall-clock time", r.duration_s),
            ("chip_hours", "chip-hours", r.chip_hours),
            ("mfu", "MFU", r.mfu),
            ("hfu", "HFU", r.hfu),
            ("effective_utilization", "effective utilization", r.effective_utilization),
            ("goodput", "goodput", r.goodput),
            *((f"cost_usd.{m}", label(f"cost_usd.{m}"), s) for m, s in r.cost_usd.items()),
        ):
            rows.append(
                dict(quantity=key, label=name, unit=s.unit, **{k: v for k, v in s.to_dict().items() if k != "central"})
            )
        return pd.DataFrame(rows).set_index("quantity")

    def __repr__(self) -> str:
        r = self.result
        return (
            f"<Plan {r.model} on {r.layout.chips:,} {r.hardware}: {r.layout.describe()}\n"
            f"  memory per rank {format_display(r.memory.total_bytes, 'bytes')} of "
            f"{format_display(r.memory.capacity_bytes, 'bytes')}; wall-clock {format_summary(r.duration_s)}\n"
            f"  MFU {format_summary(r.mfu)}; bound by {r.binding}; {plural(len(r.notes), 'note')} (.notes)>"
        )


def plan(model: str | None = None, **options: Any) -> Plan:
    """Plan a training run on one chip: ``flopcast plan``, the same numbers.

    The options are :func:`flopcast.service.training_plan`'s: the shape (``params`` total, ``n_layers``,
    ``d_model``, ``n_heads``, ``n_kv_heads``, ``ffn_hidden``, ``ffn_activation``, ``vocab``, ``seq_len``; a
    database model gives its own), ``tokens`` or ``compute``, ``hardware``, ``precision``, ``chips`` or ``days``,
    ``utilization``, ``global_batch_tokens``, the layout parts to fix (``tp``, ``pp``, ``dp``, ``zero``,
    ``micro_batch``, ``recompute``), ``method``, ``samples`` and ``seed``. Uncertain inputs take a number or a
    ``(low, high)`` 90% interval.
    """
    import inspect

    from flopcast.service import training_plan

    speak = SPEAKERS["plan"]
    allowed = set(inspect.signature(training_plan).parameters) - {"model"} | {"sampling_precision"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidInputError(f"unknown argument(s) {', '.join(unknown)}; plan takes {', '.join(sorted(allowed))}")
    with speak.speaking():
        result = training_plan(model, **_sample_count(options, "sobol"))
    return Plan(dataclasses.replace(result, notes=speak.texts(result.notes)))


# ----------------------------------------------------------------------------- trends


class Trend:
    """A log-linear trend of a metric against publication date (:class:`flopcast.service.TrendAnalysis`,
    ``.result``): the fit (``.fit``: growth a year, doubling time, intervals) and the points it was fitted to.
    ``.to_dict()`` is ``flopcast trend --json``."""

    def __init__(self, result: TrendAnalysis, extrapolate: int | None = None) -> None:
        self.result = result
        self.extrapolate = extrapolate

    @property
    def fit(self) -> Any:
        """The :class:`flopcast.trends.TrendFit`: ``growth_per_year()``, ``predict(years)``, ``summary()``."""
        return self.result.fit

    @property
    def growth_per_year(self) -> dict[str, Any]:
        """The factor a year: ``{estimate, low, high, credibility, method}``."""
        return dict(self.result.out["growth_per_year"])

    @property
    def notes(self) -> list[str]:
        return self.result.notes

    def to_dict(self) -> dict[str, Any]:
        return self.result.out

    def to_frame(self) -> pd.DataFrame:
        """One row per point fitted: label, publication date, decimal year, value (in ``unit``)."""
        t = self.result
        return pd.DataFrame(
            {
                "label": list(t.labels),
                "publication_date": pd.to_datetime(list(t.dates)),
                "year": t.years,
                "value": [float(v) for v in t.values],
                "unit": t.unit,
            }
        )

    def __repr__(self) -> str:
        t, g = self.result, self.result.out["growth_per_year"]
        o = t.out
        lines = [
            f"<Trend {t.title} of {plural(o['n_models'], 'model')}, {o['start'][:4]}-{o['end'][:4]}: "
            f"x{g['estimate']:.3g} a year ({g['credibility']:.0%} CI x{g['low']:.3g}-x{g['high']:.3g})",
            f"  doubling every {o['doubling_time_years']['estimate']:.3g} years; {t.source}",
        ]
        if "extrapolation" in o and self.extrapolate is not None:
            e = o["extrapolation"]
            lines.append(
                f"  mid-{self.extrapolate}: {format_value(e['median'], t.unit)} "
                f"(trend {g['credibility']:.0%} CI {format_range(e['line_low'], e['line_high'], t.unit)})"
            )
        lines[-1] += f"; {plural(len(t.notes), 'note')}>"
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None) -> Chart:
        """The chart of ``flopcast trend --plot`` (:func:`flopcast.reporting.plots.plot_trend`): the points, the
        fitted line with its confidence band and prediction band, the largest points labelled, the extrapolation
        when one was asked, and the source in the caption."""
        from flopcast.reporting.plots import plot_trend

        t = self.result
        sel = t.out.get("selection", {})
        shown = ", ".join(f"{k} {v}" for k, v in sel.items() if k != "meaning") or "all models"
        caption = f"Source: {t.source}. " + " ".join(
            [*t.notes, *([f"Models: {sel['meaning']}."] if "meaning" in sel else [])]
        )
        title = f"{t.title}: x{t.fit.growth_per_year()['estimate']:.2f} per year ({shown})"
        return _drawn(
            lambda p: plot_trend(
                t.fit,
                t.dates,
                t.values,
                p,
                labels=t.labels,
                extrapolate_to=self.extrapolate,
                title=title,
                caption=caption,
                path_label="path",
            ),
            path,
        )


def trend(metric: str, **options: Any) -> Trend:
    """Fit a log-linear trend of ``metric`` (``compute``, ``cost``, ``params``, ``data`` or
    ``price-performance``) against publication date: ``flopcast trend``, the same numbers.

    The options are :func:`flopcast.service.trend_analysis`'s: ``top`` (the frontier), ``since``, ``until``,
    ``domain``, ``org``, ``include_finetunes``, ``above_trend``, ``cost_method``, ``year_dollars``,
    ``extrapolate`` (a year), ``cross`` (a value), ``breakpoint``, ``bootstrap`` (resamples, default 10,000),
    ``within_intervals``, ``credibility``, ``samples``, ``seed``.
    """
    import inspect

    from flopcast.service import trend_analysis

    speak = SPEAKERS["trend"]
    allowed = set(inspect.signature(trend_analysis).parameters) - {"metric"} | {"sampling_precision"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidInputError(f"unknown argument(s) {', '.join(unknown)}; trend takes {', '.join(sorted(allowed))}")
    with speak.speaking():
        t = trend_analysis(metric, **_sample_count(options, "sobol"))
    t = dataclasses.replace(t, notes=speak.texts(t.notes), out=dict(t.out, notes=speak.texts(t.out.get("notes", []))))
    return Trend(t, extrapolate=options.get("extrapolate"))


# ----------------------------------------------------------------------------- hardware


#: what :meth:`Comparison.to_frame` compares (each labelled ``comparison.<key>``), with its unit
_COMPARED = (
    ("peak_flop_per_s", "FLOP/s"),
    ("memory_bytes", "bytes"),
    ("min_chips", "chips"),
    ("price_usd_per_chip_hour", "USD"),
    ("usd_per_flop", "USD"),
)


class Comparison(_Wrapped):
    """Chip ``b`` against chip ``a`` at one date (:class:`flopcast.comparison.HardwareComparison`, ``.result``),
    for the model of ``params`` parameters whose training state (16 bytes a parameter) must fit; every ratio is
    b / a. ``.to_dict()`` is ``flopcast hardware compare --json``."""

    result: HardwareComparison

    @property
    def params(self) -> float:
        """The parameters of the model whose training state must fit (as given)."""
        return self.result.params

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity (index: its key): label, unit, a, b and b / a."""
        r = self.result
        rows = []
        for key, unit in _COMPARED:
            va, vb = getattr(r, f"{key}_a"), getattr(r, f"{key}_b")
            ratio = vb / va if va and vb is not None else None
            text = label(f"comparison.{key}")
            rows.append({"quantity": key, "label": text, "unit": unit, "a": va, "b": vb, "b_over_a": ratio})
        frame = pd.DataFrame(rows).set_index("quantity")
        frame.attrs.update(a=r.a, b=r.b, params=r.params, date=r.date, tier=r.tier)
        return frame

    def __repr__(self) -> str:
        r = self.result
        day = r.date.isoformat() if r.date else "today"
        lines = [
            f"<Comparison {r.b} / {r.a} at {day}, {r.tier} prices, a model of {format_display(r.params, 'parameters')}"
        ]
        lines.append(f"  peak x{r.peak_flop_per_s_ratio:.3g} ({r.precision_b} / {r.precision_a})")
        if r.memory_bytes_ratio is not None:
            lines.append(
                f"  memory x{r.memory_bytes_ratio:.3g}; chips to hold it {r.min_chips_b:.0f} vs {r.min_chips_a:.0f}"
            )
        if r.cost_per_flop_advantage is not None:
            lines.append(f"  {r.b} is x{r.cost_per_flop_advantage:.3g} cheaper per delivered FLOP")
        else:
            lines.append(f"  cost per FLOP: no price ({r.price_source_a}; {r.price_source_b})")
        lines[-1] += ">"
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None) -> Chart:
        """Each ratio b / a as a bar (log scale; right of 1: b has more)."""
        frame = self.to_frame().dropna(subset=["b_over_a"])
        fig, ax = _figure()
        ax.barh(frame["label"], frame["b_over_a"], color="#1f4e79")
        ax.set_xscale("log")
        ax.axvline(1.0, color="#555555", lw=0.8)
        ax.invert_yaxis()
        ax.set_xlabel(f"{self.result.b} / {self.result.a}")
        ax.set_title(f"{self.result.b} against {self.result.a}", fontsize=11)
        return _finish(fig, path)


def compare(
    a: str,
    b: str,
    *,
    params: float,
    precision: str | None = None,
    price_a: float | None = None,
    price_b: float | None = None,
    utilization: float = 1.0,
    cloud_tier: str = DEFAULT_CLOUD_TIER,
    date: dt.date | str | None = None,
    data: str | None = None,
    db: Database | None = None,
) -> Comparison:
    """Chip ``b`` against chip ``a`` at one ``date`` (default today, stated in the result): peak FLOP/s, memory,
    the chips that hold the training state of a ``params``-parameter model (required: no size is assumed), and
    cost per delivered FLOP, ``price / (peak x utilization x 3600)``, at the market's ``cloud_tier`` price unless
    ``price_a``/``price_b`` (USD per chip-hour) are given. ``flopcast hardware compare``, the same numbers.
    """
    from flopcast.service import hardware_comparison

    with SPEAKERS["compare"].speaking():
        r = hardware_comparison(
            a,
            b,
            params=params,
            precision=precision,
            price_a=price_a,
            price_b=price_b,
            utilization=utilization,
            tier=cloud_tier,
            when=_date("date", date),
            data=data,
            db=db,
        )
    speak = SPEAKERS["compare"]
    return Comparison(
        dataclasses.replace(r, price_source_a=speak(r.price_source_a), price_source_b=speak(r.price_source_b))
    )


# ----------------------------------------------------------------------------- forecasts


class Forecast(_Wrapped):
    """A forecast of the largest training run of each year, or of the top-N frontier's trend
    (:class:`flopcast.service.FrontierForecast`, ``.result``): each year's median and 90% interval, the chance of
    passing each threshold, and the assumptions. ``.to_dict()`` is ``flopcast forecast --json``."""

    result: FrontierForecast

    @property
    def years(self) -> list[Any]:
        return self.result.forecast.years

    @property
    def assumptions(self) -> dict[str, Any]:
        return self.result.assumptions

    @property
    def notes(self) -> list[str]:
        return self.result.forecast.notes

    def to_frame(self) -> pd.DataFrame:
        """One row per year (index): median, p5, p95 (in ``unit``), and ``p_exceeds <threshold>`` per threshold."""
        fc = self.result.forecast
        rows = []
        for y in fc.years:
            row: dict[str, Any] = {"year": y.year, "median": y.median, "p5": y.p5, "p95": y.p95, "unit": fc.unit}
            row.update({f"p_exceeds {t}": p for t, p in y.p_exceeds.items()})
            if y.p_capped is not None:
                row["p_capped"] = y.p_capped
            rows.append(row)
        return pd.DataFrame(rows).set_index("year")

    def __repr__(self) -> str:
        fc = self.result.forecast
        what = self.result.assumptions.get("target", fc.target)
        lines = [f"<Forecast {fc.metric} of {what}, fitted on {plural(fc.n_runs, 'run')}"]
        for y in (fc.years[0], fc.years[-1]) if len(fc.years) > 1 else fc.years:
            lines.append(f"  {y.year}: {format_value(y.median, fc.unit)} (90% CI {format_range(y.p5, y.p95, fc.unit)})")
        for t, c in fc.crossings.items():
            when = "not by the horizon" if c["median"] is None else f"median year {c['median']:.1f}"
            lines.append(f"  passes {format_value(float(t), fc.unit)}: {when}")
        lines[-1] += ">"
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None) -> Chart:
        """The chart of ``flopcast forecast --plot`` (:func:`flopcast.reporting.plots.plot_forecast`)."""
        from flopcast.reporting.plots import plot_forecast

        return _drawn(lambda p: plot_forecast(self.result, p, path_label="path"), path)


def forecast(
    metric: str = "cost",
    *,
    until: int = 2032,
    top: int | None = None,
    thresholds: Sequence[float] = (),
    priors: Mapping[str, tuple[float, float]] | None = None,
    caps: Sequence[str] = (),
    fit_since: int | None = 2016,
    fit_until: int | None = None,
    include_finetunes: bool = False,
    cost_method: str = "amortized",
    year_dollars: int | None = None,
    price_index: str | None = None,
    samples: int | None = None,
    sampling_precision: float | None = None,
    seed: int = DEFAULT_SEED,
    data: str | None = None,
    db: Database | None = None,
) -> Forecast:
    """Forecast ``metric`` (``cost``, ``compute``, ``power`` or ``chips``) of the largest run of each year to
    ``until`` (or, with ``top=N``, of the top-N frontier's trend): ``flopcast forecast``, the same numbers.

    ``thresholds`` (in the metric's unit) get the chance of being passed each year; ``priors`` map a component to
    a ``(low, high)`` 90% interval of its growth a year (``{"compute": (3, 5)}``); ``caps`` names Epoch's 2030
    constraints (``power``, ``chips``, ``data``, ``latency`` or ``all``).
    """
    from flopcast.service import frontier_forecast, sample_count

    speak = SPEAKERS["forecast"]
    if isinstance(thresholds, (int, float)):
        thresholds = [thresholds]
    if isinstance(caps, str):
        caps = [caps]
    with speak.speaking():
        r = frontier_forecast(
            metric,
            until=until,
            largest=top is None,
            top=10 if top is None else top,
            thresholds=list(thresholds),
            priors=priors,
            caps=list(caps),
            fit_since=fit_since,
            fit_until=fit_until,
            include_finetunes=include_finetunes,
            cost_method=cost_method,
            year_dollars=year_dollars,
            price_index=price_index,
            samples=sample_count(samples, sampling_precision, RANDOM_SAMPLING),
            seed=seed,
            data=data,
            db=db,
        )
    r.forecast.notes = speak.texts(r.forecast.notes)
    return Forecast(r)
