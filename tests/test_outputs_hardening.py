"""Hardening, round two: what flopcast reads and writes.

- A file that cannot be read (a folder, a denied or failing read) is one line with exit status 2, never a
  traceback; so is an OSError that escapes a command (the safety net of ``main``).
- Every output goes through the one writer (``flopcast.reporting.output.write_output``): atomically to a
  regular file, directly to a device, FIFO, ``-`` or ``/dev/stdout`` (never replacing it with a regular file),
  and a path that cannot be written is one line, checked before the work.
- CSV text cells that a spreadsheet would run (``=HYPERLINK(...)``) are neutralised; numbers are not.
- JSON refuses infinity and NaN with the path of the field.
- ``report --scenario`` is looked up before anything is written, and the report is byte-reproducible.

Root runs these tests too, and chmod does not stop root: a folder that cannot be written in, or a file that
cannot be read, is simulated by a monkeypatched ``tempfile.mkstemp`` or ``open`` raising PermissionError.
No test here may write to /dev or /proc (``_no_writes_into_dev``), so that running them against a writer
that would replace ``/dev/stdout`` fails the test instead of damaging the machine.
"""

from __future__ import annotations

import builtins
import contextlib
import csv
import datetime as dt
import errno
import io
import json
import math
import os
import pathlib
import stat
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from flopcast.errors import InvalidInputError
from flopcast.testing import run_cli as run

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "fixtures" / "bad"
FAST = ["--samples", "200"]


@pytest.fixture(autouse=True)
def _no_writes_into_dev(monkeypatch):
    """Renaming over, or creating a temporary file in, /dev or /proc is a failure of the test, never done."""

    def system(path) -> bool:
        p = os.path.abspath(os.fspath(path))
        return p == "/dev" or p.startswith(("/dev/", "/proc/")) or p == "/proc"

    real_replace, real_rename, real_mkstemp = os.replace, os.rename, tempfile.mkstemp

    def replace(src, dst, *a, **k):
        assert not system(dst), f"a regular file was renamed over {dst}"
        return real_replace(src, dst, *a, **k)

    def rename(src, dst, *a, **k):
        assert not system(dst), f"a regular file was renamed over {dst}"
        return real_rename(src, dst, *a, **k)

    def mkstemp(*a, dir=None, **k):
        assert dir is None or not system(dir), f"a temporary file was made in {dir}"
        return real_mkstemp(*a, dir=dir, **k)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def one_line_error(code, out, err) -> str:
    """The command failed with status 2 and one line on stderr starting with ``error:``; returns that line."""
    assert code == 2, (code, err)
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("error: "), err
    return err.strip()


def deny_reading(monkeypatch, target: Path) -> None:
    """Opening ``target`` for reading raises PermissionError, as for a user without read permission."""
    target = target.resolve()

    def denied(path) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve() == target
        except (TypeError, ValueError):
            return False

    def guard(real):
        def opener(file, mode="r", *a, **k):
            if "r" in mode and not isinstance(file, int) and denied(file):
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(file))
            return real(file, mode, *a, **k)

        return opener

    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    real_path_open = pathlib.Path.open

    def path_open(self, mode="r", *a, **k):
        if "r" in mode and denied(self):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_path_open(self, mode, *a, **k)

    monkeypatch.setattr(pathlib.Path, "open", path_open)


