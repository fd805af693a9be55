"""Reading one Epoch AI CSV file: bytes to text, records with their start lines, cell access.

Handles the file-level hazards of Epoch's Airtable exports: gzip (the embedded snapshot),
a UTF-8 byte-order mark, UTF-16 or non-UTF-8 files (an error), a stray carriage return
inside an unquoted cell, multi-line quoted cells, truncated or over-long records, and
repeated header columns. Only an unusable file raises :class:`~flopcast.errors.CatalogError`;
everything else becomes an issue or a warning of the :class:`~flopcast.datasets.parsing.ParseReport`.

Lines are 1-based physical lines of the file where the record starts, as ``sed -n Np``
or an editor shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from flopcast.datasets import schema
from flopcast.datasets.parsing import (
    ParseIssue,
    ParseReport,
    _clean_text,
    _Sink,
    _trunc,
    normalize_name,
    parse_date,
    parse_number,
    split_list,
)
from flopcast.errors import CatalogError


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

    def number(self, canon: str, **kw: bool) -> Callable[[list[str]], float | None]:
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

    @overload
    def date(self, canon: str, header: None = None) -> Callable[[list[str]], dt.date | None]: ...

    @overload
    def date(self, canon: None, header: str) -> Callable[[list[str]], dt.date | None]: ...

    def date(self, canon: str | None, header: str | None = None) -> Callable[[list[str]], dt.date | None]:
        """A parser of the date column ``canon``, or of the column headed ``header`` (one outside the schema)."""
        get: Callable[[list[str]], str]
        if header is not None:
            stripped = [h.strip() for h in self.header]
            i = stripped.index(header) if header in stripped else None
            get = (lambda cells: cells[i] if i < len(cells) else "") if i is not None else (lambda cells: "")
            col = header
        else:
            assert canon is not None  # the overloads: a canonical column when no header is given
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
