"""Catch-up lags: how long until others reach a frontier model's training compute.

For each frontier model (top N by training compute at its release), the months until
(a) a model from another organization, (b) an open-weights model and (c) an API-accessible
model reached at least its training compute. Months are days / 30.4375. Lags are measured
between publication dates by default; ``date_basis="training_end"`` measures from the end
of the reference model's training where it is known (training start + training time, e.g.
Cottier et al.'s dates for GPT-3 and GPT-4), and says per row which date it used.

**Censoring.** A model not yet caught up by the last date in the table is right-censored:
its lag is at least the time to that date. The lag distribution of a group of frontier
models is the Kaplan-Meier estimate (:func:`kaplan_meier`, via ``scipy.stats.ecdf`` on
``scipy.stats.CensoredData``), and its median is the first lag at which the estimated
fraction caught up reaches one half (None when fewer than half are caught up by the end of
the table). Medians over the uncensored lags alone, which understate the lag, are kept as
``*_uncensored_median_months`` for comparison.

**Intervals** (:func:`lag_intervals`). A bootstrap: each resample draws the frontier models of
a group with replacement (one seeded ``numpy.random.Generator``) and, with
``compute_uncertainty``, draws every model's training compute within the interval set by
Epoch's confidence label (``compute_confidence_factor.*`` of ``catalogs/data/constants.csv``:
Confident x1/3-3, Likely x1/10-10, Speculative x10^-1.5-10^1.5, 90% lognormal; no label:
Cottier et al.'s x1/3-3), so that a speculative estimate can count as a catch-up in one
resample and not in another. p5 and p95 are order statistics of the resampled KM medians
(``method="inverted_cdf"``); a p95 of None means more than 5% of resamples had fewer than
half caught up within the table. The frontier itself (Epoch's rank at release) is not redrawn.

**What counts.** Fine-tunes (rows naming a base model; their compute includes the base
model's) and previews (a model whose name holds the word "preview", e.g. "o1-preview",
"Llama 4 Behemoth (preview)") are left out as frontier models and as followers unless
``include_finetunes`` / ``include_previews``. Accessibility is Epoch's "Model accessibility":
open weights are "Open weights (unrestricted | restricted use | non-commercial)"; API-accessible
is "API access" or open weights (Epoch records the most open level, and open weights can be
served behind an API); "Hosted access (no API)", "Unreleased" and blank are neither.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from flopcast.errors import InvalidInputError, UnknownModelError

if TYPE_CHECKING:
    from flopcast.datasets.records import ModelRecord

DAYS_PER_MONTH = 365.25 / 12
DATE_BASES = ("publication", "training_end")
#: the catch-up kinds: another organization's model, an open-weights model, an API-accessible model
KINDS = ("other_org", "open_weights", "api")
KIND_TITLES = {"other_org": "other org", "open_weights": "open weights", "api": "API"}
#: the bootstrap interval: p5..p95
CREDIBILITY = 0.9
#: Cottier's GPT-3 followers at Google and DeepMind (see :func:`gpt3_followers_rule`)
GPT3_FOLLOWERS = ("Gopher (280B)", "GLaM", "LaMDA", "Chinchilla", "PaLM (540B)")
_PREVIEW = re.compile(r"\bpreview\b", re.IGNORECASE)


def months_between(a: dt.date, b: dt.date) -> float:
    """Months from ``a`` to ``b`` (days / 30.4375)."""
    return (b - a).days / DAYS_PER_MONTH


def is_preview(record: ModelRecord) -> bool:
    """True when the model's name holds the word "preview" (o1-preview, Llama 4 Behemoth (preview))."""
    return bool(_PREVIEW.search(record.name))


def _is_open(record: ModelRecord) -> bool:
    return (record.accessibility or "").lower().startswith("open weights")


def _is_api(record: ModelRecord) -> bool:
    return _is_open(record) or (record.accessibility or "").lower().startswith("api access")


def _orgs(record: ModelRecord) -> frozenset[str]:
    return frozenset(o.strip().lower() for o in record.organizations if o.strip())


