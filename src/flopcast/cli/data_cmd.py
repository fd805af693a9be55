"""``flopcast data``: download Epoch AI's databases into the cache and show what is cached.

Registered in the main app with ``app.add_typer(data_app, name="data")``. Errors are raised
as FlopcastError subclasses; the entry point prints them as one line and exits with status 2.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import typer

from flopcast.cli import options as opt
from flopcast.cli.parse import console as _console
from flopcast.cli.parse import echo_json, print_table

if TYPE_CHECKING:
    from rich.table import Table

    from flopcast.service import CachedFile, ParseReport

data_app = typer.Typer(help="Epoch AI's databases: pull, status, check.", no_args_is_help=True)


def _files_table(files: Iterable[CachedFile], title: str) -> Table:
    from rich.table import Table

    from flopcast.formatting import format_bytes

    table = Table(title=title)
    table.add_column("file")
    table.add_column("kind")
    table.add_column("rows", justify="right")
    table.add_column("size", justify="right")
    table.add_column("fetched (UTC)")
    table.add_column("sha256")
    for f in files:
        name = f.name if getattr(f, "exists", True) else f"{f.name} (missing)"
        table.add_row(name, f.kind, f"{f.rows:,}", format_bytes(f.bytes), f.fetched_at, f.sha256[:12])
    return table


@data_app.command("pull")
def pull_cmd(
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Fetch {base-url}/{file} instead of https://epoch.ai/data/{file}.")
    ] = None,
    file: Annotated[
        list[str] | None,
        typer.Option(
            "--file",
            help="Pull only this file (repeatable): all_ai_models.csv, notable_ai_models.csv, ml_hardware.csv.",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait on each network operation.")] = 60.0,
    deadline: Annotated[
        float, typer.Option("--deadline", help="Seconds the whole pull may take (checked between chunks).")
    ] = 300.0,
    max_mb: Annotated[
        float, typer.Option("--max-mb", help="Largest file to accept, in MB (10^6 bytes; at most 256).")
    ] = 200.0,
    force: Annotated[
        bool, typer.Option("--force", help="Accept a file with more than 10% fewer rows than the cached copy.")
    ] = False,
    quiet: opt.Quiet = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (no progress bar).")] = False,
) -> None:
    """Download Epoch AI's model and hardware databases into the local cache.

    Each file is checked (CSV, not truncated, expected columns, not more than 10% fewer rows than
    the cached copy unless --force) before it replaces the cached copy; a file that fails leaves
    the cached copy as it was.
    """
    from flopcast.errors import InvalidInputError
    from flopcast.service import data_pull

    if not (max_mb > 0) or max_mb == float("inf"):
        raise InvalidInputError(f"--max-mb={max_mb:g} must be a positive number of megabytes")
    if max_mb > 256:
        raise InvalidInputError(f"--max-mb={max_mb:g} is over 256, the largest file (MB) flopcast reads")
    if not (timeout > 0) or timeout == float("inf"):
        raise InvalidInputError(f"--timeout={timeout:g} must be a positive number of seconds")
    if not (deadline > 0) or deadline == float("inf"):
        raise InvalidInputError(f"--deadline={deadline:g} must be a positive number of seconds")
    fetch = functools.partial(
        data_pull,
        base_url=base_url,
        files=file or None,
        timeout_s=timeout,
        max_bytes=max(1, int(max_mb * 1e6)),
        deadline_s=deadline,
        force=force,
    )

    from flopcast.cli.progress import progress_wanted

    if as_json:
        pulled = fetch()
        result = pulled.result
        echo_json(result.to_dict())
    elif not progress_wanted(quiet=quiet):
        pulled = fetch()
        result = pulled.result
        _print_pulled(result)
    else:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=_console(stderr=True), transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def on_progress(name: str, done: int, total: int | None) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total)
                bar.update(tasks[name], completed=done, total=total)

            pulled = fetch(progress=on_progress)
            result = pulled.result
        _print_pulled(result)
    if pulled.error is not None:
        raise pulled.error


def _print_pulled(result) -> None:
    con = _console()
    if result.fetched:
        print_table(con, _files_table(result.fetched, "Fetched from Epoch AI"))
    con.print(f"cache folder: {result.dest}", markup=False, highlight=False)


@data_app.command("status")
def status_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show the database commands use (embedded snapshot or pulled cache), its date, and what is cached."""
    from flopcast.service import data_status

    st = data_status()
    folder, files, active, man = st.cache_dir, st.files, st.active, st.embedded
    if as_json:
        echo_json(st.to_dict())
        return
    con = _console()
    con.print(f"database in use: {active.describe()}", markup=False, highlight=False)
    con.print(
        f"embedded snapshot: Epoch AI data of {man.data_date} (CC BY 4.0, epoch.ai/data); the cache wins when "
        "it is newer, and --data DIR wins over both",
        markup=False,
        highlight=False,
    )
    if not files:
        con.print(
            "nothing cached; `flopcast data pull` fetches Epoch AI's current tables", markup=False, highlight=False
        )
    else:
        print_table(con, _files_table(files, "Cached Epoch AI files"))
    con.print(f"cache folder: {folder}", markup=False, highlight=False)


@data_app.command("check")
def check_cmd(
    path: Annotated[
        str | None,
        typer.Argument(
            help="An Epoch CSV: AI models, ML hardware, hardware prices or price index (default: every file of the database in use)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Show at most this many issues and warnings (0: all).")] = 50,
) -> None:
    """Parse a file and report every cell that could not be parsed (row, column, value, reason)."""
    from flopcast.errors import InvalidInputError
    from flopcast.service import data_check, data_check_all

    if limit < 0:
        raise InvalidInputError(f"--limit={limit} must be >= 0")
    if path is None:
        reports = data_check_all()
        if as_json:
            echo_json([r.to_dict() for r in reports])
            return
        for r in reports:
            _print_report(r, limit)
        return
    report = data_check(path)
    if as_json:
        echo_json(report.to_dict())
        return
    _print_report(report, limit)


def _print_report(report: ParseReport, limit: int) -> None:
    from rich.table import Table

    con = _console()
    con.print(report.summary())
    if report.missing_columns:
        con.print(f"optional columns not found: {', '.join(report.missing_columns)}")
    for title, items in (("Cells that could not be parsed", report.issues), ("Warnings", report.warnings)):
        if not items:
            continue
        t = Table(title=f"{title} ({len(items)})")
        for col in ("line", "column", "value", "reason"):
            t.add_column(col, overflow="fold")
        for it in items[: limit or None]:
            t.add_row(str(it.line), it.column, it.value, it.reason)
        print_table(con, t)
    if report.duplicates:
        shown = report.duplicates[: limit or None]
        con.print(
            f"Duplicate or near-duplicate names ({len(report.duplicates)}): "
            + "; ".join(f"{n} (lines {_lines_shown(lines, limit)})" for n, lines in shown)
        )


def _lines_shown(lines: list[int], limit: int) -> str:
    """The lines of one duplicated name, at most ``limit`` of them (0: all)."""
    s = ", ".join(map(str, lines[: limit or None]))
    if limit and len(lines) > limit:
        s += f", ... ({len(lines) - limit:,} more)"
    return s
