"""`flopcast validate`: every published check passes on the snapshot, and docs/validation.md is its output."""

import json
from pathlib import Path

from flopcast import validation as V
from flopcast.testing import run_cli as run

ROOT = Path(__file__).resolve().parents[1]


def test_every_check_passes_on_the_embedded_database(capsys):
    code, out, _ = run(["validate", "--json"], capsys)
    d = json.loads(out)
    failed = [c for c in d["checks"] if c["status"] != "pass"]
    assert code == 0 and d["failed"] == 0 and d["skipped"] == 0, failed
    # it covers every area pinned in the tests: compute, costs, trends, forecasts, emulation, diffusion, power and energy,
    # deployment (the whole BLOOM table), utilization and hardware ratios
    areas = {c["area"] for c in d["checks"]}
    assert areas == {
        "compute",
        "cost",
        "trend",
        "forecast",
        "emulation",
        "diffusion",
        "power",
        "deployment",
        "utilization",
        "hardware",
    }
    assert sum(c["id"].startswith("bloom-") for c in d["checks"]) == 31
    for c in d["checks"]:
        assert c["source"] and c["expected"] and c["rule"]
    ids = {c["id"] for c in d["checks"]}
    assert {
        "compute-gpt3-interval",
        "compute-gpt4-interval",
        "compute-llama31-405b",
        "chip-hours-llama2-70b",
        "trend-cost",
        "forecast-largest-1b",
        "forecast-compute-growth",
    } <= ids


def test_docs_validation_md_is_the_generated_table(capsys):
    from reference.compare_cottier import MARKER

    code, out, _ = run(["validate", "--markdown"], capsys)
    assert code == 0
    head = (ROOT / "docs" / "validation.md").read_text().split(MARKER, 1)[0]
    assert head == out + "\n", (
        "docs/validation.md is stale: flopcast validate --markdown, then python tests/reference/compare_cottier.py"
    )


def test_another_copy_of_the_database_runs_the_same_checks(capsys, epoch_dir):
    code, out, _ = run(["validate", "--data", str(epoch_dir), "--only", "cost", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["failed"] == 0 and d["passed"] >= 5


def test_a_failing_check_exits_non_zero(capsys, monkeypatch):
    bad = V.Check(
        "demo-wrong",
        "compute",
        "a check that cannot pass",
        "nowhere",
        "1",
        "within 1%",
        lambda ctx: V.close(2.0, 1.0, 0.01),
    )
    monkeypatch.setattr(V, "all_checks", lambda: [bad])
    code, out, _ = run(["validate"], capsys)
    assert code == 1 and "fail" in out
    # the rules themselves: a ratio outside the tolerance fails, a published value outside the interval fails
    assert not V.close(1.02, 1.0, 0.01).passed and V.close(1.009, 1.0, 0.01).passed
    assert not V.within_factor(2.1, 1.0, 2.0).passed and V.within_factor(0.51, 1.0, 2.0).passed
    assert not V.covers(0.2, 0.5, 0.25, 2.0).passed and V.covers(0.2, 0.5, 0.15, 2.0).passed
    assert not V.covers(40e6, 100e6, 10e6, 200e6, max_factor=1.5).passed
    code, _, err = run(["validate", "--only", "zzz"], capsys)
    assert code == 2 and "matches no check" in err
