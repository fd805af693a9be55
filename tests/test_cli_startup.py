"""Start-up of the command line (issue 19): the lazily built tree is the whole tree, help screens are replayed
from their kept copies without typer, and a command imports only what it uses. Speed itself is measured in
benchmarks/bench_startup.py, never here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flopcast.cli import app as cli_app
from flopcast.cli import helpcache


def _eager_root():
    """The tree typer would build with every command registered up front (flopcast before issue 19)."""
    import importlib

    import typer

    eager = typer.Typer(
        name="flopcast", help=cli_app.app.info.help, no_args_is_help=True, add_completion=False,
        pretty_exceptions_enable=False,
    )  # fmt: skip
    groups = []
    for name, (module, attr) in cli_app.COMMANDS.items():
        target = getattr(importlib.import_module(module), attr)
        if isinstance(target, typer.Typer):
            groups.append((name, target))
        else:
            eager.command(name)(target)
    for name, target in groups:  # typer lists functions, then groups: the order COMMANDS keeps
        eager.add_typer(target, name=name)
    return typer.main.get_command(eager)


def _help(group, path: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    group.main(args=[*path, "--help"], prog_name="flopcast", standalone_mode=False)
    return capsys.readouterr().out


def test_the_lazy_tree_is_the_whole_tree(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Every command of the old eagerly built tree is in the lazy one, in the same order, with the same help."""
    monkeypatch.setenv("COLUMNS", "100")
    eager, lazy = _eager_root(), cli_app.tree()
    assert list(lazy.list_commands(None)) == list(eager.commands) == list(cli_app.COMMANDS)
    assert "Commands" in _help(lazy, [], capsys) and _help(lazy, [], capsys) == _help(eager, [], capsys)
    for name in cli_app.COMMANDS:
        assert _help(lazy, [name], capsys) == _help(eager, [name], capsys), name


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


_HELP = (
    "import atexit, sys; sys.argv = ['flopcast'] + {args!r}; "
    "atexit.register(lambda: print('typer' in sys.modules, 'rich' in sys.modules, file=sys.stderr)); "
    "from flopcast.cli.main import main; main()"
)


@pytest.mark.parametrize("args", [["--help"], [], ["data", "--help"], ["estimate", "--help"]])
def test_help_is_replayed_without_typer(tmp_path: Path, args: list[str]):
    """The first help screen is rendered by typer and kept; the second is the same text, without typer or rich."""
    env = dict(os.environ, FLOPCAST_HELP_CACHE=str(tmp_path), COLUMNS="90")
    first = _run(_HELP.format(args=args), env)
    second = _run(_HELP.format(args=args), env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stderr.split()[-2:] == ["True", "True"]
    assert second.stderr.split()[-2:] == ["False", "False"]
    assert second.stdout == first.stdout and "Usage: flopcast" in first.stdout
    assert len(list(tmp_path.iterdir())) == 1


def test_a_kept_help_follows_the_terminal_and_the_package(tmp_path: Path):
    """A different width is another copy; a copy that is cut short or of another key is rendered again."""
    env = dict(os.environ, FLOPCAST_HELP_CACHE=str(tmp_path), COLUMNS="90")
    narrow = _run(_HELP.format(args=["--help"]), env)
    wide = _run(_HELP.format(args=["--help"]), dict(env, COLUMNS="140"))
    assert narrow.stdout != wide.stdout and max(map(len, wide.stdout.splitlines())) > 90
    assert len(list(tmp_path.iterdir())) == 2
    for f in tmp_path.iterdir():  # cut short: no final newline, and the key no longer matches
        f.write_text(f.read_text()[:200])
    again = _run(_HELP.format(args=["--help"]), env)
    assert again.stdout == narrow.stdout and again.stderr.split()[-2:] == ["True", "True"]


def test_help_cache_off_and_unwritable(tmp_path: Path):
    """``FLOPCAST_HELP_CACHE=off`` keeps nothing; a folder that cannot be written leaves the help as it is."""
    off = _run(_HELP.format(args=["--help"]), dict(os.environ, FLOPCAST_HELP_CACHE="off"))
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    unwritable = _run(_HELP.format(args=["--help"]), dict(os.environ, FLOPCAST_HELP_CACHE=str(blocked / "help")))
    assert off.returncode == unwritable.returncode == 0
    assert "Usage: flopcast" in off.stdout and off.stdout == unwritable.stdout


def test_the_key_holds_what_the_rendering_depends_on(monkeypatch: pytest.MonkeyPatch):
    base = helpcache.key(["--help"])
    assert helpcache.key(["data", "--help"]) != base
    monkeypatch.setenv("NO_COLOR", "1")
    assert helpcache.key(["--help"]) != base
    monkeypatch.delenv("NO_COLOR")
    assert helpcache.key(["--help"]) == base
    # every file of the package is in the key: an edit (size or time) makes a new copy
    import flopcast

    assert f"/cli/helpcache.py:{os.path.getsize(helpcache.__file__)}:" in base
    assert base.count("\n") > len(list(Path(flopcast.__file__).parent.rglob("*.py")))


def test_an_estimate_imports_only_its_command():
    """``flopcast estimate NAME --json`` builds only ``estimate``: no other command module, no pandas, no
    matplotlib, no report or web layer."""
    code = (
        "import sys; sys.argv = ['flopcast', 'estimate', 'gpt-3', '--json', '--samples', '64']; "
        "from flopcast.cli.main import main; main(); "
        "print(sorted(m for m in sys.modules if m.startswith(('flopcast.cli.', 'pandas', 'matplotlib', "
        "'flopcast.web', 'flopcast.reporting.report', 'jinja2', 'fastapi'))), file=sys.stderr)"
    )
    p = _run(code, dict(os.environ))
    assert p.returncode == 0, p.stderr
    loaded = eval(p.stderr.strip().splitlines()[-1])
    assert loaded == ["flopcast.cli.app", "flopcast.cli.main", "flopcast.cli.options", "flopcast.cli.parse",
                      "flopcast.cli.training_cmd"]  # fmt: skip


def test_the_cache_folder_is_platformdirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """flopcast.paths finds the folder platformdirs would, with and without XDG_CACHE_HOME."""
    from platformdirs import user_cache_dir

    from flopcast.paths import user_cache_dir as ours

    assert ours() == user_cache_dir("flopcast")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ours() == user_cache_dir("flopcast") == str(tmp_path / "flopcast")
    monkeypatch.setenv("XDG_CACHE_HOME", "  ")
    assert ours() == user_cache_dir("flopcast")


def test_the_service_facade_resolves_every_name_lazily():
    """``flopcast.service`` imports its modules on first use: each name of ``__all__`` resolves, each lazy name
    from the module the map names, and importing the facade loads none of them."""
    import importlib

    import flopcast.service as service

    code = "import sys, flopcast.service; print(sorted(m for m in sys.modules if m.startswith('flopcast.service.')))"
    assert _run(code, dict(os.environ)).stdout.strip() == "[]"
    for name in service.__all__:
        assert getattr(service, name) is not None, name
    for name, module in service._LAZY.items():
        assert getattr(service, name) is getattr(importlib.import_module(module), name), name
    assert set(service._LAZY) <= set(service.__all__)
