"""Robust readers for Epoch AI's public CSV databases (AI models, ML hardware, prices).

Epoch's tables are exported from Airtable and are messy in known ways: multi-line quoted
cells, a UTF-8 byte-order mark on some files, CRLF record ends with LF inside cells, a
stray carriage return inside an unquoted cell, ``$`` prices, ``NaN``/``Infinity`` cells,
names with tabs, trailing newlines or no-break spaces, multi-valued cells whose items are
themselves CSV-quoted when they contain a comma (``"SambaNova Systems, Inc"``), dates
such as ``6/18/2025 11:40am``, utilization entered as a percentage (``72.0``), and
duplicate names.

Nothing here raises on a bad cell: a cell that cannot be parsed becomes ``None`` and a
:class:`ParseIssue` (file, line, column, value, reason) in the file's
:class:`ParseReport`. Only an unusable file (not UTF-8, no records, required columns
missing, not one of Epoch's files, past one of the reading limits of
:mod:`flopcast.datasets.reader`) raises :class:`~flopcast.errors.CatalogError`. Files are
streamed record by record; :func:`check_file` keeps no rows, only what its report needs.

Lines are 1-based physical lines of the file where the record starts, as ``sed -n Np``
or an editor shows them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flopcast.datasets import schema
from flopcast.datasets.parsing import (
    ParseIssue,
    ParseReport,
    _clean_text,
    normalize_name,
    parse_date,
    parse_number,
    split_list,
)
from flopcast.datasets.reader import _duplicates, _Table
from flopcast.errors import UnknownModelError

if TYPE_CHECKING:
    from flopcast.catalogs.hardware import Hardware

__all__ = [
    "EpochModel",
    "EpochPrice",
    "ParseIssue",
    "ParseReport",
    "check_file",
    "find_model",
    "iter_epoch_models",
    "load_epoch_models",
    "load_epoch_prices",
    "normalize_name",
    "parse_date",
    "parse_number",
    "split_list",
]


# --------------------------------------------------------------------------- AI models


@dataclass(frozen=True, slots=True)
class EpochModel:
    """One row of Epoch's AI models table. Everything but the name may be missing (None / ())."""

    name: str
    line: int = 0
    organizations: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    publication_date: dt.date | None = None
    parameters: float | None = None
    training_compute_flop: float | None = None
    compute_lower_flop: float | None = None
    compute_upper_flop: float | None = None
    dataset_size: float | None = None
    epochs: float | None = None
    training_time_hours: float | None = None
    training_hardware: tuple[str, ...] = ()
    hardware_quantity: float | None = None
    utilization: float | None = None
    chip_hours: float | None = None
    confidence: str | None = None
    accessibility: str | None = None
    cloud_vendor: str | None = None
    organization_category: tuple[str, ...] = ()
    #: multi-valued in the data (e.g. ``FP8,BF16,FP32``)
    numerical_format: tuple[str, ...] = ()
    notability: tuple[str, ...] = ()
    compute_rank: float | None = None
    #: multi-valued in the data (e.g. ``Operation counting,Hardware``)
    estimation_method: tuple[str, ...] = ()
    #: multi-valued in the data (one country per organization)
    country: tuple[str, ...] = ()
    link: str | None = None
    tasks: tuple[str, ...] = ()
    training_datasets: tuple[str, ...] = ()
    #: the model this row was fine-tuned from, and the fine-tune's own compute
    base_model: str | None = None
    finetune_compute_flop: float | None = None
    post_training_compute_flop: float | None = None
    dataset_notes: str | None = None
    training_power_draw_w: float | None = None
    last_modified: dt.date | None = None


def load_epoch_models(path: str | Path) -> tuple[list[EpochModel], ParseReport]:
    """Every AI model row of an Epoch models CSV, and the report of what could not be parsed.

    Rows without a name are reported and skipped; so is a record the csv module cannot read
    at all (a cell over its 131,072-character limit). Every other row is returned. Duplicate
    and near-duplicate names are reported in ``report.duplicates``; all their rows are kept.
    """
    return _load_models(_Table(path, schema.MODELS))


def iter_epoch_models(path: str | Path, reports: list[ParseReport]) -> Iterator[EpochModel]:
    """The rows of :func:`load_epoch_models`, read as they are asked for (a large file is never held as a list);
    the file's report is appended to ``reports`` once the last row has been read."""
    return _models(_Table(path, schema.MODELS), reports)


