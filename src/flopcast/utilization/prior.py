"""The utilization (MFU) prior: what MFU to expect where none is reported, by chip generation, scale and precision.

The model, fitted once by ``scripts/fit_utilization_prior.py`` to the MFU the database reports and to the
cited runs of ``catalogs/data/published_runs.csv``, and stored in ``catalogs/data/utilization_prior.csv``::

    logit(MFU) = b0 + b1 (release_year - 2020) + b2 log10(chips) + b3 [8-bit] + b4 [32-bit] + e,
    e ~ Normal(0, s^2)

``release_year`` is the chip's release date as a decimal year; ``[8-bit]`` is 1 for fp8/fp4 training and
``[32-bit]`` for fp32/tf32 (16-bit, bf16 or fp16, is the baseline). MFU is against the dense peak at that
precision (Chowdhery et al. 2022, arXiv 2204.02311, §4.1 and Appendix B). The coefficients are the
posterior mean of a Bayesian linear regression (flat priors on b0..b2, Normal(0, 0.5^2) on the precision
offsets, which rest on few runs), weighted so that each model counts once.

The prior for one run is the posterior predictive: the logit is normal with mean ``m = b . x`` and
variance ``v = s^2 + x' C x`` (``C`` the coefficients' covariance). An unknown covariate is marginalized
over its spread in the fitted data (mean ``mu_x``, covariance ``V_x``)::

    m = b . E[x],    v = s^2 + E[x]' C E[x] + tr(C V_x) + b' V_x b

so leaving one out widens the interval. The 90% interval is ``expit(m -+ t v^0.5)`` with ``t`` the
Student-t 95% quantile at the fit's residual degrees of freedom; :meth:`UtilizationPrior.distribution`
is the logit-normal with that interval (its scale is ``v^0.5 t / z``, ``z = ndtri(0.95)``).

Only the stored CSV is read at run time (once, on first use): nothing is fitted at import or per call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from flopcast.catalogs._table import read_rows
from flopcast.catalogs.hardware import Hardware
from flopcast.dates import decimal_year
from flopcast.errors import CatalogError, InvalidInputError
from flopcast.uncertainty import special
from flopcast.uncertainty.distributions import LogitNormal

#: the stored fit (catalogs/data), written by scripts/fit_utilization_prior.py
FIT_FILE = "utilization_prior.csv"
#: the cited runs the fit uses beside the database (catalogs/data)
PUBLISHED_RUNS_FILE = "published_runs.csv"

#: training precision -> the class the prior is conditioned on
PRECISION_CLASS: dict[str, str] = {
    "bf16": "16-bit",
    "fp16": "16-bit",
    "fp8": "8-bit",
    "fp4": "8-bit",
    "fp32": "32-bit",
    "tf32": "32-bit",
}
#: the classes, baseline first; the fit has one offset per class after the first
CLASSES = ("16-bit", "8-bit", "32-bit")
#: the covariates, in the order of the coefficients (after the intercept)
COVARIATES = ("release_year", "log10_chips", "precision_8bit", "precision_32bit")
#: release years are centred here
YEAR_ORIGIN = 2020.0
#: the release years the prior accepts (the fitted chips span 2010-2024; it extrapolates a few years either side)
YEAR_RANGE = (2005.0, 2040.0)

_Z90 = float(special.ndtri(np.array([0.95]))[0])


@dataclass(frozen=True)
class UtilizationFit:
    """The stored fit: coefficients, their covariance, the residual scale and the covariates' spread."""

    #: intercept then one per :data:`COVARIATES`
    coef: tuple[float, ...]
    #: covariance of ``coef`` (rows in the same order)
    cov: tuple[tuple[float, ...], ...]
    #: residual standard deviation ``s`` on the logit scale
    residual_sd: float
    #: Student-t 95% quantile at the residual degrees of freedom (the 90% interval's half-width in sds)
    t90: float
    #: mean and standard deviation of (release year - 2020) and of log10(chips) in the fitted data
    year_mean: float
    year_sd: float
    log10_chips_mean: float
    log10_chips_sd: float
    #: share of each precision class in the fitted data (weights for an unknown precision)
    precision_share: dict[str, float]
    n_database: int
    n_published: int
    source: str
    as_of: str

    @property
    def n(self) -> int:
        return self.n_database + self.n_published

    def predictive(
        self, release_year: float | None, chips: float | None, precision_class: str | None
    ) -> tuple[float, float]:
        """Mean and standard deviation of logit(MFU) (before the t widening), marginalizing unknown covariates."""
        b = np.asarray(self.coef)
        c = np.asarray(self.cov)
        ex = np.zeros(len(b))
        vx = np.zeros((len(b), len(b)))
        ex[0] = 1.0
        if release_year is None:
            ex[1], vx[1, 1] = self.year_mean, self.year_sd**2
        else:
            ex[1] = release_year - YEAR_ORIGIN
        if chips is None:
            ex[2], vx[2, 2] = self.log10_chips_mean, self.log10_chips_sd**2
        else:
            ex[2] = math.log10(chips)
        if precision_class is None:
            w = np.array([self.precision_share.get(k, 0.0) for k in CLASSES[1:]])
            ex[3:5] = w
            vx[3:5, 3:5] = np.diag(w) - np.outer(w, w)  # covariance of the class indicators
        else:
            ex[3] = float(precision_class == "8-bit")
            ex[4] = float(precision_class == "32-bit")
        mean = float(b @ ex)
        var = self.residual_sd**2 + float(ex @ c @ ex) + float(np.trace(c @ vx)) + float(b @ vx @ b)
        return mean, math.sqrt(var)


