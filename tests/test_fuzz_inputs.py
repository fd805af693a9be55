"""Fuzzing the file readers (hypothesis): Epoch's CSVs, the curated catalogs, scenarios, price indexes and
MFU configs, fed truncated files, wrong types, huge numbers, Unicode, binary junk and empty files.

Every case must end in a clear error (a FlopcastError, one line) or a parse report that accounts for every
record: nothing crashes, nothing is dropped silently.
"""

import csv
import functools
import io
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, epoch_folder

EPOCH = epoch_folder()
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flopcast.catalogs.hardware import load_hardware
from flopcast.catalogs.price_index import load_price_index
from flopcast.datasets import epoch
from flopcast.errors import FlopcastError
from flopcast.scenarios import load_scenario
from flopcast.utilization import load_config

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

NASTY = st.one_of(
    st.text(max_size=30),  # any Unicode, control characters included
    st.sampled_from(
        [
            "",
            " ",
            "1e400",
            "-1e400",
            "nan",
            "inf",
            "-5",
            "0",
            "1,234",
            "12 345",
            "3.14e23",
            "1e-400",
            "2020-13-45",
            "2020-02-30",
            "0000-00-00",
            "N/A",
            "—",
            "\u00a0",
            "\ufeffx",
            '"',
            '"""',
            "Ω" * 200,
            "9" * 400,
            "TRUE",
            "[1, 2]",
            "{}",
            "\\x00",
        ]
    ),
)


def _write(text: str | bytes, suffix: str = ".csv") -> Path:
    d = Path(tempfile.mkdtemp(prefix="flopcast-fuzz-"))
    p = d / f"f{suffix}"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8", errors="surrogatepass")
    return p


def _rows_csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([c.replace("\x00", "") for c in r])
    return buf.getvalue()