def compute_sigma(record: ModelRecord) -> float:
    """The natural-log standard deviation of a record's training compute, from Epoch's confidence label."""
    from flopcast.catalogs.constants import constant

    label = (record.confidence or "").lower()
    c = (
        constant("compute_confidence_factor", label)
        if label in ("confident", "likely", "speculative")
        else constant("training_compute_factor")
    )
    return float(getattr(c.distribution(), "sigma", 0.0))


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
    api_model: str | None = None
    api_months: float | None = None
    #: Epoch's confidence in the training compute ("confident", "likely", "speculative" or "")
    compute_confidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reference_date(r: Any, basis: str) -> tuple[dt.date, str]:
    if basis == "training_end" and r.training_start_date is not None and r.training_time_hours:
        return r.training_start_date + dt.timedelta(hours=r.training_time_hours), "training_end"
    return r.publication_date, "publication"


# -- the table every lag is measured on -----------------------------------------------


@dataclass
class _Table:
    """The models lags are measured on, in publication order, with the frontier references."""

    recs: list[Any]
    day: np.ndarray
    log_c: np.ndarray
    sigma: np.ndarray
    masks: dict[str, np.ndarray]
    orgs: list[frozenset[str]]
    refs: np.ndarray
    ref_day: np.ndarray
    ref_basis: list[str]
    last_day: int
    _other: dict[int, np.ndarray] = field(default_factory=dict)

    def candidates(self, kind: str, k: int) -> np.ndarray:
        """Followers of reference number ``k``: published on or after it, not itself, of the kind."""
        i = int(self.refs[k])
        start = int(np.searchsorted(self.day, self.day[i], side="left"))
        idx = np.arange(start, len(self.recs))
        idx = idx[idx != i]
        if kind == "other_org":
            own = self.orgs[i]
            return idx[[not (self.orgs[j] & own) for j in idx]] if idx.size else idx
        return idx[self.masks[kind][idx]]


def _table(
    records: Sequence,
    *,
    top: int | None,
    since: int | None,
    date_basis: str,
    include_finetunes: bool,
    include_previews: bool,
    reference: str | None = None,
) -> _Table:
    from flopcast.selection import frontier_mask

    if date_basis not in DATE_BASES:
        raise InvalidInputError(f"date_basis={date_basis!r} is not one of {', '.join(DATE_BASES)}")
    recs = [
        r
        for r in records
        if r.publication_date
        and r.training_compute_flop
        and r.training_compute_flop > 0
        and (include_finetunes or not getattr(r, "is_finetune", False))
        and (include_previews or not is_preview(r))
    ]
    if not recs:
        raise InvalidInputError("no models with a publication date and training compute to measure lags on")
    recs.sort(key=lambda r: r.publication_date)
    if reference is not None:
        hit = [i for i, r in enumerate(recs) if reference in (r.name, getattr(r, "key", ""))]
        if not hit:
            raise UnknownModelError(reference, [n for r in recs for n in (r.name, getattr(r, "key", ""))])
        refs = np.array(hit[:1], dtype=int)
    else:
        assert top is not None
        frontier = frontier_mask(recs, top, include_finetunes=include_finetunes)
        refs = np.array(
            [i for i in np.flatnonzero(frontier) if since is None or recs[i].publication_date.year >= since], dtype=int
        )
    when = [_reference_date(recs[i], date_basis) for i in refs]
    return _Table(
        recs=recs,
        day=np.array([r.publication_date.toordinal() for r in recs], dtype=np.int64),
        log_c=np.log(np.array([r.training_compute_flop for r in recs], dtype=float)),
        sigma=np.array([compute_sigma(r) for r in recs], dtype=float),
        masks={
            "open_weights": np.array([_is_open(r) for r in recs], dtype=bool),
            "api": np.array([_is_api(r) for r in recs], dtype=bool),
        },
        orgs=[_orgs(r) for r in recs],
        refs=refs,
        ref_day=np.array([w.toordinal() for w, _ in when], dtype=np.int64),
        ref_basis=[b for _, b in when],
        last_day=max(r.publication_date for r in recs).toordinal(),
    )