@dataclass(frozen=True)
class UtilizationPrior:
    """The MFU prior for one run: its median, 90% interval and distribution, and what it is conditioned on."""

    median: float
    low: float
    high: float
    #: logit-scale mean and scale of :meth:`distribution`
    mu: float
    sigma: float
    release_year: float | None
    chips: float | None
    precision: str | None
    #: e.g. "MFU prior for NVIDIA H100 SXM5 80 GB (2022.2), 16,384 chips, bf16: median 37%, 90% CI 19-59% (...)"
    source: str

    def distribution(self) -> LogitNormal:
        """The logit-normal whose median and central 90% interval are :attr:`median`, :attr:`low`, :attr:`high`."""
        return LogitNormal(self.mu, self.sigma)


def _expit(x: float) -> float:
    return 0.5 * (1.0 + math.tanh(x / 2.0))


def _check_year(release_year: float | None) -> float | None:
    if release_year is None:
        return None
    lo, hi = YEAR_RANGE
    try:
        y = float(release_year)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"release_year={release_year!r} is not a number; give the chip's release date as a decimal year "
            "(e.g. 2022.2) or None when unknown"
        ) from None
    if isinstance(release_year, bool) or not (lo <= y <= hi):
        raise InvalidInputError(
            f"release_year={release_year!r} is outside {lo:.0f}-{hi:.0f}; give the chip's release date as a "
            "decimal year (e.g. 2022.2) or None when unknown"
        )
    return y


def _check_chips(chips: float | None) -> float | None:
    if chips is None:
        return None
    try:
        n = float(chips)
    except (TypeError, ValueError):
        raise InvalidInputError(f"chips={chips!r} is not a number; give the run's chip count (> 0) or None") from None
    if isinstance(chips, bool) or not (math.isfinite(n) and n > 0):
        raise InvalidInputError(f"chips={chips!r} must be a finite number > 0 (the run's chip count), or None")
    return n


def _check_precision(precision: str | None) -> str | None:
    if precision is None:
        return None
    p = precision.strip().lower() if isinstance(precision, str) else None
    if p not in PRECISION_CLASS:
        raise InvalidInputError(
            f"precision={precision!r} is not one of {', '.join(PRECISION_CLASS)} (or None when unknown)"
        )
    return p


def utilization_prior(
    *,
    release_year: float | None,
    chips: float | None,
    precision: str | None,
    chip: str | None = None,
    fit: UtilizationFit | None = None,
) -> UtilizationPrior:
    """The MFU prior for a run on chips released in ``release_year`` (decimal year), ``chips`` of them, at
    ``precision`` (the precision whose dense peak the MFU is against).

    Any of the three may be None (unknown): the prior then marginalizes over that covariate's spread in
    the fitted data, so its interval is wider. ``chip`` only names the chip in :attr:`UtilizationPrior.source`;
    ``fit`` replaces the stored fit (leave-one-out checks pass their own). See the module docstring for the
    model and the formula.
    """
    y, n, p = _check_year(release_year), _check_chips(chips), _check_precision(precision)
    if fit is None:  # the stored fit: one prior per (year, chips, precision, chip), kept (a batch asks again and again)
        return _stored_prior(y, n, p, chip)
    return _prior(y, n, p, chip, fit)


@lru_cache(maxsize=4096)
def _stored_prior(y: float | None, n: float | None, p: str | None, chip: str | None) -> UtilizationPrior:
    return _prior(y, n, p, chip, load_fit())


