"""Special functions of the sampling engine, in numpy alone (no scipy at start-up).

- :func:`ndtri`, the standard normal inverse CDF, by Wichura's algorithm AS 241 (PPND16):
  M. J. Wichura, "Algorithm AS 241: The percentage points of the normal distribution",
  Applied Statistics 37(3):477-484, 1988. Three rational approximations of degree 7/7: one in
  ``r = 0.180625 - q**2`` for ``|q| = |u - 1/2| <= 0.425``, and two in ``r = sqrt(-log(min(u, 1 - u)))``
  (``r <= 5`` and beyond), accurate to about 1e-16 relative.
- :func:`betaincinv`, the inverse regularized incomplete beta function ``x = I^-1_u(a, b)``, by table
  lookup: ``y = logit(x)`` is tabulated against ``z = ndtri(u)`` on a uniform grid of step
  :data:`STEP` over :data:`Z_MIN`..:data:`Z_MAX` (all of ``u`` in (0, 1) that a double can hold) and
  interpolated by cubic Hermite, with the exact slope

      dy/dz = phi(z) / (pdf(x) x (1 - x)) = exp(-z^2/2 - ln(2 pi)/2 + ln B(a, b) - a ln x - b ln(1 - x)),

  which follows from ``du/dz = phi(z)``, ``dx/du = 1 / pdf(x)`` and ``dy/dx = 1 / (x (1 - x))``.
  In logit-of-normal-score coordinates both tails are smooth (``y ~ -z^2 / (2a)`` as ``u -> 0``), so
  one grid serves the whole range; the interpolation error is below 1e-9 in ``x`` for the shapes
  of the catalog and for ``a, b`` in [0.5, 50] (``tests/test_special.py``).

Tables of the catalog's betas are stored (``catalogs/data/beta_tables.npy``: one row ``a, b, y...``
per row of ``catalogs/data/beta_fits.csv``, read on first use; written by
:func:`flopcast.catalogs.constants.write_beta_fits`). A table for any other ``(a, b)`` is built on
first use with scipy (imported then; :func:`build_table`), checked against scipy's exact inverse at
every midpoint between nodes (within 1e-8, else that shape keeps using scipy's ``betaincinv``) and
kept for the process. The files lie with the catalog because their rows are the catalog's constants;
they are read by path, so this module imports nothing above the uncertainty layer.
"""

from __future__ import annotations

import csv
import math
import threading
from pathlib import Path
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike

# -- the normal inverse CDF: AS 241 (PPND16) ---------------------------------------------------

# coefficients of AS 241, highest power first (for Horner's rule)
_A = (
    2.5090809287301226727e3,
    3.3430575583588128105e4,
    6.7265770927008700853e4,
    4.5921953931549871457e4,
    1.3731693765509461125e4,
    1.9715909503065514427e3,
    1.3314166789178437745e2,
    3.3871328727963666080e0,
)
_B = (
    5.2264952788528545610e3,
    2.8729085735721942674e4,
    3.9307895800092710610e4,
    2.1213794301586595867e4,
    5.3941960214247511077e3,
    6.8718700749205790830e2,
    4.2313330701600911252e1,
    1.0,
)
_C = (
    7.74545014278341407640e-4,
    2.27238449892691845833e-2,
    2.41780725177450611770e-1,
    1.27045825245236838258e0,
    3.64784832476320460504e0,
    5.76949722146069140550e0,
    4.63033784615654529590e0,
    1.42343711074968357734e0,
)
_D = (
    1.05075007164441684324e-9,
    5.47593808499534494600e-4,
    1.51986665636164571966e-2,
    1.48103976427480074590e-1,
    6.89767334985100004550e-1,
    1.67638483018380384940e0,
    2.05319162663775882187e0,
    1.0,
)
_E = (
    2.01033439929228813265e-7,
    2.71155556874348757815e-5,
    1.24266094738807843860e-3,
    2.65321895265761230930e-2,
    2.96560571828504891230e-1,
    1.78482653991729133580e0,
    5.46378491116411436990e0,
    6.65790464350110377720e0,
)
_F = (
    2.04426310338993978564e-15,
    1.42151175831644588870e-7,
    1.84631831751005468180e-5,
    7.86869131145613259100e-4,
    1.48753612908506148525e-2,
    1.36929880922735805310e-1,
    5.99832206555887937690e-1,
    1.0,
)
_SPLIT1, _SPLIT2, _CONST1, _CONST2 = 0.425, 5.0, 0.180625, 1.6