def _load_models(t: _Table, *, keep: bool = True) -> tuple[list[EpochModel], ParseReport]:
    """The models of ``t`` and its report; with ``keep=False`` the models are checked, not kept
    (``data check`` of a large file holds only the names, for the duplicates)."""
    reports: list[ParseReport] = []
    if keep:
        models = list(_models(t, reports))
    else:
        models = []
        for _ in _models(t, reports):
            pass
    return models, reports[0]


def _models(t: _Table, reports: list[ParseReport]) -> Iterator[EpochModel]:
    sink = t.sink
    pos = {"positive": True}
    f_orgs = t.list_cell("organization")
    f_domains = t.list_cell("domain")
    f_tasks = t.list_cell("task")
    f_date = t.date("publication_date")
    f_params = t.number("parameters", **pos)
    f_compute = t.number("training_compute_flop", **pos)
    f_lower = t.number("compute_lower_flop", **pos)
    f_upper = t.number("compute_upper_flop", **pos)
    f_dsize = t.number("dataset_size", **pos)
    f_epochs = t.number("epochs", **pos)
    f_hours = t.number("training_time_hours", **pos)
    f_hw = t.list_cell("training_hardware")
    f_qty = t.number("hardware_quantity", **pos)
    f_util = t.number("utilization", percent=True, unit_interval=True)
    f_chiph = t.number("chip_hours", **pos)
    f_conf = t.text_cell("confidence")
    f_access = t.text_cell("accessibility")
    f_vendor = t.text_cell("cloud_vendor")
    f_orgcat = t.list_cell("organization_category")
    f_numfmt = t.list_cell("numerical_format")
    f_notab = t.list_cell("notability")
    f_rank = t.number("compute_rank", **pos)
    f_method = t.list_cell("estimation_method")
    f_country = t.list_cell("country")
    f_link = t.text_cell("link")
    f_base = t.text_cell("base_model")
    f_ft = t.number("finetune_compute_flop", **pos)
    f_post = t.number("post_training_compute_flop", **pos)
    f_dnotes = t.text_cell("dataset_notes")
    f_power = t.number("power_draw_w", **pos)
    f_modified = t.date("last_modified")
    ds_idx = next((i for i, h in enumerate(t.header) if h.strip() == "Training dataset"), None)
    compute_col = t.header_of("training_compute_flop")

    names: list[tuple[str, int]] = []
    skipped = 0
    for rec in t.records:
        cells = rec.cells
        sink.line = rec.line
        name = t.name("model", cells)
        if name is None:
            skipped += 1
            continue
        conf = f_conf(cells)
        compute, lower, upper = f_compute(cells), f_lower(cells), f_upper(cells)
        if lower is not None and upper is not None and lower > upper:
            sink.warn(compute_col, f"{lower:g} > {upper:g}", "compute lower bound exceeds the upper bound")
        elif compute is not None and (
            (lower is not None and lower > compute) or (upper is not None and upper < compute)
        ):
            sink.warn(
                compute_col,
                f"{compute:g} (bounds {lower if lower is None else f'{lower:g}'}, {upper if upper is None else f'{upper:g}'})",
                "central compute estimate lies outside its bounds",
            )
        model = EpochModel(
            name=name,
            line=rec.line,
            organizations=f_orgs(cells),
            domains=f_domains(cells),
            publication_date=f_date(cells),
            parameters=f_params(cells),
            training_compute_flop=compute,
            compute_lower_flop=lower,
            compute_upper_flop=upper,
            dataset_size=f_dsize(cells),
            epochs=f_epochs(cells),
            training_time_hours=f_hours(cells),
            training_hardware=f_hw(cells),
            hardware_quantity=f_qty(cells),
            utilization=f_util(cells),
            chip_hours=f_chiph(cells),
            confidence=conf.lower() if conf else None,
            accessibility=f_access(cells),
            cloud_vendor=f_vendor(cells),
            organization_category=f_orgcat(cells),
            numerical_format=f_numfmt(cells),
            notability=f_notab(cells),
            compute_rank=f_rank(cells),
            estimation_method=f_method(cells),
            country=f_country(cells),
            link=f_link(cells),
            tasks=f_tasks(cells),
            training_datasets=split_list(cells[ds_idx]) if ds_idx is not None and ds_idx < len(cells) else (),
            base_model=f_base(cells),
            finetune_compute_flop=f_ft(cells),
            post_training_compute_flop=f_post(cells),
            dataset_notes=f_dnotes(cells),
            training_power_draw_w=f_power(cells),
            last_modified=f_modified(cells),
        )
        names.append((name, rec.line))
        yield model
    report = t.report()
    report.skipped += skipped
    report.duplicates = _duplicates(names)
    reports.append(report)


