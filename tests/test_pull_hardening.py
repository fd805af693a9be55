"""Hardening of `flopcast data pull` and of reading Epoch's CSVs: a shrunken file is refused, a whole pull has
a deadline, a crash never leaves the manifest describing another file, debris of killed pulls is removed, and
reading a file keeps to stated limits of size, records, record length and issues (streamed, so memory stays
bounded). Loopback servers only (the harness of tests/test_pull.py); the deadline runs on a fake clock."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import threading
import tracemalloc
from pathlib import Path

import pytest
from test_pull import (  # the loopback harness; loopback_only is autouse here too
    _csv_text,
    _part_files,
    _rows,
    cached,
    loopback_only,
    send,
    server,
    snapshot,
)
from typer.testing import CliRunner

from flopcast.cli.data_cmd import data_app
from flopcast.datasets import cache as cache_mod
from flopcast.datasets import pull as pull_mod
from flopcast.datasets import reader
from flopcast.datasets.cache import DownloadError, cache_dir, status
from flopcast.datasets.epoch import check_file, load_epoch_models
from flopcast.datasets.pull import pull
from flopcast.datasets.source import resolve_source
from flopcast.errors import CatalogError, InvalidInputError

__all__ = ["cached", "loopback_only", "server", "snapshot"]  # fixtures, imported for pytest

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
MODELS_HEADER = "Model,Publication date,Training compute (FLOP),Organization\n"


def _manifest() -> dict:
    return json.loads((cache_dir() / "manifest.json").read_text())


def _consistent() -> None:
    """What status() reports is what is on disk: every entry's file has the entry's sha256, bytes and rows."""
    for f in status():
        body = f.path.read_bytes()
        assert f.exists and f.sha256 == hashlib.sha256(body).hexdigest(), f.name
        assert f.bytes == len(body) and f.rows == _rows(body), f.name


def _kept(cached, name) -> None:
    folder = cache_dir()
    body, entry = cached[name]
    assert (folder / name).read_bytes() == body
    assert _manifest()["files"][name] == entry
    assert _part_files(folder) == [] and not list(folder.glob(".*.pending.json"))


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg.strip() and "\n" not in msg
    return msg


def _hardware_rows(snapshot, n: int) -> bytes:
    with io.StringIO(snapshot["files"]["ml_hardware.csv"].decode("utf-8-sig"), newline="") as fh:
        rows = list(csv.reader(fh))
    return _csv_text(rows[0], rows[1 : n + 1]).encode("utf-8-sig")


# ----------------------------------------------------------------------------- 1. a shrunken file is refused


@pytest.mark.parametrize("name, keep", [("ml_hardware.csv", 99), ("all_ai_models.csv", 25)])
def test_file_cut_at_a_row_boundary_is_refused_unless_forced(server, cached, snapshot, name, keep):
    # no Content-Length, the connection closed after a whole row: well-formed CSV, only shorter
    if name == "ml_hardware.csv":
        body = _hardware_rows(snapshot, keep)
    else:
        body = _csv_text(snapshot["models_header"], snapshot["models_rows"][:keep]).encode()
    before = cached[name][1]["rows"]
    server.behaviours[name] = lambda h: send(h, body, length=None, close=True)
    with pytest.raises(DownloadError) as info:
        pull(base_url=server.base_url, files=[name])
    msg = _one_line(info.value)
    assert f"{name} from {server.base_url}/{name}" in msg
    assert f"{keep:,} rows" in msg and f"fewer than the {before:,} of the cached copy" in msg
    assert "10%" in msg and "--force" in msg
    _kept(cached, name)
    # forced, it replaces the cached copy
    result = pull(base_url=server.base_url, files=[name], force=True)
    assert (cache_dir() / name).read_bytes() == body
    assert result.fetched[0].rows == keep == _manifest()["files"][name]["rows"]
    _consistent()


def test_shrink_threshold_is_ten_percent(server, cached, snapshot):
    assert pull_mod.MAX_SHRINK == 0.10
    assert cached["ml_hardware.csv"][1]["rows"] == 200
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, _hardware_rows(snapshot, 179))
    with pytest.raises(DownloadError, match=re.escape("179 rows, 10.5% fewer than the 200")):
        pull(base_url=server.base_url, files=["ml_hardware.csv"])
    _kept(cached, "ml_hardware.csv")
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, _hardware_rows(snapshot, 180))  # 10% fewer: accepted
    assert pull(base_url=server.base_url, files=["ml_hardware.csv"]).fetched[0].rows == 180
    # the next pull compares with the new count (180): 162 is 10% fewer and passes, growing always passes
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, _hardware_rows(snapshot, 162))
    assert pull(base_url=server.base_url, files=["ml_hardware.csv"]).fetched[0].rows == 162
    server.behaviours.pop("ml_hardware.csv")
    assert pull(base_url=server.base_url, files=["ml_hardware.csv"]).fetched[0].rows == 200


def test_shrink_checked_against_the_file_when_the_manifest_is_lost(server, cached, snapshot):
    (cache_dir() / "manifest.json").unlink()
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, _hardware_rows(snapshot, 50))
    with pytest.raises(DownloadError, match=re.escape("50 rows, 75.0% fewer than the 200 of the cached copy")):
        pull(base_url=server.base_url, files=["ml_hardware.csv"])
    assert (cache_dir() / "ml_hardware.csv").read_bytes() == cached["ml_hardware.csv"][0]


def test_cli_shrunk_file_one_line_exit_2_and_force(server, cached, snapshot, capsys):
    from flopcast.cli.main import main

    body = _hardware_rows(snapshot, 99)
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, body, length=None, close=True)
    args = ["data", "pull", "--base-url", server.base_url, "--file", "ml_hardware.csv", "--json"]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: could not pull 1 of 1 file(s): ml_hardware.csv")
    assert "99 rows, 50.5% fewer than the 200 of the cached copy" in err and "Traceback" not in err
    _kept(cached, "ml_hardware.csv")
    main([*args, "--force"])  # returns: exit status 0
    assert json.loads(capsys.readouterr().out)["fetched"][0]["rows"] == 99


# ----------------------------------------------------------------------------- 2a. a deadline for the whole pull


class _FakeClock:
    """The deadline's clock: stands still until ``jump()``, then is an hour later."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def jump(self, *_):
        self.now = 1000.0 + 3600


