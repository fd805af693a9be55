"""The repository stands alone: every README example runs from a copy of it, with nothing beside the copy.

The copy holds the files git tracks (and new files git does not ignore), as a fresh clone would; its own
`src/` is imported, its embedded database is the only data, and no sibling data folder exists beside it.
All examples run in one Python process (one interpreter start, one database read) to keep the suite fast.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # a copy of the repository and every README example (about 10 s)

RUNNER = r"""
import contextlib, io, json, os, shlex, sys
copy = sys.argv[1]
sys.path.insert(0, os.path.join(copy, "src"))
import flopcast
assert flopcast.__file__.startswith(copy), flopcast.__file__
from flopcast.cli.main import main
results = []
for command in json.loads(sys.argv[2]):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(shlex.split(command)[1:])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    results.append({"command": command, "code": code, "out": len(out.getvalue()), "err": err.getvalue()[-500:]})
print(json.dumps(results))
"""


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [line.split("#")[0].strip() for line in re.findall(r"^\.venv/bin/flopcast .*$", text, re.M)]


def _repository_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


def test_readme_examples_run_from_a_copy_of_the_repository_alone(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the copy is made from the files git tracks")
    copy = tmp_path / "clone" / "flopcast"
    for f in _repository_files():
        dest = copy / f
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest)
    assert not (copy.parent / "shared").exists()
    commands = readme_commands()
    assert len(commands) >= 25 and not any("shared" in c for c in commands)
    # `mfu measure` trains the small preset for tens of seconds on two cores: here the same command runs the
    # smallest decoder (its numbers are pinned in tests/test_utilization.py; only the path matters here)
    tiny = tmp_path / "tiny.toml"
    tiny.write_text("n_layers = 1\nd_model = 32\nn_heads = 2\ncontext = 16\nvocab = 64\nbatch = 1\n")
    measure = [i for i, c in enumerate(commands) if " mfu measure " in f"{c} " and "--config small" in c]
    assert len(measure) == 1, "the README's `mfu measure --config small` example moved: update this test"
    commands[measure[0]] = commands[measure[0]].replace("--config small", f"--config {shlex.quote(str(tiny))}")
    env = dict(os.environ, FLOPCAST_CACHE_DIR=str(tmp_path / "empty-cache"), PYTHONPATH="")
    r = subprocess.run(
        [sys.executable, "-c", RUNNER, str(copy), json.dumps(commands)],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    results = json.loads(r.stdout.strip().splitlines()[-1])
    failed = [x for x in results if x["code"] != 0 or not x["out"]]
    assert not failed, failed
    assert (copy / "gpt-3-report.html").is_file()  # the report example writes into the copy, never the checkout
