"""The layer contract (pyproject.toml, [tool.importlinter]) holds, and it names every module.

`lint-imports` reads every import, lazy ones inside functions included, so a stage function
that reaches up to the service or a front-end fails here as well as in CI.
"""

import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import flopcast

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _layer_modules() -> set[str]:
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    return {name.strip("() ") for layer in layers["layers"] for name in re.split(r"[|:]", layer)}


def test_every_top_level_module_has_a_layer():
    modules = {m.name for m in pkgutil.iter_modules(flopcast.__path__)}
    assert modules - _layer_modules() == set(), "place each new module in a layer of [tool.importlinter]"
    assert _layer_modules() - modules == set(), "a layer names a module that does not exist"


def test_every_core_module_is_kept_off_the_front_end_libraries():
    (forbidden,) = [c for c in _contracts() if c["type"] == "forbidden"]
    core = {m.removeprefix("flopcast.") for m in forbidden["source_modules"]}
    front_ends = {"testing", "cli", "web", "reporting", "validation"}
    assert core == _layer_modules() - front_ends


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter")
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    cmd = [sys.executable, "-c", code, "--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout
