"""Download Epoch AI's public databases into a local cache, safely.

``pull()`` fetches each file over HTTP(S) with :mod:`urllib.request`, streams it in
chunks into a temporary file in the cache folder, and checks it before it replaces
anything: it must be UTF-8 CSV text with a header and at least one data row, it must
not be truncated, and its header must be the expected Epoch file kind with every
required column. Only then is it moved into place with :func:`os.replace` (atomic)
and recorded in ``manifest.json`` (url, fetched_at, bytes, rows, sha256, kind), which
is also written atomically. A file that fails leaves the previous cached copy and its
manifest entry untouched.

Failures: every requested file is tried. Files that succeed are kept; if any failed,
``pull()`` raises one :class:`DownloadError` at the end naming each failed file, its
URL and the reason. The exception carries the partial :class:`PullResult` as
``.result`` (and the failures as ``.failures``) so that callers can still report
what was fetched.

The cache folder is ``platformdirs.user_cache_dir("flopcast")/epoch``, or the folder
named by the environment variable ``FLOPCAST_CACHE_DIR``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import http.client
import json
import math
import os
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from flopcast.datasets import schema
from flopcast.errors import CatalogError, InvalidInputError

CACHE_ENV = "FLOPCAST_CACHE_DIR"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
CHUNK_BYTES = 64 * 1024

#: file name -> public download address
DEFAULT_SOURCES: dict[str, str] = {
    "all_ai_models.csv": "https://epoch.ai/data/all_ai_models.csv",
    "notable_ai_models.csv": "https://epoch.ai/data/notable_ai_models.csv",
    "ml_hardware.csv": "https://epoch.ai/data/ml_hardware.csv",
}

#: file name -> the Epoch file kind its contents must be
EXPECTED_KIND: dict[str, schema.FileKind] = {
    "all_ai_models.csv": schema.MODELS,
    "notable_ai_models.csv": schema.MODELS,
    "ml_hardware.csv": schema.HARDWARE,
}

#: kind name -> cached file names, most preferred first
_PREFERRED = {
    "models": ("all_ai_models.csv", "notable_ai_models.csv"),
    "hardware": ("ml_hardware.csv",),
}

Progress = Callable[[str, int, "int | None"], None]


class DownloadError(CatalogError):
    """A download that failed or was rejected; the previous cached copy was kept."""

    def __init__(self, message: str, failures: list[PullFailure] | None = None, result: PullResult | None = None):
        super().__init__(message)
        self.failures = failures or []
        self.result = result


@dataclass(frozen=True)
class CachedFile:
    """One file in the cache, as the manifest records it."""

    name: str
    kind: str
    url: str
    fetched_at: str
    bytes: int
    rows: int
    sha256: str
    path: Path
    exists: bool

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


@dataclass(frozen=True)
class PullFailure:
    name: str
    url: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PullResult:
    dest: Path
    fetched: list[CachedFile] = field(default_factory=list)
    failed: list[PullFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        return {
            "cache_dir": str(self.dest),
            "fetched": [f.to_dict() for f in self.fetched],
            "failed": [f.to_dict() for f in self.failed],
        }


class _Rejected(Exception):
    """Internal: why one file was not accepted (becomes a PullFailure)."""


# ----------------------------------------------------------------------------- paths


def cache_dir() -> Path:
    """Where pulled files live: $FLOPCAST_CACHE_DIR, else the user cache folder + ``/epoch``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "flopcast"
    else:
        base = Path(user_cache_dir("flopcast"))
    return base / "epoch"


def cached_path(kind_name: str, dest: Path | str | None = None) -> Path | None:
    """The cached file for ``"models"`` (all_ai_models.csv, else notable_ai_models.csv) or ``"hardware"``.

    None when nothing of that kind is cached. Only files that passed ``pull()``'s checks are
    ever placed in the cache, so a file that exists there is a validated one.
    """
    if kind_name not in _PREFERRED:
        raise InvalidInputError(f"no cached Epoch file of kind {kind_name!r}; kinds: {', '.join(_PREFERRED)}")
    folder = Path(dest) if dest is not None else cache_dir()
    for name in _PREFERRED[kind_name]:
        p = folder / name
        if p.is_file():
            return p
    return None


# ----------------------------------------------------------------------------- manifest


