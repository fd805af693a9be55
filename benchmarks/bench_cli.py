"""CLI start-up benchmark: wall time of fresh `flopcast` processes.

* ``python -c pass``                                   -- interpreter baseline (20 runs)
* ``python -c "import flopcast.cli.main"``             -- import cost of the CLI module (20 runs)
* ``flopcast --help``                                  -- 20 runs
* ``flopcast estimate gpt-3 --samples 10000``          -- 5 runs (random sampling, the default)
* ``flopcast estimate gpt-3 --samples 10000 --sampling sobol`` -- 5 runs

Median wall time (``time.perf_counter`` around ``subprocess.run``), one thread, output
to a pipe. Also records the slowest imports of ``flopcast --help`` (``-X importtime``).

Run: ``.venv/bin/python benchmarks/bench_cli.py``; writes benchmarks/results_cli.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
FLOPCAST = str(BIN / "flopcast")
PY = sys.executable

ENV = dict(
    os.environ,
    OMP_NUM_THREADS="1",
    OPENBLAS_NUM_THREADS="1",
    MKL_NUM_THREADS="1",
    NUMEXPR_NUM_THREADS="1",
    COLUMNS="120",
    PYTHONDONTWRITEBYTECODE="1",
)


def _pin():
    with contextlib.suppress(AttributeError, OSError):  # not Linux
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # children inherit it


def time_cmd(cmd, runs):
    subprocess.run(cmd, capture_output=True, env=ENV, cwd=ROOT)  # warm the file cache
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, env=ENV, cwd=ROOT)
        ts.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd} exited {p.returncode}: {p.stderr.decode()[-2000:]}")
    return {
        "cmd": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)),
        "runs": runs,
        "median_ms": 1e3 * statistics.median(ts),
        "min_ms": 1e3 * min(ts),
        "max_ms": 1e3 * max(ts),
    }


def slowest_imports(cmd, top=8):
    """Cumulative import times (ms) of the heaviest top-level-ish modules, from -X importtime."""
    p = subprocess.run([PY, "-X", "importtime", *cmd], capture_output=True, text=True, env=ENV, cwd=ROOT)
    rows = []
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cum_us, name = line[len("import time:") :].split("|", 2)
        name = name.rstrip()
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((int(cum_us) / 1e3, depth, name.strip()))
    # modules imported at depth <= 1 (directly, or by a direct import), heaviest first
    shallow = sorted((r for r in rows if r[1] <= 1), reverse=True)[:top]
    return [{"module": n, "depth": d, "cumulative_ms": round(c, 1)} for c, d, n in shallow]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "results_cli.json"))
    args = ap.parse_args(argv)
    _pin()
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    res = {}
    res["python_pass"] = time_cmd([PY, "-c", "pass"], 20)
    res["import_cli"] = time_cmd([PY, "-c", "import flopcast.cli.main"], 20)
    res["help"] = time_cmd([FLOPCAST, "--help"], 20)
    res["estimate_gpt3_10k"] = time_cmd([FLOPCAST, "estimate", "gpt-3", "--samples", "10000"], 5)
    res["estimate_gpt3_10k_sobol"] = time_cmd(
        [FLOPCAST, "estimate", "gpt-3", "--samples", "10000", "--sampling", "sobol"], 5
    )
    for k, r in res.items():
        log(f"{k:26s} {r['median_ms']:7.1f} ms (median of {r['runs']})")
    base = res["python_pass"]["median_ms"]
    out = {
        "benchmark": "CLI start-up (fresh processes, wall time)",
        "results": res,
        "help_over_python_pass": res["help"]["median_ms"] / base,
        "help_minus_python_pass_ms": res["help"]["median_ms"] - base,
        "estimate_minus_help_ms": res["estimate_gpt3_10k"]["median_ms"] - res["help"]["median_ms"],
        "help_slowest_imports": slowest_imports(
            ["-c", "import sys; sys.argv=['flopcast','--help'];from flopcast.cli.main import main; main()"]
        ),
        "estimate_slowest_imports": slowest_imports(
            [
                "-c",
                "import sys; sys.argv=['flopcast','estimate','gpt-3','--samples','10000'];"
                "from flopcast.cli.main import main; main()",
            ]
        ),
        "timing": {"clock": "time.perf_counter around subprocess.run", "statistic": "median", "threads": 1},
    }
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    log(f"wrote {args.out}")
    return out


if __name__ == "__main__":
    main()
