"""Writing results: the one writer of every file flopcast makes, and the CSV and JSON renderings.

Every output (``costs --out``, ``report --out``, ``trend --plot``, ``diffusion --plot``, ...) goes through
:func:`write_output`, which follows these rules (docs/cli.md, "Output files"):

- ``-`` is standard output.
- A path that is, or links to, this process's standard output or error or another of its descriptors
  (``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``), a character or block device, a FIFO or a socket is
  written directly: it is never replaced by a regular file.
- Anything else is a regular file, written atomically: the bytes go to a temporary file in the same folder,
  which is then renamed into place. Symlinks are resolved first (a link to a file stays a link, and its
  target is replaced). On any failure the old file is untouched and no partial file is left behind.
- A path that cannot be written (a folder, a folder that does not exist, a file where a folder should be, a
  folder that cannot be written in, a full device) is an :class:`~flopcast.errors.InvalidInputError` of one
  line naming the path and the reason.

CSV cells that a spreadsheet would run as a formula are neutralised (:func:`csv_cell`), and JSON refuses
infinity and NaN with the path of the offending field (:func:`to_json`).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from flopcast.errors import InvalidInputError

if TYPE_CHECKING:
    from flopcast.pipeline import BatchResult, BatchStream, TrainingEstimate

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

#: the path that means standard output
STDOUT = "-"

_STD_STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2}
_MAX_LINKS = 40


@dataclass(frozen=True)
class OutputTarget:
    """Where an output goes: ``kind`` is ``"file"`` (written atomically to ``path``, symlinks resolved),
    ``"stream"`` (this process's descriptor ``fd``: ``-``, ``/dev/stdout``, ``/dev/fd/N``) or ``"device"``
    (a character or block device, FIFO or socket, written directly)."""

    given: str
    kind: str
    path: Path
    fd: int | None = None
    label: str = "output path"

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    @property
    def is_stdout(self) -> bool:
        return self.kind == "stream" and self.fd == 1


def name_path(label: str, given: str) -> str:
    """How a message names a path: ``--out='x.csv'`` for an option, ``output path 'x.csv'`` otherwise."""
    return f"{label}={given!r}" if label.startswith("-") else f"{label} {given!r}"


def _reason(exc: OSError) -> str:
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


def _descriptor(given: str) -> int | None:
    """The descriptor number when ``given`` is, or links to, one of this process's descriptors."""
    own = re.compile(rf"/(?:dev/fd|proc/(?:self|thread-self|{os.getpid()})/fd)/(\d+)")
    p = os.path.abspath(given)
    for _ in range(_MAX_LINKS):
        if p in _STD_STREAMS:
            return _STD_STREAMS[p]
        m = own.fullmatch(p)
        if m:
            return int(m.group(1))
        try:
            link = os.readlink(p)
        except (OSError, ValueError):
            return None
        p = os.path.normpath(os.path.join(os.path.dirname(p), link))
    return None


def _file_in_the_way(given: str) -> str:
    """The first ancestor of ``given`` that is not a folder (the cause of ENOTDIR)."""
    for parent in reversed(Path(given).parents):
        if parent.exists() and not parent.is_dir():
            return str(parent)
    return os.path.dirname(given) or "."


def output_target(path: str | os.PathLike[str], *, label: str = "output path", probe: bool = False) -> OutputTarget:
    """Decide where ``path`` goes (see the module's rules) and check that it can be written.

    With ``probe``, a regular file's folder is also tried by creating (and removing) an empty temporary
    file: commands call this before the work, so that a folder that cannot be written in fails at once.
    """
    given = os.fspath(path)
    if given == STDOUT:
        return OutputTarget(given, "stream", Path(given), 1, label)
    where = name_path(label, given)
    if not given.strip():
        raise InvalidInputError(f"{where} is empty; give a file name, or - for standard output")
    if "\0" in given:
        raise InvalidInputError(f"{where} holds a NUL character; give a file name")
    fd = _descriptor(given)
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError:
            raise InvalidInputError(f"{where}: descriptor {fd} of this process is not open") from None
        return OutputTarget(given, "stream", Path(given), fd, label)
    try:
        st: os.stat_result | None = os.stat(given)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise InvalidInputError(f"{where}: {_file_in_the_way(given)!r} is a file, not a folder") from None
    except OSError as exc:
        raise InvalidInputError(f"{where}: cannot use it ({_reason(exc)})") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InvalidInputError(f"{where} is a folder; give a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not os.access(given, os.W_OK):
            raise InvalidInputError(f"{where}: cannot write to it (permission denied)")
        return OutputTarget(given, "device", Path(given), None, label)
    real = Path(os.path.realpath(given))
    folder = _shown_folder(given, real)
    if not real.parent.is_dir():
        if real.parent.exists():
            raise InvalidInputError(f"{where}: {folder!r} is a file, not a folder")
        raise InvalidInputError(f"{where}: folder {folder!r} does not exist")
    target = OutputTarget(given, "file", real, None, label)
    if probe:
        check_writable(target)
    return target


def check_writable(target: OutputTarget) -> None:
    """For a regular file, create (and remove) an empty temporary file in its folder: a folder that
    cannot be written in fails now, with one line, rather than after the work."""
    if target.is_file:
        fd, tmp = _temporary(target)
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)


def _shown_folder(given: str, real: Path) -> str:
    """The folder to name in a message: the one the user wrote, or the link target's."""
    return str(real.parent) if os.path.islink(given) else (os.path.dirname(given) or ".")


def _temporary(target: OutputTarget) -> tuple[int, str]:
    """A new temporary file beside ``target.path``: (descriptor, name), or a one-line error."""
    try:
        fd, tmp = tempfile.mkstemp(dir=target.path.parent, prefix=f".{target.path.name}.", suffix=".tmp")
    except OSError as exc:
        folder = _shown_folder(target.given, target.path)
        reason = _reason(exc)
        if exc.errno == errno.ENOENT and target.path.parent.is_dir():  # /proc, /sys: the folder takes no new files
            reason = f"the folder takes no new files: {reason}"
        raise InvalidInputError(
            f"{name_path(target.label, target.given)}: cannot create a file in folder {folder!r} ({reason})"
        ) from None
    return fd, tmp


def write_output(path: str | os.PathLike[str], content: str | bytes, *, label: str = "output path") -> OutputTarget:
    """Write ``content`` (text is UTF-8) to ``path`` by the module's rules; returns where it went.

    ``label`` names the path in messages (``--out``, ``--plot``; default ``output path``).
    """
    return write_pieces(path, (content,), label=label)


def write_pieces(
    path: str | os.PathLike[str], pieces: Iterable[str | bytes], *, label: str = "output path"
) -> OutputTarget:
    """Write each of ``pieces`` (text is UTF-8) to ``path`` as it comes, by the module's rules.

    A regular file is still replaced atomically: the pieces go to the temporary file, which is renamed into
    place after the last one, so a failure (of the writing, or an error raised by ``pieces`` itself, which
    propagates unchanged) leaves the old file untouched and no partial file behind. Nothing is held but
    the piece being written: a stream of rows is written in memory flat in the number of rows.
    """
    target = output_target(path, label=label)
    where = name_path(label, target.given)

    def guarded(write: Callable[[], object]) -> None:
        try:
            write()
        except BrokenPipeError:
            if target.is_stdout:
                raise  # the reader of standard output went away (`| head`): click ends quietly, status 1
            raise InvalidInputError(f"{where}: cannot write to it (broken pipe)") from None
        except OSError as exc:
            raise InvalidInputError(f"{where}: cannot write to it ({_reason(exc)})") from None

    def utf8(piece: str | bytes) -> bytes:
        return piece.encode("utf-8") if isinstance(piece, str) else bytes(piece)

    if target.kind == "file":
        fd, tmp = _temporary(target)
        try:
            with os.fdopen(fd, "wb") as fh:
                for piece in pieces:
                    data = utf8(piece)
                    guarded(lambda: fh.write(data))  # noqa: B023 (called at once)
                guarded(fh.flush)
            guarded(lambda: _finish(target, tmp))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    elif target.kind == "stream" and target.fd in (1, 2):
        std = sys.stdout if target.fd == 1 else sys.stderr
        for piece in pieces:
            guarded(lambda: _write_stream(std, piece))  # noqa: B023 (called at once)
    elif target.kind == "stream":
        assert target.fd is not None
        for piece in pieces:
            data = utf8(piece)
            guarded(lambda: _write_fd(target.fd, data))  # type: ignore[arg-type]  # noqa: B023
    else:
        handle: list[IO[bytes]] = []
        try:
            # no O_CREAT: never makes a file in the device's place
            guarded(lambda: handle.append(os.fdopen(os.open(target.path, os.O_WRONLY), "wb")))
            for piece in pieces:
                data = utf8(piece)
                guarded(lambda: handle[0].write(data))  # noqa: B023
            guarded(handle[0].flush)
        finally:
            for dev in handle:
                with contextlib.suppress(OSError):
                    dev.close()
    return target


def _finish(target: OutputTarget, tmp: str) -> None:
    """Give the finished temporary file its permissions and rename it into ``target``'s place."""
    try:
        mode = stat.S_IMODE(os.stat(target.path).st_mode)  # replacing a file keeps its permissions
    except OSError:
        mode = 0o666 & ~_umask()  # a new file: the usual permissions, not mkstemp's owner-only ones
    os.chmod(tmp, mode)
    os.replace(tmp, target.path)


def _write_stream(stream: IO[str], content: str | bytes) -> None:
    if isinstance(content, str):
        stream.write(content)
        stream.flush()
        return
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(content)
        buffer.flush()
    else:  # a text-only stream (a test's capture): SVG is text, PNG is not
        stream.write(content.decode("utf-8", errors="replace"))
        stream.flush()


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(
    path: str | Path, write: Callable[[IO[Any]], object], *, binary: bool = False, label: str = "output path"
) -> Path:
    """Call ``write(fh)`` on an in-memory file, then write what it wrote with :func:`write_output`.

    A failure in ``write`` leaves ``path`` untouched; a regular file is replaced atomically.
    """
    buf: io.BytesIO | io.StringIO = io.BytesIO() if binary else io.StringIO()
    write(buf)
    write_output(path, buf.getvalue(), label=label)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, *, label: str = "output path") -> Path:
    """Write ``text`` to ``path`` (see :func:`write_output`)."""
    write_output(path, text, label=label)
    return Path(path)


