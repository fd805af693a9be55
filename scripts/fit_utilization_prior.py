"""Refit the utilization (MFU) prior and store it in src/flopcast/catalogs/data/utilization_prior.csv.

    .venv/bin/python scripts/fit_utilization_prior.py           # refit, write the file atomically, print the fit
    .venv/bin/python scripts/fit_utilization_prior.py --check   # refit and compare; exit 1 if the file differs
    .venv/bin/python scripts/fit_utilization_prior.py --out F   # write somewhere else

Data: every model of the embedded database that reports its MFU (Epoch AI's "Hardware utilization (MFU)",
with flopcast's curated overlay) and the cited runs of src/flopcast/catalogs/data/published_runs.csv. A
database row that a published run stands for (its ``database_key``) is replaced by the published run(s),
each published run of one model weighted 1/(its runs), so each model counts once. Rows without a chip
release date, a chip count or a precision are left out of the fit (they still count in the coverage).

Model (the runtime's formula lives in :mod:`flopcast.utilization.prior`)::

    logit(MFU) = b0 + b1 (release_year - 2020) + b2 log10(chips) + b3 [8-bit] + b4 [32-bit] + e

fitted as a weighted Bayesian linear regression: flat priors on b0, b1, b2; Normal(0, 0.5^2) on the two
precision offsets (the data hold one 8-bit run and two 32-bit runs, so they are mostly prior); the residual
variance s^2 and the coefficients solved together (s^2 = weighted RSS / (sum of weights - effective number
of parameters), iterated to a fixed point). The precision of a row is its reported one, else its chip's
default (the one flopcast costs the chip at, so MFU and peak agree). numpy and scipy (the t quantile).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from flopcast.utilization import observations
from flopcast.utilization.observations import Observation
from flopcast.utilization.prior import (
    CLASSES,
    COVARIATES,
    FIT_FILE,
    YEAR_ORIGIN,
    UtilizationFit,
    utilization_prior,
)

DATA = Path(__file__).resolve().parents[1] / "src" / "flopcast" / "catalogs" / "data"
AS_OF = "2026-12-01"
#: prior standard deviation (logit scale) of the 8-bit and 32-bit offsets from 16-bit
PRECISION_PRIOR_SD = 0.5
SOURCE = (
    "scripts/fit_utilization_prior.py: embedded database (Epoch AI ai_models, 'Hardware utilization (MFU)') "
    "+ catalogs/data/published_runs.csv"
)


def database_observations(db: object | None = None) -> list[Observation]:
    """Every database model that reports its MFU (:func:`flopcast.utilization.observations.database_observations`)."""
    from flopcast.service import database

    return observations.database_observations(db if db is not None else database(None))


def published_observations(db: object | None = None) -> list[Observation]:
    """The cited runs of published_runs.csv (:func:`flopcast.utilization.observations.published_observations`)."""
    from flopcast.service import database

    return observations.published_observations(db if db is not None else database(None))


def fit_observations(database_obs: list[Observation], published_obs: list[Observation]) -> list[Observation]:
    """The rows the fit uses: database rows not stood for by a published run, then the published runs;
    complete rows only."""
    replaced = {o.database_key for o in published_obs if o.database_key}
    rows = [o for o in database_obs if o.key not in replaced] + published_obs
    return [o for o in rows if o.complete]


def _design(obs: list[Observation]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.array(
        [
            [
                1.0,
                o.release_year - YEAR_ORIGIN,  # type: ignore[operator]
                math.log10(o.chips),  # type: ignore[arg-type]
                float(o.precision_class == "8-bit"),
                float(o.precision_class == "32-bit"),
            ]
            for o in obs
        ]
    )
    y = np.array([math.log(o.mfu / (1 - o.mfu)) for o in obs])
    w = np.array([o.weight for o in obs])
    return x, y, w


def fit(obs: list[Observation], n_database: int | None = None, n_published: int | None = None) -> UtilizationFit:
    """The weighted Bayesian linear regression of the module docstring, on complete rows ``obs``."""
    from scipy import stats

    x, y, w = _design(obs)
    prior_precision = np.zeros(x.shape[1])
    prior_precision[3:] = 1.0 / PRECISION_PRIOR_SD**2
    xtwx, xtwy = x.T @ (w[:, None] * x), x.T @ (w * y)
    s2 = float(np.average((y - np.average(y, weights=w)) ** 2, weights=w))
    for _ in range(200):
        cov = np.linalg.inv(xtwx / s2 + np.diag(prior_precision))
        b = cov @ xtwy / s2
        resid = y - x @ b
        p_eff = float(np.trace(cov @ xtwx)) / s2
        new = float((w * resid**2).sum()) / (float(w.sum()) - p_eff)
        if abs(new - s2) <= 1e-15 * s2:
            s2 = new
            break
        s2 = new
    cov = np.linalg.inv(xtwx / s2 + np.diag(prior_precision))
    b = cov @ xtwy / s2
    df = float(w.sum()) - float(np.trace(cov @ xtwx)) / s2
    years, chips = x[:, 1], x[:, 2]
    share = {k: float(w[[o.precision_class == k for o in obs]].sum() / w.sum()) for k in CLASSES}
    return UtilizationFit(
        coef=tuple(float(v) for v in b),
        cov=tuple(tuple(float(v) for v in row) for row in cov),
        residual_sd=math.sqrt(s2),
        t90=float(stats.t.ppf(0.95, df)),
        year_mean=float(np.average(years, weights=w)),
        year_sd=float(np.sqrt(np.average((years - np.average(years, weights=w)) ** 2, weights=w))),
        log10_chips_mean=float(np.average(chips, weights=w)),
        log10_chips_sd=float(np.sqrt(np.average((chips - np.average(chips, weights=w)) ** 2, weights=w))),
        precision_share=share,
        n_database=n_database if n_database is not None else sum(o.origin == "database" for o in obs),
        n_published=n_published if n_published is not None else sum(o.origin == "published" for o in obs),
        source=SOURCE,
        as_of=AS_OF,
    )


def fit_now(db: object | None = None) -> UtilizationFit:
    """The fit of the data as they are now (what the stored file must equal)."""
    d, p = database_observations(db), published_observations(db)
    return fit(fit_observations(d, p))


def rows_of(f: UtilizationFit) -> list[tuple[str, float, str]]:
    """The stored file's rows: name, value, notes."""
    names = ("intercept", *COVARIATES)
    unit = {
        "intercept": "logit(MFU) at a 2020 chip, 1 chip, 16-bit",
        "release_year": "per year of the chip's release date after 2020",
        "log10_chips": "per factor 10 in the chip count",
        "precision_8bit": "fp8/fp4 against 16-bit (Normal(0, 0.5^2) prior)",
        "precision_32bit": "fp32/tf32 against 16-bit (Normal(0, 0.5^2) prior)",
    }
    out = [(f"coef.{a}", v, unit[a]) for a, v in zip(names, f.coef, strict=True)]
    out += [
        (f"cov.{a}.{b}", f.cov[i][j], "covariance of the coefficients")
        for i, a in enumerate(names)
        for j, b in enumerate(names)
    ]
    out += [
        ("residual_sd", f.residual_sd, "residual standard deviation of logit(MFU)"),
        ("t90", f.t90, "Student-t 95% quantile at the residual degrees of freedom"),
        ("year_mean", f.year_mean, "mean of release_year - 2020 in the fitted rows (weighted)"),
        ("year_sd", f.year_sd, "its standard deviation (an unknown release year is marginalized over it)"),
        ("log10_chips_mean", f.log10_chips_mean, "mean of log10(chips) in the fitted rows (weighted)"),
        ("log10_chips_sd", f.log10_chips_sd, "its standard deviation (an unknown chip count is marginalized over it)"),
    ]
    out += [
        (f"precision_share.{k}", f.precision_share[k], "share of the fitted rows (an unknown precision is a mix)")
        for k in CLASSES
    ]
    out += [
        ("n_database", float(f.n_database), "database rows in the fit"),
        ("n_published", float(f.n_published), "published runs in the fit"),
    ]
    return out


