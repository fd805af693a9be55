"""`flopcast costs` over synthetic databases 1x, 10x, 30x and 100x the embedded AI models table.

Each synthetic models table holds the embedded table's rows (scale 1) plus rows drawn from them at random
(seeded), each renamed ``NAME [synthetic K]`` so that every name is distinct; the hardware, prices and price
index tables are the embedded ones, as they are. Cells of columns flopcast does not read (abstracts, notes,
authors...) are cut to 200 characters in every table of every scale, so that the 100x file (about 226 MB)
stays under the reader's 256 MB limit (``reader.MAX_FILE_BYTES``); the columns flopcast reads are whole.

For each scale, ``flopcast costs --data DIR --format csv --out FILE --quiet`` runs in a fresh process with the
parsed-database cache off (``FLOPCAST_DB_CACHE=off``: a cold load every time), and its wall time and maximum
resident memory are read with ``resource.getrusage(RUSAGE_CHILDREN)`` after a fork per run (so each run's own
peak is seen). A second child per scale times the phases in process (read the database, build the hardware
imputer, impute a chip for every record) and its RSS once the database is read. The results go to ``benchmarks/results_scale.json`` and a markdown section is
printed; ``benchmarks/run_all.py`` folds it into RESULTS.md.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--scales 1,10,30,100] [--runs N]``. The whole run takes about a
quarter of an hour on two cores; 10x and over run once (smaller scales: ``--runs``, default 3, median kept).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

#: unread cells are cut to this many characters (see the module's docstring)
CAP = 200
SEED = 19

CHILD = """
import json, resource, sys, time
from flopcast.datasets.database import load_database
t0 = time.perf_counter()
db = load_database(sys.argv[1])
t1 = time.perf_counter()
rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
imp = db.imputer
t2 = time.perf_counter()
for r in db.records:
    imp.hardware(r)
t3 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "rss_after_load_mb": rss_load, "imputer_build_s": t2 - t1,
                  "impute_all_s": t3 - t2, "models": len(db.records)}))
