"""Download Epoch AI's public databases into a local cache, safely.

``pull()`` fetches each file over HTTP(S) with :mod:`urllib.request`, streams it in
chunks into a temporary file in the cache folder, and checks it before it replaces
anything: it must be UTF-8 CSV text with a header and at least one data row, it must
not be truncated, its header must be the expected Epoch file kind with every required
column, and it must not have shrunk: a file with more than :data:`MAX_SHRINK` (10%) fewer
rows than the cached copy is refused unless ``force=True`` (``flopcast data pull --force``),
since a server that closes the connection at a row boundary, with no Content-Length,
sends a shorter file that is otherwise well formed. ``manifest.json`` records each
file's url, fetched_at, bytes, rows, sha256 and kind.

Time: ``timeout_s`` bounds each network operation; ``deadline_s`` (default
:data:`DEFAULT_DEADLINE_S`, 300 s) bounds the whole pull. The deadline is checked before each
file and between chunks, so a server that trickles data cannot hold a pull open; it is
passed by at most one ``timeout_s`` (a single read waits at most that long).

Replacing a file is one unit with its manifest entry. The new file is written under a
temporary name (``.NAME.XXXX.part``) and checked; then a journal ``.NAME.pending.json``
(the temporary name and the new manifest entry) is written atomically, the file is renamed
into place with :func:`os.replace` (atomic), the manifest is rewritten atomically, and the
journal is removed. A crash at any step leaves a cache that reads consistently:
before the rename, the old file and its entry stand; after it, :func:`status` takes the new
entry from the journal (the file's sha256 must match). The next pull completes such a
commit (after the rename) or rolls it back (before it), then removes debris of killed pulls
(temporary ``.part`` and ``.tmp`` files of the cache's own names). A pull holds an exclusive
lock on the cache folder (``flock``, where the platform has it), so two pulls never share it.
A file that fails leaves the previous cached copy and its manifest entry untouched, and no
temporary file behind.

Failures: every requested file is tried. Files that succeed are kept; if any failed,
``pull()`` raises one :class:`DownloadError` at the end naming each failed file, its
URL and the reason. The exception carries the partial :class:`PullResult` as
``.result`` (and the failures as ``.failures``) so that callers can still report
what was fetched.

The cache folder is ``platformdirs.user_cache_dir("flopcast")/epoch``, or the folder
named by the environment variable ``FLOPCAST_CACHE_DIR``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import http.client
import math
import os
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from flopcast.datasets import reader, schema
from flopcast.datasets.cache import (
    DEFAULT_SOURCES,
    CachedFile,
    DownloadError,
    _commit,
    _entry_to_cached,
    _locked,
    _read_manifest,
    _recover,
    _unlink,
    _Unrecorded,
    cache_dir,
)
from flopcast.errors import CatalogError, InvalidInputError

CHUNK_BYTES = 64 * 1024
#: a re-pulled file with more than this fraction fewer rows than the cached copy is refused (unless forced)
MAX_SHRINK = 0.10
#: the default time allowed for a whole pull, in seconds
DEFAULT_DEADLINE_S = 300.0
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_BYTES = 200_000_000
#: the journal of a file being committed: ``.NAME`` + this

#: the clock of the deadline (tests replace it)
_clock: Callable[[], float] = time.monotonic

#: file name -> the Epoch file kind its contents must be
EXPECTED_KIND: dict[str, schema.FileKind] = {
    "all_ai_models.csv": schema.MODELS,
    "notable_ai_models.csv": schema.MODELS,
    "ml_hardware.csv": schema.HARDWARE,
}

#: kind name -> cached file names, most preferred first
Progress = Callable[[str, int, "int | None"], None]


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


@dataclass(frozen=True)
class _Deadline:
    at: float  # on the clock :data:`_clock`
    seconds: float

    def check(self, done: int) -> None:
        if _clock() > self.at:
            raise _Rejected(
                f"over the deadline: the pull was not done after {self.seconds:g} s "
                f"({done:,} bytes of this file received; --deadline allows more)"
            )


def _download(
    url: str,
    out: IO[bytes],
    *,
    name: str,
    timeout_s: float,
    max_bytes: int,
    progress: Progress | None,
    deadline: _Deadline,
) -> tuple[int, str]:
    """Stream ``url`` into the open binary file ``out``; returns (bytes, sha256 hex)."""
    req = urllib.request.Request(url, headers={"User-Agent": _user_agent(), "Accept": "text/csv, */*;q=0.5"})
    digest = hashlib.sha256()
    done = 0
    if _clock() > deadline.at:
        raise _Rejected(f"not started: the pull's deadline of {deadline.seconds:g} s had passed")
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
            if total is None or done < total:  # (all announced bytes in: nothing left to wait for)
                deadline.check(done)
            chunk = resp.read1(CHUNK_BYTES)  # what has arrived (one read): the deadline is checked often
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
    reader_limit = reader.MAX_RECORDS
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows_in = csv.reader(fh, strict=True)
            header = next(rows_in, None)
            while header is not None and not any(c.strip() for c in header):
                header = next(rows_in, None)  # skip leading blank lines
            if header is None:
                raise _Rejected("not CSV: the file is empty")
            for row in rows_in:
                if row and any(c.strip() for c in row):
                    rows += 1
                    last = row
                    if rows > reader_limit:
                        raise _Rejected(
                            f"too many rows: over {reader_limit:,}, the most flopcast reads (download refused)"
                        )
    except UnicodeDecodeError as exc:
        raise _Rejected(f"not CSV: not UTF-8 text (bad byte at offset {exc.start})") from None
    except csv.Error as exc:
        raise _Rejected(f"truncated or malformed CSV: {exc} (line {rows_in.line_num})") from None
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


def _previous_rows(folder: Path, name: str, expected: schema.FileKind) -> int | None:
    """The rows of the cached copy of ``name``: the manifest's count when it describes the file, else counted."""
    path = folder / name
    try:
        size = path.stat().st_size
    except OSError:
        return None
    entry = _read_manifest(folder, strict=False)["files"].get(name)
    if isinstance(entry, dict) and entry.get("bytes") == size and isinstance(entry.get("rows"), int):
        return int(entry["rows"])
    try:
        return _validate(path, expected)
    except (_Rejected, OSError):
        return None