def _first_catch_up(t: _Table, log_c: np.ndarray, kind: str, cands: dict[tuple[str, int], np.ndarray]) -> np.ndarray:
    """``(draws, references)`` index of the first follower at or above each reference's compute (-1: none).

    ``log_c`` is ``(draws, models)``. Followers that no draw lifts to the reference's lowest draw are skipped,
    and the search stops at the first follower above the reference's highest draw in every draw (both exact).
    """
    b = log_c.shape[0]
    lo, hi = log_c.min(axis=0), log_c.max(axis=0)
    out = np.full((b, t.refs.size), -1, dtype=np.int64)
    for k, i in enumerate(t.refs):
        if kind != "other_org" and t.masks[kind][i]:
            out[:, k] = i  # an open (API-accessible) model is its own first open (API) model: lag 0
            continue
        key = (kind, k)
        if key not in cands:
            cands[key] = t.candidates(kind, k)
        c = cands[key]
        if c.size == 0:
            continue
        ref = log_c[:, i]
        c = c[hi[c] >= ref.min()]
        sure = np.flatnonzero(lo[c] >= ref.max())
        if sure.size:
            c = c[: sure[0] + 1]
        if c.size == 0:
            continue
        hit = log_c[:, c] >= ref[:, None]
        first = np.argmax(hit, axis=1)
        out[:, k] = np.where(hit.any(axis=1), c[first], -1)
    return out