def _ratio(num: tuple[float, ...], den: tuple[float, ...], r: np.ndarray) -> np.ndarray:
    """``num(r) / den(r)`` by Horner's rule (coefficients highest power first)."""
    p = r * num[0]
    p += num[1]
    q = r * den[0]
    q += den[1]
    for cn, cd in zip(num[2:], den[2:], strict=True):
        p *= r
        p += cn
        q *= r
        q += cd
    p /= q
    return p


@overload
def ndtri(u: float) -> float: ...
@overload
def ndtri(u: np.ndarray) -> np.ndarray: ...
def ndtri(u: Any) -> Any:
    """The standard normal quantile ``z`` with ``Phi(z) = u``, element by element (Wichura's AS 241).

    ``ndtri(0) = -inf``, ``ndtri(1) = inf``, NaN outside [0, 1]. A scalar gives a float, an array an
    array of float64 of the same shape.
    """
    arr = np.asarray(u, dtype=float)
    scalar = arr.ndim == 0
    u1 = arr.reshape(-1)
    q = u1 - 0.5
    # the central formula on every element (cheaper than gathering), then the tails (15% of u) over it
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # tails and bad u: replaced below
        out = _ratio(_A, _B, _CONST1 - q * q)
    out *= q
    tail = np.flatnonzero(np.abs(q) > _SPLIT1)
    if tail.size:
        ut = u1[tail]
        with np.errstate(divide="ignore", invalid="ignore"):
            # min(u, 1 - u), where 1 - u is exact for u >= 1/2 (Sterbenz)
            r = np.sqrt(-np.log(np.minimum(ut, 1.0 - ut)))
            zt = _ratio(_C, _D, r - _CONST2)
            far = np.flatnonzero(r > _SPLIT2)  # u < 1.4e-11 or > 1 - 1.4e-11
            if far.size:
                zt[far] = _ratio(_E, _F, r[far] - _SPLIT2)
        zt[np.isinf(r)] = np.inf  # u = 0 or 1
        zt[np.isnan(r)] = np.nan  # outside [0, 1] (or NaN)
        out[tail] = np.copysign(zt, q[tail])
    out = out.reshape(arr.shape)
    return float(out) if scalar else out


# -- the inverse regularized incomplete beta: table and cubic Hermite ------------------------------

#: the grid of normal scores: ndtri(5e-324) = -38.47, ndtri(1 - 2**-53) = 8.13
Z_MIN, Z_MAX, STEP = -38.5, 8.5, 1.0 / 32
N_NODES = round((Z_MAX - Z_MIN) / STEP) + 1
#: a table reaches at least this far on either side: the engine's u in [1e-12, 1 - 1e-12] is |z| <= 7.03
_Z_ENGINE = 7.1
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

_DATA = Path(__file__).resolve().parent.parent / "catalogs" / "data"
#: the stored fits (``lo, hi, credibility -> a, b``) and the stored tables (one row per fit)
FITS_FILE, TABLES_FILE = _DATA / "beta_fits.csv", _DATA / "beta_tables.npy"
FITS_COLUMNS = ("low", "high", "credibility", "a", "b")

_lock = threading.Lock()
#: (a, b) -> (y, STEP dy/dz, first node, last node)
_tables: dict[tuple[float, float], tuple[np.ndarray, np.ndarray, int, int] | None] = {}
_fits: dict[tuple[float, float, float], tuple[float, float]] = {}  # (lo, hi, cred) -> (a, b)
_stored_loaded = False


def z_grid() -> np.ndarray:
    """The normal scores of the table's nodes."""
    return Z_MIN + STEP * np.arange(N_NODES)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _slopes(a: float, b: float, y: np.ndarray) -> np.ndarray:
    """``dy/dz`` at the nodes from the exact formula of the module docstring (``ln x = -softplus(-y)``)."""
    z = z_grid()
    log_x = -np.logaddexp(0.0, -y)
    log_1mx = -np.logaddexp(0.0, y)
    return np.exp(-0.5 * z * z - _HALF_LOG_2PI + _log_beta(a, b) - a * log_x - b * log_1mx)


