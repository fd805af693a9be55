"""The command-line examples of docs/cli.md are what the command line prints: check them, or write them anew.

Every ``$ flopcast ...`` line of a fenced block in docs/cli.md is followed by what that command prints, standard
output then standard error, at 80 columns, on the embedded database (a line ending in a backslash goes on on
the next). An example whose output ends with a line ``…`` shows only the lines above it, one that starts with
one shows the lines from its first (a table's title) on; ``$ echo $?`` prints
the last exit status; a ``# comment`` after two spaces is not part of the command. The examples run in a
scratch folder that holds a folder ``results``, a file ``notes.txt`` and a folder ``ro`` where no file can be
created (as for a user without write permission, whoever runs this).

``tests/test_docs_cli_examples.py`` runs :func:`differences` and fails on any, so a number the docs quote is the
number the command prints. When outputs change on purpose, rewrite the examples from the command line:

    .venv/bin/python scripts/cli_examples.py --write

(without ``--write`` it lists the examples that differ and exits 1). The file is rewritten atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cli.md"
WIDTH = 80
MORE = "…"
_FENCE = re.compile(r"^```[a-z]*$")
_COMMENT = re.compile(r"\s{2,}#.*$")


@dataclass
class Example:
    """One ``$ command`` of a block: where its lines are in the file, and what the docs show it printing."""

    command: str
    start: int  # index of the first line of the command
    end: int  # index just past the last line of its output
    shown: list[str]  # the output lines the docs show (without the … that open or close them)
    truncated: bool  # the docs show the first lines (and a closing …)
    excerpt: bool = False  # the docs show lines from the middle (an opening …): from its first line on


def examples(text: str) -> list[Example]:
    """Every ``$ `` example inside the fenced blocks of ``text``, in order."""
    lines = text.split("\n")
    out: list[Example] = []
    inside = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            inside = not inside
            i += 1
            continue
        if not (inside and line.startswith("$ ")):
            i += 1
            continue
        start, parts = i, [line[2:]]
        while parts[-1].endswith("\\"):
            parts[-1] = parts[-1][:-1]
            i += 1
            parts.append(lines[i].strip())
        command = _COMMENT.sub("", " ".join(p.strip() for p in parts)).strip()
        i += 1
        shown = []
        while i < len(lines) and not lines[i].startswith("$ ") and not _FENCE.match(lines[i]):
            shown.append(lines[i].rstrip())
            i += 1
        while shown and shown[-1] == "":
            shown.pop()
        truncated = bool(shown) and shown[-1] == MORE
        if truncated:
            shown.pop()
        excerpt = bool(shown) and shown[0] == MORE
        if excerpt:
            shown.pop(0)
        end = start + len(parts) + int(excerpt) + len(shown) + int(truncated)
        out.append(Example(command, start, end, shown, truncated, excerpt))
    return out


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """A scratch folder to run in (see the module's docstring), with the embedded database and 80 columns."""
    saved_env = {k: os.environ.get(k) for k in ("COLUMNS", "FLOPCAST_CACHE_DIR", "FLOPCAST_HELP_CACHE")}
    saved_cwd, saved_mkstemp = os.getcwd(), tempfile.mkstemp
    with tempfile.TemporaryDirectory() as tmp:
        here = Path(tmp)
        (here / "results").mkdir()
        (here / "notes.txt").write_text("notes\n")
        ro = (here / "ro").resolve()
        ro.mkdir()

        def mkstemp(*a, dir=None, **k):  # type: ignore[no-untyped-def]
            if dir is not None and Path(dir).resolve() == ro:
                raise OSError(errno.EACCES, os.strerror(errno.EACCES), os.path.join(dir, "tmpXXXX"))
            return saved_mkstemp(*a, dir=dir, **k)

        os.environ["COLUMNS"] = str(WIDTH)
        os.environ["FLOPCAST_CACHE_DIR"] = str(here / ".cache")  # nothing pulled: the embedded snapshot
        os.environ["FLOPCAST_HELP_CACHE"] = "off"
        tempfile.mkstemp = mkstemp  # type: ignore[assignment]
        os.chdir(here)
        try:
            yield here
        finally:
            os.chdir(saved_cwd)
            tempfile.mkstemp = saved_mkstemp  # type: ignore[assignment]
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _run(argv: list[str]) -> tuple[int, list[str]]:
    """``flopcast argv`` in this process: its exit status and its lines (standard output, then standard error)."""
    from flopcast.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    text = out.getvalue() + err.getvalue()
    return code, [line.rstrip() for line in text.rstrip("\n").split("\n")] if text else []


def printed(found: list[Example]) -> list[list[str]]:
    """What each example prints now, cut to as many lines as the docs show where they show a part."""
    outputs: list[list[str]] = []
    status = 0
    with _scratch():
        for ex in found:
            words = shlex.split(ex.command)
            if words == ["echo", "$?"]:
                lines = [str(status)]
            elif words and words[0] == "flopcast":
                status, lines = _run(words[1:])
            else:
                raise ValueError(f"docs/cli.md: an example runs {ex.command!r}; only flopcast and `echo $?` are run")
            if ex.excerpt:  # from the line the excerpt opens with (its title), if the command still prints it
                at = next((k for k, line in enumerate(lines) if ex.shown and line == ex.shown[0]), 0)
                lines = lines[at:]
            outputs.append(lines[: len(ex.shown)] if ex.truncated else lines)
    return outputs


def differences(text: str) -> list[str]:
    """One entry per example whose shown output is not what the command prints (the command and the first line
    that differs)."""
    found = examples(text)
    out = []
    for ex, now in zip(found, printed(found), strict=True):
        if now != ex.shown:
            at = next(
                (k for k, (a, b) in enumerate(zip(ex.shown, now, strict=False)) if a != b), min(len(ex.shown), len(now))
            )
            doc_line = ex.shown[at] if at < len(ex.shown) else "(nothing)"
            now_line = now[at] if at < len(now) else "(nothing)"
            out.append(f"$ {ex.command}\n  line {at + 1}: docs {doc_line!r}\n           prints {now_line!r}")
    return out


def rewritten(text: str) -> str:
    """``text`` with each example's output replaced by what the command prints (a part stays a part, as long)."""
    lines = text.split("\n")
    found = examples(text)
    for ex, now in reversed(list(zip(found, printed(found), strict=True))):
        first = ex.end - len(ex.shown) - int(ex.truncated) - int(ex.excerpt)
        lines[first : ex.end] = [*([MORE] if ex.excerpt else []), *now, *([MORE] if ex.truncated else [])]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite docs/cli.md's examples from the command line")
    args = ap.parse_args()
    text = DOC.read_text(encoding="utf-8")
    if args.write:
        new = rewritten(text)
        fd, tmp = tempfile.mkstemp(dir=DOC.parent, prefix=".cli.md.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        os.replace(tmp, DOC)
        print(f"rewrote {len(examples(text))} examples of {DOC.relative_to(ROOT)}")
        return 0
    diff = differences(text)
    for d in diff:
        print(d)
    print(f"{len(diff)} of {len(examples(text))} examples differ" if diff else "every example is what flopcast prints")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
