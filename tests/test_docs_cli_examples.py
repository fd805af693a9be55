"""docs/cli.md shows what the command line prints: every ``$ flopcast ...`` example is run (at 80 columns, on the
embedded database) and its shown output compared line by line (scripts/cli_examples.py, which also rewrites them
when outputs change on purpose)."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("cli_examples", ROOT / "scripts" / "cli_examples.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclass looks its module up there
    spec.loader.exec_module(mod)
    return mod


def test_every_example_of_docs_cli_md_is_what_flopcast_prints():
    ex = _script()
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    found = ex.examples(text)
    # tables (estimate, explain, models, hardware compare) and one-line errors (bad paths, bad inputs) alike
    assert len(found) >= 20 and sum(e.truncated for e in found) >= 5
    diff = ex.differences(text)
    assert not diff, "docs/cli.md differs from the command line (rewrite: scripts/cli_examples.py --write):\n" + (
        "\n".join(diff)
    )


def test_the_examples_are_parsed_as_written():
    ex = _script()
    text = "\n".join(
        [
            "```",
            "$ flopcast estimate --params 7e9 \\",
            "    --tokens 1e12        # a comment",
            "line one",
            "…",
            "",
            "$ flopcast models show gpt-3",
            "…",
            "a title",
            "row",
            "…",
            "$ echo $?",
            "0",
            "```",
        ]
    )
    a, b, c = ex.examples(text)
    assert a.command == "flopcast estimate --params 7e9 --tokens 1e12" and a.shown == ["line one"] and a.truncated
    assert b.excerpt and b.truncated and b.shown == ["a title", "row"]
    assert c.command == "echo $?" and c.shown == ["0"] and not c.truncated
    # rewriting keeps what is around each example: its command lines, the blank line, the fences
    lines = text.split("\n")
    assert lines[a.end - 1] == "…" and lines[b.start] == "$ flopcast models show gpt-3" and lines[c.end] == "```"
