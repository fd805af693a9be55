"""Commands against their floors and their peers, in fresh processes, interleaved in one run (issue 19).

Each round runs every command below once, in turn, so that a slow moment of the machine hits all of
them alike; the figures are medians over the rounds, and each ratio is the ratio of two medians of
the same run.

* floors: ``python -c pass`` (a bare interpreter), ``python -c "import numpy"``, and
  ``python -c "import pandas; pandas.read_csv(<the embedded models table>)"`` (reading the file the
  batch reads, with the library made for it);
* flopcast: ``flopcast --help`` (its kept copy, see flopcast.cli.helpcache), ``flopcast estimate gpt-3
  --json``, the 1% Monte Carlo job (``mc_job.py flopcast``) and ``flopcast costs`` over the whole
  embedded database (time and maximum resident memory of the process, from ``os.wait4``);
* peers: the same 1% job with squigglepy used correctly and with plain numpy (``mc_job.py``);
* the floors beneath the two commands whose targets are set against other floors: ``python -c "import numpy,
  typer"`` (the two libraries any typer command that computes with numpy loads) beneath ``estimate``, and
  ``mc_floor.py`` beneath ``costs`` (the least work any exact-quantile Monte Carlo of the same batch does:
  as many sampled rows as the CSV of the untimed ``costs`` run reports, at its sample count). Their ratios
  are printed beside the targets, as facts, not as targets; so is the time the ``estimate`` command spends
  creating its dataclasses (Python 3.11 generates each class's methods with ``exec``).

Then ``-X importtime`` of each flopcast command: its heaviest imports, and any module it must not
import (``--help``: typer, rich, numpy; ``estimate``: scipy, pandas, matplotlib). A target that is
missed, or a module that should not be there, is printed as **MISSED** at the top of the report and
makes this script exit with status 1; it is never a timed assert in the tests.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--rounds N]``; writes benchmarks/results_startup.json
(with the markdown section that run_all.py puts in RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flopcast.defaults import DEFAULT_SAMPLES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PY = sys.executable
FLOPCAST = str(BIN / "flopcast")
MODELS = ROOT / "src" / "flopcast" / "datasets" / "embedded" / "ai_models.csv.gz"

#: the done-when targets of issue 19 that this benchmark measures: (label, numerator, denominator, at most)
RATIO_TARGETS = [
    ("`flopcast estimate gpt-3 --json` <= 2x `import numpy`", "estimate", "numpy", 2.0),
    ("`flopcast --help` <= 3x a bare interpreter", "help", "pass", 3.0),
    ("the 1% Monte Carlo job >= 3x faster than squigglepy's", "mc_flopcast", "mc_squigglepy", 1 / 3),
    ("`flopcast costs` (whole database) <= 2x pandas reading the models table", "costs", "pandas_read", 2.0),
]
COSTS_MAX_RSS_MIB = 250.0
#: modules a command must not import: (command key, prefixes)
FORBIDDEN = {
    "help": ("typer", "rich", "numpy", "click"),
    "estimate": ("scipy", "pandas", "matplotlib", "jinja2", "fastapi"),
}


def commands(out_csv: str, rows: int) -> dict[str, list[str]]:
    return {
        "pass": [PY, "-c", "pass"],
        "numpy": [PY, "-c", "import numpy"],
        "numpy_typer": [PY, "-c", "import numpy, typer"],
        "pandas_read": [PY, "-c", f"import pandas; pandas.read_csv({str(MODELS)!r})"],
        "help": [FLOPCAST, "--help"],
        "estimate": [FLOPCAST, "estimate", "gpt-3", "--json"],
        "mc_flopcast": [PY, str(HERE / "mc_job.py"), "flopcast"],
        "mc_squigglepy": [PY, str(HERE / "mc_job.py"), "squigglepy"],
        "mc_numpy": [PY, str(HERE / "mc_job.py"), "numpy"],
        "costs": [FLOPCAST, "costs", "--format", "csv", "--out", out_csv, "--quiet"],
        "mc_floor": [PY, str(HERE / "mc_floor.py"), "--rows", str(rows), "--samples", str(DEFAULT_SAMPLES)],
    }


LABELS = {
    "pass": "`python -c pass`",
    "numpy": '`python -c "import numpy"`',
    "numpy_typer": '`python -c "import numpy, typer"`',
    "pandas_read": '`python -c "import pandas; pandas.read_csv(ai_models.csv.gz)"`',
    "help": "`flopcast --help`",
    "estimate": "`flopcast estimate gpt-3 --json`",
    "mc_flopcast": "1% job, flopcast (`mc_job.py flopcast`, 2^13 Sobol samples)",
    "mc_squigglepy": "1% job, squigglepy (`mc_job.py squigglepy`, 2^16 samples)",
    "mc_numpy": "1% job, plain numpy (`mc_job.py numpy`, 2^16 samples)",
    "costs": "`flopcast costs --format csv --out F` (999 models)",
    "mc_floor": "the floor of `costs`: `mc_floor.py` (its sampled rows drawn, averaged, p5/p50/p95 selected)",
}

#: the floors beneath two commands, reported beside the targets: (label, command, floor)
FLOORS = [
    ("`flopcast estimate gpt-3 --json` against numpy + typer", "estimate", "numpy_typer"),
    ("`flopcast costs` against the floor of its Monte Carlo", "costs", "mc_floor"),
]

#: the dataclasses the estimate command creates, and the seconds that takes (printed on stderr)
DATACLASS_PROBE = """
import sys, time, dataclasses
made, spent = [], [0.0]
create = dataclasses._process_class
def timed(cls, *args):
    t = time.perf_counter()
    try:
        return create(cls, *args)
    finally:
        spent[0] += time.perf_counter() - t
        made.append(cls.__qualname__)
