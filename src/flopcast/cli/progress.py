"""Signs of life on stderr for the commands that take more than about a second.

A spinner with the elapsed time, on standard error only, and only when standard error is a terminal: never
with ``--json`` (or ``--format json``), ``--quiet``, or when stderr is a pipe or a file. It is transient (erased
when the work ends) and never captures standard output, so the result and the one-line error contract
(``error: ...`` on stderr, exit status 2) are untouched.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


def progress_wanted(*, quiet: bool = False, as_json: bool = False) -> bool:
    """Whether to show progress: not asked to be quiet, not JSON, and standard error is a terminal."""
    if quiet or as_json:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError, OSError):
        return False


@contextlib.contextmanager
def working(message: str, *, quiet: bool = False, as_json: bool = False) -> Iterator[None]:
    """``with working("Estimating costs"): ...``: a spinner, the message and the elapsed time on stderr."""
    if not progress_wanted(quiet=quiet, as_json=as_json):
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from flopcast.cli.parse import console

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with bar:
        bar.add_task(message, total=None)
        yield
