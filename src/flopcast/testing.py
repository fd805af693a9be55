"""Helpers for testing flopcast and code built on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str, str, str]:
    """Run the ``flopcast`` entry point in-process: (exit status, stdout, stderr).

    ``capsys`` is pytest's capture fixture.
    """
    from flopcast.cli.main import main

    code: int | str = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