def _header(name: str) -> list[str]:
    with open(EPOCH / name, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def _assert_clear(exc: FlopcastError, path: Path) -> None:
    """A clear error: one line that names the file."""
    msg = str(exc)
    assert msg.strip() and "\n" not in msg.strip(), msg
    assert str(path) in msg or path.name in msg, msg


def _epoch_read(path: Path, loader):
    """A report that accounts for every record, or a clear error."""
    try:
        items, report = loader(path)
    except FlopcastError as exc:
        _assert_clear(exc, path)
        return None
    assert len(items) + report.skipped == report.records, report.summary()
    return items, report


@pytest.mark.parametrize(
    "name, loader", [("ai_models.csv", epoch.load_epoch_models), ("hardware_prices.csv", epoch.load_epoch_prices)]
)
@SETTINGS
@given(data=st.data())
def test_epoch_tables_with_random_cells(name, loader, data):
    header = _header(name)
    n = data.draw(st.integers(0, 6))
    rows = [[data.draw(NASTY) for _ in header] for _ in range(n)]
    p = _write(_rows_csv(header, rows))
    try:
        out = _epoch_read(p, loader)
        if out is not None:  # every written row is a record (a row of empty cells is still a record)
            assert out[1].records == n
    finally:
        shutil.rmtree(p.parent)


TRUNCATED = ["ai_models.csv", "hardware_prices.csv", "ml_hardware.csv", "price_index_PCU518210518210.csv"]


@functools.cache
def _layout(name: str) -> tuple[bytes, str, list[tuple[int, int]]]:
    """A snapshot file: its bytes, its text (stray CRs removed, as the reader does) and each record's
    (start, end) in that text; the header is the first record. Blank lines are not records."""
    raw = (EPOCH / name).read_bytes()
    text = re.sub(r"\r(?!\n)", "", raw.decode("utf-8-sig"))
    read = [0]

    def lines():  # csv reads a record line by line and stops at its end: count what it has read
        for line in io.StringIO(text, newline=""):
            read[0] += len(line)
            yield line

    spans, start = [], 0
    for row in csv.reader(lines()):
        if row and not (len(row) == 1 and not row[0].strip()):
            spans.append((start, read[0]))
        start = read[0]
    return raw, text, spans


def _expected_cut(name: str, k: int) -> tuple[str, int, int | None]:
    """What the first ``k`` bytes of the snapshot file hold, worked out from the whole file:
    ("error", 0, message) or ("ok", records, line of the record that is cut short, or None)."""
    raw, text, spans = _layout(name)
    try:
        part = raw[:k].decode("utf-8-sig")
    except UnicodeDecodeError:  # the cut splits a multi-byte character (or the byte-order mark)
        return "error", 0, "not UTF-8 text"
    if not part.strip():
        return "error", 0, "no records (the file is empty)"
    # the part is a prefix of the text (up to a CR whose LF was cut off, which ends no record)
    m = len(re.sub(r"\r(?!\n)", "", part).rstrip("\r"))
    head_start, head_end = spans[0]
    header = next(csv.reader(io.StringIO(text[head_start:head_end], newline="")))
    if m < head_start + len(text[head_start:head_end].rstrip("\r\n")):
        return "error", 0, "header cut short"
    records, cut_line = 0, None
    for start, end in spans[1:]:
        if start >= m:
            break
        if end <= m or not text[m:end].strip("\r\n"):  # whole (at most its line end is missing)
            records += 1
            continue
        piece = text[start:m]
        row = next(csv.reader(io.StringIO(piece, newline="")), [])
        if not row or (len(row) == 1 and not row[0].strip()):
            break  # what is left of the record reads as a blank line
        records += 1
        if len(row) < len(header) or piece.count('"') % 2:  # cells missing, or cut inside a quoted cell
            cut_line = text.count("\n", 0, start) + 1
        break
    if records == 0:
        return "error", 0, "no records (only a header line)"
    return "ok", records, cut_line


def _check_truncated(name: str, k: int) -> tuple[str, int, int | None]:
    raw = (EPOCH / name).read_bytes()
    expected = _expected_cut(name, k)
    p = _write(raw[:k])
    try:
        try:
            report = epoch.check_file(p)
        except FlopcastError as exc:
            msg = str(exc)
            assert "\n" not in msg.strip(), msg
            kind, _, why = expected
            assert kind == "error", f"cut at byte {k}: expected {expected}, got the error {msg!r}"
            if why == "header cut short":  # a part of the header names too few columns, or holds no record
                assert "matches none of Epoch's files" in msg or "no records (only a header line)" in msg, msg
            else:
                assert why in msg and str(p) in msg, msg
        else:
            assert expected[0] == "ok", f"cut at byte {k}: expected {expected}, got {report.summary()}"
            _, records, cut_line = expected
            assert report.records == records, (k, report.summary())
            truncated = [i.line for i in report.issues if i.reason.startswith("truncated record")]
            assert truncated == ([] if cut_line is None else [cut_line]), (k, truncated, cut_line)
            assert report.summary().startswith(f"{p.name}: {records} records")
    finally:
        shutil.rmtree(p.parent)
    return expected


@pytest.mark.parametrize("name", TRUNCATED)
@SETTINGS
@given(cut=st.floats(0.0, 1.0))
def test_truncated_epoch_files(name, cut):
    # the first fifth, cut anywhere (mid-row, mid-quote, mid-UTF-8): exactly the records that begin before the cut
    raw = (EPOCH / name).read_bytes()
    _check_truncated(name, int(len(raw) * cut * 0.2))


@pytest.mark.parametrize("name", TRUNCATED)
def test_truncated_epoch_files_at_chosen_cuts(name):
    """Cuts at each kind of place, found in the file itself: each gives the records it should, or the error."""
    raw, text, spans = _layout(name)
    bom = 3 if raw.startswith(b"\xef\xbb\xbf") else 0

    def byte(i: int) -> int:  # a character offset of the text as a byte offset of the file
        return bom + len(text[:i].encode())

    (_, h1), (r0, r1), (s0, s1) = spans[:3]
    cuts = {
        "empty": (0, ("error", 0, "no records (the file is empty)")),
        "mid-header": (byte(h1 // 2), ("error", 0, "header cut short")),
        "header only": (byte(h1), ("error", 0, "no records (only a header line)")),
        "one record, line end cut": (byte(r1) - 1, ("ok", 1, None)),
        "one record": (byte(r1), ("ok", 1, None)),
        "second record cut after its first cell": (
            byte(s0 + text[s0:s1].index(",")),
            ("ok", 2, text.count("\n", 0, s0) + 1),
        ),
    }
    if bom:
        cuts["mid byte-order mark"] = (1, ("error", 0, "not UTF-8 text"))
    wide = next((i for i in range(r0, len(text) // 5) if len(text[i].encode()) > 1), None)
    if wide is not None:
        cuts["mid-UTF-8 character"] = (byte(wide) + 1, ("error", 0, "not UTF-8 text"))
    quoted, inside = None, False
    for i in range(r0, len(text) // 5):  # the first line end inside a quoted cell (an odd number of quotes before)
        inside ^= text[i] == '"'
        if inside and text[i] == "\n":
            quoted = i
            break
    if quoted is not None:  # a line end inside a quoted cell: the record is cut there
        n = next(j for j, (a, b) in enumerate(spans) if a <= quoted < b)
        cuts["inside a quoted multi-line cell"] = (byte(quoted + 1), ("ok", n, text.count("\n", 0, spans[n][0]) + 1))
    if name == "ai_models.csv":  # this file has multi-line cells and non-ASCII text in its first fifth
        assert quoted is not None and wide is not None
    for what, (k, want) in cuts.items():
        assert _expected_cut(name, k) == want, what
        assert _check_truncated(name, k) == want, what


@SETTINGS
@given(blob=st.binary(max_size=2000))
def test_binary_junk_and_empty_files(blob):
    for loader in (epoch.load_epoch_models, epoch.load_epoch_prices):
        p = _write(blob)
        try:
            _epoch_read(p, loader)
        finally:
            shutil.rmtree(p.parent)
    p = _write(blob)
    try:
        try:
            index = load_price_index(p)
        except FlopcastError as exc:
            _assert_clear(exc, p)
        else:  # some byte strings happen to be a valid two-column index
            assert index.first_year <= index.last_year
    finally:
        shutil.rmtree(p.parent)


@pytest.mark.parametrize(
    "loader",
    [
        epoch.load_epoch_models,
        epoch.load_epoch_prices,
        epoch.check_file,
        load_price_index,
        load_hardware,
        load_scenario,
        load_config,
    ],
)
def test_empty_file_is_a_clear_error(loader, tmp_path):
    p = tmp_path / ("empty.toml" if loader in (load_scenario, load_config) else "empty.csv")
    p.write_text("")
    with pytest.raises(FlopcastError) as info:
        loader(str(p)) if loader is load_config else loader(path=p) if loader is load_hardware else loader(p)
    assert str(p) in str(info.value)


@SETTINGS
@given(data=st.data())
def test_curated_hardware_catalog_with_bad_cells(data):
    text = (ROOT / "src" / "flopcast" / "catalogs" / "data" / "hardware.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:4]
    i = data.draw(st.integers(0, len(body) - 1))
    j = data.draw(st.integers(0, len(header) - 1))
    body[i][j] = data.draw(NASTY)
    p = _write(_rows_csv(header, body))
    try:
        try:
            cat = load_hardware(path=p)
        except FlopcastError as exc:
            _assert_clear(exc, p)
        else:
            assert len(list(cat)) == len(body)  # a row is either loaded whole or the file is refused
    finally:
        shutil.rmtree(p.parent)


VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.text(max_size=10),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)


@SETTINGS
@given(data=st.data())
def test_scenario_files_with_wrong_types_and_missing_fields(data):
    good = (ROOT / "src" / "flopcast" / "catalogs" / "data" / "scenarios" / "twitter-1pct.toml").read_text()
    lines = good.splitlines()
    assign = [k for k, ln in enumerate(lines) if "=" in ln and not ln.lstrip().startswith("#")]
    k = data.draw(st.sampled_from(assign))
    action = data.draw(st.sampled_from(["drop", "replace", "truncate"]))
    if action == "drop":
        lines.pop(k)
        text = "\n".join(lines)
    elif action == "replace":
        key = lines[k].split("=", 1)[0]
        v = data.draw(VALUE)
        lit = (
            f'"{v}"'
            if isinstance(v, str)
            else str(v).lower()
            if isinstance(v, bool)
            else repr(v).replace("inf", "inf").replace("nan", "nan")
        )
        lines[k] = f"{key}= {lit}"
        text = "\n".join(lines)
    else:
        text = good[: data.draw(st.integers(0, len(good)))]
    p = _write(text, ".toml")
    try:
        try:
            sc = load_scenario(p)
        except FlopcastError as exc:
            msg = str(exc)
            assert str(p) in msg or p.name in msg  # names the file
        else:
            assert sc.central_generated_tokens_per_day() > 0
    finally:
        shutil.rmtree(p.parent)


@SETTINGS
@given(text=st.text(max_size=300))
def test_mfu_config_files(text):
    p = _write(text, ".toml")
    try:
        try:
            cfg = load_config(str(p))
        except FlopcastError as exc:
            assert str(p) in str(exc)
        else:
            assert cfg.n_layers >= 1
    finally:
        shutil.rmtree(p.parent)