def _prior(y: float | None, n: float | None, p: str | None, chip: str | None, f: UtilizationFit) -> UtilizationPrior:
    mean, sd = f.predictive(y, n, PRECISION_CLASS[p] if p is not None else None)
    half = f.t90 * sd
    lo, med, hi = _expit(mean - half), _expit(mean), _expit(mean + half)
    what = [
        (f"{chip} ({y:.1f})" if chip else f"a chip released in {y:.1f}")
        if y is not None
        else (f"{chip} (release year unknown)" if chip else "an unknown chip generation"),
        f"{n:,.0f} chips" if n is not None else "chip count unknown",
        p if p is not None else "precision unknown",
    ]
    source = (
        f"MFU prior for {', '.join(what)}: median {100 * med:.0f}%, 90% CI {100 * lo:.0f}-{100 * hi:.0f}% "
        f"(fit to {f.n} reported MFU values: {f.n_database} database + {f.n_published} published runs; {FIT_FILE})"
    )
    return UtilizationPrior(
        median=med,
        low=lo,
        high=hi,
        mu=mean,
        sigma=half / _Z90,
        release_year=y,
        chips=n,
        precision=p,
        source=source,
    )


def utilization_prior_for(
    hardware: Hardware | None, *, chips: float | None, precision: str | None, fit: UtilizationFit | None = None
) -> UtilizationPrior:
    """:func:`utilization_prior` for a catalog chip: its release year, and with no ``precision`` the one its
    peak is costed at (:meth:`Hardware.default_precision`, as the pipeline's peak is), so the MFU and the
    peak it multiplies agree. ``hardware=None`` (no chip known) marginalizes the generation and precision."""
    if hardware is None:
        return utilization_prior(release_year=None, chips=chips, precision=precision, fit=fit)
    year = float(decimal_year(hardware.release_date)) if hardware.release_date is not None else None
    if year is not None and not (YEAR_RANGE[0] <= year <= YEAR_RANGE[1]):
        year = None  # a chip outside the fitted era: its generation says nothing the prior can use
    p = precision if precision is not None else hardware.default_precision()
    if p is not None and p.lower() not in PRECISION_CLASS:
        p = None
    return utilization_prior(release_year=year, chips=chips, precision=p, chip=hardware.name, fit=fit)


def coverage(
    reported: Iterable[tuple[float, float | None, float | None, str | None]], fit: UtilizationFit | None = None
) -> list[bool]:
    """Whether each reported MFU lies inside the prior's 90% interval at its own covariates.

    ``reported`` holds ``(mfu, release_year, chips, precision)`` per run, None where a covariate is unknown
    (marginalized, as in :func:`utilization_prior`). The share of True is the prior's coverage: issue 20 asks
    that the 90% interval cover at least 85% of the MFU values the database and the cited runs report.
    """
    out = []
    for mfu, release_year, chips, precision in reported:
        p = utilization_prior(release_year=release_year, chips=chips, precision=precision, fit=fit)
        out.append(p.low <= float(mfu) <= p.high)
    return out


def parse_fit(values: dict[str, str], label: str = FIT_FILE) -> UtilizationFit:
    """A :class:`UtilizationFit` from the stored ``name -> value`` cells (see :func:`load_fit`)."""
    names = ("intercept", *COVARIATES)

    def num(key: str) -> float:
        if key not in values:
            raise CatalogError(f"{label}: no row {key!r}; rerun scripts/fit_utilization_prior.py")
        try:
            v = float(values[key])
        except ValueError:
            raise CatalogError(f"{label}: {key}={values[key]!r} is not a number") from None
        if not math.isfinite(v):
            raise CatalogError(f"{label}: {key}={v} is not finite")
        return v

    return UtilizationFit(
        coef=tuple(num(f"coef.{a}") for a in names),
        cov=tuple(tuple(num(f"cov.{a}.{b}") for b in names) for a in names),
        precision_share={k: num(f"precision_share.{k}") for k in CLASSES},
        n_database=int(num("n_database")),
        n_published=int(num("n_published")),
        source=values.get("source", ""),
        as_of=values.get("as_of", ""),
        residual_sd=num("residual_sd"),
        t90=num("t90"),
        year_mean=num("year_mean"),
        year_sd=num("year_sd"),
        log10_chips_mean=num("log10_chips_mean"),
        log10_chips_sd=num("log10_chips_sd"),
    )


@lru_cache(maxsize=4)
def load_fit(path: str | Path | None = None) -> UtilizationFit:
    """The stored fit (``catalogs/data/utilization_prior.csv``, or ``path``): rows ``name, value, source, as_of,
    notes``, read once per process."""
    rows, label = read_rows(FIT_FILE if path is None else None, path, required=("name", "value", "source", "as_of"))
    values = {r["name"]: r["value"] for r in rows}
    first = rows[0] if rows else {}
    values.setdefault("source", first.get("source", ""))
    values.setdefault("as_of", first.get("as_of", ""))
    return parse_fit(values, label)
