"""Reading the curated CSV catalogs: bundled by name or from a path, schema checked on load."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import Any, Literal, overload

from flopcast.errors import CatalogError, InvalidInputError

DATA_PACKAGE = "flopcast.catalogs.data"
_DATA_DIR = Path(__file__).resolve().parent / "data"

#: one CSV row: column -> cell text, plus ``"_line"`` -> the line it ends on
Row = dict[str, Any]


def read_rows(
    name: str | None = None, path: str | Path | None = None, *, required: tuple[str, ...] = ()
) -> tuple[list[Row], str]:
    """Rows of a bundled CSV (``name``) or of a user's file (``path``), never both.

    Returns the rows and a label of where they came from. Missing required columns
    are an error naming the file and the columns.
    """
    if name is not None and path is None:
        # the package's own folder, not importlib.resources (which imports zipfile, ~3 ms of every command):
        # flopcast is installed as files, never run from a zip
        resource = _DATA_DIR / name
        if not resource.is_file():
            raise CatalogError(f"no bundled catalog named {name!r}")
        text = resource.read_text(encoding="utf-8")
        label = f"bundled:{name}"
    elif path is not None and name is None:
        p = Path(path)
        if not p.is_file():
            raise CatalogError(f"catalog file {str(p)!r} does not exist or is not a file")
        try:
            text = read_text_file(p)
        except UnicodeDecodeError as exc:
            raise CatalogError(
                f"catalog file {str(p)!r} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        label = str(p)
    else:
        raise InvalidInputError("give either a bundled catalog name or a path, not both and not neither")
    # csv reads the line breaks itself: str.splitlines would also split on U+0085, U+2028... inside a cell
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")  # trailing empty cells may be left out
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise CatalogError(f"{label}: not a readable CSV header ({exc})") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise CatalogError(f"{label}: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'no header'}")
    rows: list[Row] = []
    try:
        for row in reader:
            i = reader.line_num
            if None in row:
                raise CatalogError(f"{label} line {i}: more cells than columns")
            row["_line"] = i
            rows.append(row)
    except csv.Error as exc:
        raise CatalogError(f"{label} line {reader.line_num}: not readable as CSV ({exc})") from None
    return rows, label


def read_text_file(path: Path) -> str:
    """A UTF-8 text file (a byte-order mark dropped), gzip-compressed or not."""
    raw = path.read_bytes()
    if raw.startswith(b"\x1f\x8b"):
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise CatalogError(f"catalog file {str(path)!r} is a damaged gzip file ({exc})") from None
    return raw.decode("utf-8-sig")


@overload
def num(row: Row, col: str, label: str, *, required: Literal[True], positive: bool = True) -> float: ...


@overload
def num(row: Row, col: str, label: str, *, required: bool = False, positive: bool = True) -> float | None: ...


def num(row: Row, col: str, label: str, *, required: bool = False, positive: bool = True) -> float | None:
    """A numeric cell: None when empty (unless required), else a finite float."""
    raw = (row.get(col) or "").strip()
    if not raw:
        if required:
            raise CatalogError(f"{label} line {row.get('_line')}: column {col!r} is empty; a number is required")
        return None
    try:
        v = float(raw.replace("$", "").replace(",", ""))
    except ValueError:
        raise CatalogError(f"{label} line {row.get('_line')}: column {col!r} = {raw!r} is not a number") from None
    if not math.isfinite(v) or (positive and v <= 0):
        raise CatalogError(
            f"{label} line {row.get('_line')}: column {col!r} = {raw!r} must be a finite positive number"
        )
    return v


@overload
def date(row: Row, col: str, label: str, *, required: Literal[True]) -> dt.date: ...


@overload
def date(row: Row, col: str, label: str, *, required: bool = False) -> dt.date | None: ...


def date(row: Row, col: str, label: str, *, required: bool = False) -> dt.date | None:
    raw = (row.get(col) or "").strip()
    if not raw:
        if required:
            raise CatalogError(
                f"{label} line {row.get('_line')}: column {col!r} is empty; a date YYYY-MM-DD is required"
            )
        return None
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise CatalogError(
            f"{label} line {row.get('_line')}: column {col!r} = {raw!r} is not a date YYYY-MM-DD"
        ) from None


def split(cell: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (cell or "").split(";") if x.strip())


_VENDOR_WORDS = re.compile(r"nvidia|tesla|google|amd|instinct|intel|habana|cloud")
_NOT_ALNUM = re.compile(r"[\W_]+")


def norm(name: str) -> str:
    """Normalize a name for lookup: lowercase, drop vendor words and separators."""
    return _NOT_ALNUM.sub("", _VENDOR_WORDS.sub(" ", str(name).lower()))
