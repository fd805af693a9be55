"""Choosing models from the database: years, domain, organization, and the frontier ("top N").

**Top N** keeps the models that were among the N with the most training compute when they
were published. Where Epoch gives its "Compute rank when published" (its rank among
notable models that are not fine-tunes, given for ranks 1-20 since December 2015), that rank
decides; otherwise flopcast ranks the model by reported training compute among the
database's models published up to that day (models of the same day ranked together).
Fine-tunes (rows that name a base model) are left out of the frontier and of trends by
default, as Cottier et al. and Epoch do (a fine-tune's compute includes its base model's);
``include_finetunes=True`` puts them back (ranked by flopcast's own ranking, since Epoch
ranks no fine-tune). A plain listing (no ``top``) keeps them, flagged.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np

from flopcast.datasets.records import ModelRecord
from flopcast.dates import decimal_year
from flopcast.errors import InvalidInputError


def top_meaning(top: int | None, include_finetunes: bool | None = None) -> str:
    """What a selection's "top N" means, for every output that shows one."""
    keep = include_finetunes if include_finetunes is not None else top is None
    ft = "fine-tunes included" if keep else "fine-tunes left out"
    if top is None:
        return f"all models ({ft})"
    return (
        f"top {top}: among the {top} models with the most training compute when published (Epoch's 'Compute rank "
        f"when published' where given, else flopcast's rank by reported compute among the database's models "
        f"up to that date; {ft})"
    )


def frontier_mask(records: Sequence[ModelRecord], top: int, *, include_finetunes: bool = False) -> np.ndarray:
    """True for the records among the ``top`` by training compute when published (see the module docstring)."""

    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise InvalidInputError(f"top={top!r} must be a whole number >= 1")
    keep = np.zeros(len(records), dtype=bool)
    pool = [
        i
        for i, r in enumerate(records)
        if r.publication_date is not None and r.training_compute_flop and (include_finetunes or not r.is_finetune)
    ]
    if not pool:
        return keep
    # flopcast's rank: fewer than ``top`` models of the pool published by the same day with more compute
    ranked = top_n_at_release(
        [records[i].publication_date for i in pool], [records[i].training_compute_flop for i in pool], top
    )
    for i, by_flopcast in zip(pool, ranked, strict=True):
        r = records[i]
        keep[i] = r.compute_rank <= top if (r.compute_rank is not None and not r.is_finetune) else by_flopcast
    return keep


def select(
    records: Sequence[ModelRecord],
    *,
    since: int | None = None,
    until: int | None = None,
    domain: str | None = None,
    org: str | None = None,
    top: int | None = None,
    include_finetunes: bool | None = None,
) -> list[ModelRecord]:
    """The records that pass every filter: the frontier first (ranked in the whole table), then the others.

    ``include_finetunes``: True keeps fine-tunes, False leaves them out; None (the default) leaves them out
    of a frontier selection (``top``) only, so a plain listing shows every model.
    """
    if since is not None and until is not None and since > until:
        raise InvalidInputError(f"since={since} is after until={until}")
    keep_ft = include_finetunes if include_finetunes is not None else top is None
    keep = list(records)
    if top is not None:
        mask = frontier_mask(keep, top, include_finetunes=keep_ft)
        keep = [r for r, k in zip(keep, mask, strict=True) if k]
    out = []
    for r in keep:
        if r.is_finetune and not keep_ft:
            continue
        y = r.publication_date.year if r.publication_date else None
        if since is not None and (y is None or y < since):
            continue
        if until is not None and (y is None or y > until):
            continue
        if domain and not any(domain.lower() in d.lower() for d in r.domains):
            continue
        if org and not any(org.lower() in o.lower() for o in r.organizations):
            continue
        out.append(r)
    return out


# -- masks over (date, value) points ------------------------------------------------