def render(f: UtilizationFit) -> str:
    """The CSV text (``repr`` digits, so it reads back bit for bit)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["name", "value", "source", "as_of", "notes"])
    for name, value, notes in rows_of(f):
        shown = repr(int(value)) if name.startswith("n_") else repr(float(value))
        writer.writerow([name, shown, f.source, f.as_of, notes])
    return text.getvalue()


def write(f: UtilizationFit, path: Path | None = None) -> Path:
    """Write the fit atomically (a temporary file in the same folder, then os.replace)."""
    path = Path(path) if path is not None else DATA / FIT_FILE
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(render(f))
        os.chmod(tmp, 0o644)  # package data, readable by all (mkstemp makes 0600)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def prior_of(o: Observation, f: UtilizationFit | None = None) -> tuple[float, float, float]:
    """(low, median, high) of the prior at ``o``'s covariates (unknown ones marginalized)."""
    p = utilization_prior(release_year=o.release_year, chips=o.chips, precision=o.precision, fit=f)
    return p.low, p.median, p.high


def covered(obs: list[Observation], f: UtilizationFit | None = None) -> list[bool]:
    """Whether each reported MFU lies in the prior's 90% interval."""
    out = []
    for o in obs:
        lo, _, hi = prior_of(o, f)
        out.append(lo <= o.mfu <= hi)
    return out