def test_deadline_stops_a_trickling_server(server, cached, snapshot, monkeypatch):
    # the server sends 1,000 bytes and then nothing until the test ends (no Content-Length): each read
    # gets data in time, so only the deadline, checked between chunks, can end the pull
    body = snapshot["files"]["all_ai_models.csv"]
    release = threading.Event()

    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/csv")
        h.end_headers()
        h.wfile.write(body[:1000])
        h.wfile.flush()
        release.wait(30)

    server.behaviours["all_ai_models.csv"] = trickle
    clock = _FakeClock()
    monkeypatch.setattr(pull_mod, "_clock", clock)
    try:
        with pytest.raises(DownloadError) as info:
            pull(
                base_url=server.base_url,
                files=["all_ai_models.csv"],
                deadline_s=120,
                timeout_s=30,
                progress=lambda name, done, total: done and clock.jump(),  # once the 1,000 bytes are in
            )
    finally:
        release.set()
    msg = _one_line(info.value)
    assert f"all_ai_models.csv from {server.base_url}/all_ai_models.csv: over the deadline" in msg
    assert "not done after 120 s (1,000 bytes of this file received; --deadline allows more)" in msg
    _kept(cached, "all_ai_models.csv")


def test_deadline_is_for_the_whole_pull(server, cached, monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr(pull_mod, "_clock", clock)
    done = []

    def progress(name, n, total):  # the clock passes the deadline once the first file is complete
        if n == total:
            done.append(name)
            clock.jump()

    with pytest.raises(DownloadError) as info:
        pull(base_url=server.base_url, deadline_s=300, progress=progress)
    exc = info.value
    assert done == ["all_ai_models.csv"] and [f.name for f in exc.result.fetched] == ["all_ai_models.csv"]
    assert [f.name for f in exc.failures] == ["notable_ai_models.csv", "ml_hardware.csv"]
    assert all(f.reason == "not started: the pull's deadline of 300 s had passed" for f in exc.failures)
    _kept(cached, "ml_hardware.csv")


@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan")])
def test_bad_deadline(value):
    with pytest.raises(InvalidInputError, match=r"deadline .* must be a positive number of seconds"):
        pull(deadline_s=value)
    r = runner.invoke(data_app, ["pull", "--deadline", str(value)])
    assert isinstance(r.exception, InvalidInputError) and "--deadline=" in str(r.exception)


def test_max_bytes_within_what_the_reader_reads():
    with pytest.raises(InvalidInputError, match="max_bytes 300,000,000 is over 256,000,000"):
        pull(max_bytes=300_000_000)
    r = runner.invoke(data_app, ["pull", "--max-mb", "300"])
    assert isinstance(r.exception, InvalidInputError) and "--max-mb=300 is over 256" in str(r.exception)


def test_too_many_rows_refused_by_the_pull(server, cached, monkeypatch):
    monkeypatch.setattr(reader, "MAX_RECORDS", 100)  # the hardware file has 200 rows
    with pytest.raises(DownloadError, match=r"ml_hardware\.csv .*too many rows: over 100, the most flopcast reads"):
        pull(base_url=server.base_url, files=["ml_hardware.csv"])
    _kept(cached, "ml_hardware.csv")


# ----------------------------------------------------------------------------- 2b. debris and crashes


def _debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_stale_debris_of_killed_pulls_is_removed(server, cached):
    folder = cache_dir()
    stale = [
        ".all_ai_models.csv.k1ll3d.part",  # a download killed midway
        ".ml_hardware.csv.x.part",
        ".manifest.json.q9.tmp",  # a manifest write killed midway
        "..notable_ai_models.csv.pending.json.z.tmp",  # a journal write killed midway
    ]
    for n in stale:
        (folder / n).write_bytes(b"half")
    (folder / "notes.txt").write_text("mine")
    (folder / ".other.part").write_text("not a pull's")
    (server.root / "all_ai_models.csv").unlink()  # this pull fails, and still cleans up
    with pytest.raises(DownloadError, match="HTTP 404"):
        pull(base_url=server.base_url, files=["all_ai_models.csv"])
    assert _debris(folder) == [".other.part"]
    assert (folder / "notes.txt").read_text() == "mine"
    (folder / ".other.part").unlink()
    _kept(cached, "all_ai_models.csv")


class _Crash(BaseException):
    """The process dies here (nothing catches a BaseException that is not an Exception)."""


def test_crash_between_rename_and_manifest_is_recovered(server, cached, snapshot, monkeypatch):
    """The step after the rename (writing manifest.json) crashes: the cache still reads consistently, and the
    next start completes the commit."""
    folder = cache_dir()
    new = _hardware_rows(snapshot, 190)
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, new)
    real_write = cache_mod._write_json_atomic

    def crash_on_manifest(path, data):
        if path.name == "manifest.json":
            assert (folder / "ml_hardware.csv").read_bytes() == new  # the rename has happened
            raise _Crash
        real_write(path, data)

    monkeypatch.setattr(cache_mod, "_write_json_atomic", crash_on_manifest)
    with pytest.raises(_Crash):
        pull(base_url=server.base_url, files=["ml_hardware.csv"])
    monkeypatch.setattr(cache_mod, "_write_json_atomic", real_write)
    # on disk: the new file, and the manifest still describing the old one
    assert _manifest()["files"]["ml_hardware.csv"] == cached["ml_hardware.csv"][1]
    assert (folder / "ml_hardware.csv").read_bytes() == new
    # the next start sees a consistent cache, before any pull
    _consistent()
    entry = {f.name: f for f in status()}["ml_hardware.csv"]
    assert entry.rows == 190 and entry.sha256 == hashlib.sha256(new).hexdigest()
    assert resolve_source("cache").path("hardware") == folder / "ml_hardware.csv"
    # the next pull (of another file) completes the commit in manifest.json and leaves nothing behind
    pull(base_url=server.base_url, files=["notable_ai_models.csv"])
    assert _manifest()["files"]["ml_hardware.csv"]["sha256"] == hashlib.sha256(new).hexdigest()
    assert _manifest()["files"]["ml_hardware.csv"]["rows"] == 190
    assert _debris(folder) == []
    _consistent()


