"""Data questions: which database commands use, what the cache holds, pulling Epoch AI's tables
into it, and checking a file cell by cell.

The work is in :mod:`flopcast.datasets` (``pull``, ``source`` and ``epoch``); front-ends only format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flopcast.datasets.cache import CachedFile, DownloadError
    from flopcast.datasets.parsing import ParseReport
    from flopcast.datasets.pull import Progress, PullResult
    from flopcast.datasets.source import DataSource, EmbeddedManifest


@dataclass(frozen=True)
class DataStatus:
    """What ``flopcast data status`` shows: the database in use, the embedded snapshot and the cache."""

    active: DataSource
    embedded: EmbeddedManifest
    cache_dir: Path
    files: list[CachedFile]

    def to_dict(self) -> dict[str, Any]:
        return {
            "active": {
                "kind": self.active.kind,
                "label": self.active.describe(),
                "files": {k: str(p) for k, p in self.active.files},
            },
            "embedded": {
                "snapshot": self.embedded.snapshot,
                "data_date": self.embedded.data_date,
                "urls": self.embedded.urls,
            },
            "cache_dir": str(self.cache_dir),
            "files": [f.to_dict() for f in self.files],
        }


def data_status() -> DataStatus:
    """The cache folder and its files, the database commands use by default (``--data`` left out),
    and the embedded snapshot's manifest."""
    from flopcast.datasets.cache import cache_dir, status
    from flopcast.datasets.source import embedded_manifest, resolve_source

    folder = cache_dir()
    files = status()
    active = resolve_source(None)
    return DataStatus(active=active, embedded=embedded_manifest(), cache_dir=folder, files=files)


@dataclass
class DataPull:
    """The outcome of ``flopcast data pull``: what was fetched and what failed, and, when a file
    failed, the :class:`~flopcast.datasets.pull.DownloadError` to raise after reporting the rest."""

    result: PullResult
    error: DownloadError | None = None


def data_pull(
    *,
    base_url: str | None = None,
    files: Iterable[str] | None = None,
    dest: Path | str | None = None,
    timeout_s: float = 60,
    max_bytes: int = 200_000_000,
    progress: Progress | None = None,
    deadline_s: float = 300,
    force: bool = False,
) -> DataPull:
    """Download Epoch AI's files into the cache (:func:`flopcast.datasets.pull.pull`, same arguments
    and defaults).

    Every requested file is tried and each is checked before it replaces the cached copy (a file
    with more than 10% fewer rows than the cached copy only with ``force``); ``deadline_s`` bounds
    the whole pull. A failure that still leaves a partial result comes back as ``DataPull.error``
    alongside that result; one that leaves none (e.g. the cache folder cannot be made) is raised.
    """
    from flopcast.datasets.cache import DownloadError
    from flopcast.datasets.pull import pull

    try:
        result = pull(
            base_url=base_url,
            files=files,
            dest=dest,
            timeout_s=timeout_s,
            max_bytes=max_bytes,
            progress=progress,
            deadline_s=deadline_s,
            force=force,
        )
    except DownloadError as exc:
        if exc.result is None:
            raise
        return DataPull(exc.result, exc)
    return DataPull(result)


def data_check(path: str | Path) -> ParseReport:
    """Which Epoch file ``path`` is (from its header) and every cell of it that does not parse.

    The file is streamed within the limits of :mod:`flopcast.datasets.reader` (size, records);
    a file past one is refused with a one-line error naming the file and the limit."""
    from flopcast.datasets.epoch import check_file

    return check_file(path)


def data_check_all(data: str | None = None) -> list[ParseReport]:
    """:func:`data_check` of every file of the database ``data`` (a folder, "cache", "embedded", or
    None for the one commands use by default)."""
    from flopcast.datasets.epoch import check_file
    from flopcast.datasets.source import resolve_source

    return [check_file(p) for _, p in resolve_source(data).files]
