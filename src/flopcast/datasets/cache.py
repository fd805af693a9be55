"""The local cache of Epoch's files: where it is, what its manifest records, and how a new file
and its manifest entry replace the old ones as one unit.

A new file is committed in steps that each leave a cache that reads consistently: a journal
``.NAME.pending.json`` (the checked temporary file and its new manifest entry) is written
atomically, the file is renamed into place with :func:`os.replace`, the manifest is rewritten
atomically, and the journal is removed. :func:`status` takes a pending entry from its journal
once the file's sha256 matches; the next pull completes or rolls back any pending commit, then
removes debris of killed pulls. Downloading is :mod:`flopcast.datasets.pull`.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flopcast.errors import CatalogError, InvalidInputError

if TYPE_CHECKING:
    from flopcast.datasets.pull import PullFailure, PullResult

CACHE_ENV = "FLOPCAST_CACHE_DIR"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1

#: file name -> public download address
DEFAULT_SOURCES: dict[str, str] = {
    "all_ai_models.csv": "https://epoch.ai/data/all_ai_models.csv",
    "notable_ai_models.csv": "https://epoch.ai/data/notable_ai_models.csv",
    "ml_hardware.csv": "https://epoch.ai/data/ml_hardware.csv",
}

_PREFERRED = {
    "models": ("all_ai_models.csv", "notable_ai_models.csv"),
    "hardware": ("ml_hardware.csv",),
}

JOURNAL_SUFFIX = ".pending.json"


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


# ----------------------------------------------------------------------------- paths


def cache_dir() -> Path:
    """Where pulled files live: $FLOPCAST_CACHE_DIR, else the user cache folder + ``/epoch``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from flopcast.paths import user_cache_dir

    return Path(user_cache_dir()) / "epoch"


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
    import tempfile  # here, not at the top: a command that only reads the cache does not need it

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
    """The files the manifest records (known names first, in DEFAULT_SOURCES order); [] when nothing is cached.

    A commit that a crash interrupted after its file was renamed into place counts as done: its
    entry comes from the journal (the next pull writes it into the manifest). Nothing is written.
    """
    folder = Path(dest) if dest is not None else cache_dir()
    files = _read_manifest(folder, strict=True)["files"]
    for state, name, entry, _ in _journals(folder):
        if state == "renamed":
            files[name] = entry
    order = {n: i for i, n in enumerate(DEFAULT_SOURCES)}
    names = sorted(files, key=lambda n: (order.get(n, len(order)), n))
    return [_entry_to_cached(folder, n, files[n]) for n in names]


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every platform can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sha256_of(path: Path) -> str:
    import hashlib  # here, not at the top: a command that only reads the cache does not need it

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _journals(folder: Path) -> list[tuple[str, str, dict, Path]]:
    """Each commit journal in ``folder``: (state, file name, new manifest entry, journal path).

    state: ``"renamed"`` (the new file is in place: its sha256 is the entry's), ``"pending"``
    (its temporary file is still there: nothing was replaced), or ``"void"`` (unreadable, or
    neither: nothing to complete).
    """
    out: list[tuple[str, str, dict, Path]] = []
    try:
        paths = sorted(folder.glob(f".*{JOURNAL_SUFFIX}"))
    except OSError:
        return out
    for path in paths:
        name = path.name[1 : -len(JOURNAL_SUFFIX)]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            part, entry = data["part"], data["entry"]
            ok = (
                name in DEFAULT_SOURCES
                and data.get("name") == name
                and isinstance(part, str)
                and Path(part).name == part
                and part.startswith(f".{name}.")
                and part.endswith(".part")
                and isinstance(entry, dict)
                and isinstance(entry.get("sha256"), str)
            )
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            out.append(("void", name, {}, path))
            continue
        state = "void"
        if (folder / part).exists():
            state = "pending"
        else:
            target = folder / name
            try:
                if target.is_file() and _sha256_of(target) == entry["sha256"]:
                    state = "renamed"
            except OSError:
                pass
        out.append((state, name, entry, path))
    return out


def _is_debris(name: str) -> bool:
    """A temporary file that a pull writes (``.NAME.XXXX.part``, ``.manifest.json.XXXX.tmp``, a journal's)."""
    if not (name.startswith(".") and name.endswith((".part", ".tmp"))):
        return False
    bare = name.lstrip(".")  # a journal's temporary file is ``..NAME.pending.json.XXXX.tmp``
    return any(bare.startswith(f"{known}.") for known in (*DEFAULT_SOURCES, MANIFEST))


def _recover(folder: Path) -> None:
    """Complete or roll back the commits a crash interrupted, then remove the debris of killed pulls.

    Runs at the start of a pull, under the folder's lock (no other pull is writing)."""
    try:
        for state, name, entry, journal in _journals(folder):
            if state == "renamed":  # the file is in place: write its manifest entry
                _record(folder, name, entry)
            _unlink(journal)  # before the rename (the temporary file goes below) or nothing to do
        for p in folder.iterdir():
            if _is_debris(p.name) and p.is_file():
                _unlink(p)
    except OSError as exc:
        raise DownloadError(f"cannot repair the cache folder {folder}: {exc}") from None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the cache folder: one pull at a time writes to it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock on this platform: unlocked
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - a folder that cannot be opened: unlocked
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DownloadError(
                f"another `flopcast data pull` is writing to the cache folder {folder}; try again when it has finished"
            ) from None
        except OSError:  # pragma: no cover - a file system without locks
            pass
        yield
    finally:
        os.close(fd)


def _record(folder: Path, name: str, entry: dict) -> None:
    """Write ``entry`` into the manifest (atomically): the step after a file is renamed into place."""
    manifest = _read_manifest(folder, strict=False)
    manifest["version"] = MANIFEST_VERSION
    manifest["files"][name] = entry
    _write_json_atomic(folder / MANIFEST, manifest)


class _Unrecorded(Exception):
    """Internal: the new file is in place but the manifest could not be written (the journal stays)."""


def _commit(folder: Path, name: str, tmp_path: Path, entry: dict) -> None:
    """Replace ``name`` by the checked file ``tmp_path`` and record ``entry``, as one unit (see the module)."""
    journal = folder / f".{name}{JOURNAL_SUFFIX}"
    _write_json_atomic(journal, {"name": name, "part": tmp_path.name, "entry": entry})
    try:
        os.replace(tmp_path, folder / name)
    except BaseException:
        _unlink(journal)
        raise
    _fsync_dir(folder)
    try:
        _record(folder, name, entry)
    except OSError as exc:
        raise _Unrecorded(
            f"the new copy is in place but {MANIFEST} could not be written ({exc}); the next pull records it"
        ) from None
    _unlink(journal)


def _unlink(path: str | os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