def find_model(models: Iterable[EpochModel], name: str) -> EpochModel:
    """The model named ``name``: exact name, then case/punctuation/space-insensitive.

    When several rows share the normalized name, the exact spelling wins, else the first
    row. Raises :class:`~flopcast.errors.UnknownModelError` listing the closest names.
    """
    models = list(models)
    for m in models:
        if m.name == name:
            return m
    cleaned = _clean_text(str(name))
    for m in models:
        if m.name == cleaned:
            return m
    key = normalize_name(name)
    if key:
        for m in models:
            if normalize_name(m.name) == key:
                return m
    raise UnknownModelError(name, [m.name for m in models])


# --------------------------------------------------------------------------- prices


@dataclass(frozen=True, slots=True)
class EpochPrice:
    """One row of Epoch's hardware prices table (cloud prices are USD per chip-hour)."""

    hardware: str
    manufacturer: str | None = None
    vendor: str | None = None
    location: str | None = None
    date: dt.date | None = None
    on_demand: float | None = None
    one_year: float | None = None
    three_year: float | None = None
    purchase: float | None = None
    notes: str | None = None
    source: str | None = None
    n_chips: float | None = None
    line: int = 0


def load_epoch_prices(path: str | Path) -> tuple[list[EpochPrice], ParseReport]:
    """Every price row of Epoch's hardware prices CSV, and the report.

    Rows without a hardware name are reported and skipped; a row with no date, or with no
    price in any column, is kept and reported (an issue for the date, a warning for no price).
    """
    return _load_prices(_Table(path, schema.PRICES))


def _load_prices(t: _Table, *, keep: bool = True) -> tuple[list[EpochPrice], ParseReport]:
    sink = t.sink
    f_manu = t.text_cell("manufacturer")
    f_vendor = t.text_cell("vendor")
    f_loc = t.text_cell("location")
    f_date = t.date("date")
    f_od = t.number("on_demand", positive=True)
    f_1y = t.number("one_year", positive=True)
    f_3y = t.number("three_year", positive=True)
    f_buy = t.number("purchase", positive=True)
    f_notes = t.text_cell("notes")
    f_src = t.text_cell("source")
    f_n = t.number("n_chips", positive=True)
    date_col = t.header_of("date")
    out: list[EpochPrice] = []
    skipped = 0
    for rec in t.records:
        cells = rec.cells
        sink.line = rec.line
        name = t.name("hardware", cells)
        if name is None:
            skipped += 1
            continue
        date = f_date(cells)
        if date is None and not t.getter("date")(cells).strip():
            sink.issue(date_col, "", "empty price date (required); row kept with date None")
        prices = (f_od(cells), f_1y(cells), f_3y(cells), f_buy(cells))
        if all(p is None for p in prices):
            sink.warn("", name, "no price in any price column")
        price = EpochPrice(
            hardware=name,
            manufacturer=f_manu(cells),
            vendor=f_vendor(cells),
            location=f_loc(cells),
            date=date,
            on_demand=prices[0],
            one_year=prices[1],
            three_year=prices[2],
            purchase=prices[3],
            notes=f_notes(cells),
            source=f_src(cells),
            n_chips=f_n(cells),
            line=rec.line,
        )
        if keep:
            out.append(price)
    report = t.report()
    report.skipped += skipped
    return out, report


# --------------------------------------------------------------------------- any file

_HARDWARE_NUMBERS = (
    "release_price_usd",
    "fp64",
    "fp32",
    "fp16",
    "tf32",
    "tensor_fp16",
    "fp8",
    "int8",
    "memory_bytes",
    "memory_bandwidth_bytes_per_s",
    "tdp_w",
)


def _check_hardware(t: _Table) -> ParseReport:
    sink = t.sink
    numbers: list[Callable[[list[str]], object]] = [t.number(c, positive=True) for c in _HARDWARE_NUMBERS]
    dates: list[Callable[[list[str]], object]] = [t.date("release_date"), t.date(None, header="Last modified")]
    names: list[tuple[str, int]] = []
    skipped = 0
    for rec in t.records:
        cells = rec.cells
        sink.line = rec.line
        name = t.name("name", cells)
        if name is None:
            skipped += 1
            continue
        names.append((name, rec.line))
        for f in numbers:
            f(cells)
        for f in dates:
            f(cells)
    report = t.report()
    report.skipped += skipped
    report.duplicates = _duplicates(names)
    return report


_SLUG = re.compile(r"[\W_]+")


def load_epoch_chips(path: str | Path) -> tuple[list[Hardware], ParseReport]:
    """Every chip of Epoch's ML hardware table as a catalog :class:`~flopcast.catalogs.hardware.Hardware` row.

    Peaks are dense: the tensor FP16/BF16 figure counts for both fp16 and bf16. A plain
    (non-tensor) FP16 figure is kept as fp16, but training is costed at it only on TPUs;
    other chips without a tensor or TF32 figure are costed at FP32, as in Cottier et al.'s
    code (``hardware.py: get_flop_per_second``; a GTX 1080 Ti's plain FP16 is 1/64 of its
    FP32 rate). Names repeated in the table keep their first row. Unreadable cells are dropped, as everywhere
    in this module; the report says which.
    """
    from flopcast.catalogs.hardware import Hardware
    from flopcast.catalogs.prices import family_token

    t = _Table(path, schema.HARDWARE)
    sink = t.sink
    f = {c: t.number(c, positive=True) for c in _HARDWARE_NUMBERS}
    f_release = t.date("release_date")
    f_manu, f_type, f_sheet = t.text_cell("manufacturer"), t.text_cell("type"), t.text_cell("datasheet")
    chips: list[Hardware] = []
    seen: set[str] = set()
    for rec in t.records:
        cells = rec.cells
        sink.line = rec.line
        name = t.name("name", cells)
        if name is None or name.lower() in seen:
            continue
        seen.add(name.lower())
        v = {c: fn(cells) for c, fn in f.items()}
        peaks: dict[str, float] = {}
        for col, prec in (("fp64", "fp64"), ("fp32", "fp32"), ("tf32", "tf32"), ("fp8", "fp8"), ("int8", "int8")):
            peak = v[col]
            if peak is not None:
                peaks[prec] = peak
        override = None
        tensor_fp16, fp16 = v["tensor_fp16"], v["fp16"]
        if tensor_fp16 is not None:
            peaks["bf16"] = peaks["fp16"] = tensor_fp16
        elif fp16 is not None:
            peaks["fp16"] = fp16
            if "tpu" not in name.lower() and "tf32" not in peaks and "fp32" in peaks:
                override = "fp32"  # a plain FP16 figure: Cottier et al. cost training at FP32 then
        key = _SLUG.sub("-", name.lower()).strip("-")
        chips.append(
            Hardware(
                key=key,
                name=name,
                family=family_token(name),
                manufacturer=f_manu(cells) or "",
                type=f_type(cells) or "GPU",
                peak_flop_per_s_by_precision=peaks,
                memory_bytes=v["memory_bytes"],
                memory_bandwidth_bytes_per_s=v["memory_bandwidth_bytes_per_s"],
                tdp_w=v["tdp_w"],
                release_date=f_release(cells),
                release_price_usd=v["release_price_usd"],
                epoch_names=(name,),
                default_precision_override=override,
                source=f"Epoch AI, Machine Learning Hardware ({t.file} line {rec.line})"
                + (f"; datasheet {f_sheet(cells)}" if f_sheet(cells) else ""),
                origin="epoch",
            )
        )
    return chips, t.report()


def _check_price_index(t: _Table) -> ParseReport:
    sink = t.sink
    f_date = t.date("date")
    date_i = t.index["date"]
    value_cols = [(i, h.strip()) for i, h in enumerate(t.header) if i != date_i and h.strip()]
    seen: dict[dt.date, int] = {}
    for rec in t.records:
        cells = rec.cells
        sink.line = rec.line
        raw_date = cells[date_i] if date_i < len(cells) else ""
        d = f_date(cells)
        if d is None and not raw_date.strip():
            sink.issue(t.header_of("date"), "", "empty observation date")
        if d is not None:
            if d in seen:
                sink.warn(t.header_of("date"), raw_date, f"date repeated (first on line {seen[d]})")
            seen.setdefault(d, rec.line)
        for i, col in value_cols:
            raw = cells[i] if i < len(cells) else ""
            if not raw.strip():
                sink.issue(col, raw, "empty index value")
                continue
            _, why = parse_number(raw, positive=True)
            if why:
                sink.issue(col, raw, why)
    return t.report()


def check_file(path: str | Path) -> ParseReport:
    """Detect which Epoch file ``path`` is from its header and report what does not parse."""
    t = _Table(path, None)
    if t.kind is schema.MODELS:
        return _load_models(t, keep=False)[1]
    if t.kind is schema.PRICES:
        return _load_prices(t, keep=False)[1]
    if t.kind is schema.HARDWARE:
        return _check_hardware(t)
    return _check_price_index(t)