dataclasses._process_class = timed
from flopcast.cli.main import main
try:
    main(["estimate", "gpt-3", "--json"])
finally:
    print("DATACLASSES", len(made), spent[0], file=sys.stderr)
"""

#: as on a user's machine, Python keeps the bytecode it compiles (this sandbox sets PYTHONDONTWRITEBYTECODE, which
#: makes every process compile flopcast from source); it goes to a folder of the run's own, not the checkout
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"COLUMNS": "100"}


def once(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and maximum resident memory (MiB) of one fresh process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV, cwd=ROOT)
    assert p.stderr is not None
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


def sampled_rows(csv_path: str) -> int:
    """The sampled rows of a ``costs`` CSV: every output (a column with ``_p5`` and ``_p95``) of every model whose
    p5 and p95 differ (a point output is one number, not a row of samples)."""
    import csv

    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        outputs = [c[: -len("_p5")] for c in reader.fieldnames or () if c.endswith("_p5")]
        return sum(1 for row in reader for o in outputs if row[f"{o}_p5"] and row[f"{o}_p5"] != row[f"{o}_p95"])


def dataclass_cost(runs: int = 5) -> tuple[int, float]:
    """The dataclasses ``flopcast estimate gpt-3 --json`` creates, and the median ms it spends creating them."""
    spent, count = [], 0
    for _ in range(runs):
        p = subprocess.run([PY, "-c", DATACLASS_PROBE], capture_output=True, text=True, env=ENV, cwd=ROOT)
        line = [x for x in p.stderr.splitlines() if x.startswith("DATACLASSES ")][-1].split()
        count = int(line[1])
        spent.append(1e3 * float(line[2]))
    return count, statistics.median(spent)


def importtime(cmd: list[str]) -> list[tuple[float, int, str]]:
    """(cumulative ms, depth, module) of every import of ``cmd``, from ``python -X importtime``."""
    argv = [PY, "-X", "importtime", *(cmd[1:] if cmd[0] == PY else cmd)]
    p = subprocess.run(argv, capture_output=True, text=True, env=ENV, cwd=ROOT)
    rows = []
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cum, name = line[len("import time:") :].split("|", 2)
        depth = (len(name.rstrip()) - len(name.strip()) - 1) // 2
        rows.append((int(cum) / 1e3, depth, name.strip()))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--costs-rounds", type=int, default=5, help="rounds that also run the (slow) costs command")
    ap.add_argument("--out", default=str(HERE / "results_startup.json"))
    args = ap.parse_args(argv)
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        out_csv = os.path.join(tmp, "costs.csv")
        once(commands(out_csv, 0)["costs"])  # its CSV gives the floor its size
        floor_rows = sampled_rows(out_csv)
        cmds = commands(out_csv, floor_rows)
        for cmd in cmds.values():  # warm: the file cache, the kept help screen, the Sobol points, the database
            once(cmd)
        walls: dict[str, list[float]] = {k: [] for k in cmds}
        rss: dict[str, list[float]] = {k: [] for k in cmds}
        for r in range(args.rounds):
            for k, cmd in cmds.items():
                if k in ("costs", "mc_floor") and r >= args.costs_rounds:
                    continue
                w, m = once(cmd)
                walls[k].append(w)
                rss[k].append(m)
            log(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k} {1e3 * v[-1]:.0f}" for k, v in walls.items() if v))
        imports = {k: importtime(cmds[k]) for k in ("help", "estimate", "mc_flopcast", "costs")}
        classes, class_ms = dataclass_cost()
    med = {k: statistics.median(v) for k, v in walls.items()}
    results = {
        k: {
            "label": LABELS[k],
            "runs": len(walls[k]),
            "median_ms": 1e3 * med[k],
            "min_ms": 1e3 * min(walls[k]),
            "max_ms": 1e3 * max(walls[k]),
            "max_rss_mib": max(rss[k]),
        }
        for k in cmds
    }
    checks = []
    for label, num, den, limit in RATIO_TARGETS:
        ratio = med[num] / med[den]
        checks.append({"target": label, "ratio": ratio, "limit": limit, "met": ratio <= limit})
    costs_rss = results["costs"]["max_rss_mib"]
    checks.append(
        {
            "target": f"`flopcast costs` under {COSTS_MAX_RSS_MIB:.0f} MiB",
            "value_mib": costs_rss,
            "limit": COSTS_MAX_RSS_MIB,
            "met": costs_rss < COSTS_MAX_RSS_MIB,
        }
    )
    floors = [{"what": label, "ratio": med[num] / med[den], "command": num, "floor": den} for label, num, den in FLOORS]
    heavy = {}
    for k, prefixes in FORBIDDEN.items():
        bad = sorted({n for _, _, n in imports[k] if n.split(".")[0] in prefixes})
        heavy[k] = bad
        checks.append({"target": f"{LABELS[k]} imports none of {', '.join(prefixes)}", "found": bad, "met": not bad})
    slowest = {
        k: [{"module": n, "cumulative_ms": round(c, 1)} for c, d, n in sorted(rows, reverse=True) if d <= 1][:8]
        for k, rows in imports.items()
    }
    out = {
        "benchmark": "commands against their floors and peers (fresh processes, interleaved rounds)",
        "rounds": args.rounds,
        "results": results,
        "checks": checks,
        "floors": floors,
        "floor_rows": floor_rows,
        "samples": DEFAULT_SAMPLES,
        "estimate_dataclasses": {"classes": classes, "median_ms": class_ms},
        "slowest_imports": slowest,
        "all_met": all(c["met"] for c in checks),
    }
    out["markdown"] = render(out)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(out["markdown"])
    log(f"wrote {args.out}")
    return 0 if out["all_met"] else 1


def render(out: dict) -> str:
    res, checks = out["results"], out["checks"]
    lines = ["## 2. Commands against their floors and peers (`bench_startup.py`)\n"]
    missed = [c for c in checks if not c["met"]]
    if missed:
        lines.append("**MISSED** (" + "; ".join(c["target"] for c in missed) + ")\n")
    else:
        lines.append("Every target met.\n")
    lines.append(
        f"Fresh processes, {out['rounds']} interleaved rounds (each round runs every command once, in turn; "
        f"`costs` in {res['costs']['runs']} of them), medians; ratios are of two medians of this run. After one "
        "untimed run of each: its bytecode compiled (kept in a folder of the run's own, as Python keeps it on any "
        "machine), the help screen, the Sobol points and the parsed database kept.\n"
    )
    base = res["pass"]["median_ms"]
    lines.append("| command | median ms | min ms | x bare interpreter | max RSS MiB |\n|---|---:|---:|---:|---:|")
    for r in res.values():
        lines.append(
            f"| {r['label']} | {r['median_ms']:.1f} | {r['min_ms']:.1f} | {r['median_ms'] / base:.1f} "
            f"| {r['max_rss_mib']:.0f} |"
        )
    lines.append("\n| target | measured | met |\n|---|---:|---|")
    for c in checks:
        if "ratio" in c:
            shown = f"{c['ratio']:.2f}x" if c["limit"] >= 1 else f"{1 / c['ratio']:.1f}x faster"
        elif "value_mib" in c:
            shown = f"{c['value_mib']:.0f} MiB"
        else:
            shown = ", ".join(c["found"]) or "none"
        lines.append(f"| {c['target']} | {shown} | {'yes' if c['met'] else '**MISSED**'} |")
    dc = out["estimate_dataclasses"]
    lines.append(
        "\nBeneath the two commands that miss, the floors they cannot go below, measured in the same rounds (facts, "
        "not targets). The floor of `costs` is its Monte Carlo alone: its "
        f"{out['floor_rows']:,} sampled rows (the outputs of its CSV whose p5 and p95 differ) at {out['samples']:,} "
        "samples, each drawn, averaged and its p5/p50/p95 selected exactly, in bare numpy on every core "
        "(`mc_floor.py`); no database, no inputs resolved, no formula, nothing written.\n"
    )
    lines.append("| command against its floor | ratio |\n|---|---:|")
    for f in out["floors"]:
        lines.append(f"| {f['what']} | {f['ratio']:.2f}x |")
    lines.append(
        f"\n`flopcast estimate gpt-3 --json` creates {dc['classes']} dataclasses, which takes {dc['median_ms']:.0f} ms "
        "in process (median of 5; Python 3.11 compiles each generated method with `exec`).\n"
    )
    lines.append("Heaviest imports (`-X importtime`, cumulative ms, modules at depth <= 1):\n")
    for k, mods in out["slowest_imports"].items():
        lines.append(f"- {res[k]['label']}: " + ", ".join(f"{m['module']} {m['cumulative_ms']:.0f}" for m in mods))
    lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