def deny_creating_in(monkeypatch, folder: Path, code: int = errno.EACCES) -> None:
    """Creating a file in ``folder`` fails (by default with PermissionError, as in a folder the user cannot
    write in; ENOENT is what /proc answers)."""
    folder = folder.resolve()
    checked = tempfile.mkstemp  # the guard of _no_writes_into_dev

    def mkstemp(*a, dir=None, **k):
        if dir is not None and Path(dir).resolve() == folder:
            raise OSError(code, os.strerror(code), os.path.join(dir, "tmpXXXX"))
        return checked(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


# -- unreadable inputs --------------------------------------------------------------------------


def test_deploy_scenario_that_cannot_be_read(monkeypatch, tmp_path, capsys):
    sc = tmp_path / "load.toml"
    sc.write_text((ROOT / "src/flopcast/catalogs/data/scenarios/twitter-1pct.toml").read_text())
    deny_reading(monkeypatch, sc)
    line = one_line_error(*run(["deploy", "bloom-176b", "--scenario", str(sc)], capsys))
    assert line == f"error: scenario file {str(sc)!r} cannot be read (permission denied)"


def test_deploy_scenario_that_is_a_folder(tmp_path, capsys):
    folder = tmp_path / "scenarios.toml"
    folder.mkdir()
    line = one_line_error(*run(["deploy", "bloom-176b", "--scenario", str(folder)], capsys))
    assert line == f"error: scenario file {str(folder)!r} is a folder; give a .toml file or a bundled name"


def test_mfu_config_that_cannot_be_read(monkeypatch, tmp_path, capsys):
    cfg = tmp_path / "decoder.toml"
    cfg.write_text("n_layers = 2\nd_model = 64\nn_heads = 2\ncontext = 32\nvocab = 128\nbatch = 2\n")
    deny_reading(monkeypatch, cfg)
    line = one_line_error(*run(["mfu", "measure", "--config", str(cfg)], capsys))
    assert line == (
        f"error: --config={str(cfg)!r}: the file cannot be read (permission denied); "
        "give a readable TOML or JSON file, or a preset name"
    )


def test_data_check_of_a_file_that_cannot_be_read(monkeypatch, tmp_path, capsys, epoch_dir):
    f = tmp_path / "ml_hardware.csv"
    f.write_bytes((epoch_dir / "ml_hardware.csv").read_bytes())
    deny_reading(monkeypatch, f)
    line = one_line_error(*run(["data", "check", str(f)], capsys))
    assert str(f) in line and "permission denied" in line.lower()


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="Linux's /proc")
@pytest.mark.parametrize(
    "argv",
    [
        ["data", "check", "/proc/self/clear_refs"],
        ["deploy", "bloom-176b", "--scenario", "/proc/self/clear_refs"],
        ["mfu", "measure", "--config", "/proc/self/clear_refs"],
    ],
    ids=["data check", "deploy --scenario", "mfu measure --config"],
)
def test_a_file_whose_read_fails(argv, capsys):
    # /proc/self/clear_refs is a regular file that opens but cannot be read (EINVAL), even for root
    line = one_line_error(*run(argv, capsys))
    assert "invalid argument" in line


@pytest.mark.parametrize(
    "exc, message",
    [
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/flopcast/ai_models.csv"),
            "error: reading or writing '/srv/flopcast/ai_models.csv' failed: permission denied",
        ),
        (OSError(errno.EIO, "Input/output error"), "error: input/output error (reading or writing a file, errno EIO)"),
        (
            OSError(errno.EXDEV, "Invalid cross-device link", "/a/x", None, "/b/y"),
            "error: reading or writing '/a/x' and '/b/y' failed: invalid cross-device link",
        ),
    ],
    ids=["with a path", "without a path", "two paths"],
)
def test_an_os_error_escaping_a_command_is_one_line(exc, message, monkeypatch, capsys):
    import flopcast.service

    def fail(*a, **k):
        raise exc

    monkeypatch.setattr(flopcast.service, "database", fail)
    assert one_line_error(*run(["hardware", "list"], capsys)) == message


# -- outputs that cannot be written: one line, before the work -----------------------------------


def _not_called(*a, **k):
    raise AssertionError("the work started before the output path was checked")


def test_costs_out_in_a_folder_that_cannot_be_written(monkeypatch, tmp_path, capsys):
    import flopcast.service

    ro = tmp_path / "ro"
    ro.mkdir()
    deny_creating_in(monkeypatch, ro)
    monkeypatch.setattr(flopcast.service, "cost_table", _not_called)
    monkeypatch.setattr(flopcast.service, "cost_stream", _not_called)
    out = ro / "x.csv"
    line = one_line_error(*run(["costs", "--format", "csv", "--out", str(out)], capsys))
    assert line == f"error: --out={str(out)!r}: cannot create a file in folder {str(ro)!r} (permission denied)"
    assert list(ro.iterdir()) == []