def leave_one_out(obs: list[Observation]) -> list[bool]:
    """For each fitted row: refit without it (its model's other runs too), is it in that prior's 90% interval?"""
    out = []
    for o in obs:
        group = o.database_key or o.key
        rest = [r for r in obs if (r.database_key or r.key) != group]
        out.append(covered([o], fit(rest))[0])
    return out


def report(db: object | None = None) -> str:
    """A plain-text summary: the fit, coverage in and out of sample, and the cited anchors."""
    d, p = database_observations(db), published_observations(db)
    rows = fit_observations(d, p)
    f = fit(rows)
    names = ("intercept", *COVARIATES)
    lines = [f"fit to {len(rows)} rows ({f.n_database} database + {f.n_published} published)"]
    for i, a in enumerate(names):
        lines.append(f"  {a:16s} {f.coef[i]:+.4f} +- {math.sqrt(f.cov[i][i]):.4f}")
    lines.append(f"  residual sd {f.residual_sd:.4f}, t90 {f.t90:.4f}")
    cd, cp = covered(d, f), covered(p, f)
    lines.append(f"in-sample 90% coverage: database {sum(cd)}/{len(cd)}, published {sum(cp)}/{len(cp)}")
    loo = leave_one_out(rows)
    lines.append(f"leave-one-out 90% coverage of the fitted rows: {sum(loo)}/{len(loo)}")
    for o in p:
        lo, med, hi = prior_of(o, f)
        lines.append(f"  {o.key:30s} reported {o.mfu:.3f}  prior {med:.3f} ({lo:.3f}-{hi:.3f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--check", action="store_true", help="compare with the stored file; exit 1 if it differs")
    ap.add_argument("--out", type=Path, default=None, help="where to write (default: the bundled data file)")
    args = ap.parse_args(argv)
    f = fit_now()
    if args.check:
        stored = (DATA / FIT_FILE).read_text(encoding="utf-8")
        if stored != render(f):
            print(f"{FIT_FILE} differs from the refit; run scripts/fit_utilization_prior.py", file=sys.stderr)
            return 1
        print(f"{FIT_FILE} is up to date")
        return 0
    path = write(f, args.out)
    print(f"wrote {path}")
    print(report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