def _small_side(p: float, q: float, log_u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ln s`` and whether to trust it, for ``s = I^-1_u(p, q)`` with ``u = exp(log_u) <= 1/2``.

    Where the power law gives ``s < 1e-6`` it is used: from ``I_s(p, q) = s^p / (p B(p, q))
    (1 + p (1 - q) / (p + 1) s + O(s^2))`` (DLMF 8.17.7), ``ln s = (ln u + ln p + ln B(p, q) -
    ln(1 + p (1 - q) s / (p + 1))) / p``, by two fixed-point steps from the leading term (relative error
    O(s^2) < 1e-12). Elsewhere scipy's inverse, trusted where ``I_s(p, q)`` gives ``u`` back to 1e-6
    relative (it fails for some shapes at small u, and below u = 1e-308).
    """
    from scipy import special as sp

    c = math.log(p) + _log_beta(p, q)
    log_s = (log_u + c) / p
    with np.errstate(invalid="ignore", over="ignore"):  # NaN where s is not small: scipy's there
        for _ in range(2):
            log_s = (log_u + c - np.log1p(p * (1 - q) / (p + 1) * np.exp(log_s))) / p
    power = log_s < math.log(1e-6)
    ok = np.ones_like(log_u, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        u = np.exp(log_u[~power])
        s = sp.betaincinv(p, q, u)
        log_s[~power] = np.log(s)
        ok[~power] = (u >= np.finfo(float).tiny) & (np.abs(sp.betainc(p, q, s) / u - 1) <= 1e-6)
    return log_s, ok & np.isfinite(log_s)


def build_table(a: float, b: float) -> np.ndarray:
    """``logit(x)`` at the nodes for Beta(a, b), with scipy (imported here); NaN beyond the last nodes
    that can be trusted (only for extreme shapes, at u under about 1e-300), where :func:`betaincinv`
    asks scipy.

    Each tail comes from its own side (:func:`_small_side` of ``x = I^-1_u(a, b)`` below the median
    and of ``1 - x = I^-1_{1-u}(b, a)`` above it), so that ``x`` near 0 and near 1 keeps its precision.
    """
    from scipy import special as sp

    z = z_grid()
    y = np.empty_like(z)
    ok = np.empty_like(z, dtype=bool)
    lo = z <= 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_x, ok[lo] = _small_side(a, b, sp.log_ndtr(z[lo]))
        y[lo] = log_x - np.log1p(-np.exp(log_x))
        log_w, ok[~lo] = _small_side(b, a, sp.log_ndtr(-z[~lo]))
        y[~lo] = np.log1p(-np.exp(log_w)) - log_w
    ok &= np.isfinite(y)
    good = np.flatnonzero(ok)
    if good.size == 0:
        raise ArithmeticError(f"the inverse beta of a={a!r}, b={b!r} cannot be tabulated")
    # the longest run of trusted nodes around the median
    mid = int(np.searchsorted(z, 0.0))
    bad = np.flatnonzero(~ok)
    k0 = int(bad[bad < mid].max()) + 1 if (bad < mid).any() else 0
    k1 = int(bad[bad > mid].min()) - 1 if (bad > mid).any() else N_NODES - 1
    if Z_MIN + k0 * STEP > -_Z_ENGINE or Z_MIN + k1 * STEP < _Z_ENGINE or not (np.diff(y[k0 : k1 + 1]) > 0).all():
        raise ArithmeticError(f"the inverse beta of a={a!r}, b={b!r} cannot be tabulated")
    y[:k0] = np.nan
    y[k1 + 1 :] = np.nan
    return y


def _load_stored() -> None:
    """Read the stored fits and tables once (a missing or malformed file leaves them to be made)."""
    global _stored_loaded
    if _stored_loaded:
        return
    _stored_loaded = True
    try:
        with FITS_FILE.open(encoding="utf-8", newline="") as f:
            rows = [[float(r[c]) for c in FITS_COLUMNS] for r in csv.DictReader(f)]
        tables = np.load(TABLES_FILE, allow_pickle=False)
    except (OSError, ValueError, KeyError):
        return
    if tables.shape != (len(rows), N_NODES + 2) or tables.dtype != np.float64:
        return
    if not all(row[3:] == list(t[:2]) for row, t in zip(rows, tables, strict=True)):
        return  # the two files were not written together
    for (lo, hi, cred, a, b), t in zip(rows, tables, strict=True):
        _fits[(lo, hi, cred)] = (a, b)
        _tables[(a, b)] = _prepared(a, b, np.ascontiguousarray(t[2:]))


def stored_fit(lo: float, hi: float, credibility: float) -> tuple[float, float] | None:
    """The stored or cached beta shape ``(a, b)`` whose ``credibility`` interval is ``lo..hi``, if any."""
    with _lock:
        _load_stored()
        return _fits.get((lo, hi, credibility))


def remember_fit(lo: float, hi: float, credibility: float, a: float, b: float) -> None:
    """Keep a fitted ``(a, b)`` for the rest of the process."""
    with _lock:
        _fits[(lo, hi, credibility)] = (a, b)


def _prepared(a: float, b: float, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A table's values, its slopes times the step, and its first and last nodes (NaN beyond them)."""
    with np.errstate(invalid="ignore"):
        d = _slopes(a, b, y) * STEP
    good = np.flatnonzero(~np.isnan(y))
    return y, d, int(good[0]), int(good[-1])


#: the largest error in x at the midpoints between nodes (where the Hermite error peaks) for a table to be used
_MIDPOINT_TOLERANCE = 1e-8


def _checked(a: float, b: float) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """A new table for Beta(a, b), or None (scipy's inverse, then) when it cannot be made or misses the
    exact inverse by more than :data:`_MIDPOINT_TOLERANCE` at a midpoint between its nodes."""
    from scipy import special as sp

    try:
        table = _prepared(a, b, build_table(a, b))
    except ArithmeticError:
        return None
    _, _, k0, k1 = table
    z_mid = Z_MIN + STEP * (np.arange(k0, k1) + 0.5)
    lower = z_mid <= 0
    p, q = np.where(lower, a, b), np.where(lower, b, a)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        u = sp.ndtr(-np.abs(z_mid))  # the small side's u
        small = sp.betaincinv(p, q, u)
        exact = np.where(lower, small, 1 - small)
        # where scipy's inverse gives its u back (it fails for some shapes at small u)
        known = (u >= 1e-300) & np.isfinite(small) & (np.abs(sp.betainc(p, q, small) / u - 1) <= 1e-6)
    got = _interpolate(table, np.full_like(z_mid, 0.5), z_mid)  # u = 1/2: no end point to special-case
    if not known.any() or np.abs(got[known] - exact[known]).max() > _MIDPOINT_TOLERANCE:
        return None
    return table


def _table(a: float, b: float) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """The table of Beta(a, b): stored, made before in this process, or made now; None: use scipy."""
    key = (a, b)
    with _lock:
        _load_stored()
        if key in _tables:
            return _tables[key]
    hit = _checked(a, b)
    with _lock:
        _tables[key] = hit
    return hit


def betaincinv(a: float, b: float, u: ArrayLike) -> np.ndarray:
    """``x`` with ``I_x(a, b) = u`` (the Beta(a, b) quantile), element by element, by the table.

    Within 1e-8 absolute of the exact inverse (2.3e-10 measured for a, b in [0.5, 50]; the engine needs
    1e-6); ``u = 0`` gives 0, ``u = 1`` gives 1, NaN outside [0, 1]. A shape no table fits (extreme ones,
    such as a = 0.01) is computed by scipy's ``betaincinv``.
    """
    arr = np.asarray(u, dtype=float)
    table = _table(float(a), float(b))
    if table is None:
        from scipy import special as sp

        return np.asarray(sp.betaincinv(a, b, arr), dtype=float)
    u1 = arr.reshape(-1)
    return _interpolate(table, u1, ndtri(u1), a, b).reshape(arr.shape)


def _interpolate(
    table: tuple[np.ndarray, np.ndarray, int, int], u: np.ndarray, z: np.ndarray, a: float = 0, b: float = 0
) -> np.ndarray:
    """The cubic Hermite interpolant of ``logit(x)`` at normal scores ``z = ndtri(u)``, as ``x``; beyond the
    table's trusted nodes scipy's inverse of Beta(a, b)."""
    y_nodes, d_nodes, k0, k1 = table
    bad = np.isnan(z)  # u outside [0, 1], or NaN
    z_lo, z_hi = Z_MIN + k0 * STEP, Z_MIN + k1 * STEP
    zc = np.clip(z, z_lo, z_hi)
    if bad.any():
        zc[bad] = 0.0
    s = (zc - Z_MIN) * (1.0 / STEP)
    k = np.minimum(s.astype(np.intp), k1 - 1)
    t = s - k
    t2 = t * t
    t3 = t2 * t
    # cubic Hermite basis: h00 = 2t^3 - 3t^2 + 1, h10 = t^3 - 2t^2 + t, h01 = 3t^2 - 2t^3, h11 = t^3 - t^2
    h01 = 3.0 * t2 - 2.0 * t3
    y0, y1 = y_nodes[k], y_nodes[k + 1]
    y = y0 + (y1 - y0) * h01 + d_nodes[k] * (t3 - 2.0 * t2 + t) + d_nodes[k + 1] * (t3 - t2)
    with np.errstate(over="ignore"):
        x = 1.0 / (1.0 + np.exp(-y))
    x = np.where(u <= 0, 0.0, np.where(u >= 1, 1.0, x))
    x[bad] = np.nan
    if (k0 > 0 or k1 < N_NODES - 1) and a > 0:
        beyond = ((z < z_lo) | (z > z_hi)) & (u > 0) & (u < 1)
        if beyond.any():  # u under about 1e-300 for an extreme shape: scipy's own answer
            from scipy import special as sp

            x[beyond] = sp.betaincinv(a, b, u[beyond])
    return x