def _months(t: _Table, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(months, caught)``: the lag to the follower, or the time to the table's end where there is none."""
    caught = first >= 0
    day = np.where(caught, t.day[np.maximum(first, 0)], t.last_day)
    return (day - t.ref_day[None, :]) / DAYS_PER_MONTH, caught


def _lags(t: _Table) -> list[Lag]:
    return [lag for _, lag in _lag_columns(t)]


def _lag_columns(t: _Table) -> list[tuple[int, Lag]]:
    """``(column of t.refs, Lag)`` sorted by reference date."""
    cands: dict[tuple[str, int], np.ndarray] = {}
    firsts = {kind: _first_catch_up(t, t.log_c[None, :], kind, cands)[0] for kind in KINDS}
    out = []
    for k, i in enumerate(t.refs):
        ref = t.recs[i]
        row: dict[str, Any] = {}
        for kind in KINDS:
            j = int(firsts[kind][k])
            row[f"{kind}_model"] = t.recs[j].name if j >= 0 else None
            row[f"{kind}_months"] = float((t.day[j] - t.ref_day[k]) / DAYS_PER_MONTH) if j >= 0 else None
        out.append(
            (
                k,
                Lag(
                    model=ref.name,
                    organization=", ".join(ref.organizations),
                    reference_date=dt.date.fromordinal(int(t.ref_day[k])).isoformat(),
                    date_basis=t.ref_basis[k],
                    training_compute_flop=float(ref.training_compute_flop),
                    censored_months=float((t.last_day - t.ref_day[k]) / DAYS_PER_MONTH),
                    compute_confidence=(ref.confidence or "").lower(),
                    **row,
                ),
            )
        )
    return sorted(out, key=lambda x: x[1].reference_date)


def catch_up_lags(
    records: Sequence,
    *,
    top: int = 10,
    since: int | None = None,
    date_basis: str = "publication",
    include_finetunes: bool = False,
    include_previews: bool = False,
) -> list[Lag]:
    """Lags for every model in the top ``top`` by training compute at its release (from ``since`` on).

    Fine-tunes and previews are left out as frontier models and as followers unless ``include_finetunes`` /
    ``include_previews`` (a fine-tune's compute includes its base model's: Llama Nemotron Ultra 253B's 3.9e25
    FLOP is Llama 3.1 405B's 3.8e25 plus 1.1e24 of its own).
    """
    return _lags(
        _table(
            records,
            top=top,
            since=since,
            date_basis=date_basis,
            include_finetunes=include_finetunes,
            include_previews=include_previews,
        )
    )


def reference_lag(
    records: Sequence,
    reference: str,
    *,
    date_basis: str = "publication",
    include_finetunes: bool = False,
    include_previews: bool = False,
) -> Lag:
    """The catch-up lags of one named model (frontier or not)."""
    t = _table(
        records,
        top=None,
        since=None,
        date_basis=date_basis,
        include_finetunes=include_finetunes,
        include_previews=include_previews,
        reference=reference,
    )
    return _lags(t)[0]


# -- Kaplan-Meier --------------------------------------------------------------------


@dataclass(frozen=True)
class KaplanMeier:
    """The Kaplan-Meier estimate of the fraction of frontier models caught up within a lag."""

    months: np.ndarray
    caught_up_fraction: np.ndarray
    #: pointwise ``credibility`` interval of the fraction (Greenwood's variance, log-log transform)
    low: np.ndarray
    high: np.ndarray
    median_months: float | None
    n: int
    caught_up: int
    credibility: float = CREDIBILITY

    def to_dict(self) -> dict[str, Any]:
        def clean(a: np.ndarray) -> list[float | None]:
            return [float(x) if math.isfinite(x) else None for x in np.asarray(a, dtype=float)]

        return {
            "months": clean(self.months),
            "caught_up_fraction": clean(self.caught_up_fraction),
            "low": clean(self.low),
            "high": clean(self.high),
            "median_months": self.median_months,
            "n": self.n,
            "caught_up": self.caught_up,
            "credibility": self.credibility,
        }


def _check_lags(months: Any, caught: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(months, dtype=float).ravel()
    e = np.asarray(caught, dtype=bool).ravel()
    if t.shape != e.shape:
        raise InvalidInputError(f"months ({t.size}) and caught ({e.size}) must have the same length")
    if not np.isfinite(t).all() or (t < 0).any():
        raise InvalidInputError("months: every lag must be a finite number >= 0")
    return t, e


def kaplan_meier(months: Any, caught: Any, credibility: float = CREDIBILITY) -> KaplanMeier | None:
    """KM estimate from lags ``months`` with ``caught`` False where the lag is right-censored; None without data."""
    from scipy import stats

    t, e = _check_lags(months, caught)
    if t.size == 0:
        return None
    if not e.any():
        return KaplanMeier(np.array([]), np.array([]), np.array([]), np.array([]), None, int(t.size), 0, credibility)
    res = stats.ecdf(stats.CensoredData(uncensored=t[e], right=t[~e]))
    cdf = res.cdf
    with warnings.catch_warnings():  # undefined at the ends of the curve (NaN there): scipy says so each time
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = cdf.confidence_interval(credibility, method="log-log")
    p = np.asarray(cdf.probabilities, dtype=float)
    q = np.asarray(cdf.quantiles, dtype=float)
    reached = np.flatnonzero(p >= 0.5 - 1e-12)
    median = float(q[reached[0]]) if reached.size else None
    return KaplanMeier(
        q,
        p,
        np.asarray(ci.low.probabilities, dtype=float),
        np.asarray(ci.high.probabilities, dtype=float),
        median,
        int(t.size),
        int(e.sum()),
        credibility,
    )


def km_median(months: Any, caught: Any) -> float | None:
    """The KM median lag: the first lag at which half the models are estimated caught up (None if never)."""
    km = kaplan_meier(months, caught)
    return None if km is None else km.median_months


def km_medians(months: np.ndarray, caught: np.ndarray) -> np.ndarray:
    """KM medians of each row of ``(rows, n)`` lags at once (inf where fewer than half are caught up).

    The same estimate as :func:`km_median` (tests check one against the other), vectorized for the bootstrap:
    sorted by lag, events before censorings at a tie, the survival is the running product of
    ``1 - 1 / at_risk`` over events.
    """
    t = np.atleast_2d(np.asarray(months, dtype=float))
    e = np.atleast_2d(np.asarray(caught, dtype=bool))
    n = t.shape[1]
    if n == 0:
        return np.full(t.shape[0], np.inf)
    order = np.lexsort((~e, t), axis=-1)
    ts, es = np.take_along_axis(t, order, 1), np.take_along_axis(e, order, 1)
    at_risk = n - np.arange(n)
    surv = np.cumprod(np.where(es, 1.0 - 1.0 / at_risk, 1.0), axis=1)
    hit = es & (surv <= 0.5 + 1e-12)
    first = np.argmax(hit, axis=1)
    return np.where(hit.any(axis=1), ts[np.arange(t.shape[0]), first], np.inf)


# -- summaries -------------------------------------------------------------------------


def _period(lag: Lag, period_years: int) -> str:
    y = int(lag.reference_date[:4])
    start = y - y % period_years
    return f"{start}-{start + period_years - 1}"


def _row(label: str, group: Sequence[Lag]) -> dict[str, Any]:
    row: dict[str, Any] = {"period": label, "frontier_models": len(group)}
    for kind in KINDS:
        vals = [getattr(x, f"{kind}_months") for x in group]
        months = [v if v is not None else x.censored_months for v, x in zip(vals, group, strict=True)]
        caught = [v is not None for v in vals]
        done = [v for v in vals if v is not None]
        row[f"{kind}_median_months"] = km_median(months, caught) if group else None
        row[f"{kind}_p5_months"] = None
        row[f"{kind}_p95_months"] = None
        row[f"{kind}_uncensored_median_months"] = float(np.median(done)) if done else None
        row[f"{kind}_caught_up"] = len(done)
        row[f"{kind}_not_yet"] = len(group) - len(done)
    return row


def summarize_lags(lags: Sequence[Lag], period_years: int = 2) -> list[dict[str, Any]]:
    """KM median lags by period of reference year, with counts caught up and censored (not yet caught up).

    ``{kind}_median_months`` is the Kaplan-Meier median (None when fewer than half are caught up);
    ``{kind}_uncensored_median_months`` the median over caught-up models only. p5/p95 come from :func:`lag_intervals`.
    """
    if isinstance(period_years, bool) or not isinstance(period_years, (int, np.integer)) or period_years < 1:
        raise InvalidInputError(f"period_years={period_years!r} must be a whole number >= 1")
    groups: dict[str, list[Lag]] = {}
    for lag in sorted(lags, key=lambda x: x.reference_date):
        groups.setdefault(_period(lag, int(period_years)), []).append(lag)
    return [_row(label, g) for label, g in groups.items()]


def summarize_all(lags: Sequence[Lag]) -> dict[str, Any]:
    """The overall row: every frontier model of ``lags`` in one group."""
    if not lags:
        return _row("all", [])
    years = sorted(x.reference_date[:4] for x in lags)
    return _row(f"{years[0]}-{years[-1]}", lags) | {"overall": True}


@dataclass
class LagIntervals:
    """Lags with KM medians and their bootstrap intervals, by period and overall."""

    lags: list[Lag]
    summary: list[dict[str, Any]]
    overall: dict[str, Any]
    curves: dict[str, KaplanMeier | None]
    samples: int
    seed: int | None
    compute_uncertainty: bool
    credibility: float = CREDIBILITY


def _percentiles(meds: np.ndarray, credibility: float) -> tuple[float | None, float | None]:
    lo, hi = np.quantile(meds, [(1 - credibility) / 2, (1 + credibility) / 2], method="inverted_cdf")

    def f(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    return f(lo), f(hi)


def lag_intervals(
    records: Sequence,
    *,
    top: int = 10,
    since: int | None = None,
    date_basis: str = "publication",
    include_finetunes: bool = False,
    include_previews: bool = False,
    period_years: int = 2,
    samples: int = 1000,
    seed: int | np.random.Generator | None = 0,
    compute_uncertainty: bool = True,
    credibility: float = CREDIBILITY,
) -> LagIntervals:
    """:func:`catch_up_lags` and :func:`summarize_lags` with the bootstrap p5/p95 of every KM median.

    ``samples`` resamples (0: no intervals); each draws every model's compute within its confidence interval
    (``compute_uncertainty``) and the frontier models of each group with replacement, from one generator.
    """
    from flopcast.uncertainty import make_rng

    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or not (0 <= samples <= 10_000):
        raise InvalidInputError(f"samples={samples!r} must be a whole number in 0..10,000 (0: no intervals)")
    if not (0 < credibility < 1):
        raise InvalidInputError(f"credibility={credibility!r} is outside (0, 1); 0.9 means p5..p95")
    t = _table(
        records,
        top=top,
        since=since,
        date_basis=date_basis,
        include_finetunes=include_finetunes,
        include_previews=include_previews,
    )
    columns = _lag_columns(t)
    lags = [lag for _, lag in columns]
    summary = summarize_lags(lags, period_years)
    overall = summarize_all(lags)
    curves: dict[str, KaplanMeier | None] = {}
    for kind in KINDS:
        vals = [getattr(x, f"{kind}_months") for x in lags]
        curves[kind] = kaplan_meier(
            [v if v is not None else x.censored_months for v, x in zip(vals, lags, strict=True)],
            [v is not None for v in vals],
            credibility,
        )
    if samples and lags:
        rng = make_rng(seed)
        z = rng.standard_normal((int(samples), len(t.recs))) if compute_uncertainty else 0.0
        log_c = t.log_c[None, :] + z * t.sigma[None, :]
        if not compute_uncertainty:
            log_c = np.broadcast_to(log_c, (int(samples), len(t.recs)))
        cands: dict[tuple[str, int], np.ndarray] = {}
        drawn = {kind: _months(t, _first_catch_up(t, log_c, kind, cands)) for kind in KINDS}
        groups = [(r, [k for k, x in columns if _period(x, period_years) == r["period"]]) for r in summary]
        groups.append((overall, [k for k, _ in columns]))
        for row, cols in groups:
            cols_a = np.asarray(cols, dtype=int)
            pick = cols_a[rng.integers(0, cols_a.size, (int(samples), cols_a.size))]
            for kind in KINDS:
                m, c = drawn[kind]
                meds = km_medians(np.take_along_axis(m, pick, 1), np.take_along_axis(c, pick, 1))
                row[f"{kind}_p5_months"], row[f"{kind}_p95_months"] = _percentiles(meds, credibility)
    return LagIntervals(
        lags=lags,
        summary=summary,
        overall=overall,
        curves=curves,
        samples=int(samples),
        seed=seed if isinstance(seed, (int, type(None))) else None,
        compute_uncertainty=compute_uncertainty,
        credibility=credibility,
    )


def lag_between(records: Sequence, reference: str, follower: str, date_basis: str = "publication") -> float:
    """Months from ``reference`` (publication, or its training end) to ``follower``'s publication."""
    by_name = {r.name: r for r in records}
    by_name.update({r.key: r for r in records if getattr(r, "key", "")})
    for n in (reference, follower):
        if n not in by_name:
            raise UnknownModelError(n, list(by_name))
    when, _ = _reference_date(by_name[reference], date_basis)
    return months_between(when, by_name[follower].publication_date)


# -- counterfactual timing -------------------------------------------------------------


def gpt3_followers_rule(records: Sequence, reference: str = "gpt-3") -> list[str]:
    """The rule behind :data:`GPT3_FOLLOWERS`: language models of Google or DeepMind (not fine-tunes or previews)
    at or above GPT-3's training compute, published after GPT-3 and up to OPT-175B (May 2022, the end of
    Cottier's case studies), in publication order."""
    by = {r.key: r for r in records if getattr(r, "key", "")} | {r.name: r for r in records}
    ref, end = by[reference], by["OPT-175B"].publication_date
    out = [
        r
        for r in records
        if r.publication_date
        and ref.publication_date < r.publication_date <= end
        and any("google" in o.lower() or "deepmind" in o.lower() for o in r.organizations)
        and any(d.lower() == "language" for d in r.domains)
        and (r.training_compute_flop or 0) >= ref.training_compute_flop
        and not r.is_finetune
        and not is_preview(r)
    ]
    return [r.name for r in sorted(out, key=lambda r: r.publication_date)]


@dataclass(frozen=True)
class ShiftedFollower:
    """One follower's lag behind a reference, as it was and had it come ``speedup_months`` later."""

    follower: str
    organization: str
    publication_date: str
    lag_months: float
    #: the speedup taken away, months: its (p5, p50, p95) (all equal for a fixed speedup)
    speedup_months: tuple[float, float, float]
    counterfactual_lag_months: tuple[float, float, float]
    #: decimal years of the actual and the counterfactual (p5, p50, p95) publication dates
    year: float
    counterfactual_year: tuple[float, float, float]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("speedup_months", "counterfactual_lag_months", "counterfactual_year"):
            d[k] = dict(zip(("p5", "p50", "p95"), d[k], strict=True))
        return d


def shifted_followers(
    records: Sequence,
    reference: str,
    followers: Sequence[str],
    speedup_months: tuple[float, float, float],
    date_basis: str = "publication",
) -> list[ShiftedFollower]:
    """Each follower's lag behind ``reference`` and the lag had it come ``speedup_months`` (p5, p50, p95) later.

    The counterfactual lag is the lag plus the speedup; the counterfactual date is the publication date plus
    ``speedup / 12`` decimal years (the cost to reproduce the reference there is the service's).
    """
    from flopcast.dates import decimal_year

    by = {r.name: r for r in records} | {r.key: r for r in records if getattr(r, "key", "")}
    s = tuple(float(x) for x in speedup_months)
    out = []
    for name in followers:
        if name not in by:
            raise UnknownModelError(name, list(by))
        f = by[name]
        lag = lag_between(records, reference, name, date_basis)
        y = float(decimal_year(f.publication_date))
        out.append(
            ShiftedFollower(
                follower=f.name,
                organization=", ".join(f.organizations),
                publication_date=f.publication_date.isoformat(),
                lag_months=lag,
                speedup_months=(s[0], s[1], s[2]),
                counterfactual_lag_months=(lag + s[0], lag + s[1], lag + s[2]),
                year=y,
                counterfactual_year=(y + s[0] / 12, y + s[1] / 12, y + s[2] / 12),
            )
        )
    return out