def _read_manifest(folder: Path, *, strict: bool) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        return {"version": MANIFEST_VERSION, "files": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        problem = None if isinstance(data, dict) and isinstance(data.get("files"), dict) else "no 'files' table"
    except (ValueError, OSError) as exc:
        problem = str(exc)
    if problem is None:
        return data
    if strict:
        raise CatalogError(
            f"the cache manifest {path} is unreadable ({problem}); run `flopcast data pull` to rebuild it"
        )
    return {"version": MANIFEST_VERSION, "files": {}}


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed or removed
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with tmp:
            json.dump(data, tmp, indent=2, sort_keys=True)
            tmp.write("\n")
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
    except BaseException:
        _unlink(tmp.name)
        raise


def _entry_to_cached(folder: Path, name: str, e: dict) -> CachedFile:
    path = folder / name
    return CachedFile(
        name=name,
        kind=str(e.get("kind", "")),
        url=str(e.get("url", "")),
        fetched_at=str(e.get("fetched_at", "")),
        bytes=int(e.get("bytes", 0)),
        rows=int(e.get("rows", 0)),
        sha256=str(e.get("sha256", "")),
        path=path,
        exists=path.is_file(),
    )


def status(dest: Path | str | None = None) -> list[CachedFile]:
    """The files the manifest records (known names first, in DEFAULT_SOURCES order); [] when nothing is cached."""
    folder = Path(dest) if dest is not None else cache_dir()
    files = _read_manifest(folder, strict=True)["files"]
    order = {n: i for i, n in enumerate(DEFAULT_SOURCES)}
    names = sorted(files, key=lambda n: (order.get(n, len(order)), n))
    return [_entry_to_cached(folder, n, files[n]) for n in names]


# ----------------------------------------------------------------------------- download


def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"flopcast/{version('flopcast')} (+python-urllib)"
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "flopcast (+python-urllib)"


def _sources(base_url: str | None, files: Iterable[str] | None) -> dict[str, str]:
    if files is None:
        names = list(DEFAULT_SOURCES)
    else:
        names = list(dict.fromkeys([files] if isinstance(files, str) else files))
        unknown = [n for n in names if n not in DEFAULT_SOURCES]
        if unknown:
            raise InvalidInputError(f"unknown Epoch file(s) {', '.join(unknown)}; valid: {', '.join(DEFAULT_SOURCES)}")
        if not names:
            raise InvalidInputError(f"no files to pull; valid: {', '.join(DEFAULT_SOURCES)}")
    if base_url is None:
        return {n: DEFAULT_SOURCES[n] for n in names}
    scheme = urllib.parse.urlsplit(base_url).scheme.lower()
    if scheme not in ("http", "https") or not urllib.parse.urlsplit(base_url).netloc:
        raise InvalidInputError(f"base URL {base_url!r} is not an http(s) address, e.g. https://epoch.ai/data")
    base = base_url.rstrip("/")
    return {n: f"{base}/{n}" for n in names}


def _describe_network_error(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason or ''}".rstrip()
    if isinstance(exc, urllib.error.URLError):
        if not isinstance(exc.reason, BaseException):
            return f"network error: {exc.reason}"
        exc = exc.reason
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"timed out (no data for {timeout_s:g} s)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.IncompleteRead):
        return f"transfer interrupted after {len(exc.partial):,} bytes (the file is truncated)"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without a response"
    if isinstance(exc, (ConnectionError, http.client.HTTPException)):
        return f"transfer interrupted ({type(exc).__name__}: {exc}); the file is incomplete"
    return f"{type(exc).__name__}: {exc}"


def _download(
    url: str, out: IO[bytes], *, name: str, timeout_s: float, max_bytes: int, progress: Progress | None
) -> tuple[int, str]:
    """Stream ``url`` into the open binary file ``out``; returns (bytes, sha256 hex)."""
    req = urllib.request.Request(url, headers={"User-Agent": _user_agent(), "Accept": "text/csv, */*;q=0.5"})
    digest = hashlib.sha256()
    done = 0
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        total = None
        length = resp.headers.get("Content-Length")
        if length is not None:
            try:
                total = int(length)
            except ValueError:
                total = None
        if total is not None and total > max_bytes:
            raise _Rejected(f"too large: the server announces {total:,} bytes, over the limit of {max_bytes:,}")
        ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype in ("text/html", "application/xhtml+xml"):
            raise _Rejected(f"not CSV: the server sent an HTML page (Content-Type {ctype})")
        if progress is not None:
            progress(name, 0, total)
        while True:
            chunk = resp.read(CHUNK_BYTES)
            if not chunk:
                break
            done += len(chunk)
            if done > max_bytes:
                raise _Rejected(f"too large: over the limit of {max_bytes:,} bytes (download stopped)")
            digest.update(chunk)
            out.write(chunk)
            if progress is not None:
                progress(name, done, total)
        if total is not None and done < total:
            raise _Rejected(f"transfer interrupted: got {done:,} of {total:,} bytes (the file is truncated)")
    return done, digest.hexdigest()


def _validate(path: Path, expected: schema.FileKind) -> int:
    """Check a downloaded file; returns the number of data rows."""
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip().lower()
    if head.startswith((b"\xef\xbb\xbf<", b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")):
        raise _Rejected("not CSV: the server sent an HTML/XML page")
    rows = 0
    last: list[str] | None = None
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            header = next(reader, None)
            while header is not None and not any(c.strip() for c in header):
                header = next(reader, None)  # skip leading blank lines
            if header is None:
                raise _Rejected("not CSV: the file is empty")
            for row in reader:
                if row and any(c.strip() for c in row):
                    rows += 1
                    last = row
    except UnicodeDecodeError as exc:
        raise _Rejected(f"not CSV: not UTF-8 text (bad byte at offset {exc.start})") from None
    except csv.Error as exc:
        raise _Rejected(f"truncated or malformed CSV: {exc} (line {reader.line_num})") from None
    if len(header) < 2:
        raise _Rejected(f"not CSV: the first line has a single field ({header[0][:60]!r})")
    missing = schema.missing_required(expected, header)
    if missing:
        try:
            looks = f"; it looks like Epoch's {schema.detect_kind(header).name} file"
        except CatalogError:
            looks = ""
        raise _Rejected(f"missing required column(s) {', '.join(missing)} for Epoch's {expected.name} file{looks}")
    try:
        kind = schema.detect_kind(header)
    except CatalogError as exc:  # pragma: no cover - required columns are present
        raise _Rejected(str(exc)) from None
    if kind is not expected:
        raise _Rejected(f"the header is Epoch's {kind.name} file, expected the {expected.name} file")
    if rows == 0:
        raise _Rejected("no data rows: the file has a header only")
    if last is not None and len(last) < len(header):
        raise _Rejected(f"truncated: the last row has {len(last)} of the header's {len(header)} cells")
    return rows


def _unlink(path: str | os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _pull_one(
    name: str, url: str, folder: Path, *, timeout_s: float, max_bytes: int, progress: Progress | None
) -> dict:
    expected = EXPECTED_KIND[name]
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed or removed
        dir=folder, prefix=f".{name}.", suffix=".part", delete=False
    )
    tmp_path = Path(tmp.name)
    try:
        with tmp:
            nbytes, sha = _download(url, tmp, name=name, timeout_s=timeout_s, max_bytes=max_bytes, progress=progress)
            tmp.flush()
            os.fsync(tmp.fileno())
        rows = _validate(tmp_path, expected)
        os.replace(tmp_path, folder / name)
    except BaseException:
        _unlink(tmp_path)
        raise
    return {
        "url": url,
        "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "bytes": nbytes,
        "rows": rows,
        "sha256": sha,
        "kind": expected.name,
    }


def pull(
    *,
    base_url: str | None = None,
    files: Iterable[str] | None = None,
    dest: Path | str | None = None,
    timeout_s: float = 60,
    max_bytes: int = 200_000_000,
    progress: Progress | None = None,
) -> PullResult:
    """Download Epoch's files into the cache (``dest``, default :func:`cache_dir`).

    ``base_url`` replaces ``https://epoch.ai/data`` (files come from ``{base_url}/{name}``);
    ``files`` picks a subset of :data:`DEFAULT_SOURCES`; ``timeout_s`` bounds each socket
    operation; ``max_bytes`` bounds each file; ``progress(name, bytes_done, bytes_total_or_None)``
    is called as data arrives. Returns a :class:`PullResult` when every file succeeded; otherwise
    raises :class:`DownloadError` after trying them all (successes are kept, see ``exc.result``).
    """
    if not (isinstance(timeout_s, (int, float)) and math.isfinite(timeout_s) and timeout_s > 0):
        raise InvalidInputError(f"timeout {timeout_s!r} must be a positive number of seconds")
    if not (isinstance(max_bytes, int) and max_bytes > 0):
        raise InvalidInputError(f"max_bytes {max_bytes!r} must be a positive integer")
    sources = _sources(base_url, files)
    folder = Path(dest) if dest is not None else cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache folder {folder}: {exc}") from None

    result = PullResult(dest=folder)
    for name, url in sources.items():
        try:
            entry = _pull_one(name, url, folder, timeout_s=timeout_s, max_bytes=max_bytes, progress=progress)
        except _Rejected as exc:
            result.failed.append(PullFailure(name, url, str(exc)))
            continue
        except (OSError, http.client.HTTPException) as exc:  # URLError/HTTPError are OSErrors
            result.failed.append(PullFailure(name, url, _describe_network_error(exc, timeout_s)))
            continue
        manifest = _read_manifest(folder, strict=False)
        manifest["version"] = MANIFEST_VERSION
        manifest["files"][name] = entry
        _write_json_atomic(folder / MANIFEST, manifest)
        result.fetched.append(_entry_to_cached(folder, name, entry))

    if result.failed:
        parts = "; ".join(f"{f.name} from {f.url}: {f.reason}" for f in result.failed)
        n, total = len(result.failed), len(sources)
        kept = f", {len(result.fetched)} fetched" if result.fetched else ""
        raise DownloadError(
            f"could not pull {n} of {total} file(s){kept}: {parts}; previously cached copies were kept",
            failures=list(result.failed),
            result=result,
        )
    return result
