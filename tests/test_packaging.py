"""Packaging: one version, extras that list exactly what their modules import, a licence, a changelog."""

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "flopcast"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower().replace("_", "-") for r in requirements}


def _third_party(nodes) -> set[str]:
    """Top-level packages imported (at module level or inside functions) that are neither stdlib nor flopcast."""
    found = set()
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Import):
                found |= {a.name.split(".")[0] for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
                found.add(n.module.split(".")[0])
    return {m.lower() for m in found if m not in sys.stdlib_module_names and m not in ("flopcast", "__future__")}


def _imports_of(*paths: Path) -> set[str]:
    return _third_party(ast.parse(p.read_text()) for p in paths)


def test_version_is_single_sourced():
    assert "version" not in PROJECT["project"] and "version" in PROJECT["project"]["dynamic"]
    assert PROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "flopcast.__version__"}
    init = (SRC / "__init__.py").read_text()
    (version,) = re.findall(r'^__version__ = "([^"]+)"$', init, re.M)
    import flopcast

    assert flopcast.__version__ == version and re.fullmatch(r"\d+\.\d+\.\d+", version)
    # setuptools reads the version without importing the package (a literal it can parse)
    from setuptools.config.pyprojecttoml import read_configuration

    assert read_configuration(ROOT / "pyproject.toml", expand=True)["project"]["version"] == version


def test_extras_list_exactly_what_their_modules_import():
    extras = {k: _names(v) for k, v in PROJECT["project"]["optional-dependencies"].items()}
    base = _names(PROJECT["project"]["dependencies"])
    reporting = sorted((SRC / "reporting").rglob("*.py"))
    web = sorted((SRC / "web").rglob("*.py"))
    cli = ast.parse((SRC / "cli" / "web_cmd.py").read_text())
    (serve,) = [n for n in ast.walk(cli) if isinstance(n, ast.FunctionDef) and n.name == "serve_cmd"]
    assert _imports_of(*reporting) - base == extras["report"] == {"jinja2", "matplotlib"}
    assert _imports_of(SRC / "reporting" / "plots.py") - base == extras["plot"] == {"matplotlib"}
    assert (_imports_of(*web) | _third_party([serve])) - base == extras["web"] == {"fastapi", "pydantic", "uvicorn"}
    assert _imports_of(*sorted((SRC / "utilization").rglob("*.py"))) - base == extras["measure"] == {"torch"}
    # the test extra installs every front-end's packages, and the checks CI runs
    assert extras["report"] | extras["web"] | {"import-linter", "mypy", "ruff", "pytest"} <= extras["test"]


def test_licence_and_changelog():
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License\n") and "Copyright (c) 2026 the flopcast authors" in licence
    assert PROJECT["project"]["license"] == "MIT"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    import flopcast

    assert f"## [{flopcast.__version__}]" in changelog
