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
missing, not one of Epoch's files) raises :class:`~flopcast.errors.CatalogError`.

Lines are 1-based physical lines of the file where the record starts, as ``sed -n Np``
or an editor shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from flopcast.datasets import schema
from flopcast.errors import CatalogError, UnknownModelError

__all__ = [
    "EpochModel",
    "EpochPrice",
    "ParseIssue",
    "ParseReport",
    "check_file",
    "find_model",
    "load_epoch_models",
    "load_epoch_prices",
    "normalize_name",
    "parse_date",
    "parse_number",
    "split_list",
]

MAX_VALUE_CHARS = 80


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class ParseIssue:
    """One cell or record that could not be used as written."""

    file: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}, {self.column}: {self.value!r}: {self.reason}"


@dataclass
class ParseReport:
    """What reading one file found.

    ``records`` counts every data record in the file (blank lines excluded), including
    the ``skipped`` ones (no name, or unreadable). ``issues`` are cells/records whose value was dropped
    (set to None) or rows skipped; ``warnings`` are values kept but repaired or suspicious
    (whitespace in a name normalized, a stray carriage return removed, bounds that
    contradict the central estimate). ``duplicates`` lists names shared by several rows
    after lowercasing and dropping non-alphanumerics, with the lines of those rows; the
    name shows every spelling, joined by " / ".
    """

    file: str
    kind: str
    records: int = 0
    issues: list[ParseIssue] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, list[int]]] = field(default_factory=list)
    warnings: list[ParseIssue] = field(default_factory=list)
    skipped: int = 0
    path: str = ""

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "path": self.path,
            "kind": self.kind,
            "records": self.records,
            "skipped": self.skipped,
            "issues": [asdict(i) for i in self.issues],
            "warnings": [asdict(w) for w in self.warnings],
            "missing_columns": list(self.missing_columns),
            "extra_columns": list(self.extra_columns),
            "duplicates": [{"name": n, "lines": list(lines)} for n, lines in self.duplicates],
        }

    def summary(self) -> str:
        n = len(self.issues)
        d = len(self.duplicates)
        s = (
            f"{self.file}: {self.records} records, {n} {'cell' if n == 1 else 'cells'} could not be parsed, "
            f"{d} duplicate {'name' if d == 1 else 'names'}"
        )
        if self.skipped:
            s += f", {self.skipped} {'row' if self.skipped == 1 else 'rows'} skipped"
        if self.warnings:
            s += f", {len(self.warnings)} {'warning' if len(self.warnings) == 1 else 'warnings'}"
        return s


class _Sink:
    """Collects issues for one record: file label, current line."""

    __slots__ = ("file", "issues", "line", "warnings")

    def __init__(self, file: str, issues: list[ParseIssue], warnings: list[ParseIssue]):
        self.file = file
        self.line = 0
        self.issues = issues
        self.warnings = warnings

    def issue(self, column: str, value: str, reason: str) -> None:
        self.issues.append(ParseIssue(self.file, self.line, column, _trunc(value), reason))

    def warn(self, column: str, value: str, reason: str) -> None:
        self.warnings.append(ParseIssue(self.file, self.line, column, _trunc(value), reason))


def _trunc(value: str) -> str:
    value = str(value)
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 3] + "..."


# --------------------------------------------------------------------------- cell parsers

_NUM = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def parse_number(
    raw: str | None,
    *,
    percent: bool = False,
    positive: bool = False,
    unit_interval: bool = False,
) -> tuple[float | None, str | None]:
    """``(value, None)`` for a number or an empty cell (value None), ``(None, reason)`` otherwise.

    Accepts ``1.5e+23``, ``175000000000.0``, ``1,234,567`` (groups of three), ``$15000.00``,
    ``$1,234``; with ``percent`` also ``47%`` (-> 0.47). ``positive`` rejects zero and
    negatives; ``unit_interval`` rejects values outside (0, 1].
    """
    if raw is None:
        return None, None
    s = raw.strip()
    if not s:
        return None, None
    t = s
    is_percent = False
    if t.endswith("%"):
        if not percent:
            return None, "a percentage is not allowed in this column"
        t = t[:-1].rstrip()
        is_percent = True
    if t.startswith("$"):
        t = t[1:].lstrip()
    elif t[:1] in "+-" and t[1:2] == "$":
        t = t[0] + t[2:].lstrip()
    if "," in t:
        if not _GROUPED.fullmatch(t):
            return None, "not a number (a comma that is not a thousands separator)"
        t = t.replace(",", "")
    if not _NUM.fullmatch(t):
        if _NONFINITE.fullmatch(t):
            return None, "not a finite number"
        return None, "not a number"
    v = float(t)
    if not math.isfinite(v):
        return None, "not a finite number (too large for a float)"
    if is_percent:
        v /= 100.0
    if unit_interval and not 0.0 < v <= 1.0:
        hint = f"; if it is a percentage write {s}% or {v / 100:g}" if 1.0 < v <= 100.0 and not is_percent else ""
        return None, f"utilization {v:g} is outside (0, 1]{hint}"
    if positive and v <= 0:
        return None, f"must be positive, got {v:g}"
    return v, None


_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"(\d{4})")
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[aApP][mM])?)?")


def parse_date(raw: str | None) -> tuple[dt.date | None, str | None]:
    """``(date, None)``, ``(None, None)`` for an empty cell, or ``(None, reason)``.

    Accepts ``2020-05-28``, ``2020-05-28 14:03`` (time dropped), ``2020-05`` (first of the
    month), ``2020`` (1 January) and Airtable's ``6/18/2025 11:40am`` (month/day/year).
    """
    if raw is None:
        return None, None
    s = raw.strip()
    if not s:
        return None, None
    try:
        m = _ISO_DAY.fullmatch(s)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), None
        m = _ISO_MONTH.fullmatch(s)
        if m:
            return dt.date(int(m[1]), int(m[2]), 1), None
        m = _YEAR.fullmatch(s)
        if m:
            return dt.date(int(m[1]), 1, 1), None
        m = _US.fullmatch(s)
        if m:
            return dt.date(int(m[3]), int(m[1]), int(m[2])), None
    except ValueError as exc:
        return None, f"invalid date ({exc})"
    return None, "not a date (expected YYYY-MM-DD, YYYY-MM, YYYY or M/D/YYYY)"


def normalize_name(name: str) -> str:
    """Lowercase and keep only letters and digits (Unicode-aware): the duplicate/lookup key."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


_HYPHEN_BREAK = re.compile(r"-[ \t]*[\r\n]\s*")


def _clean_text(s: str) -> str:
    """Collapse any whitespace run (tabs, newlines, no-break spaces) to one space; join ``-\\n``."""
    if "-\n" in s or "-\r" in s or "- \n" in s:
        s = _HYPHEN_BREAK.sub("-", s)
    return " ".join(s.split())


def split_list(cell: str | None) -> tuple[str, ...]:
    """Items of a multi-valued cell: comma-separated; an item holding a comma is double-quoted.

    ``University of Cambridge,"NERSC, Lawrence Berkeley National Laboratory"`` gives two
    items. Whitespace inside items is collapsed; empty items and repeats are dropped.
    """
    if not cell:
        return ()
    s = cell.strip()
    if not s:
        return ()
    if '"' in s:
        try:
            items = next(csv.reader([s], skipinitialspace=True))
        except (csv.Error, StopIteration):
            items = s.replace('"', "").split(",")
    else:
        items = s.split(",")
    out: list[str] = []
    for item in items:
        item = _clean_text(item)
        if item and item not in out:
            out.append(item)
    return tuple(out)


# --------------------------------------------------------------------------- reading files


def _read_text(path: Path, label: str) -> str:
    if not path.is_file():
        raise CatalogError(f"Epoch data file {str(path)!r} does not exist or is not a file")
    raw = path.read_bytes()
    if raw.startswith(b"\x1f\x8b"):  # gzip (the embedded snapshot is stored compressed)
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise CatalogError(f"{label}: a damaged gzip file ({exc})") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CatalogError(f"{label}: the file is UTF-16 encoded; save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"{label}: not UTF-8 text ({exc.reason} at byte offset {exc.start}, byte 0x{raw[exc.start]:02x})"
        ) from None
    return text


def _fix_carriage_returns(text: str, file: str, warnings: list[ParseIssue]) -> str:
    """Remove carriage returns that do not end a line (one sits inside an unquoted name in
    ml_hardware.csv and would split its record in two). A file with no LF at all uses
    old Mac line ends: its CRs become LFs."""
    if "\r" not in text:
        return text
    if "\n" not in text:
        return text.replace("\r", "\n")
    bare = [m.start() for m in re.finditer(r"\r(?!\n)", text)]
    if not bare:
        return text
    for pos in bare[:100]:
        line = text.count("\n", 0, pos) + 1
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        snippet = text[start : end if end >= 0 else len(text)].replace("\r", "\\r")
        warnings.append(ParseIssue(file, line, "", _trunc(snippet), "stray carriage return (CR) inside a line removed"))
    return re.sub(r"\r(?!\n)", "", text)


@dataclass
class _Record:
    line: int
    cells: list[str]
    reported: bool = False


class _Table:
    """A decoded CSV: header, records with start lines, and the report being filled."""

    def __init__(self, path: str | Path, kind: schema.FileKind | None):
        p = Path(path)
        self.path = p
        self.file = p.name
        self.warnings: list[ParseIssue] = []
        self.issues: list[ParseIssue] = []
        self.unreadable = 0  # records the csv module could not read (counted as records and skipped)
        text = _read_text(p, str(p))
        text = _fix_carriage_returns(text, self.file, self.warnings)
        if not text.strip():
            raise CatalogError(f"{p}: no records (the file is empty)")
        self.text = text
        self.header, self.records = self._parse(text)
        if not self.header or not any(h.strip() for h in self.header):
            raise CatalogError(f"{p}: no records (no header line)")
        self.kind = kind if kind is not None else schema.detect_kind(self.header)
        self.columns = schema.check_header(self.kind, self.header, str(p))
        if not self.records:
            raise CatalogError(f"{p}: no records (only a header line)")
        stripped = [h.strip() for h in self.header]
        self.index = {canon: stripped.index(h.strip()) for canon, h in self.columns.items()}
        for h in sorted({h for h in stripped if h and stripped.count(h) > 1}):
            self.warnings.append(ParseIssue(self.file, 1, h, h, "column appears more than once; the first is read"))
        known = {a for aliases in self.kind.columns.values() for a in aliases}
        self.missing = [aliases[0] for canon, aliases in self.kind.columns.items() if canon not in self.columns]
        self.extra = [h for h in stripped if h and h not in known]
        self.sink = _Sink(self.file, self.issues, self.warnings)

    def _parse(self, text: str) -> tuple[list[str], list[_Record]]:
        pos = [0]

        def lines() -> Iterator[str]:
            for ln in io.StringIO(text, newline=""):
                pos[0] += len(ln)
                yield ln

        reader = csv.reader(lines())
        header: list[str] = []
        records: list[_Record] = []
        width = 0
        last_start_offset = 0
        while True:
            start = reader.line_num + 1
            offset = pos[0]
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.issues.append(ParseIssue(self.file, start, "", "", f"unreadable record: {exc}; row skipped"))
                self.unreadable += 1
                if reader.line_num < start:  # no progress: give up on the rest
                    break
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if not header:
                header = row
                width = len(row)
                continue
            records.append(_Record(start, row))
            last_start_offset = offset
        if records:
            last = records[-1]
            unterminated = False
            try:
                list(csv.reader(io.StringIO(text[last_start_offset:], newline=""), strict=True))
            except csv.Error as exc:
                unterminated = "unexpected end of data" in str(exc)
            n = len(last.cells)
            if unterminated or n < width:
                why = " (unterminated quote at end of file)" if unterminated else ""
                self.issues.append(
                    ParseIssue(
                        self.file,
                        last.line,
                        "",
                        _trunc(",".join(last.cells)),
                        f"truncated record: {n} of {width} cells{why}",
                    )
                )
                last.cells = last.cells + [""] * (width - n)
                last.reported = True
        for rec in records:
            n = len(rec.cells)
            if n < width and not rec.reported:
                self.issues.append(
                    ParseIssue(
                        self.file, rec.line, "", _trunc(",".join(rec.cells)), f"truncated record: {n} of {width} cells"
                    )
                )
                rec.cells = rec.cells + [""] * (width - n)
            elif n > width:
                extra = [c for c in rec.cells[width:] if c.strip()]
                if extra:
                    self.warnings.append(
                        ParseIssue(
                            self.file,
                            rec.line,
                            "",
                            _trunc(",".join(extra)),
                            f"extra cells: {n} of {width}; the extra cells are ignored",
                        )
                    )
        return header, records

    # cell access -----------------------------------------------------------
    def getter(self, canon: str) -> Callable[[list[str]], str]:
        i = self.index.get(canon)
        if i is None:
            return lambda cells: ""
        return lambda cells: cells[i] if i < len(cells) else ""

    def header_of(self, canon: str) -> str:
        return self.columns.get(canon, self.kind.columns[canon][0]).strip()

    def number(self, canon: str, **kw) -> Callable[[list[str]], float | None]:
        get = self.getter(canon)
        col = self.header_of(canon)
        sink = self.sink

        def parse(cells: list[str]) -> float | None:
            raw = get(cells)
            if not raw:
                return None
            v, why = parse_number(raw, **kw)
            if why:
                sink.issue(col, raw, why)
            return v

        return parse

    def date(self, canon: str | None, header: str | None = None) -> Callable[[list[str]], dt.date | None]:
        if header is not None:
            stripped = [h.strip() for h in self.header]
            i = stripped.index(header) if header in stripped else None
            get = (lambda cells: cells[i] if i < len(cells) else "") if i is not None else (lambda cells: "")
            col = header
        else:
            get = self.getter(canon)
            col = self.header_of(canon)
        sink = self.sink

        def parse(cells: list[str]) -> dt.date | None:
            raw = get(cells)
            if not raw:
                return None
            v, why = parse_date(raw)
            if why:
                sink.issue(col, raw, why)
            return v

        return parse

    def text_cell(self, canon: str) -> Callable[[list[str]], str | None]:
        get = self.getter(canon)

        def parse(cells: list[str]) -> str | None:
            s = get(cells).strip()
            return _clean_text(s) if s else None

        return parse

    def list_cell(self, canon: str) -> Callable[[list[str]], tuple[str, ...]]:
        get = self.getter(canon)
        return lambda cells: split_list(get(cells))

    def name(self, canon: str, cells: list[str]) -> str | None:
        """The cleaned name, or None (issue recorded) when empty."""
        raw = self.getter(canon)(cells)
        name = _clean_text(raw)
        col = self.header_of(canon)
        if not name:
            self.sink.issue(col, raw, "empty name; row skipped")
            return None
        if name != raw:
            self.sink.warn(col, raw, f"whitespace in name normalized to {name!r}")
        return name

    def report(self) -> ParseReport:
        return ParseReport(
            file=self.file,
            kind=self.kind.name,
            records=len(self.records) + self.unreadable,
            skipped=self.unreadable,
            issues=self.issues,
            missing_columns=self.missing,
            extra_columns=self.extra,
            warnings=self.warnings,
            path=str(self.path),
        )


def _duplicates(names_lines: Iterable[tuple[str, int]]) -> list[tuple[str, list[int]]]:
    groups: dict[str, list[tuple[str, int]]] = {}
    for name, line in names_lines:
        groups.setdefault(normalize_name(name) or name, []).append((name, line))
    out = []
    for rows in groups.values():
        if len(rows) > 1:
            spellings: list[str] = []
            for n, _ in rows:
                if n not in spellings:
                    spellings.append(n)
            out.append((" / ".join(spellings), [line for _, line in rows]))
    return out


# --------------------------------------------------------------------------- AI models


@dataclass(frozen=True)
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


def _load_models(t: _Table) -> tuple[list[EpochModel], ParseReport]:
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

    models: list[EpochModel] = []
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
        models.append(
            EpochModel(
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
        )
    report = t.report()
    report.skipped += skipped
    report.duplicates = _duplicates((m.name, m.line) for m in models)
    return models, report


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


@dataclass(frozen=True)
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


def _load_prices(t: _Table) -> tuple[list[EpochPrice], ParseReport]:
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
        out.append(
            EpochPrice(
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
        )
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
    numbers = [t.number(c, positive=True) for c in _HARDWARE_NUMBERS]
    dates = [t.date("release_date"), t.date(None, header="Last modified")]
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


def load_epoch_chips(path: str | Path):
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
    chips, seen = [], set()
    for rec in t.records:
        cells = rec.cells
        sink.line = rec.line
        name = t.name("name", cells)
        if name is None or name.lower() in seen:
            continue
        seen.add(name.lower())
        v = {c: fn(cells) for c, fn in f.items()}
        peaks = {}
        for col, prec in (("fp64", "fp64"), ("fp32", "fp32"), ("tf32", "tf32"), ("fp8", "fp8"), ("int8", "int8")):
            if v[col] is not None:
                peaks[prec] = v[col]
        override = None
        if v["tensor_fp16"] is not None:
            peaks["bf16"] = peaks["fp16"] = v["tensor_fp16"]
        elif v["fp16"] is not None:
            peaks["fp16"] = v["fp16"]
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
        return _load_models(t)[1]
    if t.kind is schema.PRICES:
        return _load_prices(t)[1]
    if t.kind is schema.HARDWARE:
        return _check_hardware(t)
    return _check_price_index(t)