"""


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _used_headers() -> set[str]:
    from flopcast.datasets import schema

    used = {a for kind in schema.KINDS for aliases in kind.columns.values() for a in aliases}
    return used | {"Training dataset", "Last modified"}


def _cap(rows: list[list[str]], used: set[str]) -> list[list[str]]:
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    keep = [h in used for h in header]
    out = [rows[0]]
    for row in rows[1:]:
        out.append([c if (i < len(keep) and keep[i]) or len(c) <= CAP else c[:CAP] for i, c in enumerate(row)])
    return out


def _write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)


def build(folder: Path, scale: int) -> dict:
    """A data folder whose models table is ``scale`` times the embedded one (see the module's docstring)."""
    from flopcast.datasets.source import embedded_files

    folder.mkdir(parents=True, exist_ok=True)
    used = _used_headers()
    files = embedded_files()
    for kind, path in files.items():
        if kind == "models":
            continue
        _write(folder / path.name.removesuffix(".gz"), _cap(_read_csv(path), used))
    rows = _cap(_read_csv(files["models"]), used)
    header, body = rows[0], rows[1:]
    name_i = [h.strip().lstrip("\ufeff") for h in header].index("Model")
    rng = random.Random(SEED)
    out = folder / "ai_models.csv"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(body)
        for k in range(len(body) * (scale - 1)):
            row = list(rng.choice(body))
            row[name_i] = f"{row[name_i]} [synthetic {k + 1}]"
            w.writerow(row)
    return {"models_rows": len(body) * scale, "models_bytes": out.stat().st_size}


def _run_costs(folder: Path, out: Path) -> dict:
    """One fresh ``flopcast costs --data DIR`` process: its wall time and its own maximum RSS (a fork per run,
    so ``RUSAGE_CHILDREN`` of the fork is that run's peak alone)."""
    exe = Path(sys.executable).parent / "flopcast"
    cmd = [str(exe), "costs", "--data", str(folder), "--format", "csv", "--out", str(out), "--quiet"]
    env = dict(os.environ, FLOPCAST_DB_CACHE="off")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the command, report its own children's usage
        os.close(r)
        import resource

        t0 = time.perf_counter()
        code = subprocess.run(cmd, env=env, capture_output=True).returncode
        wall = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        os.write(w, json.dumps({"wall_s": wall, "max_rss_mb": rss, "rc": code}).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    res = json.loads(data)
    if res["rc"] != 0:
        raise SystemExit(f"flopcast costs --data {folder} failed (exit {res['rc']})")
    with open(out, encoding="utf-8") as fh:
        res["rows_out"] = sum(1 for _ in fh) - 1
    return res


def _phases(folder: Path) -> dict:
    env = dict(os.environ, FLOPCAST_DB_CACHE="off")
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def render(res: dict) -> str:
    """The markdown section for RESULTS.md."""
    L = ["## 9. Scaling: synthetic databases 1x to 100x the embedded models table (`bench_scale.py`)\n"]
    L.append(
        "`flopcast costs --data DIR --format csv --out FILE` in a fresh process, the parsed-database cache off (a "
        "cold load), on models tables of 1x to 100x the embedded one's rows (resampled, renamed; unread cells cut to "
        f"{CAP} characters, see the script); wall time and the process's maximum RSS; ms per model counts every row of the models "
        "table. Phases from a second process: `load_database`, its RSS once loaded, building the hardware imputer "
        "and imputing a chip for every record.\n"
    )
    L.append(
        "| scale | models | estimated | CSV MB | wall s | max RSS MB | ms per model | x 1x wall | x 1x RSS | load s | "
        "RSS after load MB | imputer build s | impute all s |"
    )
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = res["scales"][0]
    for s in res["scales"]:
        p = s["phases"]
        L.append(
            f"| {s['scale']}x | {s['models']:,} | {s['rows_out']:,} | {s['models_bytes'] / 1e6:.0f} | {s['wall_s']:.1f} | "
            f"{s['max_rss_mb']:.0f} | {1000 * s['wall_s'] / s['models']:.2f} | {s['wall_s'] / base['wall_s']:.1f} | "
            f"{s['max_rss_mb'] / base['max_rss_mb']:.1f} | {p['load_s']:.2f} | {p['rss_after_load_mb']:.0f} | "
            f"{p['imputer_build_s']:.2f} | {p['impute_all_s']:.2f} |"
        )
    g = res["growth"]
    L.append(
        f"\nGrowth from 10x to 100x (linear is 10.0): wall {g['wall_10_to_100']:.1f}x, max RSS "
        f"{g['rss_10_to_100']:.1f}x; RSS above the 1x run, 10x to 100x: {g['rss_above_1x_10_to_100']:.1f}x. "
        f"100x under 1 GiB: {'met' if res['scales'][-1]['max_rss_mb'] < 1024 else '**NOT met**'}.\n"
    )
    top, first = res["scales"][-1], res["scales"][0]
    held = top["phases"]["rss_after_load_mb"]
    per = (held - first["phases"]["rss_after_load_mb"]) / max(top["models"] - first["models"], 1) * 1024
    L.append(
        f"At {top['scale']}x the database, once read, holds {held:.0f} MB of the command's {top['max_rss_mb']:.0f} MB "
        f"peak ({per:.1f} kB a model beyond the {first['scale']}x run); the rest, {top['max_rss_mb'] - held:.0f} MB, "
        "is the batch, which streams its rows (a few chunks held at a time) and runs in one forked worker per core: "
        "the maximum RSS is the largest process's (`RUSAGE_CHILDREN`), and the workers share the parent's pages "
        "copy-on-write.\n"
    )
    return "\n".join(L) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10,30,100")
    ap.add_argument("--render", action="store_true", help="print the section from results_scale.json, run nothing")
    ap.add_argument("--runs", type=int, default=3, help="runs of the scales under 10x (10x and over run once)")
    args = ap.parse_args()
    if args.render:
        print(render(json.loads((HERE / "results_scale.json").read_text())))
        return
    scales = [int(x) for x in args.scales.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="flopcast-scale-"))
    results = []
    try:
        for scale in scales:
            folder = tmp / f"x{scale}"
            info = build(folder, scale)
            runs = [_run_costs(folder, tmp / "costs.csv") for _ in range(1 if scale >= 10 else args.runs)]
            phases = _phases(folder)
            results.append(
                {
                    "scale": scale,
                    "models": phases["models"],
                    "models_bytes": info["models_bytes"],
                    "runs": len(runs),
                    "wall_s": statistics.median(r["wall_s"] for r in runs),
                    "max_rss_mb": statistics.median(r["max_rss_mb"] for r in runs),
                    "rows_out": runs[0]["rows_out"],
                    "phases": phases,
                }
            )
            print(json.dumps(results[-1]), file=sys.stderr)
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    by = {r["scale"]: r for r in results}
    growth = {}
    if 10 in by and 100 in by:
        one = by.get(1, by[10])
        growth = {
            "wall_10_to_100": by[100]["wall_s"] / by[10]["wall_s"],
            "rss_10_to_100": by[100]["max_rss_mb"] / by[10]["max_rss_mb"],
            "rss_above_1x_10_to_100": (by[100]["max_rss_mb"] - one["max_rss_mb"])
            / max(by[10]["max_rss_mb"] - one["max_rss_mb"], 1e-9),
        }
    res = {"cap_chars": CAP, "seed": SEED, "cores": len(os.sched_getaffinity(0)), "scales": results, "growth": growth}
    if growth:
        (HERE / "results_scale.json").write_text(json.dumps(res, indent=2) + "\n")
        print(render(res))
    else:
        print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
