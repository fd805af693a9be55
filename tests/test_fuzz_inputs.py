"""Fuzzing the file readers (hypothesis): Epoch's CSVs, the curated catalogs, scenarios, price indexes and
MFU configs, fed truncated files, wrong types, huge numbers, Unicode, binary junk and empty files.

Every case must end in a clear error (a FlopcastError, one line) or a parse report that accounts for every
record: nothing crashes, nothing is dropped silently.
"""

import csv
import io
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


def _epoch_read(path: Path, loader):
    """A report that accounts for every record, or a clear error."""
    try:
        items, report = loader(path)
    except FlopcastError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
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


@pytest.mark.parametrize(
    "name", ["ai_models.csv", "hardware_prices.csv", "ml_hardware.csv", "price_index_PCU518210518210.csv"]
)
@SETTINGS
@given(cut=st.floats(0.0, 1.0))
def test_truncated_epoch_files(name, cut):
    raw = (EPOCH / name).read_bytes()
    p = _write(raw[: int(len(raw) * cut * 0.2)])  # the first fifth, cut anywhere (mid-row, mid-quote, mid-UTF-8)
    try:
        try:
            report = epoch.check_file(p)
        except FlopcastError as exc:
            assert str(exc)
        else:
            assert report.records >= 0 and report.summary()
    finally:
        shutil.rmtree(p.parent)


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
            assert str(exc)
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
            assert str(exc)
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
