"""The floor of ``flopcast costs``: the least work any exact-quantile Monte Carlo of the same batch must do, in numpy.

``flopcast costs`` reports, for every sampled output of every model, its mean and its exact p5, p50 and p95
(numpy's "linear" quantile). Whatever the model behind them, each such row must at least be drawn once
(one pass over its samples), averaged (one pass) and have its six order statistics selected. This script
does exactly that and nothing else, on every core this process may use (numpy releases the GIL in its
loops), for as many rows and samples as the real batch has (``bench_startup.py`` counts them in the CSV
that ``flopcast costs`` writes):

* normal scores, one column per input slot, and a pool of shared
  ``exp(sigma z)`` vectors (a slot and a spread each), as a sampler that shares its draws across models
  keeps them;
* per row, its draws: a per-model median times two vectors of the pool (an output depends on at least two
  uncertain inputs, else it is read off one input's order: two multiplications). The rows must differ as
  the real ones do: identical rows up to a scale partition 3x faster (the branch predictor learns them);
* its mean, and its order statistics by ``np.partition`` of the samples' bit patterns as int64 (for
  positive doubles they order as the values do; this is the fastest exact selection numpy offers, and what
  flopcast does too).

No database, no resolution of inputs, no cost formula, no output: a floor, not a peer. The time of the
process (its interpreter and ``import numpy`` included) is the figure ``bench_startup.py`` sets beside
``flopcast costs``.

Run: ``.venv/bin/python benchmarks/mc_floor.py --rows R [--samples N] [--slots S]``.
"""

from __future__ import annotations

import argparse
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def ranks(n: int) -> list[int]:
    """The order statistics numpy's linear quantile reads for p5, p50 and p95 of ``n`` samples.

    :func:`flopcast.uncertainty.summary.quantile_ranks`' ranks (tests/test_bench_floors.py keeps them equal),
    restated here: importing flopcast would add its import time to a floor that is numpy alone."""
    out: set[int] = set()
    for q in (0.05, 0.5, 0.95):
        h = (n - 1) * q
        lo = int(np.floor(h))
        out.update((lo, min(lo + 1, n - 1)))
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, required=True, help="sampled output rows, over every model")
    ap.add_argument("--samples", type=int, default=8192)
    ap.add_argument("--slots", type=int, default=8, help="input slots with shared draws")
    ap.add_argument("--pool", type=int, default=64, help="shared exp(sigma z) vectors (slot and spread)")
    ap.add_argument("--block", type=int, default=32, help="rows per block of work")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    n = args.samples
    z = rng.standard_normal((args.slots, n))  # (slots, samples): normal scores (no scipy: its import is no floor)
    shared = np.exp(rng.uniform(0.1, 1.0, (args.pool, 1)) * z[rng.integers(0, args.slots, args.pool)])
    medians = rng.uniform(1.0, 10.0, (args.rows, 1))
    first, second = rng.integers(0, args.pool, args.rows), rng.integers(0, args.pool, args.rows)
    kth = ranks(n)
    local = threading.local()

    def block(start: int) -> float:
        stop = min(start + args.block, args.rows)
        buf = getattr(local, "buf", None)
        if buf is None:  # one buffer per thread, reused: no fresh pages to fault in for every block
            buf = local.buf = np.empty((args.block, n))
        x = buf[: stop - start]
        for i, row in enumerate(x):  # the draws: two vectors of the pool, times the model's median
            np.multiply(shared[first[start + i]], shared[second[start + i]], out=row)
        x *= medians[start:stop]
        total = float(x.mean(axis=1).sum())  # the means
        x.view(np.int64).partition(kth, axis=1)  # the order statistics
        return total + float(x[:, kth].sum())

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with ThreadPoolExecutor(cores) as pool:
        checksum = sum(pool.map(block, range(0, args.rows, args.block)))
    return 0 if np.isfinite(checksum) else 1


if __name__ == "__main__":
    raise SystemExit(main())