def test_failures_before_the_rename_leave_the_old_cache(server, cached, snapshot, monkeypatch):
    """A rename that fails leaves neither the temporary file nor the journal. A pull killed after writing its
    journal but before the rename left both: the old file and its entry stand, and the next pull removes them."""
    folder = cache_dir()
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, _hardware_rows(snapshot, 190))
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name == "ml_hardware.csv":
            raise PermissionError(13, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(pull_mod.os, "replace", replace)
    with pytest.raises(DownloadError, match=r"ml_hardware\.csv .*Permission denied"):
        pull(base_url=server.base_url, files=["ml_hardware.csv"])
    monkeypatch.setattr(pull_mod.os, "replace", real_replace)
    assert _debris(folder) == []
    _kept(cached, "ml_hardware.csv")

    part = ".all_ai_models.csv.abc123.part"
    (folder / part).write_bytes(b"Model,Publication date,Training compute (FLOP)\nX,2020,1e20\n")
    journal = {"name": "all_ai_models.csv", "part": part, "entry": {"sha256": "0" * 64, "rows": 1, "bytes": 55}}
    (folder / ".all_ai_models.csv.pending.json").write_text(json.dumps(journal))
    _consistent()
    assert {f.name: f for f in status()}["all_ai_models.csv"].sha256 == cached["all_ai_models.csv"][1]["sha256"]
    pull(base_url=server.base_url, files=["notable_ai_models.csv"])
    assert _debris(folder) == []
    _kept(cached, "all_ai_models.csv")
    _consistent()


def test_tampered_journal_deletes_nothing_outside(server, cached, tmp_path):
    folder = cache_dir()
    victim = tmp_path / "victim.part"
    victim.write_text("keep me")
    bad = {"name": "all_ai_models.csv", "part": "../victim.part", "entry": {"sha256": "0" * 64}}
    (folder / ".all_ai_models.csv.pending.json").write_text(json.dumps(bad))
    (folder / ".ml_hardware.csv.pending.json").write_text("{not json")
    _consistent()
    pull(base_url=server.base_url, files=["ml_hardware.csv"])
    assert victim.read_text() == "keep me"
    assert _debris(folder) == []
    _kept(cached, "all_ai_models.csv")


def test_a_second_pull_is_refused_while_one_runs(server, cached):
    fcntl = pytest.importorskip("fcntl")
    folder = cache_dir()
    (folder / ".ml_hardware.csv.inflight.part").write_bytes(b"the other pull's download")
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "the other pull"
        with pytest.raises(DownloadError) as info:
            pull(base_url=server.base_url)
        assert "another `flopcast data pull` is writing to the cache folder" in _one_line(info.value)
        assert (folder / ".ml_hardware.csv.inflight.part").exists()  # its download is left alone
    finally:
        os.close(fd)
    pull(base_url=server.base_url, files=["ml_hardware.csv"])  # once it is done
    assert _debris(folder) == []
    _kept(cached, "all_ai_models.csv")


# ----------------------------------------------------------------------------- 3. reading within limits


def test_reading_limits_are_stated_and_documented():
    assert (reader.MAX_FILE_BYTES, reader.MAX_RECORDS) == (256_000_000, 500_000)
    doc = (ROOT / "docs" / "data.md").read_text()
    for text in ("256 MB", f"{reader.MAX_RECORDS:,}", f"{reader.MAX_RECORD_CHARS:,}", f"{reader.MAX_ISSUES:,}"):
        assert text in doc, text
    assert f"{pull_mod.MAX_SHRINK:.0%}" in doc and f"{pull_mod.DEFAULT_DEADLINE_S:g} s" in doc


def test_check_refuses_a_1_gb_file_before_reading_it(tmp_path, capsys):
    from flopcast.cli.main import main

    p = tmp_path / "ai_models.csv"
    with open(p, "wb") as f:  # a header, then a sparse gigabyte: no disk used, nothing worth reading
        f.write(MODELS_HEADER.encode())
        f.truncate(10**9)
    with pytest.raises(CatalogError) as info:
        check_file(p)
    assert _one_line(info.value) == (
        f"{p}: 1,000,000,000 bytes, over the limit of 256,000,000 bytes (256 MB) that flopcast reads; "
        "Epoch's files are a few MB"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "check", str(p)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"error: {info.value}\n"


def test_gzip_bomb_stopped_while_decompressing(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 100_000)
    p = tmp_path / "ai_models.csv.gz"
    p.write_bytes(gzip.compress((MODELS_HEADER + "M,2020,1e20,o\n" * 20_000).encode()))  # 2 kB -> 280 kB
    assert p.stat().st_size < 100_000
    with pytest.raises(CatalogError) as info:
        load_epoch_models(p)
    assert _one_line(info.value) == (
        f"{p}: over 100,000 bytes once decompressed, the limit that flopcast reads (0.1 MB); Epoch's files are a few MB"
    )


def test_record_limit_stops_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_RECORDS", 50)
    rows = "".join(f"M{i},2020,1e20,o\n" for i in range(1000))
    p = tmp_path / "ai_models.csv"
    p.write_text(MODELS_HEADER + rows)
    finished = []
    real_finish = reader._Table._finish
    monkeypatch.setattr(
        reader._Table, "_finish", lambda self, *a, **k: finished.append(1) or real_finish(self, *a, **k)
    )
    with pytest.raises(CatalogError) as info:
        check_file(p)
    assert _one_line(info.value) == (
        f"{p}: more than 50 records, the most flopcast reads (Epoch's files hold about 6,000); reading stopped"
    )
    assert len(finished) <= 50  # the records past the limit were never handed on
    p.write_text(MODELS_HEADER + "".join(f"M{i},2020,1e20,o\n" for i in range(50)) + "\n\n")
    assert check_file(p).records == 50  # at the limit: read (blank lines are not records)


def test_record_length_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_RECORD_CHARS", 1000)
    p = tmp_path / "ai_models.csv"
    p.write_text(MODELS_HEADER + "A,2020,1e20,o\nB,2020,1e20," + "," * 5000 + "\nC,2020,1e20,o\n")
    with pytest.raises(CatalogError) as info:
        check_file(p)
    assert _one_line(info.value) == (
        f"{p}: the record on line 3 is over 1,000 characters, the most flopcast reads in one record; "
        "Epoch's longest is about 8,500"
    )
    # a quoted record spread over many short lines is one record too
    p.write_text(MODELS_HEADER + 'A,2020,1e20,"' + "x\n" * 600 + '"\n')
    with pytest.raises(CatalogError, match="the record on line 2 is over 1,000 characters"):
        check_file(p)


def test_issue_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_ISSUES", 10)
    p = tmp_path / "ai_models.csv"
    p.write_text(MODELS_HEADER + "".join(f"M{i},2020,lots,o\n" for i in range(11)))
    with pytest.raises(CatalogError) as info:
        check_file(p)
    assert _one_line(info.value) == (
        f"{p}: more than 10 cells could not be parsed or were repaired, the most flopcast lists; "
        "this is not a usable Epoch file"
    )
    p.write_text(MODELS_HEADER + "".join(f"M{i},2020,lots,o\n" for i in range(10)))
    assert len(check_file(p).issues) == 10


def test_check_streams_the_file(tmp_path):
    """Checking a 10 MB file never holds its text: Python's allocations peak below the file's size."""
    p = tmp_path / "ai_models.csv"
    row = "GPT-X,2020-05-28,1e20," + "o" * 977 + "\n"
    p.write_text(MODELS_HEADER + row * 10_000)
    size = p.stat().st_size
    tracemalloc.start()
    try:
        report = check_file(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.records == 10_000
    assert peak < size, f"peak {peak:,} bytes for a {size:,}-byte file"


def test_non_utf8_offset_counts_the_byte_order_mark(tmp_path):
    p = tmp_path / "ai_models.csv"
    data = b"\xef\xbb\xbf" + MODELS_HEADER.encode() + b"Caf\xe9,2020,1e20,o\n"
    p.write_bytes(data)
    with pytest.raises(CatalogError) as info:
        check_file(p)
    at = data.index(b"\xe9")  # 3 + the header + 3: the byte-order mark counts
    assert f"at byte offset {at}, byte 0xe9)" in _one_line(info.value)


def test_damaged_gzip_is_one_line(tmp_path):
    packed = bytearray(gzip.compress((MODELS_HEADER + "M,2020,1e20,o\n" * 200).encode()))
    packed[12:20] = b"\xff" * 8  # corrupt the deflate stream
    p = tmp_path / "ai_models.csv.gz"
    p.write_bytes(bytes(packed))
    with pytest.raises(CatalogError) as info:
        check_file(p)
    assert _one_line(info.value).startswith(f"{p}: a damaged gzip file (")


def test_check_lists_at_most_limit_lines_of_a_duplicated_name(tmp_path):
    p = tmp_path / "ai_models.csv"
    p.write_text(MODELS_HEADER + "Same,2020,1e20,o\n" * 60)
    r = runner.invoke(data_app, ["check", str(p)])
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())
    assert "Same (lines 2, 3," in out and "50, 51, ... (10 more))" in out and "61" not in out
    r = runner.invoke(data_app, ["check", str(p), "--limit", "0"])
    assert "60, 61)" in " ".join(r.stdout.split())
