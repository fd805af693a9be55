"""Catch-up lags: how long until others reach a frontier model's training compute.

For each frontier model (top N by training compute at its release), the months until
(a) a model from another organization and (b) an open-weights model reached at least
its training compute. Months are days / 30.4375. Lags are measured between publication
dates by default; ``date_basis="training_end"`` measures from the end of the reference
model's training where it is known (training start + training time, e.g. Cottier et
al.'s dates for GPT-3 and GPT-4), and says per row which date it used. A model not yet
caught up by the last date in the table is censored: its lag is at least the time to
that date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from flopcast.errors import InvalidInputError, UnknownModelError

if TYPE_CHECKING:
    from flopcast.datasets.records import ModelRecord

DAYS_PER_MONTH = 365.25 / 12
DATE_BASES = ("publication", "training_end")


def months_between(a: dt.date, b: dt.date) -> float:
    """Months from ``a`` to ``b`` (days / 30.4375)."""
    return (b - a).days / DAYS_PER_MONTH


def _is_open(record: ModelRecord) -> bool:
    return (record.accessibility or "").lower().startswith("open weights")


def _orgs(record: ModelRecord) -> set[str]:
    return {o.strip().lower() for o in record.organizations if o.strip()}


@dataclass(frozen=True)
class Lag:
    model: str
    organization: str
    reference_date: str
    date_basis: str
    training_compute_flop: float
    other_org_model: str | None
    other_org_months: float | None
    open_weights_model: str | None
    open_weights_months: float | None
    #: lags still open at the end of the table are at least this many months
    censored_months: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reference_date(r: Any, basis: str) -> tuple[dt.date, str]:
    if basis == "training_end" and r.training_start_date is not None and r.training_time_hours:
        return r.training_start_date + dt.timedelta(hours=r.training_time_hours), "training_end"
    return r.publication_date, "publication"


def catch_up_lags(
    records: Sequence,
    *,
    top: int = 10,
    since: int | None = None,
    date_basis: str = "publication",
    include_finetunes: bool = False,
) -> list[Lag]:
    """Lags for every model in the top ``top`` by training compute at its release.

    Fine-tunes are left out as frontier models and as followers (their compute includes their
    base model's), unless ``include_finetunes``.
    """
    from flopcast.selection import frontier_mask

    if date_basis not in DATE_BASES:
        raise InvalidInputError(f"date_basis={date_basis!r} is not one of {', '.join(DATE_BASES)}")
    recs = [
        r
        for r in records
        if r.publication_date
        and r.training_compute_flop
        and (include_finetunes or not getattr(r, "is_finetune", False))
    ]
    if not recs:
        raise InvalidInputError("no models with a publication date and training compute to measure lags on")
    frontier = frontier_mask(recs, top, include_finetunes=include_finetunes)
    last = max(r.publication_date for r in recs)
    order = sorted(range(len(recs)), key=lambda i: recs[i].publication_date)
    out = []
    for i in np.flatnonzero(frontier):
        ref = recs[i]
        if since is not None and ref.publication_date.year < since:
            continue
        when, basis = _reference_date(ref, date_basis)
        other = opened = None
        for j in order:
            m = recs[j]
            if (
                m.publication_date < ref.publication_date
                or j == i
                or m.training_compute_flop < ref.training_compute_flop
            ):
                continue
            if other is None and not (_orgs(m) & _orgs(ref)):
                other = m
            if opened is None and _is_open(m):
                opened = m
            if other is not None and opened is not None:
                break
        if _is_open(ref):
            opened = ref
        out.append(
            Lag(
                model=ref.name,
                organization=", ".join(ref.organizations),
                reference_date=when.isoformat(),
                date_basis=basis,
                training_compute_flop=float(ref.training_compute_flop),
                other_org_model=other.name if other else None,
                other_org_months=months_between(when, other.publication_date) if other else None,
                open_weights_model=opened.name if opened else None,
                open_weights_months=months_between(when, opened.publication_date) if opened else None,
                censored_months=months_between(when, last),
            )
        )
    return sorted(out, key=lambda x: x.reference_date)


def summarize_lags(lags: Sequence[Lag], period_years: int = 2) -> list[dict[str, Any]]:
    """Median lags by period of reference year, with counts of censored (not yet caught up) models."""
    if period_years < 1:
        raise InvalidInputError(f"period_years={period_years} must be >= 1")
    groups: dict[int, list[Lag]] = {}
    for lag in lags:
        y = int(lag.reference_date[:4])
        groups.setdefault(y - y % period_years, []).append(lag)
    rows = []
    for start in sorted(groups):
        g = groups[start]
        row = {"period": f"{start}-{start + period_years - 1}", "frontier_models": len(g)}
        for kind in ("other_org", "open_weights"):
            vals = [getattr(x, f"{kind}_months") for x in g if getattr(x, f"{kind}_months") is not None]
            row[f"{kind}_median_months"] = float(np.median(vals)) if vals else None
            row[f"{kind}_caught_up"] = len(vals)
            row[f"{kind}_not_yet"] = len(g) - len(vals)
        rows.append(row)
    return rows


def lag_between(records: Sequence, reference: str, follower: str, date_basis: str = "publication") -> float:
    """Months from ``reference`` (publication, or its training end) to ``follower``'s publication."""
    by_name = {r.name: r for r in records}
    by_name.update({r.key: r for r in records if getattr(r, "key", "")})
    for n in (reference, follower):
        if n not in by_name:
            raise UnknownModelError(n, list(by_name))
    when, _ = _reference_date(by_name[reference], date_basis)
    return months_between(when, by_name[follower].publication_date)