def test_costs_out_in_a_folder_that_takes_no_files(monkeypatch, tmp_path, capsys):
    import flopcast.service

    procfs = tmp_path / "proc"
    procfs.mkdir()
    deny_creating_in(monkeypatch, procfs, errno.ENOENT)
    monkeypatch.setattr(flopcast.service, "cost_table", _not_called)
    monkeypatch.setattr(flopcast.service, "cost_stream", _not_called)
    out = procfs / "x.csv"
    line = one_line_error(*run(["costs", "--out", str(out)], capsys))
    assert line == (
        f"error: --out={str(out)!r}: cannot create a file in folder {str(procfs)!r} "
        "(the folder takes no new files: no such file or directory)"
    )


def test_costs_out_under_a_regular_file(monkeypatch, tmp_path, capsys):
    import flopcast.service

    monkeypatch.setattr(flopcast.service, "cost_table", _not_called)
    monkeypatch.setattr(flopcast.service, "cost_stream", _not_called)
    (tmp_path / "file.txt").write_text("x")
    out = tmp_path / "file.txt" / "x.csv"
    line = one_line_error(*run(["costs", "--out", str(out)], capsys))
    assert line == f"error: --out={str(out)!r}: {str(tmp_path / 'file.txt')!r} is a file, not a folder"


def test_report_out_in_a_folder_that_cannot_be_written(monkeypatch, tmp_path, capsys):
    import flopcast.reporting.html

    ro = tmp_path / "ro"
    ro.mkdir()
    deny_creating_in(monkeypatch, ro)
    monkeypatch.setattr(flopcast.reporting.html, "build_report", _not_called)
    out = ro / "r.html"
    line = one_line_error(*run(["report", "gpt-3", "--out", str(out)], capsys))
    assert line == f"error: --out={str(out)!r}: cannot create a file in folder {str(ro)!r} (permission denied)"
    assert list(ro.iterdir()) == []


@pytest.mark.parametrize(
    "argv, service_function",
    [(["trend", "compute"], "trend_analysis"), (["diffusion", "gpt-3"], "diffusion_reference")],
    ids=["trend", "diffusion"],
)
def test_plot_in_a_folder_that_cannot_be_written(argv, service_function, monkeypatch, tmp_path, capsys):
    import flopcast.service

    ro = tmp_path / "ro"
    ro.mkdir()
    deny_creating_in(monkeypatch, ro)
    monkeypatch.setattr(flopcast.service, service_function, _not_called)
    out = ro / "p.svg"
    line = one_line_error(*run([*argv, "--plot", str(out)], capsys))
    assert line == f"error: --plot={str(out)!r}: cannot create a file in folder {str(ro)!r} (permission denied)"


def test_a_write_that_fails_midway_is_one_line_and_leaves_the_old_file(monkeypatch, tmp_path):
    from flopcast.reporting.output import write_text_atomic

    target = tmp_path / "x.csv"
    target.write_text("old")
    real_fdopen = os.fdopen

    class Full(io.BufferedWriter):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: Full(real_fdopen(fd, "wb", buffering=0)))
    with pytest.raises(InvalidInputError) as err:
        write_text_atomic(target, "new")
    assert str(err.value) == f"output path {str(target)!r}: cannot write to it (no space left on device)"
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.csv"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_is_one_line(tmp_path):
    from flopcast.reporting.output import write_text_atomic

    with pytest.raises(InvalidInputError, match=r"^output path '/dev/full': cannot write to it \(no space left"):
        write_text_atomic("/dev/full", "a,b\n" * 10_000)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


# -- special outputs are written directly, never replaced ----------------------------------------


