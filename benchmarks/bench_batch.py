"""Batch estimate of every model in Epoch's snapshot, three methods, 10,000 samples each.

Times, in fresh processes, (a) the whole `flopcast costs --data ../shared/data/epoch --format csv
--out FILE` command and (b) in-process load + estimate, and records peak memory (max RSS).
Epoch's own point-estimate pipeline (Cottier et al. 2024's code) is not run here: its time on
this kind of machine, about 3.2 s for its 52 frontier models, is a recorded figure (issue 8).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data" / "epoch"
EPOCH_PIPELINE_S = 3.2  # recorded: Epoch's pipeline, 52 frontier models, point estimates
EPOCH_PIPELINE_MODELS = 52

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from flopcast.datasets.source import load_database, resolve_source
from flopcast.batch import estimate_batch
t1 = time.perf_counter()
db = load_database(resolve_source(sys.argv[1]))
t2 = time.perf_counter()
r = estimate_batch(db.records, hardware=db.hardware, price_book=db.price_book, samples=10_000)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "estimate_s": t3 - t2, "models": len(db.records),
                  "estimated": len(r.rows), "skipped": len(r.skipped),
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    if not (DATA / "ai_models.csv").is_file():
        sys.exit(f"Epoch snapshot not found at {DATA}")
    exe = Path(sys.executable).parent / "flopcast"
    cli_times, rss = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "costs.csv"
        for i in range(6):
            t0 = time.perf_counter()
            subprocess.run([str(exe), "costs", "--data", str(DATA), "--format", "csv", "--out", str(out)],
                           check=True, capture_output=True)
            dt = time.perf_counter() - t0
            ru = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            if i:  # the first run warms the file cache
                cli_times.append(dt)
                rss.append(ru)
    inproc = [json.loads(subprocess.run([sys.executable, "-c", CHILD, str(DATA)], check=True, capture_output=True,
                                        text=True).stdout) for _ in range(5)]
    res = {
        "cli_median_s": statistics.median(cli_times),
        "cli_runs": len(cli_times),
        "cli_max_rss_mb": max(rss),
        "inprocess": {k: statistics.median(x[k] for x in inproc) for k in ("import_s", "load_s", "estimate_s",
                                                                           "max_rss_mb")},
        "models": inproc[0]["models"],
        "estimated": inproc[0]["estimated"],
        "skipped": inproc[0]["skipped"],
        "epoch_pipeline_s": EPOCH_PIPELINE_S,
        "epoch_pipeline_models": EPOCH_PIPELINE_MODELS,
    }
    (HERE / "results_batch.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
