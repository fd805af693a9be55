"""`flopcast costs` over the whole embedded database: every model, three methods, the default Sobol samples each.

Times, in fresh processes, (a) the whole `flopcast costs --format csv --out FILE` command on all of this
machine's cores and pinned to one core, and (b) in-process phases (imports, reading the database, estimating),
and records peak memory (max RSS). Epoch's own point-estimate pipeline (Cottier et al. 2024's code) is not run
here: its time on this kind of machine, about 3.2 s for its 52 frontier models, is a recorded figure (issue 8).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EPOCH_PIPELINE_S = 3.2  # recorded: Epoch's pipeline, 52 frontier models, point estimates
EPOCH_PIPELINE_MODELS = 52

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from flopcast.datasets.database import load_database
from flopcast.pipeline import Draws
from flopcast.service import cost_table
Draws(2, 0, "sobol")  # the first Sobol draw (its points from the disk cache once made)
t1 = time.perf_counter()
db = load_database()
t2 = time.perf_counter()
r = cost_table(db=db).result
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "estimate_s": t3 - t2, "models": len(db.records),
                  "estimated": len(r.estimates), "skipped": len(r.skipped),
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _one_core():
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _time(cmd, runs: int, pin: bool) -> list[float]:
    out = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, preexec_fn=_one_core if pin else None)
        if i:  # the first run warms the file cache
            out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    exe = Path(sys.executable).parent / "flopcast"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(exe), "costs", "--format", "csv", "--out", str(Path(tmp) / "costs.csv")]
        all_cores = _time(cmd, 5, pin=False)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        one_core = _time(cmd, 5, pin=True)
    inproc = [
        json.loads(subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, text=True).stdout)
        for _ in range(5)
    ]
    res = {
        "cli_median_s": statistics.median(all_cores),
        "cli_one_core_median_s": statistics.median(one_core),
        "cli_runs": len(all_cores),
        "cores": len(os.sched_getaffinity(0)),
        "cli_max_rss_mb": rss,
        "inprocess": {
            k: statistics.median(x[k] for x in inproc) for k in ("import_s", "load_s", "estimate_s", "max_rss_mb")
        },
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