#: dates as :func:`flopcast.dates.decimal_year` takes them (dates, datetime64, ISO strings, decimal years; None missing)
Dates: TypeAlias = "Sequence[object] | np.ndarray"
#: values, one per date (None or NaN missing)
Values: TypeAlias = "Sequence[float | None] | np.ndarray"
#: a window bound: a whole year (int), a decimal year (float) or a date
Bound: TypeAlias = "int | float | dt.date"


def _valid_points(dates: Dates, values: Values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = np.atleast_1d(decimal_year(dates)).astype(float)
    vals = np.atleast_1d(np.asarray(values, dtype=float))
    if years.shape != vals.shape or years.ndim != 1:
        raise InvalidInputError(f"dates ({years.shape}) and values ({vals.shape}) must be 1-D of the same length")
    ok = np.isfinite(years) & np.isfinite(vals)
    return years, vals, ok


def top_n_at_release(dates: Dates, values: Values, n: int) -> np.ndarray:
    """Mask of points among the ``n`` largest values of all points dated up to and including their date.

    A point is kept when fewer than ``n`` points dated on or before it have a strictly
    larger value (ties keep both). Points with a missing date or value are False.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidInputError(f"n={n!r} must be a whole number >= 1")
    years, vals, ok = _valid_points(dates, values)
    out = np.zeros(years.size, dtype=bool)
    idx = np.flatnonzero(ok)
    y, v = years[idx], vals[idx]
    step = max(1, 4_000_000 // max(idx.size, 1))
    for lo in range(0, idx.size, step):
        sl = slice(lo, lo + step)
        earlier = y[None, :] <= y[sl, None]
        larger = v[None, :] > v[sl, None]
        out[idx[sl]] = (earlier & larger).sum(axis=1) < n
    return out


def above_trend(dates: Dates, values: Values, min_residual_oom: float = 0.0) -> np.ndarray:
    """Mask of points at least ``min_residual_oom`` orders of magnitude above the all-points trend.

    The trend is the OLS fit of log10(value) on date over every valid point (finite
    date, finite value > 0); other points are False.
    """
    m = float(min_residual_oom)
    if not math.isfinite(m):
        raise InvalidInputError(f"min_residual_oom={min_residual_oom!r} must be finite")
    years, vals, ok = _valid_points(dates, values)
    ok &= vals > 0
    out = np.zeros(years.size, dtype=bool)
    if ok.sum() < 3 or np.ptp(years[ok]) == 0:
        raise InvalidInputError(
            f"above_trend needs at least 3 valid points over more than one date; got {int(ok.sum())}"
        )
    y = np.log10(vals[ok])
    from flopcast.regression import ols_log10

    slope, intercept, t_ref, _, _ = ols_log10(years[ok], y)
    out[ok] = (y - intercept - slope * (years[ok] - t_ref)) >= m
    return out


def _bound_year(bound: Bound, end: bool) -> float:
    if isinstance(bound, (int, np.integer)) and not isinstance(bound, bool):
        return float(bound) + (1.0 if end else 0.0)  # whole years: ``until=2020`` includes all of 2020
    y = float(decimal_year(bound))
    if not math.isfinite(y):
        raise InvalidInputError(f"window bound {bound!r} is not a date or year")
    return y


def in_window(dates: Dates, since: Bound | None = None, until: Bound | None = None) -> np.ndarray:
    """Mask of dates within ``since``..``until`` (both inclusive; None = open).

    An integer bound is a whole calendar year (``since=2015, until=2020`` keeps
    2015-01-01 through 2020-12-31); a date or a float decimal year is a point in time.
    Missing dates are False.
    """
    years = np.atleast_1d(decimal_year(dates)).astype(float)
    out = np.isfinite(years)
    if since is not None:
        out &= years >= _bound_year(since, end=False)
    if until is not None:
        if isinstance(until, (int, np.integer)) and not isinstance(until, bool):
            out &= years < _bound_year(until, end=True)
        else:
            out &= years <= _bound_year(until, end=True)
    return out
