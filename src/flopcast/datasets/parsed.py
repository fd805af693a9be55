"""The parsed database kept on disk, so that a fresh process does not parse Epoch's CSVs again.

Reading the embedded snapshot (four CSV files, the curated overlay, the chip catalog) takes a
few hundred milliseconds; loading the same :class:`~flopcast.datasets.database.Database` from
this cache takes about fifteen (records and chips are unpacked as they are used). One file per
source (the embedded snapshot, the pulled cache, each ``--data`` folder), in
``$FLOPCAST_DB_CACHE``, else ``$FLOPCAST_CACHE_DIR/database``, else the user cache folder
(``platformdirs.user_cache_dir("flopcast")/database``).
``FLOPCAST_DB_CACHE=off`` turns the cache off (every process reads the CSVs).

A file is used only when its header says it was made from exactly the same inputs:

* the source's files (kind, path, size and modification time: ``DataSource.fingerprint``) and
  its description (label, data date, the kinds filled in from the embedded snapshot);
* flopcast's version, Python's version and this format's version;
* the size and modification time of every source file of the modules that build the database
  (``flopcast.datasets``, ``flopcast.catalogs``, the foundation modules) and of the modules whose
  classes the file holds, and of every file of the curated catalogs (``catalogs/data``), so that
  editing the code or a curated row rebuilds it.

Anything else (another key, a short, damaged or foreign file, one that does not hold a
Database) is ignored and the database is read from the CSVs and written again.

**Why loading a pickle here is acceptable.** Unpickling runs whatever the file says, so it
must never read a file someone else can write. This one is read only from the user's own cache
folder, only when the file is owned by the user running flopcast and writable by no one else
(group and others), and only after its header (a fixed magic line, then the key above) matches
what this process would write. Whoever can write a file with the user's ownership in the user's
cache folder can already run code as the user (their shell's start-up files, the virtual
environment flopcast runs from), so the cache grants nothing new. Files are written atomically
(a temporary file in the same folder, then :func:`os.replace`), with mode 0600.

The file is ``MAGIC``, the header's length (4 bytes, little-endian), the header (JSON), then a
pickle (protocol 5) of the Database, its hardware imputer and name index included. The records and
the chip catalog's rows are pickled one by one and unpickled when first used
(``database._PackedRecords``, ``hardware._PackedRows``): an estimate reads one or two of the
1,900 records and of the 5,800 chips, so loading costs about what the indexes and the price
book cost, not what every row would; a batch unpacks them all once.
"""

from __future__ import annotations

import contextlib
import gc
import json
import mmap
import os
import pickle
import stat
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flopcast.datasets.database import Database
    from flopcast.datasets.source import DataSource

#: the environment variable: a folder, or ``off`` (also ``0``, ``no``, ``false``) for no cache
DB_CACHE_ENV = "FLOPCAST_DB_CACHE"
MAGIC = b"flopcast parsed database\n"
#: the layout of the file and of its header; a change rebuilds every cached file
FORMAT = 1
#: files kept per folder (one per source); the least recently written go first
MAX_FILES = 8
_SUFFIX = ".pickle"
_OFF = ("off", "0", "no", "false")
#: modules whose source files are part of the key (besides those the pickle names)
_STAMPED_PACKAGES = ("flopcast.datasets", "flopcast.catalogs")
_FOUNDATION = ("dates", "defaults", "errors", "formatting", "limits", "quantities", "units")


def folder() -> Path | None:
    """Where parsed databases are kept, or None when the cache is off."""
    env = os.environ.get(DB_CACHE_ENV)
    if env is not None and env.strip().lower() in _OFF:
        return None
    if env:
        return Path(env).expanduser()
    from flopcast.datasets.cache import CACHE_ENV
    from flopcast.paths import user_cache_dir

    base = os.environ.get(CACHE_ENV)
    if base:
        return Path(base).expanduser() / "database"
    return Path(user_cache_dir()) / "database"


def path_for(source: DataSource, where: Path) -> Path:
    """The file that holds ``source``'s database: one per source, named by a checksum of its paths (two sources
    that share a name take turns: the header's key tells them apart)."""
    ident = json.dumps([source.kind, [[k, str(p)] for k, p in source.files]]).encode()
    return where / f"{source.kind}-{zlib.crc32(ident):08x}{len(ident):04x}{_SUFFIX}"


def _stat(path: str) -> list[object]:
    try:
        st = os.stat(path)
    except OSError:
        return [path, -1, -1]
    return [path, st.st_size, st.st_mtime_ns]


def _package_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _curated_files() -> list[str]:
    data = _package_root() / "catalogs" / "data"
    try:
        return sorted(str(p) for p in data.iterdir() if p.is_file())
    except OSError:
        return []