def _small_costs(monkeypatch):
    """``costs`` with a stub table (the writer is under test, not the estimates)."""
    import flopcast.reporting.output
    import flopcast.service

    result = SimpleNamespace(estimates=[1], source="stub", methods=(), rows=list, to_dict=lambda: {"x": 1})
    monkeypatch.setattr(flopcast.service, "cost_table", lambda **k: SimpleNamespace(result=result, reports=[]))
    # costs --format csv|json streams (cost_stream, then batch_json_pieces): the same stub, streamed
    stream = SimpleNamespace(count=1, source="stub", methods=())
    monkeypatch.setattr(flopcast.service, "cost_stream", lambda form, **k: SimpleNamespace(stream=stream, reports=[]))
    monkeypatch.setattr(flopcast.reporting.output, "batch_json_pieces", lambda s: iter([json.dumps({"x": 1})]))


@pytest.mark.parametrize("out", ["-", "/dev/stdout"])
def test_costs_out_to_standard_output(out, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    _small_costs(monkeypatch)
    code, text, err = run(["costs", "--format", "json", "--out", out], capsys)
    assert code == 0 and json.loads(text) == {"x": 1}
    assert f"wrote 1 model to {out}" in err
    assert list(tmp_path.iterdir()) == []  # no file named '-'


@pytest.mark.skipif(not os.path.exists("/proc/self/fd/1"), reason="needs /proc/self/fd")
def test_costs_out_to_a_link_to_this_process_stdout(monkeypatch, tmp_path, capsys):
    _small_costs(monkeypatch)
    link = tmp_path / "out.json"
    link.symlink_to("/proc/self/fd/1")
    code, text, _ = run(["costs", "--format", "json", "--out", str(link)], capsys)
    assert code == 0 and json.loads(text) == {"x": 1}
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_costs_out_to_a_link_to_a_character_device(monkeypatch, tmp_path, capsys):
    _small_costs(monkeypatch)
    link = tmp_path / "out.csv"
    link.symlink_to("/dev/null")
    code, _, _ = run(["costs", "--format", "json", "--out", str(link)], capsys)
    assert code == 0
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)  # still the device, not a regular file
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_written_not_replaced(tmp_path):
    from flopcast.reporting.output import write_text_atomic

    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        write_text_atomic(fifo, "a,b\n1,2\n")
    finally:
        reader.join(5)
        if reader.is_alive() and stat.S_ISFIFO(os.stat(fifo).st_mode):  # nothing opened it: let the reader go
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(5)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got == [b"a,b\n1,2\n"]


def test_a_link_to_a_regular_file_stays_a_link(tmp_path):
    from flopcast.reporting.output import write_text_atomic

    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target.name)
    write_text_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


def test_replacing_a_file_keeps_its_permissions(tmp_path):
    from flopcast.reporting.output import write_text_atomic

    target = tmp_path / "private.csv"
    target.write_text("old")
    target.chmod(0o600)
    write_text_atomic(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_plots_are_written_by_the_one_writer(tmp_path):
    from flopcast.reporting.plots import plot_trend
    from flopcast.trends import fit_trend

    years, values = [2019, 2020, 2021, 2022], [1e3, 1e4, 2e5, 1e6]
    fit = fit_trend(years, values, bootstrap=0)
    link = tmp_path / "t.svg"
    link.symlink_to("/dev/null")
    plot_trend(fit, years, values, link)
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)  # written through, not replaced
    assert [p.name for p in tmp_path.iterdir()] == ["t.svg"]


def test_report_to_standard_output(monkeypatch, capsys):
    import flopcast.reporting.html

    monkeypatch.setattr(flopcast.reporting.html, "build_report", lambda *a, **k: "<!DOCTYPE html><p>r</p>\n")
    code, out, err = run(["report", "gpt-3", "--out", "-"], capsys)
    assert code == 0 and out == "<!DOCTYPE html><p>r</p>\n"
    assert err.startswith("wrote -")


# -- CSV formula injection -------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/","click")', "=cmd|' /C calc'!A0", "-2+3+cmd|x"]


