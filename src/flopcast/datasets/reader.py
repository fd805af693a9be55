"""Reading one Epoch AI CSV file: bytes to text, records with their start lines, cell access.

Handles the file-level hazards of Epoch's Airtable exports: gzip (the embedded snapshot),
a UTF-8 byte-order mark, UTF-16 or non-UTF-8 files (an error), a stray carriage return
inside an unquoted cell, multi-line quoted cells, truncated or over-long records, and
repeated header columns. Only an unusable file raises :class:`~flopcast.errors.CatalogError`;
everything else becomes an issue or a warning of the :class:`~flopcast.datasets.parsing.ParseReport`.

The file is streamed, never held whole: a first pass checks the bytes (size, gzip, encoding)
chunk by chunk, a second reads the records one at a time as the loaders ask for them (the
second pass reads the text the first kept when it is under 5 million characters, as Epoch's
files are, and decodes the file again otherwise). Memory
stays bounded by the limits below, which are far above Epoch's files (a few MB and about
6,000 records each) and are checked before reading (the size on disk) and while reading:

- :data:`MAX_FILE_BYTES` (256 MB, 10^6 bytes each): the file's bytes, and again its bytes once
  un-gzipped;
- :data:`MAX_RECORDS` (500,000): data records (the header and blank lines are not counted);
- :data:`MAX_RECORD_CHARS` (1,000,000): the characters of one record (the csv module itself
  stops a single cell at 131,072 characters: that record is reported and skipped);
- :data:`MAX_ISSUES` (100,000): cells that could not be parsed and warnings, together.

A file past a limit is refused with one line naming the file and the limit.

Lines are 1-based physical lines of the file where the record starts, as ``sed -n Np``
or an editor shows them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate, chain
from operator import itemgetter
from pathlib import Path
from typing import Any, overload

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

__all__ = ["MAX_FILE_BYTES", "MAX_ISSUES", "MAX_RECORDS", "MAX_RECORD_CHARS"]

#: the largest file flopcast reads, in bytes on disk and again once un-gzipped (Epoch's are a few MB)
MAX_FILE_BYTES = 256_000_000
#: the most data records a file may hold (Epoch's files hold about 6,000)
MAX_RECORDS = 500_000
#: the most characters one record may span (Epoch's longest is about 8,500)
MAX_RECORD_CHARS = 1_000_000
#: the most issues and warnings one file may give (the embedded snapshot gives 37 in all)
MAX_ISSUES = 100_000

#: bytes read at a time
_CHUNK = 1 << 20
#: a file's text up to this many characters is decoded once and kept between the two passes (Epoch's are ~4 M)
_KEEP_CHARS = 5_000_000
#: stray carriage returns reported per file (all are removed)
_MAX_CR_WARNINGS = 100
_BOM = codecs.BOM_UTF8
_CR_REASON = "stray carriage return (CR) inside a line removed"
#: a carriage return that does not end a line (CRLF)
_STRAY_CR = re.compile(r"\r(?!\n)")


def _why(exc: BaseException) -> str:
    """An OS error's reason, as a clause: ``permission denied``."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return reason[:1].lower() + reason[1:]


def _mb(n: int) -> str:
    return f"{n / 1e6:,.4g} MB"


def _open_bytes(path: Path, label: str) -> tuple[io.BufferedIOBase, bool]:
    """The file's bytes as a stream (un-gzipped when it is gzip), after checking its size on disk."""
    if not path.is_file():
        raise CatalogError(f"Epoch data file {str(path)!r} does not exist or is not a file")
    try:
        size = path.stat().st_size
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise CatalogError(f"{label}: cannot be read ({_why(exc)})") from None
    if size > MAX_FILE_BYTES:
        fh.close()
        raise CatalogError(
            f"{label}: {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes ({_mb(MAX_FILE_BYTES)}) "
            "that flopcast reads; Epoch's files are a few MB"
        )
    try:
        magic = fh.read(2)
        fh.seek(0)
        if magic != b"\x1f\x8b":
            return fh, False
        fh.close()  # gzip (the embedded snapshot is stored compressed): a stream that closes its own file
        import gzip

        return gzip.GzipFile(filename=path, mode="rb"), True
    except OSError as exc:
        fh.close()
        raise CatalogError(f"{label}: cannot be read ({_why(exc)})") from None


