"""MFU measurement: the whole `flopcast mfu measure --config small` command on this CPU, in fresh processes.

Unlike the other benchmarks this one runs with PyTorch's default thread count (all cores), as CI does.
It also keeps one run's full JSON, so RESULTS.md shows the measured distribution and the quotes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = 3


def main() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    exe = str(Path(sys.executable).with_name("flopcast"))
    walls, last = [], None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        out = subprocess.run(
            [exe, "mfu", "measure", "--config", "small", "--json"], check=True, env=env, capture_output=True, text=True
        ).stdout
        walls.append(time.perf_counter() - t0)
        last = json.loads(out)
    res = {"runs": RUNS, "wall_s": walls, "wall_median_s": statistics.median(walls), "last_run": last}
    (HERE / "results_mfu.json").write_text(json.dumps(res, indent=2))
    print(json.dumps({k: v for k, v in res.items() if k != "last_run"}, indent=2))


if __name__ == "__main__":
    main()
