"""The ``flopcast`` command line's entry point. Commands only parse, call the library and format.

:func:`main` imports nothing heavy itself: a help-only command line is replayed from its kept
copy (:mod:`flopcast.cli.helpcache`), and anything else goes to the lazily built command tree of
:mod:`flopcast.cli.app`, which imports only the module of the command it runs. Each command
imports numpy, scipy or pandas inside itself, when it needs them.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Entry point: a FlopcastError becomes one line on stderr and exit status 2.

    ``argv`` None: this process's command line, whose help screens come from their kept copies.
    """
    if argv is None:
        args = sys.argv[1:]
        if not args or (args[-1] == "--help" and all(a and not a.startswith("-") for a in args[:-1])):
            from flopcast.cli import helpcache

            if helpcache.replay(args):
                return
            from flopcast.cli.app import run

            helpcache.record(args, run)
            return
        argv = args
    from flopcast.cli.app import run

    run(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