def _decoded(path: Path, label: str) -> Iterator[str]:
    """The file's text, chunk by chunk: un-gzipped, the byte-order mark dropped, checked to be UTF-8
    and within :data:`MAX_FILE_BYTES`. Every problem is a one-line CatalogError naming the file."""
    stream, gzipped = _open_bytes(path, label)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes of the (un-gzipped) file read so far
    first = True
    try:
        with stream:
            while True:
                try:
                    raw = stream.read(_CHUNK)
                except (OSError, EOFError, zlib.error) as exc:
                    if not gzipped:
                        raise CatalogError(f"{label}: cannot be read ({_why(exc)})") from None
                    raise CatalogError(f"{label}: a damaged gzip file ({exc})") from None
                start = offset
                offset += len(raw)
                if offset > MAX_FILE_BYTES:
                    what = " once decompressed" if gzipped else ""
                    raise CatalogError(
                        f"{label}: over {MAX_FILE_BYTES:,} bytes{what}, the limit that flopcast reads "
                        f"({_mb(MAX_FILE_BYTES)}); Epoch's files are a few MB"
                    )
                if first:
                    first = False
                    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                        raise CatalogError(f"{label}: the file is UTF-16 encoded; save it as UTF-8")
                    if raw.startswith(_BOM):
                        raw = raw[len(_BOM) :]
                        start += len(_BOM)
                pending = len(decoder.getstate()[0])
                try:
                    text = decoder.decode(raw, final=not raw)
                except UnicodeDecodeError as exc:
                    at = start - pending + exc.start
                    raise CatalogError(
                        f"{label}: not UTF-8 text ({exc.reason} at byte offset {at}, byte 0x{exc.object[exc.start]:02x})"
                    ) from None
                if text:
                    yield text
                if not raw:
                    return
    except OSError as exc:  # closing a damaged gzip stream
        raise CatalogError(f"{label}: a damaged gzip file ({exc})") from None


def _strict_error(lines: list[str]) -> str | None:
    """The error of reading ``lines`` with csv's strict rules, or None."""
    try:
        for _ in csv.reader(io.StringIO("".join(lines), newline=""), strict=True):
            pass
    except csv.Error as exc:
        return str(exc)
    return None


def _clean_or_none(s: str) -> str | None:
    s = s.strip()
    return _clean_text(s) if s else None


def _memo(fn: Callable[[str], Any], memo: dict[str, Any], raw: str) -> Any:
    """``fn(raw)``, kept in ``memo`` when ``raw`` is short (at most :data:`_MEMO_SIZE` values at a time): a
    repeated cell is parsed once and its rows share one result, which keeps a large table's memory down."""
    out = fn(raw)
    if len(raw) <= _MEMO_CHARS:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[raw] = out
    return out


#: the most values a column's memo holds, and the longest cell it keeps
_MEMO_SIZE = 50_000
_MEMO_CHARS = 200


@dataclass
class _Record:
    line: int
    cells: list[str]
    reported: bool = False


class _Issues(list[ParseIssue]):
    """A list of issues or warnings that counts, with the file's other lists, against :data:`MAX_ISSUES`."""

    def __init__(self, budget: list[int], label: str):
        super().__init__()
        self._budget = budget
        self._label = label

    def append(self, item: ParseIssue) -> None:
        self._budget[0] += 1
        if self._budget[0] > MAX_ISSUES:
            raise CatalogError(
                f"{self._label}: more than {MAX_ISSUES:,} cells could not be parsed or were repaired, the most "
                "flopcast lists; this is not a usable Epoch file"
            )
        super().append(item)


