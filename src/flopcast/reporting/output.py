"""Writing results: atomic file writes, CSV and JSON renderings of batch results."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from flopcast.errors import InvalidInputError

if TYPE_CHECKING:
    from flopcast.pipeline import BatchResult

CSV_FIELDS = (
    "model",
    "key",
    "publication_date",
    "organization",
    "domain",
    "is_finetune",
    "hardware",
    "training_compute_flop",
    "training_compute_flop_p5",
    "training_compute_flop_p95",
    "compute_source",
    "chip_hours",
    "chip_hours_p5",
    "chip_hours_p95",
)


def atomic_write(path: str | Path, write: Callable[[IO[Any]], object], *, binary: bool = False) -> Path:
    """Call ``write(fh)`` on a temporary file in ``path``'s folder, then rename it into place.

    A failure leaves any existing file untouched and no partial file behind. The file gets
    the usual permissions (0666 less the umask), not mkstemp's owner-only ones.
    """
    p = Path(path)
    if p.is_dir():
        raise InvalidInputError(f"output path {str(p)!r} is a folder; give a file name")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInputError(f"output path {str(p)!r}: folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=".tmp")
    try:
        fh: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        with fh:
            write(fh)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda fh: fh.write(text))


def batch_csv(result: BatchResult) -> str:
    fields = list(CSV_FIELDS)
    for m in result.methods:
        fields += [f"cost_{m}_usd", f"cost_{m}_usd_p5", f"cost_{m}_usd_p95"]
    fields += ["imputed_inputs", "notes"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in result.rows():
        w.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in fields})
    return buf.getvalue()


def batch_json(result: BatchResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False, default=str)
