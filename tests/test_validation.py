"""`flopcast validate`: every published check passes on the snapshot, and docs/validation.md is its output."""

import json
from pathlib import Path

from flopcast import validation as V
from flopcast.testing import run_cli as run

ROOT = Path(__file__).resolve().parents[1]


def test_every_check_passes_on_the_snapshot(capsys, epoch_dir):
    code, out, _ = run(["validate", "--data", str(epoch_dir), "--json"], capsys)
    d = json.loads(out)
    failed = [c for c in d["checks"] if c["status"] != "pass"]
    assert code == 0 and d["failed"] == 0 and d["skipped"] == 0, failed
    # it covers every area pinned in the tests: compute, costs, trends, emulation, diffusion, deployment
    # (the whole BLOOM table), utilization and hardware ratios
    areas = {c["area"] for c in d["checks"]}
    assert areas == {"compute", "cost", "trend", "emulation", "diffusion", "deployment", "utilization", "hardware"}
    assert sum(c["id"].startswith("bloom-") for c in d["checks"]) == 31
    for c in d["checks"]:
        assert c["source"] and c["expected"] and c["rule"]


def test_docs_validation_md_is_the_generated_table(capsys, epoch_dir):
    code, out, _ = run(["validate", "--data", str(epoch_dir), "--markdown"], capsys)
    assert code == 0
    assert (ROOT / "docs" / "validation.md").read_text() == out, \
        "docs/validation.md is stale: flopcast validate --data ../shared/data/epoch --markdown > docs/validation.md"


def test_checks_needing_data_are_skipped_without_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOPCAST_CACHE_DIR", str(tmp_path / "empty-cache"))
    code, out, _ = run(["validate", "--json"], capsys)
    d = json.loads(out)
    skipped = {c["id"] for c in d["checks"] if c["status"] == "skipped"}
    assert code == 0 and skipped == {"cost-gpt4-amortized", "cost-gpt4-2023", "cost-gpt3-2023", "trend-cost",
                                     "lag-opt"}


def test_a_failing_check_exits_non_zero(capsys, monkeypatch):
    bad = V.Check("demo-wrong", "compute", "a check that cannot pass", "nowhere", "1", "within 1%",
                  lambda ctx: V.close(2.0, 1.0, 0.01))
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
