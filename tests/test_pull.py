"""`flopcast data pull`: downloads from a loopback HTTP server only, checked before they replace the cache."""

from __future__ import annotations

import csv
import hashlib
import http.server
import io
import json
import socket
import threading
import urllib.error
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flopcast.cli.data_cmd import data_app
from flopcast.datasets import pull as pull_mod
from flopcast.datasets.cache import DEFAULT_SOURCES, DownloadError, cache_dir, cached_path, status
from flopcast.datasets.pull import pull
from flopcast.errors import CatalogError, FlopcastError, InvalidInputError

N_RECORDS = 50
N_HARDWARE = 200
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


# ----------------------------------------------------------------------------- no network but loopback


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch, tmp_path):
    """Every test: cache in a tmp folder, no proxies, and any non-loopback connection or DNS lookup fails."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("FLOPCAST_CACHE_DIR", str(tmp_path / "cache"))

    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK:
            raise OSError(f"test guard: DNS lookup of {host!r} refused (loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded_connect(self, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise OSError(f"test guard: connection to {address!r} refused (loopback only)")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


# ----------------------------------------------------------------------------- served files


def _csv_text(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


@pytest.fixture(scope="session")
def snapshot(epoch_dir):
    """Small served copies built from the real snapshot: {name: bytes}, plus the models pieces."""
    models_src = epoch_dir / "ai_models.csv"
    hw_src = epoch_dir / "ml_hardware.csv"
    for p in (models_src, hw_src):
        if not p.is_file():
            pytest.fail(f"Epoch AI data snapshot file {p} not found")
    with open(models_src, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        m_header = next(reader)
        m_rows = [row for _, row in zip(range(N_RECORDS), reader, strict=False)]
        # a later record with a multi-line quoted field goes last (the truncation tests cut inside it)
        multiline = next((row for row in reader if any("\n" in c for c in row)), None)
    if multiline is None:
        pytest.fail(f"{models_src} has no record with a multi-line quoted field after the first {N_RECORDS}")
    assert any("\n" in c for c in multiline), "the snapshot has no multi-line quoted field"
    with open(hw_src, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        h_header = next(reader)
        h_rows = [row for _, row in zip(range(N_HARDWARE), reader, strict=False)]
    models = _csv_text(m_header, [*m_rows, multiline])
    return {
        "models_header": m_header,
        "models_rows": m_rows,
        "multiline_row": multiline,
        "hardware_header": h_header,
        "files": {
            "all_ai_models.csv": models.encode(),
            "notable_ai_models.csv": _csv_text(m_header, [*m_rows[:20], multiline]).encode(),
            # Epoch's hardware file starts with a byte-order mark; keep it
            "ml_hardware.csv": _csv_text(h_header, h_rows).encode("utf-8-sig"),
        },
    }


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that timed out: not the test's business
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        name = self.path.split("?")[0].removeprefix("/data/")
        srv.requests.append(name)
        if name in srv.behaviours:
            srv.behaviours[name](self)
            return
        path = srv.root / name
        if not path.is_file():
            self.send_error(404)
            return
        send(self, path.read_bytes())


def send(h, body: bytes, *, ctype="text/csv; charset=utf-8", length: int | bool | None = True, close=False):
    """Send a response; length=True -> true Content-Length, an int -> that value, None -> no header."""
    h.send_response(200)
    h.send_header("Content-Type", ctype)
    if length is True:
        h.send_header("Content-Length", str(len(body)))
    elif length is not None:
        h.send_header("Content-Length", str(length))
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()
    if close:
        h.close_connection = True


@pytest.fixture
def server(tmp_path, snapshot):
    root = tmp_path / "served"
    root.mkdir()
    for name, body in snapshot["files"].items():
        (root / name).write_bytes(body)
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.root = root
    srv.behaviours = {}
    srv.requests = []
    srv.base_url = f"http://127.0.0.1:{srv.server_address[1]}/data"
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _rows(body: bytes) -> int:
    return sum(1 for r in list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:] if r)


def _part_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith((".part", ".tmp"))]


# ----------------------------------------------------------------------------- successful pulls


def test_cache_dir_from_env(tmp_path):
    assert cache_dir() == tmp_path / "cache"


def test_pull_fetches_validates_and_records(server, snapshot):
    result = pull(base_url=server.base_url)
    folder = cache_dir()
    assert result.ok and result.dest == folder
    assert [f.name for f in result.fetched] == list(DEFAULT_SOURCES)
    assert sorted(server.requests) == sorted(DEFAULT_SOURCES)
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, body in snapshot["files"].items():
        path = folder / name
        assert path.read_bytes() == body
        e = manifest["files"][name]
        assert e["url"] == f"{server.base_url}/{name}"
        assert e["bytes"] == len(body)
        assert e["sha256"] == hashlib.sha256(body).hexdigest()
        assert e["rows"] == _rows(body)
        assert e["kind"] == ("hardware" if name == "ml_hardware.csv" else "models")
        assert e["fetched_at"].endswith("+00:00")
    assert manifest["files"]["all_ai_models.csv"]["rows"] == N_RECORDS + 1
    assert manifest["files"]["ml_hardware.csv"]["rows"] == N_HARDWARE
    assert _part_files(folder) == []

    st = status()
    assert [f.name for f in st] == list(DEFAULT_SOURCES)
    for f in st:
        assert f.exists and f.path == folder / f.name
        assert f.sha256 == hashlib.sha256(f.path.read_bytes()).hexdigest()
        assert f.rows == manifest["files"][f.name]["rows"]
    assert cached_path("models") == folder / "all_ai_models.csv"
    assert cached_path("hardware") == folder / "ml_hardware.csv"


def test_nothing_cached():
    assert status() == []
    assert cached_path("models") is None
    assert cached_path("hardware") is None
    with pytest.raises(InvalidInputError, match="models, hardware"):
        cached_path("prices")


def test_subset_and_notable_fallback(server):
    result = pull(base_url=server.base_url + "/", files=["notable_ai_models.csv"])
    assert [f.name for f in result.fetched] == ["notable_ai_models.csv"]
    assert server.requests == ["notable_ai_models.csv"]
    assert cached_path("models") == cache_dir() / "notable_ai_models.csv"
    assert cached_path("hardware") is None
    assert [f.name for f in status()] == ["notable_ai_models.csv"]


def test_repull_replaces(server, snapshot):
    pull(base_url=server.base_url)
    smaller = _csv_text(snapshot["models_header"], snapshot["models_rows"][:10]).encode()
    (server.root / "all_ai_models.csv").write_bytes(smaller)
    # 10 rows where 51 were cached: only forced (tests/test_pull_hardening.py checks the refusal)
    result = pull(base_url=server.base_url, files=["all_ai_models.csv"], force=True)
    assert (cache_dir() / "all_ai_models.csv").read_bytes() == smaller
    entry = {f.name: f for f in status()}["all_ai_models.csv"]
    assert entry.rows == 10 and entry.bytes == len(smaller)
    assert entry.sha256 == hashlib.sha256(smaller).hexdigest() == result.fetched[0].sha256
    # the other files' entries are still there
    assert len(status()) == 3


def test_progress_callback(server, snapshot):
    calls = []
    pull(base_url=server.base_url, progress=lambda *a: calls.append(a))
    for name, body in snapshot["files"].items():
        mine = [c for c in calls if c[0] == name]
        assert mine[0] == (name, 0, len(body))
        assert mine[-1] == (name, len(body), len(body))
        done = [c[1] for c in mine]
        assert done == sorted(done)


def test_default_sources_are_epoch(monkeypatch):
    """Without base_url, files come from epoch.ai (the request is intercepted: no network)."""
    seen = []

    def fake_urlopen(req, timeout):
        seen.append((req.full_url, timeout))
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setattr(pull_mod.urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(DownloadError) as info:
        pull(timeout_s=7)
    assert [u for u, _ in seen] == [
        "https://epoch.ai/data/all_ai_models.csv",
        "https://epoch.ai/data/notable_ai_models.csv",
        "https://epoch.ai/data/ml_hardware.csv",
    ]
    assert {t for _, t in seen} == {7}
    assert "could not pull 3 of 3" in str(info.value)
    assert "offline (test)" in str(info.value)
    assert status() == []


# ----------------------------------------------------------------------------- failures keep the old cache


@pytest.fixture
def cached(server):
    """A first successful pull; returns {name: (bytes, manifest entry)}."""
    pull(base_url=server.base_url)
    folder = cache_dir()
    manifest = json.loads((folder / "manifest.json").read_text())
    return {n: ((folder / n).read_bytes(), manifest["files"][n]) for n in DEFAULT_SOURCES}


def _assert_kept(cached, name):
    folder = cache_dir()
    body, entry = cached[name]
    assert (folder / name).read_bytes() == body
    assert json.loads((folder / "manifest.json").read_text())["files"][name] == entry
    assert _part_files(folder) == []


def _pull_fails(server, name, **kwargs) -> DownloadError:
    with pytest.raises(DownloadError) as info:
        pull(base_url=server.base_url, files=[name], **kwargs)
    msg = str(info.value)
    assert name in msg and f"{server.base_url}/{name}" in msg
    assert "\n" not in msg
    assert isinstance(info.value, CatalogError) and isinstance(info.value, FlopcastError)
    return info.value


def test_404_keeps_old_cache_and_others_succeed(server, cached):
    (server.root / "all_ai_models.csv").unlink()
    with pytest.raises(DownloadError) as info:
        pull(base_url=server.base_url)
    exc = info.value
    assert "HTTP 404" in str(exc) and "all_ai_models.csv" in str(exc)
    assert "could not pull 1 of 3" in str(exc)
    assert [f.name for f in exc.failures] == ["all_ai_models.csv"]
    assert [f.name for f in exc.result.fetched] == ["notable_ai_models.csv", "ml_hardware.csv"]
    _assert_kept(cached, "all_ai_models.csv")


@pytest.mark.parametrize("where", ["quoted multi-line field", "mid-row"])
def test_truncated_file_rejected(server, cached, snapshot, where):
    head = _csv_text(snapshot["models_header"], snapshot["models_rows"])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(snapshot["multiline_row"])
    last = buf.getvalue()
    if where == "quoted multi-line field":
        cut = last.index("\n") + 1  # a newline before the record's end is inside a quoted field
        assert cut < len(last)
    else:
        # mid-row, after a complete cell: the last row has fewer cells than the header
        cut = len(_csv_text(snapshot["multiline_row"][:5], []).rstrip("\n"))
        assert last[:cut].count('"') % 2 == 0 and "\n" not in last[:cut]
    (server.root / "all_ai_models.csv").write_bytes((head + last[:cut]).encode())
    exc = _pull_fails(server, "all_ai_models.csv")
    assert "truncated" in str(exc)
    _assert_kept(cached, "all_ai_models.csv")


def test_html_page_rejected(server, cached):
    page = b"<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head><body>hi, there</body></html>\n"
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, page, ctype="text/html; charset=utf-8")
    exc = _pull_fails(server, "ml_hardware.csv")
    assert "not CSV" in str(exc) and "HTML" in str(exc)
    _assert_kept(cached, "ml_hardware.csv")


def test_html_page_without_html_content_type_rejected(server, cached):
    page = b"  <html><body>moved, see <a href='x'>here</a></body></html>\n"
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, page, ctype="text/plain")
    exc = _pull_fails(server, "ml_hardware.csv")
    assert "not CSV" in str(exc)
    _assert_kept(cached, "ml_hardware.csv")


def test_binary_and_header_only_rejected(server, cached, snapshot):
    server.behaviours["all_ai_models.csv"] = lambda h: send(h, b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00" * 20)
    assert "not UTF-8" in str(_pull_fails(server, "all_ai_models.csv"))
    header_only = _csv_text(snapshot["models_header"], []).encode()
    server.behaviours["all_ai_models.csv"] = lambda h: send(h, header_only)
    assert "no data rows" in str(_pull_fails(server, "all_ai_models.csv"))
    _assert_kept(cached, "all_ai_models.csv")


def test_wrong_columns_rejected(server, cached):
    body = _csv_text(["Model", "Domain", "Parameters"], [["GPT-X", "Language", "1e9"]]).encode()
    server.behaviours["all_ai_models.csv"] = lambda h: send(h, body)
    exc = _pull_fails(server, "all_ai_models.csv")
    assert "missing required column(s) Publication date, Training compute (FLOP)" in str(exc)
    _assert_kept(cached, "all_ai_models.csv")


def test_wrong_kind_rejected(server, cached, snapshot):
    """The hardware table served under a models file name names the missing columns and what it looks like."""
    server.behaviours["notable_ai_models.csv"] = lambda h: send(h, snapshot["files"]["ml_hardware.csv"])
    exc = _pull_fails(server, "notable_ai_models.csv")
    assert "missing required column(s) Model" in str(exc)
    assert "looks like Epoch's hardware file" in str(exc)
    _assert_kept(cached, "notable_ai_models.csv")


def test_too_large_rejected_by_content_length(server, cached):
    exc = _pull_fails(server, "all_ai_models.csv", max_bytes=1000)
    assert "too large" in str(exc) and "1,000" in str(exc)
    _assert_kept(cached, "all_ai_models.csv")


def send_chunked(h, body: bytes, size: int = 4096):
    h.send_response(200)
    h.send_header("Content-Type", "text/csv")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    for i in range(0, len(body), size):
        part = body[i : i + size]
        h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
    h.wfile.write(b"0\r\n\r\n")
    h.close_connection = True


@pytest.mark.parametrize("mode", ["no-content-length", "chunked"])
def test_too_large_rejected_while_streaming(server, cached, snapshot, mode):
    body = snapshot["files"]["all_ai_models.csv"]
    if mode == "chunked":
        server.behaviours["all_ai_models.csv"] = lambda h: send_chunked(h, body)
    else:
        server.behaviours["all_ai_models.csv"] = lambda h: send(h, body, length=None, close=True)
    exc = _pull_fails(server, "all_ai_models.csv", max_bytes=len(body) // 2)
    assert "too large" in str(exc) and "download stopped" in str(exc)
    _assert_kept(cached, "all_ai_models.csv")
    # the same streams within the limit are accepted
    pull(base_url=server.base_url, files=["all_ai_models.csv"], max_bytes=len(body))
    assert (cache_dir() / "all_ai_models.csv").read_bytes() == body


@pytest.mark.parametrize("stage", ["before headers", "mid-body"])
def test_silent_server_times_out(server, cached, snapshot, stage):
    # the server goes silent (before its headers, or after 1,000 bytes of the body) until the test has its
    # error: the pull can only end by its own timeout, whatever the machine's speed
    body = snapshot["files"]["ml_hardware.csv"]
    release = threading.Event()

    def silent(h):
        if stage == "mid-body":
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[:1000])
            h.wfile.flush()
        release.wait(30)

    server.behaviours["ml_hardware.csv"] = silent
    try:
        exc = _pull_fails(server, "ml_hardware.csv", timeout_s=0.2)
    finally:
        release.set()
    assert "timed out (no data for 0.2 s)" in str(exc)
    assert [f.name for f in exc.failures] == ["ml_hardware.csv"]
    _assert_kept(cached, "ml_hardware.csv")


def test_interrupted_transfer_rejected(server, cached, snapshot):
    body = snapshot["files"]["ml_hardware.csv"]
    server.behaviours["ml_hardware.csv"] = lambda h: send(h, body[: len(body) // 2], length=len(body), close=True)
    exc = _pull_fails(server, "ml_hardware.csv")
    assert "interrupted" in str(exc) and "truncated" in str(exc)
    _assert_kept(cached, "ml_hardware.csv")


def test_first_pull_failure_leaves_nothing(server):
    (server.root / "ml_hardware.csv").unlink()
    with pytest.raises(DownloadError):
        pull(base_url=server.base_url, files=["ml_hardware.csv"])
    folder = cache_dir()
    assert sorted(p.name for p in folder.iterdir()) == []
    assert status() == [] and cached_path("hardware") is None


def test_corrupt_manifest(server):
    folder = cache_dir()
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(CatalogError, match="flopcast data pull"):
        status()
    pull(base_url=server.base_url, files=["ml_hardware.csv"])
    assert [f.name for f in status()] == ["ml_hardware.csv"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"files": ["models.csv"]}, "unknown Epoch file"),
        ({"base_url": "file:///etc"}, "not an http"),
        ({"timeout_s": 0}, "timeout"),
        ({"max_bytes": -1}, "max_bytes"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        pull(**kwargs)


# ----------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_status_empty():
    r = runner.invoke(data_app, ["status"])
    assert r.exit_code == 0, r.output
    assert (
        "nothing cached; `flopcast data pull`" in r.stdout
        and "database in use: Epoch AI database, embedded" in r.stdout
    )
    assert str(cache_dir()) in r.stdout.replace("\n", "")
    r = runner.invoke(data_app, ["status", "--json"])
    d = json.loads(r.stdout)
    assert d["cache_dir"] == str(cache_dir()) and d["files"] == [] and d["active"]["kind"] == "embedded"
    assert d["embedded"]["data_date"] == "2025-06-20"


def test_cli_pull_and_status(server):
    r = runner.invoke(data_app, ["pull", "--base-url", server.base_url])
    assert r.exit_code == 0, r.output
    for name in DEFAULT_SOURCES:
        assert name in r.stdout
    r = runner.invoke(data_app, ["status"])
    assert r.exit_code == 0 and "ml_hardware.csv" in r.stdout and "nothing cached" not in r.stdout
    r = runner.invoke(data_app, ["status", "--json"])
    files = json.loads(r.stdout)["files"]
    assert [f["name"] for f in files] == list(DEFAULT_SOURCES) and all(f["exists"] for f in files)


def test_cli_pull_json_and_failure(server):
    (server.root / "notable_ai_models.csv").unlink()
    r = runner.invoke(data_app, ["pull", "--base-url", server.base_url, "--json", "--timeout", "5", "--max-mb", "10"])
    assert isinstance(r.exception, DownloadError)  # the entry point turns it into one line + exit 2
    assert r.exit_code != 0
    out = json.loads(r.stdout)
    assert [f["name"] for f in out["fetched"]] == ["all_ai_models.csv", "ml_hardware.csv"]
    assert out["failed"][0]["name"] == "notable_ai_models.csv" and "HTTP 404" in out["failed"][0]["reason"]


def test_cli_bad_options():
    r = runner.invoke(data_app, ["pull", "--max-mb", "0"])
    assert isinstance(r.exception, InvalidInputError) and "--max-mb" in str(r.exception)
    r = runner.invoke(data_app, ["pull", "--timeout", "-1"])
    assert isinstance(r.exception, InvalidInputError) and "--timeout" in str(r.exception)


def test_cli_help():
    r = runner.invoke(data_app, [])
    assert "pull" in r.output and "status" in r.output