class _Table:
    """A CSV being read: header, the records (streamed, once) with start lines, and the report being filled.

    The header and the first record are read on construction; :attr:`records` yields the records
    one at a time (it can be iterated once). :meth:`report` is complete once they have all been read.
    """

    def __init__(self, path: str | Path, kind: schema.FileKind | None):
        p = Path(path)
        self.path = p
        self.file = p.name
        self.label = str(p)
        budget = [0]
        # issues and warnings in the order the report lists them
        self._cr_warnings = _Issues(budget, self.label)  # stray carriage returns
        self._extra_warnings = _Issues(budget, self.label)  # over-long records
        self._column_warnings = _Issues(budget, self.label)  # repeated header columns
        self._cell_warnings = _Issues(budget, self.label)  # the loaders' (through the sink)
        self._unreadable_issues = _Issues(budget, self.label)
        self._last_issue = _Issues(budget, self.label)  # the last record, cut short
        self._short_issues = _Issues(budget, self.label)  # other records with too few cells
        self._cell_issues = _Issues(budget, self.label)
        self.unreadable = 0  # records the csv module could not read (counted as records and skipped)
        self._n_rows = 0  # readable data records read so far
        self._iter: Iterator[_Record] | None = None
        self._draining = False

        has_lf, nonblank = self._scan()
        if not nonblank:
            raise CatalogError(f"{p}: no records (the file is empty)")
        self._has_lf = has_lf
        self._chunk: list[str] = []  # the lines of the record just read
        self._kept: list[str] = []  # the physical lines from line _kept_first on (the record being read and after)
        self._kept_first = 1
        self._rec_start = 1  # the line the record being read starts on
        self._cr_seen = 0  # stray carriage returns removed so far
        # what follows the last record (blank lines, unreadable records), for the check that it is cut short:
        # whether anything does, and the first error of reading it with csv's strict rules
        self._after_last = False
        self._tail_error: str | None = None
        self._rows = self._parse_rows()
        first_row = next(self._rows, None)
        self.header: list[str] = first_row[1] if first_row is not None else []
        if not self.header or not any(h.strip() for h in self.header):
            raise CatalogError(f"{p}: no records (no header line)")
        self.width = len(self.header)
        self.kind = kind if kind is not None else schema.detect_kind(self.header)
        self.columns = schema.check_header(self.kind, self.header, str(p))
        self._first = next(self._rows, None)
        if self._first is None:
            raise CatalogError(f"{p}: no records (only a header line)")
        self._first_chunk = self._chunk
        stripped = [h.strip() for h in self.header]
        self.index = {canon: stripped.index(h.strip()) for canon, h in self.columns.items()}
        for h in sorted({h for h in stripped if h and stripped.count(h) > 1}):
            self._column_warnings.append(
                ParseIssue(self.file, 1, h, h, "column appears more than once; the first is read")
            )
        known = {a for aliases in self.kind.columns.values() for a in aliases}
        self.missing = [aliases[0] for canon, aliases in self.kind.columns.items() if canon not in self.columns]
        self.extra = [h for h in stripped if h and h not in known]
        self.sink = _Sink(self.file, self._cell_issues, self._cell_warnings)

    # reading -----------------------------------------------------------------
    def _scan(self) -> tuple[bool, bool]:
        """First pass over the bytes: the file-level errors come before any record is read.
        Returns (the text has a line feed, the text has a character other than whitespace)."""
        has_lf = nonblank = False
        kept: list[str] | None = []  # the text, while it is small: the second pass reads it from memory
        size = 0
        for text in _decoded(self.path, self.label):
            has_lf = has_lf or "\n" in text
            nonblank = nonblank or bool(text.strip())
            if kept is not None:
                size += len(text)
                if size <= _KEEP_CHARS:
                    kept.append(text)
                else:
                    kept = None
        self._text = kept
        return has_lf, nonblank

    def _texts(self) -> Iterator[str]:
        """The text for the second pass: kept by the first when small, else decoded again."""
        kept, self._text = self._text, None
        return iter(kept) if kept is not None else _decoded(self.path, self.label)

    def _line_lists(self) -> Iterator[list[str]]:
        """The text as lists of physical lines (split after each LF; old-Mac CR line ends become LFs), each line
        with its line end, one list per chunk read; stray CRs removed (a warning each). The csv module reads them
        through :func:`itertools.chain`, so no Python code runs per line unless a chunk holds a stray CR."""
        parts: list[str] = []  # the start of a line that the next chunk ends
        size = 0
        line = 1  # the number of the next line
        for text in self._texts():
            if not self._has_lf:
                text = text.replace("\r", "\n")
            pieces = text.split("\n")
            if parts:
                parts.append(pieces[0])
                pieces[0] = "".join(parts)
                parts, size = [], 0
            rest = pieces.pop()
            if rest:
                parts.append(rest)
                size += len(rest)
                if size > MAX_RECORD_CHARS:
                    self._too_long(line + len(pieces))
            if pieces:
                lines = [p + "\n" for p in pieces]
                yield self._take(lines, line)
                line += len(lines)
        if parts:
            yield self._take(["".join(parts)], line)

    def _take(self, lines: list[str], first: int) -> list[str]:
        """``lines`` (starting on line ``first``) with stray CRs removed, kept for the records they hold."""
        joined = "".join(lines)
        if "\r" in joined:
            stray = [m.start() for m in _STRAY_CR.finditer(joined)]
            if stray:
                lines = self._remove_stray_crs(lines, first, stray)
        if self._draining:  # the rest is read only for its stray-CR warnings
            self._kept.clear()
            return lines
        # the lines still needed: from the start of the record being read (it may span chunks)
        kept, start = self._kept, self._rec_start
        drop = min(start - self._kept_first, len(kept))
        if drop > 0:
            del kept[:drop]
            self._kept_first += drop
        if kept and sum(map(len, kept)) > MAX_RECORD_CHARS:  # all of them belong to the unfinished record
            self._too_long(start)
        kept.extend(lines)
        return lines

    def _remove_stray_crs(self, lines: list[str], first: int, stray: list[int]) -> list[str]:
        """``lines`` with the CRs at offsets ``stray`` (of the lines joined) removed, a warning for each."""
        ends = list(accumulate(map(len, lines)))
        out = list(lines)
        for k in sorted({bisect_right(ends, at) for at in stray}):
            n, line = first + k, lines[k]
            end = "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else ""
            body = line[: len(line) - len(end)]
            bare = body.count("\r")
            if bare:
                if self._cr_seen < _MAX_CR_WARNINGS:
                    shown = line[:-1] if end else line
                    snippet = _trunc(shown.replace("\r", "\\r"))
                    for _ in range(min(bare, _MAX_CR_WARNINGS - self._cr_seen)):
                        self._cr_warnings.append(ParseIssue(self.file, n, "", snippet, _CR_REASON))
                self._cr_seen += bare
                out[k] = body.replace("\r", "") + end
        return out

    def _too_long(self, line: int) -> None:
        raise CatalogError(
            f"{self.label}: the record on line {line} is over {MAX_RECORD_CHARS:,} characters, the most flopcast "
            "reads in one record; Epoch's longest is about 8,500"
        )

    def _count_record(self) -> None:
        if self._n_rows + self.unreadable >= MAX_RECORDS:
            raise CatalogError(
                f"{self.label}: more than {MAX_RECORDS:,} records, the most flopcast reads (Epoch's files hold "
                "about 6,000); reading stopped"
            )

    def _record_lines(self, start: int, end: int) -> list[str]:
        """The kept physical lines ``start`` to ``end`` (1-based, inclusive)."""
        base = self._kept_first
        return self._kept[max(start - base, 0) : end - base + 1]

    def _parse_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Each non-blank row (the header first) with the line it starts on; unreadable records become issues."""
        lines = chain.from_iterable(self._line_lists())
        reader = csv.reader(lines)
        header_seen = False
        while True:
            start = reader.line_num + 1
            self._rec_start = start
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._chunk = self._record_lines(start, reader.line_num)
                self._follows_last()
                self._count_record()
                self._unreadable_issues.append(
                    ParseIssue(self.file, start, "", "", f"unreadable record: {exc}; row skipped")
                )
                self.unreadable += 1
                if reader.line_num < start:  # no progress: give up on the rest
                    self._draining = True  # (the rest is read only for its stray-CR warnings)
                    for _ in lines:
                        pass
                    return
                continue
            chunk = self._chunk = self._record_lines(start, reader.line_num)
            if sum(map(len, chunk)) > MAX_RECORD_CHARS:
                self._too_long(start)
            if not row or (len(row) == 1 and not row[0].strip()):
                self._follows_last()
                continue  # blank line
            if header_seen:
                self._count_record()
                self._n_rows += 1
            header_seen = True
            self._after_last, self._tail_error = False, None
            yield start, row

    def _follows_last(self) -> None:
        """Lines after the last record that hold none: strict csv reading them in turn is strict
        reading of the whole rest of the file, since each begins where a record could."""
        self._after_last = True
        if self._tail_error is None:
            self._tail_error = _strict_error(self._chunk)

    @property
    def records(self) -> Iterator[_Record]:
        """The data records, read from the file as they are asked for (once)."""
        if self._iter is not None:
            raise RuntimeError("the records of a _Table are read once")  # a programming error
        self._iter = self._records()
        return self._iter

    def _records(self) -> Iterator[_Record]:
        assert self._first is not None
        line, cells = self._first
        chunk = self._first_chunk
        for nxt in self._rows:
            yield self._finish(line, cells, chunk, last=False)
            line, cells = nxt
            chunk = self._chunk
        yield self._finish(line, cells, chunk, last=True)

    def _finish(self, line: int, cells: list[str], chunk: list[str], *, last: bool) -> _Record:
        """A record's checks (too few or too many cells) and its cells padded to the header's width."""
        rec = _Record(line, cells)
        width = self.width
        if last:
            # is the file's end inside a quoted cell? strict csv reading of the rest of the file says so
            error = _strict_error(chunk)
            if error is None and self._after_last:
                error = self._tail_error
            unterminated = error is not None and "unexpected end of data" in error
            n = len(rec.cells)
            if unterminated or n < width:
                why = " (unterminated quote at end of file)" if unterminated else ""
                self._last_issue.append(
                    ParseIssue(
                        self.file,
                        rec.line,
                        "",
                        _trunc(",".join(rec.cells)),
                        f"truncated record: {n} of {width} cells{why}",
                    )
                )
                rec.cells = rec.cells + [""] * (width - n)
                rec.reported = True
        n = len(rec.cells)
        if n < width and not rec.reported:
            self._short_issues.append(
                ParseIssue(
                    self.file, rec.line, "", _trunc(",".join(rec.cells)), f"truncated record: {n} of {width} cells"
                )
            )
            rec.cells = rec.cells + [""] * (width - n)
        elif n > width:
            extra = [c for c in rec.cells[width:] if c.strip()]
            if extra:
                self._extra_warnings.append(
                    ParseIssue(
                        self.file,
                        rec.line,
                        "",
                        _trunc(",".join(extra)),
                        f"extra cells: {n} of {width}; the extra cells are ignored",
                    )
                )
        return rec

    # cell access -----------------------------------------------------------
    # Every record is padded to the header's width (see _finish), so a column's cell is ``cells[i]``.
    def getter(self, canon: str) -> Callable[[list[str]], str]:
        i = self.index.get(canon)
        if i is None:
            return lambda cells: ""
        return itemgetter(i)

    def header_of(self, canon: str) -> str:
        return self.columns.get(canon, self.kind.columns[canon][0]).strip()

    def number(self, canon: str, **kw: bool) -> Callable[[list[str]], float | None]:
        i = self.index.get(canon)
        if i is None:
            return lambda cells: None
        col = self.header_of(canon)
        sink = self.sink

        def parse(cells: list[str]) -> float | None:
            raw = cells[i]
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
        i: int | None
        if header is not None:
            stripped = [h.strip() for h in self.header]
            i = stripped.index(header) if header in stripped else None
            col = header
        else:
            assert canon is not None  # the overloads: a canonical column when no header is given
            i = self.index.get(canon)
            col = self.header_of(canon)
        if i is None:
            return lambda cells: None
        sink = self.sink
        memo: dict[str, tuple[dt.date | None, str | None]] = {}  # dates repeat (a bad one is reported on every row)

        def parse(cells: list[str]) -> dt.date | None:
            raw = cells[i]
            if not raw:
                return None
            got = memo.get(raw)
            v, why = got if got is not None else _memo(parse_date, memo, raw)
            if why:
                sink.issue(col, raw, why)
            return v

        return parse

    def text_cell(self, canon: str) -> Callable[[list[str]], str | None]:
        i = self.index.get(canon)
        if i is None:
            return lambda cells: None
        memo: dict[str, str | None] = {}  # one string for each repeated value (confidence, vendor...)

        def parse(cells: list[str]) -> str | None:
            raw = cells[i]
            if not raw:
                return None
            return memo[raw] if raw in memo else _memo(_clean_or_none, memo, raw)

        return parse

    def list_cell(self, canon: str) -> Callable[[list[str]], tuple[str, ...]]:
        i = self.index.get(canon)
        if i is None:
            return lambda cells: ()
        memo: dict[str, tuple[str, ...]] = {}  # organizations, domains, chips repeat: one tuple for each value

        def parse(cells: list[str]) -> tuple[str, ...]:
            raw = cells[i]
            if not raw:
                return ()
            got = memo.get(raw)
            return got if got is not None else _memo(split_list, memo, raw)

        return parse

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
        """What reading the file found (the records not yet read are read first)."""
        for _ in self._iter if self._iter is not None else self.records:
            pass
        return ParseReport(
            file=self.file,
            kind=self.kind.name,
            records=self._n_rows + self.unreadable,
            skipped=self.unreadable,
            issues=[*self._unreadable_issues, *self._last_issue, *self._short_issues, *self._cell_issues],
            missing_columns=self.missing,
            extra_columns=self.extra,
            warnings=[*self._cr_warnings, *self._extra_warnings, *self._column_warnings, *self._cell_warnings],
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