# -- CSV -------------------------------------------------------------------------------------------

#: a text cell starting with one of these is run as a formula by spreadsheets (OWASP, "CSV Injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows and does not run.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
    (``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``), unless it is a plain decimal number such as
    ``-5`` or ``-1.2e3``; a carriage return in text becomes a line feed. Numbers (``-5.0`` as a float)
    are never altered; ``None`` is an empty cell.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        value = "'" + value
    # a carriage return is not quoted by a writer whose line end is \n, and a spreadsheet starts a new
    # row at it: written as \n, the cell is quoted and stays one cell
    return value.replace("\r\n", "\n").replace("\r", "\n")


@lru_cache(maxsize=8)
def csv_fields(methods: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of ``costs --format csv`` for these cost methods."""
    from flopcast.pipeline.results import POWER_COLUMNS

    fields = list(CSV_FIELDS)
    for m in methods:
        fields += [f"cost_{m}_usd", f"cost_{m}_usd_p5", f"cost_{m}_usd_p95"]
    for k in POWER_COLUMNS:
        fields += [k, f"{k}_p5", f"{k}_p95"]
    fields += ["reported_power_w", "imputed_inputs", "notes"]
    return tuple(fields)


def _csv_line(row: dict, fields: Sequence[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([csv_cell(row.get(k)) for k in fields])
    return buf.getvalue()


def batch_csv(result: BatchResult) -> str:
    fields = csv_fields(tuple(result.methods))
    return ",".join(fields) + "\n" + "".join(_csv_line(row, fields) for row in result.rows())


def csv_line(estimate: TrainingEstimate, methods: tuple[str, ...]) -> str:
    """One model's line of ``costs --format csv`` (a form of :func:`flopcast.service.cost_stream`)."""
    from flopcast.pipeline.results import flat_row

    return _csv_line(flat_row(estimate, methods), csv_fields(tuple(methods)))


def batch_csv_pieces(stream: BatchStream[str]) -> Iterator[str]:
    """:func:`batch_csv` of a stream of :func:`csv_line` (the same bytes), one chunk of lines at a time."""
    yield ",".join(csv_fields(tuple(stream.methods))) + "\n"
    for lines in stream.chunks():
        yield "".join(lines)


# -- JSON ------------------------------------------------------------------------------------------


def to_json(obj: object, *, default: Callable[[Any], Any] | None = None, indent: int | None = 2) -> str:
    """``obj`` as JSON. Infinity and NaN are not JSON: a result holding one is a one-line error naming
    the field (``cost_usd.cloud.p95``), never a traceback and never a non-standard ``Infinity``."""
    try:
        return json.dumps(obj, indent=indent, default=default, allow_nan=False)
    except ValueError:
        found = nonfinite_field(obj, default)
        if found is None:
            raise
        raise _nonfinite_error(*found) from None


def _nonfinite_error(where: str, value: float) -> InvalidInputError:
    return InvalidInputError(
        f"the result holds a non-finite number at {where or '(the whole result)'}; it is {value}, which "
        "JSON cannot hold: check that the inputs are within a realistic range"
    )


def nonfinite_field(obj: object, default: Callable[[Any], Any] | None = None) -> tuple[str, float] | None:
    """The path (``a.b[2].c``) and value of the first infinity or NaN in ``obj`` as JSON would see it
    (objects converted by ``default``, as :func:`json.dumps` converts them), or None."""
    seen: set[int] = set()

    def walk(o: object, path: str) -> tuple[str, float] | None:
        if isinstance(o, float):
            return None if math.isfinite(o) else (path, float(o))
        if o is None or isinstance(o, (str, int)):
            return None
        if id(o) in seen:  # a circular reference: json.dumps reports it itself
            return None
        seen.add(id(o))
        if isinstance(o, dict):
            items: list[tuple[str, object]] = [(f"{path}.{k}" if path else str(k), v) for k, v in o.items()]
        elif isinstance(o, (list, tuple)):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(o)]
        else:
            if default is None:
                return None
            try:
                converted = default(o)
            except Exception:
                return None
            items = [(path, converted)]
        for p, v in items:
            found = walk(v, p)
            if found is not None:
                return found
        return None

    return walk(obj, "")


