"""CONTRIBUTING.md's "Where to add" answers name files that exist, and the layers it draws are
the ones the import contract checks."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "CONTRIBUTING.md").read_text()
PATH = re.compile(r"`([\w./-]+\.(?:py|csv|md|html|js|toml))`|`([\w./-]+/)`")


def _section(title: str) -> str:
    start = TEXT.index(f"## {title}")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end != -1 else None]


def test_where_to_add_answers_each_question():
    where = _section("Where to add")
    for question in ("A cost method", "A chip", "A data source", "A command", "A web page"):
        assert f"### {question}" in where


def test_every_file_named_exists():
    named = {m.group(1) or m.group(2) for m in PATH.finditer(TEXT)}
    assert len(named) >= 25  # the answers name real files, not folders alone
    missing = sorted(p for p in named if not (ROOT / p).exists() and not (ROOT / "src/flopcast" / p).exists())
    assert missing == []


def test_the_drawn_layers_are_the_checked_layers():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    drawing = _section("The layers")
    for layer in layers["layers"]:
        for module in re.split(r"[|:]", layer):
            name = module.strip("() ")
            if name != "testing":
                assert re.search(rf"\b{re.escape(name)}\b", drawing), f"{name} is not in CONTRIBUTING's drawing"