def _check_shrink(folder: Path, name: str, expected: schema.FileKind, rows: int) -> None:
    before = _previous_rows(folder, name, expected)
    if before and rows < before * (1 - MAX_SHRINK):
        raise _Rejected(
            f"{rows:,} rows, {1 - rows / before:.1%} fewer than the {before:,} of the cached copy, more than the "
            f"{MAX_SHRINK:.0%} a pull may lose: the file looks truncated; `flopcast data pull --force` accepts it"
        )


def _pull_one(
    name: str,
    url: str,
    folder: Path,
    *,
    timeout_s: float,
    max_bytes: int,
    progress: Progress | None,
    deadline: _Deadline,
    force: bool,
) -> dict:
    expected = EXPECTED_KIND[name]
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed or removed
        dir=folder, prefix=f".{name}.", suffix=".part", delete=False
    )
    tmp_path = Path(tmp.name)
    try:
        with tmp:
            nbytes, sha = _download(
                url,
                tmp,
                name=name,
                timeout_s=timeout_s,
                max_bytes=max_bytes,
                progress=progress,
                deadline=deadline,
            )
            tmp.flush()
            os.fsync(tmp.fileno())
        rows = _validate(tmp_path, expected)
        if not force:
            _check_shrink(folder, name, expected, rows)
        entry = {
            "url": url,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "bytes": nbytes,
            "rows": rows,
            "sha256": sha,
            "kind": expected.name,
        }
        _commit(folder, name, tmp_path, entry)
    except BaseException:
        _unlink(tmp_path)
        raise
    return entry


def pull(
    *,
    base_url: str | None = None,
    files: Iterable[str] | None = None,
    dest: Path | str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
    deadline_s: float = DEFAULT_DEADLINE_S,
    force: bool = False,
) -> PullResult:
    """Download Epoch's files into the cache (``dest``, default :func:`cache_dir`).

    ``base_url`` replaces ``https://epoch.ai/data`` (files come from ``{base_url}/{name}``);
    ``files`` picks a subset of :data:`DEFAULT_SOURCES`; ``timeout_s`` bounds each socket
    operation and ``deadline_s`` the whole pull; ``max_bytes`` bounds each file (at most
    :data:`~flopcast.datasets.reader.MAX_FILE_BYTES`, the largest file flopcast reads);
    ``force`` accepts a file with more than :data:`MAX_SHRINK` fewer rows than the cached copy;
    ``progress(name, bytes_done, bytes_total_or_None)`` is called as data arrives. Returns a
    :class:`PullResult` when every file succeeded; otherwise raises :class:`DownloadError` after
    trying them all (successes are kept, see ``exc.result``).
    """
    if not (isinstance(timeout_s, (int, float)) and math.isfinite(timeout_s) and timeout_s > 0):
        raise InvalidInputError(f"timeout {timeout_s!r} must be a positive number of seconds")
    if not (isinstance(deadline_s, (int, float)) and math.isfinite(deadline_s) and deadline_s > 0):
        raise InvalidInputError(f"deadline {deadline_s!r} must be a positive number of seconds")
    if not (isinstance(max_bytes, int) and max_bytes > 0):
        raise InvalidInputError(f"max_bytes {max_bytes!r} must be a positive integer")
    if max_bytes > reader.MAX_FILE_BYTES:
        raise InvalidInputError(
            f"max_bytes {max_bytes:,} is over {reader.MAX_FILE_BYTES:,}, the largest file flopcast reads"
        )
    sources = _sources(base_url, files)
    folder = Path(dest) if dest is not None else cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache folder {folder}: {exc}") from None

    result = PullResult(dest=folder)
    unrecorded = False
    with _locked(folder):
        _recover(folder)
        deadline = _Deadline(_clock() + deadline_s, float(deadline_s))
        for name, url in sources.items():
            try:
                entry = _pull_one(
                    name,
                    url,
                    folder,
                    timeout_s=timeout_s,
                    max_bytes=max_bytes,
                    progress=progress,
                    deadline=deadline,
                    force=force,
                )
            except (_Rejected, _Unrecorded) as exc:
                unrecorded = unrecorded or isinstance(exc, _Unrecorded)
                result.failed.append(PullFailure(name, url, str(exc)))
                continue
            except (OSError, http.client.HTTPException) as exc:  # URLError/HTTPError are OSErrors
                result.failed.append(PullFailure(name, url, _describe_network_error(exc, timeout_s)))
                continue
            result.fetched.append(_entry_to_cached(folder, name, entry))

    if result.failed:
        parts = "; ".join(f"{f.name} from {f.url}: {f.reason}" for f in result.failed)
        n, total = len(result.failed), len(sources)
        kept = f", {len(result.fetched)} fetched" if result.fetched else ""
        tail = "" if unrecorded else "; previously cached copies were kept"
        raise DownloadError(
            f"could not pull {n} of {total} file(s){kept}: {parts}{tail}",
            failures=list(result.failed),
            result=result,
        )
    return result
