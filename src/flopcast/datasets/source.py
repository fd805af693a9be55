"""Where the database comes from: ``--data DIR``, the pulled cache, or the embedded snapshot.

flopcast ships Epoch AI's public databases (AI models, ML hardware, hardware prices and a
price index; CC BY 4.0, see ``embedded/README.md``) inside the package, so a fresh install
answers with the whole database. The order is:

1. ``--data DIR``: a folder holding Epoch's CSV files (``data=DIR``);
2. else the user cache that ``flopcast data pull`` fills, when it is newer than the
   embedded snapshot (``data="cache"`` asks for it explicitly);
3. else the embedded snapshot (``data="embedded"`` asks for it explicitly).

A folder or cache that lacks one of the four files takes that file from the embedded
snapshot, and says so. Every result names its source and the data's own date: the newest
"Last modified" of the models table, or the time of the pull.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from flopcast.errors import CatalogError, InvalidInputError

#: the file kinds a database is made of
KINDS = ("models", "hardware", "prices", "price_index")
EMBEDDED_PACKAGE = "flopcast.datasets.embedded"
#: ``data`` values that are not folders
SPECIAL = ("embedded", "cache")


@dataclass(frozen=True)
class DataSource:
    """Where each file of a database comes from, and how to describe it."""

    kind: str  # "data-dir" | "cache" | "embedded"
    label: str
    files: tuple[tuple[str, Path], ...]
    #: the data's own date when known before reading (embedded snapshot, cache pull time)
    data_date: str = ""
    #: kinds taken from the embedded snapshot because the folder or cache lacks them
    filled_in: tuple[str, ...] = ()

    def path(self, kind: str) -> Path | None:
        return dict(self.files).get(kind)

    @property
    def models_path(self) -> Path:
        p = self.path("models")
        assert p is not None  # every source has a models table
        return p

    def describe(self, data_date: str | None = None) -> str:
        date = data_date or self.data_date
        s = self.label + (f" (data of {date})" if date else "")
        if self.filled_in:
            s += f"; {', '.join(self.filled_in)} from the embedded snapshot"
        return s

    def fingerprint(self) -> tuple:
        """Identifies the files' current contents (path, size, modification time) for caching."""
        out = []
        for kind, p in self.files:
            try:
                st = p.stat()
                out.append((kind, str(p), st.st_size, st.st_mtime_ns))
            except OSError:
                out.append((kind, str(p), -1, -1))
        return tuple(out)


@dataclass(frozen=True)
class EmbeddedManifest:
    data_date: str
    snapshot: str
    urls: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def embedded_dir() -> Path:
    """The folder of the embedded snapshot inside the installed package."""
    here = Path(__file__).parent / "embedded"
    if (here / "manifest.json").is_file():  # an installed or editable package (importlib.resources costs ~3 ms)
        return here
    from importlib import resources

    return Path(str(resources.files(EMBEDDED_PACKAGE)))


@lru_cache(maxsize=1)
def embedded_manifest() -> EmbeddedManifest:
    raw = json.loads((embedded_dir() / "manifest.json").read_text(encoding="utf-8"))
    return EmbeddedManifest(raw["data_date"], raw["snapshot"], dict(raw.get("urls", {})), dict(raw["files"]))


def embedded_files() -> dict[str, Path]:
    folder = embedded_dir()
    return {kind: folder / name for kind, name in embedded_manifest().files.items()}


def _embedded() -> DataSource:
    man = embedded_manifest()
    return DataSource(
        "embedded",
        f"Epoch AI database, embedded snapshot of {man.snapshot}",
        tuple(embedded_files().items()),
        man.data_date,
    )


def _first(folder: Path, names: Iterable[str]) -> Path | None:
    for n in names:
        for candidate in (folder / n, folder / f"{n}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _with_fallback(kind: str, label: str, found: Mapping[str, Path | None], data_date: str) -> DataSource:
    embedded = embedded_files()
    files, filled = [], []
    for k in KINDS:
        p = found.get(k)
        if p is None:
            p = embedded[k]
            filled.append(k)
        files.append((k, p))
    return DataSource(kind, label, tuple(files), data_date, tuple(filled))


def _folder_source(folder: Path) -> DataSource:
    from flopcast.datasets import schema

    if not folder.is_dir():
        raise CatalogError(
            f"--data {str(folder)!r} is not a folder; give the folder that holds Epoch's CSV files, "
            f"or one of {', '.join(SPECIAL)}"
        )
    found = {k.name: _first(folder, k.filenames) for k in schema.KINDS}
    if found["models"] is None:
        raise CatalogError(
            f"--data {str(folder)!r} holds none of {', '.join(schema.MODELS.filenames)}; "
            "it needs Epoch's AI models table"
        )
    return _with_fallback("data-dir", f"Epoch AI database in {folder}", found, "")


def _cache_source(required: bool) -> DataSource | None:
    from flopcast.datasets import cache

    try:
        entries = {e.kind: e for e in cache.status() if e.exists}
    except CatalogError:
        if required:
            raise
        entries = {}
    if "models" not in entries:
        if required:
            raise InvalidInputError(
                "--data cache: nothing is cached; run `flopcast data pull`, or leave --data out "
                "to use the embedded snapshot"
            )
        return None
    m = entries["models"]
    found = {k: Path(e.path) for k, e in entries.items()}
    return _with_fallback(
        "cache", f"Epoch AI database pulled into {Path(m.path).parent}", found, str(m.fetched_at)[:10]
    )


def resolve_source(data: str | Path | None = None) -> DataSource:
    """The database to use: a folder, ``"cache"``, ``"embedded"``, or None for the default order."""
    if data is None:
        emb = _embedded()
        cached = _cache_source(required=False)
        if cached is not None and cached.data_date > emb.data_date:
            return cached
        return emb
    if isinstance(data, str) and data == "embedded":
        return _embedded()
    if isinstance(data, str) and data == "cache":
        src = _cache_source(required=True)
        assert src is not None
        return src
    return _folder_source(Path(data))