def _module_files(extra: set[str]) -> list[str]:
    """The source files of the modules that build the database, and of the modules named in ``extra``."""
    out = set()
    for name, mod in list(sys.modules.items()):
        if not name.startswith("flopcast"):
            continue
        top = name.split(".")[1] if "." in name else ""
        if name.startswith(_STAMPED_PACKAGES) or top in _FOUNDATION or name in extra:
            f = getattr(mod, "__file__", None)
            if f:
                out.add(f)
    return sorted(out)


def _versions(modules: set[str]) -> dict[str, str]:
    """The versions of the packages outside flopcast whose classes the pickle holds (numpy...)."""
    out = {}
    for top in sorted({m.split(".")[0] for m in modules} - {"flopcast", "builtins", "datetime", "pathlib"}):
        out[top] = _version_of(top)
    return out


def _version_of(top: str) -> str:
    import importlib

    return str(getattr(importlib.import_module(top), "__version__", ""))


def _key(source: DataSource) -> dict[str, object]:
    """What the file depends on, except the code stamp (stored in the header, checked on reading)."""
    from flopcast import __version__

    return {
        "format": FORMAT,
        "flopcast": __version__,
        "python": sys.version,
        "source": [source.kind, source.label, source.data_date, list(source.filled_in)],
        "files": [list(x) for x in source.fingerprint()],
    }


def _pickled_modules(payload: bytes) -> set[str]:
    """The modules whose classes or functions the pickle names (found by loading it once, when it is written)."""
    import io

    mods: set[str] = set()

    class _Names(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            mods.add(module)
            return super().find_class(module, name)

    _Names(io.BytesIO(payload)).load()
    return mods


def _safe_to_read(fd: int) -> bool:
    """The open file is a regular file owned by this user and writable by no one else (POSIX)."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return False
    if os.name != "posix":  # Windows: the user's local app data folder is theirs by its ACL; mode bits say nothing
        return True
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(source: DataSource) -> Database | None:
    """The cached database of ``source``, or None (no cache, no file, or a file made from other inputs)."""
    where = folder()
    if where is None:
        return None
    path = path_for(source, where)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return None
    try:
        with fh:
            if not _safe_to_read(fh.fileno()):
                return None
            # mapped, not read: the unpickler reads the page cache in place (about half the time of a read)
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                db = _from_mapped(mm, source)
    except Exception:  # a damaged or foreign file: read the CSVs instead (and write it again)
        return None
    from flopcast.datasets.database import Database

    if not isinstance(db, Database):
        return None
    db.source = source
    return db


def _from_mapped(mm: mmap.mmap, source: DataSource) -> object:
    """The object the mapped file holds, or None when its header does not match ``source`` and this code."""
    at = len(MAGIC)
    if mm[:at] != MAGIC:
        return None
    n = int.from_bytes(mm[at : at + 4], "little")
    at += 4
    header = json.loads(mm[at : at + n].decode("utf-8"))
    at += n
    if not isinstance(header, dict) or header.get("key") != _key(source):
        return None
    stamp = header.get("stamp")
    if not isinstance(stamp, list) or any(not isinstance(s, list) or _stat(str(s[0])) != s for s in stamp):
        return None
    versions = header.get("versions")
    if not isinstance(versions, dict) or any(_version_of(m) != v for m, v in versions.items()):
        return None
    if len(mm) - at != header.get("bytes"):
        return None
    was_enabled = gc.isenabled()
    gc.disable()  # a pickle of many small objects loads ~20% faster without the collector's passes
    payload = memoryview(mm)[at:]
    try:
        return pickle.loads(payload)
    finally:
        payload.release()
        if was_enabled:
            gc.enable()


def store(source: DataSource, db: Database) -> None:
    """Write ``db`` for ``source`` (atomically); a folder that cannot be written is left alone."""
    where = folder()
    if where is None:
        return
    db.imputer  # noqa: B018 - built once, kept in the file
    for tpu in (False, True):
        db.hardware.median_tdp_w(tpu=tpu)  # likewise
    try:
        payload = pickle.dumps(db, protocol=5)
    except Exception:
        return
    mods = _pickled_modules(payload)
    stamp = [_stat(f) for f in (*_module_files(mods), *_curated_files())]
    header = json.dumps({"key": _key(source), "stamp": stamp, "bytes": len(payload), "versions": _versions(mods)})
    raw = header.encode("utf-8")
    try:
        import tempfile

        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed or removed
            "wb", dir=where, prefix=".", suffix=".tmp", delete=False
        )
    except OSError:
        return
    try:
        with tmp:
            os.chmod(tmp.name, 0o600)
            tmp.write(MAGIC)
            tmp.write(len(raw).to_bytes(4, "little"))
            tmp.write(raw)
            tmp.write(payload)
        os.replace(tmp.name, path_for(source, where))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        return
    _prune(where)


def _prune(where: Path) -> None:
    """Keep the :data:`MAX_FILES` most recently written files."""
    try:
        files = sorted(where.glob(f"*{_SUFFIX}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for p in files[MAX_FILES:]:
            p.unlink()
    except OSError:
        pass