def batch_json(result: BatchResult) -> str:
    return to_json(result.to_dict(), default=str)


@dataclass(frozen=True)
class NonFinite:
    """A model whose JSON would hold an infinity or NaN: where (inside the model) and what."""

    where: str
    value: float


def json_model(estimate: TrainingEstimate, methods: tuple[str, ...]) -> str | NonFinite:
    """One model of ``costs --format json``, as :func:`batch_json` indents it inside ``models`` (a form of
    :func:`flopcast.service.cost_stream`); :class:`NonFinite` where JSON cannot hold it."""
    obj = estimate.to_dict(inputs=False)
    try:
        text = json.dumps(obj, indent=2, default=str, allow_nan=False)
    except ValueError:
        found = nonfinite_field(obj, str)
        if found is None:
            raise
        return NonFinite(*found)
    return text.replace("\n", "\n    ")  # a newline in JSON text is only ever indentation


def batch_json_pieces(stream: BatchStream[str | NonFinite]) -> Iterator[str]:
    """:func:`batch_json` of a stream of :func:`json_model` (the same bytes), one chunk of models at a time."""
    head = {
        "source": stream.source,
        "dollars": stream.dollars,
        "samples": stream.samples,
        "seed": stream.seed,
        "sampling": stream.sampling,
        "methods": list(stream.methods),
        "selection": stream.selection,
    }
    yield to_json(head, default=str)[:-2] + ',\n  "models": '
    n = 0
    for models in stream.chunks():
        parts = []
        for text in models:
            if isinstance(text, NonFinite):
                raise _nonfinite_error(f"models[{n}].{text.where}" if text.where else f"models[{n}]", text.value)
            parts.append(("[\n    " if n == 0 else ",\n    ") + text)
            n += 1
        yield "".join(parts)
    skipped = to_json(stream.skipped, default=str).replace("\n", "\n  ")
    yield ("[]" if n == 0 else "\n  ]") + ',\n  "skipped": ' + skipped + "\n}"
