"""The CLI fits the terminal (issue 18): the terminal's width, compact tables with --wide, no number broken
across lines, human labels, singular and plural, and progress on stderr only when it is a terminal."""

import json
import os
import re
import sys
from pathlib import Path

import pytest

from flopcast.testing import run_cli as run

ROOT = Path(__file__).resolve().parents[1]
FLOPCAST = Path(sys.executable).with_name("flopcast")

#: a token holding a digit, with the punctuation around it stripped ("($3.32M-$5.32M)" -> "$3.32M-$5.32M")
_EDGES = "()[]{};:,.│┃┏┓┗┛━─┡┩╇┳┻╋└┘┌┐├┤┼"


def _numbers(text: str) -> set[str]:
    out = set()
    for tok in re.split(r"[\s│┃]+", text):
        tok = tok.strip(_EDGES)
        if any(c.isdigit() for c in tok):
            out.add(tok)
    return out


def _at(width: int, argv: list[str], capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = run(argv, capsys)
    assert code == 0, err
    return out


def _fits(out: str, width: int) -> None:
    """Every line fits, and the box drawing is whole: a table line starts and ends with a border."""
    for line in out.splitlines():
        assert len(line) <= width, line
        if line[:1] in "┏┃┡│└├":
            assert line[-1] in "┓┃┩│┘┤", line


def _rendered(print_fn, width: int, capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    capsys.readouterr()
    print_fn()
    return capsys.readouterr().out


def _check_80_against_120(print_fn, capsys, monkeypatch, fits: bool = True) -> None:
    wide = _rendered(print_fn, 120, capsys, monkeypatch)
    narrow = _rendered(print_fn, 80, capsys, monkeypatch)
    if fits:
        _fits(narrow, 80)
        _fits(wide, 120)
    # every number of the 120-column output is whole in the 80-column one: a number cut across two lines
    # ("$1.08" / "B") would leave the whole token missing
    missing = _numbers(wide) - _numbers(narrow)
    assert not missing, sorted(missing)[:20]


def test_costs_top_10_splits_no_number_in_80_columns(capsys, monkeypatch):
    """`COLUMNS=80 flopcast costs --top 10` against 120 columns: one estimate, printed at both widths by the
    command's own printer (the same call `costs` makes)."""
    from flopcast.reporting.tables import print_batch
    from flopcast.service import cost_table

    table = cost_table(top=10, samples=200)
    _check_80_against_120(lambda: print_batch(table.result, table.reports), capsys, monkeypatch)
    # --wide may need more than 80 columns (it is then printed at the width it needs), but never cuts a number
    _check_80_against_120(lambda: print_batch(table.result, table.reports, wide=True), capsys, monkeypatch, False)


def test_estimate_gpt3_splits_no_number_in_80_columns(capsys, monkeypatch):
    for width in (120, 80):  # the command itself, end to end
        _fits(_at(width, ["estimate", "gpt-3", "--samples", "2000"], capsys, monkeypatch), width)
    from flopcast.reporting.tables import print_estimate
    from flopcast.service import training_estimate

    r = training_estimate("gpt-3", samples=2000, sensitivity=True)
    _check_80_against_120(lambda: print_estimate(r, show_sensitivity=True), capsys, monkeypatch)


def test_estimate_interval_is_one_unbroken_token(capsys, monkeypatch):
    from flopcast.formatting import format_range

    argv = ["estimate", "gpt-3", "--samples", "2000"]
    d = json.loads(_at(80, [*argv, "--json"], capsys, monkeypatch))
    out = _at(80, argv, capsys, monkeypatch)
    c = d["cost_usd"]["amortized"]
    # the amortized interval as the JSON gives it, e.g. "$1M-$4.03M": on one line, next to its row's label
    shown = format_range(c["p5"], c["p95"], "USD")
    assert re.fullmatch(r"\$[\d.]+[kMB]?-\$[\d.]+[kMB]?", shown)
    row = next(ln for ln in out.splitlines() if "amortized" in ln and "Cost" in ln)
    assert shown in row


def test_pipe_without_columns_gets_120(monkeypatch):
    from flopcast.reporting.tables import PIPE_WIDTH, terminal_console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert terminal_console().width == PIPE_WIDTH == 120  # pytest's stdout is not a terminal
    monkeypatch.setenv("COLUMNS", "64")
    assert terminal_console().width == 64


def test_fit_table_never_narrows_numbers():
    """The fitter: a no_wrap column keeps its width, a wrapping one stops at its longest word, a folding one
    goes below that only when the table cannot fit otherwise."""
    from rich.table import Table

    from flopcast.reporting.tables import fit_table

    t = Table()
    t.add_column("label")
    t.add_column("value", no_wrap=True)
    t.add_row("a fairly long label of several words", "$11.3M-$178M")
    need = fit_table(t, 40)
    assert need <= 40
    assert t.columns[1].width == len("$11.3M-$178M")  # the number column is never narrowed
    assert t.columns[0].width >= len("several")  # the label wraps at spaces, not inside a word
    too_narrow = Table()
    too_narrow.add_column("n", no_wrap=True)
    too_narrow.add_row("$1,234,567,890-$9,876,543,210")
    assert fit_table(too_narrow, 20) > 20  # reported, and printed at that width rather than cut


# -- labels --------------------------------------------------------------------------------------------

_FIELD = re.compile(r"cost_usd\.|\b[a-z]+(?:_[a-z0-9]+)+\b(?!\.csv)")  # a file name (ai_models.csv) is not a label


def test_every_key_a_table_shows_has_a_label():
    from flopcast.formatting import LABELS
    from flopcast.service import training_estimate

    r = training_estimate("gpt-3", samples=200, sensitivity=True)
    keys = {*r.outputs(), *(f"cost_usd.{m}" for m in r.cost_usd), *(i.name for i in r.inputs)}
    keys |= set(r.sensitivity) | {row.input for rows in r.sensitivity.values() for row in rows}
    missing = sorted(k for k in keys if k not in LABELS)
    assert not missing, missing
    from flopcast.service import deployment_estimate

    est = deployment_estimate("llama-3-70b", tokens_per_day=1e6, hardware="h100", chips=1, tp=1, precision="fp8",
                              batch=16, samples=200)  # fmt: skip
    assert not [k for k in est.outputs() if k not in LABELS]


@pytest.mark.parametrize(
    "argv",
    [
        ["estimate", "gpt-3", "--samples", "500", "--sensitivity"],
        ["costs", "--top", "3", "--samples", "200", "--wide"],
        ["explain", "gpt-3", "stable-diffusion-v1", "--samples", "500"],
        ["forecast", "cost", "--samples", "500"],
        ["deploy", "llama-3-70b", "--scenario", "twitter-1pct", "--hardware", "h100", "--samples", "200"],
    ],
    ids=["estimate", "costs", "explain", "forecast", "deploy"],
)
def test_no_raw_field_name_in_cli_output(argv, capsys, monkeypatch):
    out = _at(120, argv, capsys, monkeypatch)
    assert not _FIELD.findall(out), sorted(set(_FIELD.findall(out)))


# -- singular and plural -------------------------------------------------------------------------------


def test_plurals_and_units():
    from flopcast.formatting import deployment_label, format_range, format_sci, format_value, plural

    assert plural(1, "instance") == "1 instance" and plural(2, "instance") == "2 instances"
    assert plural(1, "day") == "1 day" and plural(1.5, "day") == "1.5 days" and plural(1000, "model") == "1,000 models"
    assert deployment_label("usd_total", 1) == "$ over 1 day"
    assert deployment_label("usd_total", 30) == "$ over 30 days"
    assert format_value(1, "instances") == "1 instance"
    assert format_value(2, "instances") == "2 instances"
    # hand-computed: 0.1968 is 19.7%; 2,020 tokens/s (never "2.02e+03"); 355.2 hours = 14.8 days
    assert format_value(0.1968, "fraction") == "19.7%"
    assert format_sci(2020.0) == "2,020"
    assert format_value(355.2, "hours") == "14.8 days"
    # a unit both ends share is written once; different units keep both
    assert format_range(11.8 * 86400, 18.5 * 86400, "s") == "11.8-18.5 days"
    assert format_range(959e6 * 3600, 1.18e9 * 3600, "J") == "959 MWh-1.18 GWh"
    assert format_range(0.957, 1.46, "USD/chip-hour") == "$0.957-$1.46/chip-hour"
    # both ends of a count in one style: GPT-3's 10,000 chips give 9,000-11,111.1 (p5, p95), which read
    # "9,000-11.1k"; in full where both are under a million, with suffixes where both need one
    assert format_range(9000.0, 11111.1, "chips") == "9,000-11,111"
    assert format_range(9000.7, 11111.1, "chips") == "9,001-11,111"
    assert format_range(12_345.6, 98_765.4, "chips") == "12.3k-98.8k"
    assert format_range(450_000.0, 699_123.3, "chip-hours") == "450,000-699,123"
    assert format_range(900_000.0, 1.2e6, "chips") == "900k-1.2M"  # past a million, suffixes on both
    assert format_range(2048.0, 1.5e6, "chip-hours") == "2.05k-1.5M"


@pytest.mark.parametrize("days", ["1", "365"])
def test_deploy_one_number_one_row(days, capsys, monkeypatch):
    argv = ["deploy", "llama-3-70b", "--tokens-per-day", "1e6", "--hardware", "h100", "--chips", "1", "--tp", "1"]
    out = _at(
        120, [*argv, "--precision", "fp8", "--batch", "16", "--samples", "200", "--days", days], capsys, monkeypatch
    )
    rows = [ln.split("│")[1].strip() for ln in out.splitlines() if ln.startswith("│")]
    if days == "1":
        assert "$ over 1 day" in rows and "$ a day" not in rows and "$ a year" in rows
    else:
        assert "$ over 365 days (a year)" in rows and "$ a year" not in rows and "$ a day" in rows
    assert "1 instances" not in out and "over 1 days" not in out


# -- progress --------------------------------------------------------------------------------------------


def test_progress_only_on_a_terminal(monkeypatch):
    from flopcast.cli.progress import progress_wanted

    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    assert progress_wanted()
    assert not progress_wanted(quiet=True)
    assert not progress_wanted(as_json=True)
    monkeypatch.undo()
    assert not progress_wanted()  # pytest's stderr is not a terminal


def test_no_progress_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run(["costs", "--top", "3", "--samples", "200"], capsys)
    assert code == 0 and err == "" and "Estimating" not in out


def _pty_runs(*argvs: list[str]) -> list[str]:
    """Run flopcast with stdout and stderr on a pseudo-terminal of 80 x 24, the runs at once; return what each
    wrote to its terminal."""
    import fcntl
    import pty
    import select
    import struct
    import subprocess
    import termios

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    runs = []
    for argv in argvs:
        parent, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        proc = subprocess.Popen([str(FLOPCAST), *argv], stdin=child, stdout=child, stderr=child, env=env)
        os.close(child)
        runs.append((proc, parent, []))
    open_fds = {parent: chunks for _, parent, chunks in runs}
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [], 120)
        assert ready, "flopcast wrote nothing for 120 s"
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed its terminal
                data = b""
            if data:
                open_fds[fd].append(data)
            else:
                del open_fds[fd]
                os.close(fd)
    out = []
    for proc, _, chunks in runs:
        assert proc.wait(timeout=120) == 0
        out.append(b"".join(chunks).decode("utf-8", "replace"))
    return out


@pytest.mark.skipif(not FLOPCAST.exists() or sys.platform == "win32", reason="needs the flopcast script and a pty")
def test_pty_shows_progress_for_costs_and_none_with_json():
    shown, as_json = _pty_runs(
        ["costs", "--top", "3", "--samples", "200"], ["costs", "--top", "3", "--samples", "200", "--format", "json"]
    )
    assert "Estimating the selected models' costs" in shown  # the spinner, on the terminal's stderr
    assert "Training cost estimates" in shown
    assert "Estimating" not in as_json
    assert json.loads(as_json.replace("\r\n", "\n"))["models"]


def test_wide_lists_sources_with_urls_whole(capsys, monkeypatch):
    out = _at(80, ["estimate", "gpt-3", "--samples", "500", "--wide"], capsys, monkeypatch)
    # the V100's datasheet (hardware.csv's source), longer than the terminal: on one line, never cut
    url = "https://images.nvidia.com/content/technologies/volta/pdf/volta-v100-datasheet-update-us-1165301-r5.pdf"
    assert url in out.split()
    compact = _at(80, ["estimate", "gpt-3", "--samples", "500"], capsys, monkeypatch)
    assert "images.nvidia.com" not in compact and "--wide adds each one's source" in compact


def test_deployment_rows_are_one_rule_for_every_front_end():
    # formatting.deployment_rows decides the serving rows of the CLI, the web page and the report alike
    from flopcast.formatting import deployment_rows

    keys = ["instances", "usd_per_day", "usd_per_year", "usd_total"]
    assert deployment_rows(keys, 365) == [
        ("instances", "Instances"),
        ("usd_per_day", "$ a day"),
        ("usd_total", "$ over 365 days (a year)"),
    ]
    assert [k for k, _ in deployment_rows(keys, 1)] == ["instances", "usd_per_year", "usd_total"]
    assert dict(deployment_rows(keys, 1))["usd_total"] == "$ over 1 day"
    assert deployment_rows(keys, 30)[-1] == ("usd_total", "$ over 30 days") and len(deployment_rows(keys, 30)) == 4
    # without a total, nothing is left out
    assert [k for k, _ in deployment_rows(["usd_per_day", "usd_per_year"], 365)] == ["usd_per_day", "usd_per_year"]