def test_csv_neutralises_formula_text_and_keeps_numbers():
    from flopcast.reporting.output import batch_csv

    row = {
        "model": FORMULAS[0],
        "key": FORMULAS[1],
        "organization": FORMULAS[2],
        "domain": "@SUM(A1:A9)",
        "hardware": "\t=1+1",
        "compute_source": "\r=1+1",
        "notes": "-5",  # text that is a plain number is not a formula
        "imputed_inputs": "a=b",  # an = inside the text is not at the start
        "training_compute_flop": -5.0,
        "chip_hours": -1.2e3,
        "chip_hours_p5": np.float64(-3.5),
        "chip_hours_p95": -7,
        "is_finetune": False,
    }
    result = SimpleNamespace(methods=(), rows=lambda: [row])
    got = next(csv.DictReader(io.StringIO(batch_csv(result))))
    assert got["model"] == "'" + FORMULAS[0]
    assert got["key"] == "'" + FORMULAS[1]
    assert got["organization"] == "'" + FORMULAS[2]
    assert got["domain"] == "'@SUM(A1:A9)"
    assert got["hardware"] == "'\t=1+1" and got["compute_source"] == "'\n=1+1"  # one cell, not a new row
    assert got["notes"] == "-5" and got["imputed_inputs"] == "a=b"
    assert got["training_compute_flop"] == "-5.0" and got["chip_hours"] == "-1200.0"
    assert got["chip_hours_p5"] == "-3.5" and got["chip_hours_p95"] == "-7"
    assert got["is_finetune"] == "False" and got["publication_date"] == ""


