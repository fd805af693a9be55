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
    ("a count and a precision", "estimate gpt-3 --samples 100 --sampling-precision 0.01", 2),
    ("a precision finer than the samples allowed", "costs --sampling-precision 0.001", 2),
    ("two ways to give the time", "estimate --params 175B --tokens 300B --hours 10 --days 1", 2),
    ("an unknown chip", "hardware show zzz", 2),
    ("a chip with no peak FLOP/s", "estimate --params 7e9 --tokens 1e11 --hardware amd-epyc-9455 --chips 8", 2),
    ("an unknown model", "estimate gpt-5q", 2),
    (
        "a model that does not fit",
        "deploy bloom-176b --tokens-per-day 1e9 --hardware a100-80gb --chips 2 --precision bf16",
        2,
    ),
    (
        "a model that fits on no candidate chip",
        "deploy llama-3.1-405b --tokens-per-day 1e9 --hardware l4 --price-per-chip-hour 0.8",
        2,
    ),
    (
        "a latency target no configuration meets",
        "deploy llama-3-70b --tokens-per-day 1e9 --hardware h100 --tpot 0.001",
        2,
    ),
    (
        "chips that do not divide the layout",
        "deploy deepseek-v3 --tokens-per-day 1e9 --hardware h200 --chips 8 --tp 3",
        2,
    ),
    ("a batch out of range", "deploy bloom-176b --tokens-per-day 1e9 --batch 0", 2),
    ("an unknown precision", "deploy bloom-176b --tokens-per-day 1e9 --precision fp2", 2),
    ("years in the wrong order", "trend cost --since 2024 --until 2020", 2),
    ("a threshold below today's value", "forecast cost --threshold 1e6", 2),
    ("a horizon past 2100", "forecast cost --until 2101", 2),
    ("a prior with low above high", "forecast cost --prior compute=5..3", 2),
    (
        "no price from that provider",
        "estimate --compute 1e24 --hardware tpu-v4 --method cloud --cloud-vendor lambda",
        2,
    ),
    ("an unknown grid", "estimate gpt-3 --grid mars", 2),
    ("a book life without straight-line depreciation", "estimate gpt-3 --depreciation-years 4", 2),
    ("a plan without its run", "hardware plan --params 70e9", 2),
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
    # physically impossible values, refused by the service (src/flopcast/service/checks.py, flopcast.limits)
    ("a fractional number of chips", "estimate --params 175e9 --tokens 300e9 --hardware a100 --chips 0.5", 2),
    ("more chips than any cluster", "estimate --params 175e9 --tokens 300e9 --hardware a100 --chips 1e30", 2),
    (
        "an interval of chips past the limit at its high end",
        "estimate --params 175e9 --tokens 300e9 --hardware a100 --chips 8..1e30",
        2,
    ),
    (
        "a training run shorter than a second",
        "estimate --params 175e9 --tokens 300e9 --hardware a100 --hours 1e-300",
        2,
    ),
    (
        "more chip-hours than could ever run",
        "estimate --params 175e9 --tokens 300e9 --hardware a100 --chip-hours 1e300",
        2,
    ),
    (
        "a utilization that overflows the chip-hours",
        "estimate --params 175e9 --tokens 300e9 --hardware a100 --utilization 1e-300",
        2,
    ),
    (
        "a price that overflows the cost",
        "estimate --params 175e9 --tokens 300e9 --hardware a100 --price-per-chip-hour 1e300 --json",
        2,
    ),
    ("a denormal parameter count", "estimate --params 1e-320 --tokens 1e12 --hardware a100", 2),
    ("more tokens than could ever be read", "estimate --params 175e9 --tokens 1e300 --hardware a100", 2),
    ("less than one FLOP", "estimate --compute 1e-320 --hardware a100", 2),
    ("a start date past 2100", "estimate gpt-3 --start-date 9999-01-01", 2),
    ("more chips than one serving instance holds", "deploy bloom-176b --tokens-per-day 1e9 --chips 100000", 2),
    ("a model above 1e16 parameters", "deploy --params 1e30 --tokens-per-day 1e9", 2),
    ("an endless serving period", "deploy bloom-176b --tokens-per-day 1e9 --days inf", 2),
    ("a load that underflows", "deploy bloom-176b --tokens-per-day 1e-320 --json", 2),
    ("an extrapolation past 2100", "trend cost --top 10 --extrapolate 99999", 2),
    ("more bootstrap resamples than memory holds", "trend compute --bootstrap 99999999999999999", 2),
    ("an infinite distance above the trend", "trend compute --above-trend 1e400", 2),
    ("a first reference year past 2100", "lag --since 99999", 2),
    ("a first publication year past 2100", "models list --since 99999", 2),
    ("a reproduction year past 2100", "diffusion gpt-3 --year 99999", 2),
    ("a mid-year past the last date", "diffusion gpt-3 --year 2100", 2),
    ("a reference date past 2100", "diffusion --cost 1e6 --date 9999-01-01", 2),
    ("a denormal parameter count to emulate", "emulate --params 1e-320 --tokens 1e12", 2),
    ("a model too large to compare chips on", "hardware compare a100 h100 --params 1e30", 2),
    (
        "a training layout that does not hold the run",
        "plan llama-2-70b --chips 64 --tp 1 --pp 1 --zero 3 --micro-batch 1 --recompute selective",
        2,
    ),
    ("a cluster too small for any layout", "plan llama-2-70b --chips 8", 2),
    ("a tensor parallelism that is not a power of 2", "plan llama-2-70b --tp 3", 2),
    ("a ZeRO stage that does not exist", "plan llama-2-70b --zero 4", 2),
    ("a plan of your own model without its run", "plan --params 70e9", 2),
    ("no repeats of a measurement", "mfu measure --config small --repeats 0", 2),
    # files that cannot be read or written, scenarios checked first, pulls bounded (Linux: /proc refuses both)
    ("a scenario path that is a folder", "deploy bloom-176b --scenario tests/fixtures", 2),
    ("a scenario file that cannot be read", "deploy bloom-176b --scenario /proc/self/clear_refs", 2),
    ("an MFU config that cannot be read", "mfu measure --config /proc/self/clear_refs", 2),
    ("a data file that cannot be read", "data check /proc/self/clear_refs", 2),
    ("an output that is a folder", "costs --out tests/fixtures", 2),
    ("an output under a regular file", "costs --out README.md/costs.csv", 2),
    ("an output folder that does not exist", "costs --out nope/costs.csv", 2),
    ("a folder that takes no new files", "costs --out /proc/costs.csv", 2),
    ("a report in a folder that takes no new files", "report gpt-3 --out /proc/r.html", 2),
    ("a plot in a folder that takes no new files", "trend compute --plot /proc/p.svg", 2),
    ("an unknown report scenario", "report gpt-3 --scenario zzz", 2),
    ("a malformed report scenario", "report gpt-3 --scenario tests/fixtures/bad/scenario_wrong_type.toml", 2),
    ("a pull deadline of zero", "data pull --deadline 0", 2),
    ("a pull size cap above what flopcast reads", "data pull --max-mb 300", 2),
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
