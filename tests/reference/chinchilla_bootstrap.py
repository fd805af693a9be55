"""Bootstrap of the Chinchilla approach-3 fit on Besiroglu et al. 2024's reconstructed data.

Besiroglu, Erdil, Barnett and You 2024, "Chinchilla Scaling: A replication attempt"
(arXiv 2404.10102), extracted 245 (N, C, loss) points from Hoffmann et al. 2022's figure 4
(``svg_extracted_data.csv`` of https://github.com/Besiroglu/data, linked from
https://epochai.org/code/analyzing-chinchilla-repo; copied here as
``chinchilla_besiroglu_points.csv``: parameters, training FLOP, loss; D = C / (6 N)) and refit
``L = E + A / N^alpha + B / D^beta`` the way Hoffmann et al. describe it: minimize the sum of
Huber losses (delta = 1e-3) of ``LSE(a - alpha log N, b - beta log D, e) - log L`` over
(a, b, e, alpha, beta) = (log A, log B, log E, alpha, beta), from a grid of starting points,
after dropping the 5 points with the fewest tokens per parameter (240 left). They report
E = 1.8172 (0.03), A = 482.01 (124.58), B = 2085.43 (1293.23), alpha = 0.3478 (0.02),
beta = 0.3658 (0.02), standard errors from 4,000 bootstrap resamples.

This script repeats that fit (our full-sample optimum: E = 1.8172, A = 477.8, B = 2143.4,
alpha = 0.3473, beta = 0.3672, within a small fraction of a standard error of the paper's) and
its bootstrap, and writes ``src/flopcast/catalogs/data/chinchilla_bootstrap.csv``: row 0 is the
full-sample fit, rows 1..DRAWS the fits to resamples (with replacement) of the 240 points. The
bootstrap keeps the strong correlations between A and alpha and between B and beta that the
published standard errors alone lose (drawing the five parameters independently from them
gives GPT-3's emulation anywhere from 1.0x to 25x less compute). ``flopcast.scaling`` uses the
rows as deviations from row 0 (see ``fit_draws``). ``tests/test_emulation_fits.py`` checks
that the file's standard deviations match the published standard errors.

Run ``python tests/reference/chinchilla_bootstrap.py`` (about 4 minutes on two cores).
"""

from __future__ import annotations

import csv
import itertools
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
POINTS = HERE / "chinchilla_besiroglu_points.csv"
OUT = ROOT / "src/flopcast/catalogs/data/chinchilla_bootstrap.csv"
DRAWS = 2000
SEED = 20240416  # arXiv 2404.10102 was submitted on 2024-04-15
HUBER_DELTA = 1e-3
DROPPED = 5  # the points with the fewest tokens per parameter, as the paper does


def load_points(path: pathlib.Path = POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(params, tokens, loss) of the 240 points the fit uses."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = np.array([[float(r["params"]), float(r["training_flop"]), float(r["loss"])] for r in csv.DictReader(f)])
    n, c, loss = rows.T
    d = c / (6.0 * n)
    keep = np.argsort(d / n, kind="stable")[DROPPED:]
    return n[keep], d[keep], loss[keep]


def objective(p, log_n, log_d, log_loss):
    """Sum of Huber losses of the log-space residuals, and its gradient."""
    from scipy.special import huber, logsumexp, softmax

    a, b, e, alpha, beta = p
    z = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    res = logsumexp(z, axis=0) - log_loss
    w = softmax(z, axis=0)
    g = np.clip(res, -HUBER_DELTA, HUBER_DELTA)  # d huber / d res
    grad = np.array(
        [(g * w[0]).sum(), (g * w[1]).sum(), (g * w[2]).sum(), -(g * w[0] * log_n).sum(), -(g * w[1] * log_d).sum()]
    )
    return float(huber(HUBER_DELTA, res).sum()), grad


def fit(log_n, log_d, log_loss, starts) -> np.ndarray:
    """(log A, log B, log E, alpha, beta) with the least objective over ``starts``."""
    from scipy.optimize import minimize

    best = None
    for s in starts:
        r = minimize(objective, s, args=(log_n, log_d, log_loss), jac=True, method="BFGS", options={"gtol": 1e-12})
        if best is None or r.fun < best.fun:
            best = r
    assert best is not None
    return np.asarray(best.x)


def grid_starts():
    """Hoffmann et al.'s grid: alpha, beta in 0..2, e in -1..1, a, b in 0..25."""
    for alpha, beta, e, a, b in itertools.product(
        [0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2], [-1, -0.5, 0, 0.5, 1], range(0, 30, 5), range(0, 30, 5)
    ):
        yield [a, b, e, alpha, beta]


def _boot(args):
    idx, x0, log_n, log_d, log_loss = args
    step = np.array([0.5, 0.5, 0.0, 0.05, 0.05])
    starts = [x0, x0 + step, x0 - step]
    return fit(log_n[idx], log_d[idx], log_loss[idx], starts)


def main() -> None:
    from concurrent.futures import ProcessPoolExecutor

    n, d, loss = load_points()
    log_n, log_d, log_loss = np.log(n), np.log(d), np.log(loss)
    x0 = fit(log_n, log_d, log_loss, grid_starts())
    rng = np.random.default_rng(SEED)
    jobs = [(rng.integers(0, n.size, n.size), x0, log_n, log_d, log_loss) for _ in range(DRAWS)]
    with ProcessPoolExecutor() as pool:
        draws = list(pool.map(_boot, jobs, chunksize=50))
    rows = [x0, *draws]
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["draw", "E", "A", "B", "alpha", "beta"])
        for i, (a, b, e, alpha, beta) in enumerate(rows):
            w.writerow([i, f"{np.exp(e):.6g}", f"{np.exp(a):.6g}", f"{np.exp(b):.6g}", f"{alpha:.6g}", f"{beta:.6g}"])
    sd = np.std(np.array(draws), axis=0, ddof=1)
    print(f"wrote {OUT} ({DRAWS} draws); full-sample fit E, A, B, alpha, beta =", np.exp(x0[[2, 0, 1]]), x0[3:])
    print("bootstrap sd of log A, log B, log E, alpha, beta:", sd)


if __name__ == "__main__":
    main()