def test_costs_csv_from_a_database_with_formula_names(tmp_path, capsys, epoch_dir):
    rows = list(csv.DictReader(io.StringIO((epoch_dir / "ai_models.csv").read_text(encoding="utf-8-sig"))))
    picked = [r for r in rows if r["Model"] in ("GPT-3 175B (davinci)", "PaLM (540B)", "Gopher (280B)")]
    assert len(picked) == 3
    for r, name in zip(picked, FORMULAS, strict=True):
        r["Model"] = name
    picked[0]["Organization"] = "@SUM(1+1)*cmd|x"
    data = tmp_path / "data"
    data.mkdir()
    with open(data / "ai_models.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(picked)
    out = tmp_path / "costs.csv"
    code, _, err = run(["costs", "--data", str(data), "--format", "csv", *FAST, "--out", str(out)], capsys)
    assert code == 0, err
    got = list(csv.DictReader(io.StringIO(out.read_text())))
    names = {r["model"] for r in got}
    assert {"'" + f for f in FORMULAS} <= names and not set(FORMULAS) & names
    assert "'@SUM(1+1)*cmd|x" in {r["organization"] for r in got}
    for r in got:  # every cell: text that starts like a formula is quoted; numbers stay numbers
        for k, v in r.items():
            assert not v.startswith(("=", "@", "+", "\t", "\r")), (k, v)
            if v.startswith("-"):
                float(v)
        assert float(r["training_compute_flop"]) > 0


# -- infinity and NaN never reach JSON -------------------------------------------------------------


def _stub(d):
    return SimpleNamespace(to_dict=lambda *a, **k: d)


def test_estimate_json_with_an_infinite_cost(monkeypatch, capsys):
    import flopcast.service

    d = {"name": "x", "cost_usd": {"cloud": {"median": 1.0, "p5": 0.5, "p95": math.inf}}}
    monkeypatch.setattr(flopcast.service, "training_estimate", lambda *a, **k: _stub(d))
    code, out, err = run(["estimate", "gpt-3", "--json"], capsys)
    assert out == ""
    assert one_line_error(code, out, err) == (
        "error: the result holds a non-finite number at cost_usd.cloud.p95; it is inf, which JSON cannot hold: "
        "check that the inputs are within a realistic range"
    )


def test_deploy_json_with_nan_in_a_list(monkeypatch, capsys):
    import flopcast.service

    d = {"model": "x", "instances": [{"usd": 1.0}, {"usd": np.float64("nan")}]}
    monkeypatch.setattr(flopcast.service, "deployment_estimate", lambda *a, **k: _stub(d))
    code, out, err = run(["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--json"], capsys)
    assert "at instances[1].usd; it is nan" in one_line_error(code, out, err) and out == ""


def test_echo_json_with_numpy_infinity(capsys):
    from flopcast.cli.parse import echo_json

    with pytest.raises(InvalidInputError, match=r"at extrapolation\.band\[2\]; it is -inf"):
        echo_json({"extrapolation": {"when": dt.date(2030, 7, 1), "band": np.array([1.0, 2.0, -np.inf])}})
    assert capsys.readouterr().out == ""
    echo_json({"when": dt.date(2030, 7, 1), "band": np.array([1.0, 2.0]), "n": np.int64(3)})
    assert json.loads(capsys.readouterr().out) == {"when": "2030-07-01", "band": [1.0, 2.0], "n": 3}


def test_costs_json_out_with_nan_writes_nothing(monkeypatch, tmp_path, capsys):
    import flopcast.service

    result = SimpleNamespace(
        estimates=[1], source="stub", methods=(), rows=list, to_dict=lambda: {"models": [{"chip_hours": math.nan}]}
    )
    monkeypatch.setattr(flopcast.service, "cost_table", lambda **k: SimpleNamespace(result=result, reports=[]))
    from flopcast.reporting.output import NonFinite  # costs --format json streams: the same model, streamed

    head = dict(source="stub", dollars="USD", samples=1, seed=0, sampling="sobol", methods=(), selection="")
    models = [[NonFinite("chip_hours", math.nan)]]
    stream = SimpleNamespace(skipped=[], count=0, chunks=lambda: iter(models), **head)
    monkeypatch.setattr(flopcast.service, "cost_stream", lambda form, **k: SimpleNamespace(stream=stream, reports=[]))
    out = tmp_path / "c.json"
    line = one_line_error(*run(["costs", "--format", "json", "--out", str(out)], capsys))
    assert "at models[0].chip_hours; it is nan" in line
    assert list(tmp_path.iterdir()) == []


# -- report --scenario -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, message",
    [
        ("zzz", "error: unknown scenario 'zzz'; valid names: "),
        (
            str(BAD / "scenario_wrong_type.toml"),
            f"error: {BAD / 'scenario_wrong_type.toml'}: field 'duration_days' = 'a year' is a str; "
            "expected a number > 0",
        ),
    ],
    ids=["unknown name", "malformed file"],
)
def test_report_with_a_bad_scenario_writes_nothing(scenario, message, monkeypatch, tmp_path, capsys):
    import flopcast.service

    monkeypatch.setattr(flopcast.service, "training_estimate", _not_called)
    out = tmp_path / "r.html"
    line = one_line_error(*run(["report", "gpt-3", "--scenario", scenario, "--out", str(out)], capsys))
    assert line.startswith(message)
    assert list(tmp_path.iterdir()) == []


# -- the report is byte-reproducible -------------------------------------------------------------


@pytest.mark.slow
def test_two_reports_are_byte_identical(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("a.html", "b.html"):
        code, _, err = run(["report", "gpt-3", "--out", name], capsys)
        assert code == 0, err
    a, b = (tmp_path / "a.html").read_bytes(), (tmp_path / "b.html").read_bytes()
    assert a == b
    # no clock time either (two runs in the same minute would share one): neither today's date nor a time
    today = {dt.date.today().isoformat(), dt.datetime.now(dt.UTC).date().isoformat()}
    assert not any(t.encode() in a for t in today)
    assert b"<dc:date>" not in a and b"generated" not in a
    assert a.count(b"<svg") >= 3


def test_json_writer_finds_nothing_in_finite_results():
    from flopcast.reporting.output import nonfinite_field, to_json

    assert nonfinite_field({"a": [1, 2.5, {"b": None}], "c": "inf"}) is None
    assert json.loads(to_json({"a": [1, 2.5]})) == {"a": [1, 2.5]}
    with pytest.raises(ValueError, match="Circular"):  # other encoder errors are not hidden
        loop: list = []
        loop.append(loop)
        to_json(loop)
