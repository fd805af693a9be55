"""``flopcast --help`` from a kept copy: a help screen is replayed without importing typer or rich.

A help-only command line (``flopcast``, ``flopcast --help``, ``flopcast data --help``...: no words, or
command words followed by ``--help``; :func:`flopcast.cli.main.main` tells) is
rendered by typer the first time and its exact output kept; later runs with the same key print
the kept text, so they cost a bare interpreter plus a file read (about 2x ``python -c pass``
instead of 20x). The key holds everything the rendering depends on: the command line, the
flopcast version, every package file's size and modification time (an edit or an upgrade makes
a new copy), whether each standard stream is a terminal, the terminal's size and the
environment variables that typer and rich read for width and colour. Copies live in
``$FLOPCAST_HELP_CACHE`` (``off``: never kept), else the user cache folder + ``/help``; each is
written atomically, and one that cannot be read is rendered again.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself costs a help screen ~10 ms; mypy reads this name as true
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, TextIO

HELP_CACHE_ENV = "FLOPCAST_HELP_CACHE"

#: the variables typer (rich_utils, core) and rich (Console) read when they render a help screen
_ENVIRONMENT = (
    "COLUMNS",
    "LINES",
    "TERMINAL_WIDTH",
    "TERM",
    "COLORTERM",
    "NO_COLOR",
    "FORCE_COLOR",
    "PY_COLORS",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "GITHUB_ACTIONS",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "DATABRICKS_RUNTIME_VERSION",
    "TYPER_USE_RICH",
    "_TYPER_FORCE_DISABLE_TERMINAL",
)


def _folder() -> str | None:
    env = os.environ.get(HELP_CACHE_ENV)
    if env == "off":
        return None
    if env:
        return os.path.expanduser(env)
    from flopcast.paths import user_cache_dir

    return os.path.join(user_cache_dir(), "help")


def _package_stamp() -> list[str]:
    """Each file of the installed package with its size and modification time (help texts come from
    the commands' modules and from registries and catalogs across the package)."""
    import flopcast

    root = os.path.dirname(flopcast.__file__)
    out = []
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    if e.name != "__pycache__":
                        stack.append(e.path)
                elif not e.name.endswith((".pyc", ".pyo")):
                    st = e.stat()
                    out.append(f"{e.path[len(root) :]}:{st.st_size}:{st.st_mtime_ns}")
    return sorted(out)


def _terminal() -> list[str]:
    out = []
    for fd in (0, 1, 2):
        try:
            tty = os.isatty(fd)
        except OSError:
            tty = False
        try:
            size = str(tuple(os.get_terminal_size(fd)))
        except OSError:
            size = "-"
        out.append(f"{fd}:{tty}:{size}")
    return out


def key(args: Sequence[str]) -> str:
    """Everything this command line's help depends on in this terminal and environment, as one text."""
    import flopcast

    parts = [flopcast.__version__, sys.version, repr(list(args)), *_terminal()]
    parts += [f"{k}={os.environ.get(k)}" for k in _ENVIRONMENT]
    parts += _package_stamp()
    return "\n".join(parts) + "\n\0\n"


def _name(k: str) -> str:
    """The kept copy's file name: two checksums of its key (the file starts with the whole key)."""
    import zlib

    b = k.encode()
    return f"{zlib.crc32(b):08x}{zlib.adler32(b):08x}.txt"


def replay(args: Sequence[str]) -> bool:
    """Print the kept help of ``args`` and return True, or return False when there is none."""
    folder = _folder()
    if folder is None:
        return False
    k = key(args)
    try:
        with open(os.path.join(folder, _name(k)), encoding="utf-8", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return False
    # a copy is whole (it ends in a newline) and of this very key; anything else is rendered again
    if not (text.startswith(k) and text.endswith("\n")):
        return False
    sys.stdout.write(text[len(k) :])
    sys.stdout.flush()
    return True


class _Tee:
    """Standard output that also keeps what is written (a terminal stays a terminal to rich)."""

    def __init__(self, real: TextIO):
        self._real = real
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        n = self._real.write(s)  # first: a probe with bytes (click's) fails here as on the real stream
        self.parts.append(s)
        return n

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, flush, encoding... of the real stream
        return getattr(self._real, name)


def record(args: Sequence[str], run: Callable[[list[str]], None]) -> None:
    """Run a help-only command line and keep its output when it succeeds."""
    real = sys.stdout
    tee = _Tee(real)
    sys.stdout = tee
    code: Any = 0
    try:
        run(list(args))
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        sys.stdout = real
        text = "".join(tee.parts)
        if code in (0, None) and text.endswith("\n"):
            _keep(args, text)


def _keep(args: Sequence[str], text: str) -> None:
    import contextlib
    import tempfile

    folder = _folder()
    if folder is None:
        return
    tmp: str | None = None
    k = key(args)
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, suffix=".tmp", delete=False, newline=""
        ) as f:
            tmp = f.name
            f.write(k + text)
        os.replace(tmp, os.path.join(folder, _name(k)))
    except OSError:  # a folder that cannot be written leaves the help unkept
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
