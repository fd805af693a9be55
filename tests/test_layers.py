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


FRONT_ENDS = {"testing", "cli", "web", "reporting", "validation"}


def _foundation() -> set[str]:
    """The bottom layer of the contract: what every layer, the front-ends included, may import."""
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    return {name.strip("() ") for name in re.split(r"[|:]", layers["layers"][-1])}


FOUNDATION = _foundation()


def _contract(name: str) -> dict:
    (contract,) = [c for c in _contracts() if c["name"] == name]
    return contract


def test_every_core_module_is_kept_off_the_front_end_libraries():
    forbidden = _contract("only front-ends use the terminal and web libraries")
    core = {m.removeprefix("flopcast.") for m in forbidden["source_modules"]}
    assert core == _layer_modules() - FRONT_ENDS


def test_the_cli_and_web_app_reach_only_the_service_and_the_foundation():
    forbidden = _contract("front-ends call the service, not the layers below it")
    assert forbidden["source_modules"] == ["flopcast.cli", "flopcast.web"]
    below = {m.removeprefix("flopcast.") for m in forbidden["forbidden_modules"]}
    assert below == _layer_modules() - FRONT_ENDS - FOUNDATION - {"service"}
    # the service, reporting and validation import those layers for them: only direct imports count
    assert forbidden["allow_indirect_imports"] is True


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter")
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    cmd = [sys.executable, "-c", code, "--no-cache"]  # reads pyproject.toml in the working directory
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout
