"""Bad input from the command line: every case in docs/hardening.md's table gets exactly the message shown there,
on one line, with exit status 2 (or a parse report with status 0 where the file is readable).

Files derived from Epoch's snapshot are made at test time in a temporary folder (``{TMP}`` in the table), never
committed: the truncated file is the first 300 bytes of the embedded ml_hardware.csv, a header cut short.
"""

from pathlib import Path

import pytest

from flopcast.testing import run_cli as run

ROOT = Path(__file__).resolve().parents[1]
BAD = "tests/fixtures/bad"

#: (what is wrong, command, exit status); docs/hardening.md shows each with the message it gets
CASES = [
    ("a number that overflows", "estimate --params 1e400 --tokens 1e12", 2),
    ("not a number", "estimate --params abc", 2),
    ("a fraction above 1", "estimate --params 175B --tokens 300B --utilization 1.5", 2),
    ("an interval written backwards", "estimate --params 200B..150B --tokens 300B", 2),
    ("too few samples", "estimate gpt-3 --samples 0", 2),
    ("two ways to give the time", "estimate --params 175B --tokens 300B --hours 10 --days 1", 2),
    ("an unknown chip", "hardware show zzz", 2),
    ("an unknown model", "estimate gpt-5q", 2),
    ("a model that does not fit", "deploy bloom-176b --tokens-per-day 1e9 --chips 2", 2),
    ("a batch out of range", "deploy bloom-176b --tokens-per-day 1e9 --batch 0", 2),
    ("an unknown precision", "deploy bloom-176b --tokens-per-day 1e9 --precision fp2", 2),
    ("years in the wrong order", "trend cost --since 2024 --until 2020", 2),
    ("an unknown device", "mfu measure --device tpu", 2),
    ("too few measured steps", "mfu measure --steps 5 --warmup 3", 2),
    ("a report that is not HTML", "report gpt-3 --out r.pdf", 2),
    ("a scenario with a wrong type", f"deploy bloom-176b --scenario {BAD}/scenario_wrong_type.toml", 2),
    ("a scenario input with a wrong type", f"deploy bloom-176b --scenario {BAD}/scenario_bad_input.toml", 2),
    ("an MFU config with a missing field", f"mfu measure --config {BAD}/config_missing.toml", 2),
    ("an MFU config with a huge number", f"mfu measure --config {BAD}/config_huge.toml", 2),
    ("an empty file", f"data check {BAD}/empty.csv", 2),
    ("a binary (UTF-16) file", f"data check {BAD}/binary.csv", 2),
    ("a truncated Epoch file (header only)", "data check {TMP}/ml_hardware_truncated.csv", 2),
    ("a CSV that is none of Epoch's tables", f"data check {BAD}/unterminated.csv", 2),
    ("a data folder without Epoch's tables", f"costs --data {BAD}", 2),
]


def _doc_rows() -> dict[str, str]:
    rows = {}
    for line in (ROOT / "docs" / "hardening.md").read_text().splitlines():
        if line.startswith("| `flopcast "):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0].strip("`").removeprefix("flopcast ")] = cells[2].strip("`")
    return rows


@pytest.mark.parametrize("what, command, status", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_the_documented_message(what, command, status, capsys, monkeypatch, tmp_path, epoch_dir):
    monkeypatch.chdir(ROOT)
    (tmp_path / "ml_hardware_truncated.csv").write_bytes((epoch_dir / "ml_hardware.csv").read_bytes()[:300])
    code, out, err = run(command.replace("{TMP}", str(tmp_path)).split(), capsys)
    assert code == status and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    doc = _doc_rows()
    assert command in doc, f"docs/hardening.md has no row for `flopcast {command}`"
    assert err.strip().replace(str(tmp_path), "{TMP}") == doc[command]


def test_a_file_with_bad_cells_gets_a_report_not_an_error(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run(["data", "check", f"{BAD}/models_bad_cells.csv"], capsys)
    # 1e400 overflows, -5 FLOP and month 13 are impossible: each cell is reported with its line and reason,
    # the rows are kept with those cells empty
    assert code == 0
    for text in ("1e400", "must be positive, got -5", "month must be in 1..12"):
        assert text in out


def test_every_documented_row_is_tested():
    assert set(_doc_rows()) == {c[1] for c in CASES}
