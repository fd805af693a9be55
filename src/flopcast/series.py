"""Metric series for trend fits: (date, value, label) points drawn from a model table.

Metrics: ``compute`` (reported training compute, FLOP), ``cost`` (flopcast's median
estimate by a cost method, USD), ``params`` (parameters), ``data`` (training dataset
size, datapoints), ``price-performance`` (peak FLOP/s per dollar of chips with a
purchase or release price, by price date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from flopcast.defaults import DEFAULT_SAMPLES, DEFAULT_SAMPLING
from flopcast.errors import InvalidInputError, UnknownNameError

if TYPE_CHECKING:
    from flopcast.catalogs.hardware import Hardware
    from flopcast.catalogs.prices import PriceBook
    from flopcast.datasets.database import Database
    from flopcast.pipeline import Settings

#: z of the 95th percentile: a 90% interval spans 2 x 1.6449 standard deviations of a normal
_Z95 = 1.6448536269514722


def _sigma_log10(p5, p95):
    """The log10 sd of a lognormal whose 90% interval is ``p5``-``p95`` (arrays broadcast)."""
    lo = np.log10(np.maximum(np.asarray(p5, dtype=float), 1e-300))
    hi = np.log10(np.maximum(np.asarray(p95, dtype=float), 1e-300))
    return np.maximum(hi - lo, 0.0) / (2 * _Z95)


METRICS = {
    "compute": ("Training compute", "FLOP"),
    "cost": ("Training cost", "USD"),
    "params": ("Parameters", "parameters"),
    "data": ("Training dataset size", "datapoints"),
    "price-performance": ("Peak FLOP/s per dollar", "FLOP/s per USD"),
}


@dataclass
class Series:
    metric: str
    title: str
    unit: str
    dates: list[dt.date]
    values: np.ndarray
    labels: list[str]
    source: str
    notes: list[str]
    #: each point's own uncertainty: the log10 sd of its 90% interval (None for metrics without one)
    sigmas_log10: np.ndarray | None = None


def model_series(
    db: Database,
    metric: str,
    *,
    top: int | None = None,
    since: int | None = None,
    until: int | None = None,
    domain: str | None = None,
    org: str | None = None,
    include_finetunes: bool = False,
    settings: Settings | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    sampling: str = DEFAULT_SAMPLING,
) -> Series:
    """Points for a model metric after the selection rules (top-N at release first, then filters).

    Costs are the medians of :func:`flopcast.pipeline.estimate_records`, so each point is the
    median ``costs`` and ``estimate NAME`` give for the same samples and seed.
    """
    from flopcast.pipeline import Settings, estimate_records
    from flopcast.selection import select

    if metric not in METRICS:
        raise UnknownNameError("metric", metric, METRICS)
    if metric == "price-performance":
        raise InvalidInputError("price-performance is a hardware metric; use hardware_series")
    chosen = select(
        db.records, since=since, until=until, domain=domain, org=org, top=top, include_finetunes=include_finetunes
    )
    notes: list[str] = []
    if metric == "cost":
        settings = settings or Settings()
        method = settings.methods[0]
        res = estimate_records(chosen, db, settings=settings, samples=samples, seed=seed, sampling=sampling)
        ests = [e for e in res.estimates if method in e.cost_usd and e.publication_date]
        dates = [e.publication_date for e in ests if e.publication_date]
        values = np.array([e.cost_usd[method].median for e in ests])
        sigmas: np.ndarray | None = _sigma_log10(
            [e.cost_usd[method].p5 for e in ests], [e.cost_usd[method].p95 for e in ests]
        )
        labels = [e.name for e in ests]
        dropped = len(chosen) - len(ests)
        notes.append(
            f"cost = flopcast's median {method} estimate ({res.dollars}; {samples:,} {sampling} samples, "
            f"seed {seed})" + (f"; {dropped} selected model(s) have no {method} cost" if dropped else "")
        )
        title = f"{METRICS[metric][0]} ({method})"
    else:
        attr = {"compute": "training_compute_flop", "params": "parameters", "data": "dataset_size"}[metric]
        kept = [r for r in chosen if r.publication_date and getattr(r, attr)]
        dates = [r.publication_date for r in kept if r.publication_date]
        values = np.array([getattr(r, attr) for r in kept], dtype=float)
        labels = [r.name for r in kept]
        title = METRICS[metric][0]
        sigmas = None
        if metric == "compute":
            from flopcast.pipeline.evidence import compute_distribution

            sigmas = np.array([getattr(compute_distribution(r), "sigma", 0.0) / np.log(10) for r in kept])
    if len(dates) < 3:
        raise InvalidInputError(
            f"the selection leaves {len(dates)} model(s) with a {metric} value; a trend needs at least 3"
        )
    return Series(metric, title, METRICS[metric][1], dates, values, labels, db.describe(), notes, sigmas)


def hardware_series(
    catalog: Iterable[Hardware],
    price_book: PriceBook | None = None,
    *,
    since: int | None = None,
    until: int | None = None,
    source: str = "",
) -> Series:
    """Peak FLOP/s per dollar for chips with a price: Epoch/curated purchase rows, else release prices."""
    from flopcast.catalogs.prices import bundled_price_book

    book = price_book or bundled_price_book()
    pts = {}
    for hw in catalog:
        if hw.default_precision() is None:
            continue
        pp = book.purchase_price(hw)
        if pp is None or not pp.price_usd_per_chip or pp.date.year < 1990:
            continue
        if (since is not None and pp.date.year < since) or (until is not None and pp.date.year > until):
            continue
        key = (hw.name, pp.date)
        pts[key] = (pp.date, hw.peak_flop_per_s() / pp.price_usd_per_chip, hw.name)
    vals = sorted(pts.values())
    if len(vals) < 3:
        raise InvalidInputError(f"only {len(vals)} chip(s) have a price and a peak; a trend needs at least 3")
    return Series(
        "price-performance",
        METRICS["price-performance"][0],
        METRICS["price-performance"][1],
        [v[0] for v in vals],
        np.array([v[1] for v in vals]),
        [v[2] for v in vals],
        source,
        ["peak FLOP/s (bf16/fp16 tensor, else tf32, else fp32) per dollar of purchase or release price"],
    )


@dataclass
class FrontierPoints:
    """The frontier runs a forecast is fitted to: per run, the median of each quantity the pipeline estimates
    and the log10 standard deviation of its own 90% interval (``(log10 p95 - log10 p5) / 3.29``)."""

    years: np.ndarray
    labels: list[str]
    #: quantity -> medians (compute_flop, cost_usd, chip_hours, chips, power_w, peak_flop_per_s)
    medians: dict[str, np.ndarray]
    #: quantity -> log10 sd of each run's interval (0 where it has none)
    sigmas_log10: dict[str, np.ndarray]
    source: str
    dollars: str
    method: str
    #: runs the selection held that lack a quantity the forecast needs, with why
    left_out: list[str]


FRONTIER_QUANTITIES = ("compute_flop", "cost_usd", "chip_hours", "chips", "power_w")


def frontier_points(
    db: Database,
    *,
    top: int = 10,
    since: int | None = None,
    until: int | None = None,
    include_finetunes: bool = False,
    settings: Settings | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    sampling: str = DEFAULT_SAMPLING,
) -> FrontierPoints:
    """The top-``top`` runs at release in ``since``-``until`` with everything a forecast by components needs:
    the same medians ``costs`` and ``estimate NAME`` give for these models (same samples and seed)."""
    from flopcast.dates import decimal_year
    from flopcast.pipeline import Settings, estimate_records
    from flopcast.selection import select

    settings = settings or Settings()
    method = settings.methods[0]
    chosen = select(db.records, since=since, until=until, top=top, include_finetunes=include_finetunes)
    res = estimate_records(chosen, db, settings=settings, samples=samples, seed=seed, sampling=sampling)
    rows: list[tuple] = []
    left_out = [f"{s['model']}: {s['reason']}" for s in res.skipped]
    for e in res.estimates:
        peak = next((i.central for i in e.inputs if i.name == "peak_flop_per_s"), None)
        got = {
            "compute_flop": e.training_compute_flop,
            "cost_usd": e.cost_usd.get(method),
            "chip_hours": e.chip_hours,
            "chips": e.chips,
            "power_w": e.peak_power_w,
        }
        missing = [k for k, v in got.items() if v is None or not (v.median > 0)]
        if not e.publication_date or peak is None or missing:
            left_out.append(f"{e.name}: no {', '.join(missing or ['publication date or chip peak'])}")
            continue
        rows.append((e, got, float(peak)))
    if len(rows) < 3:
        raise InvalidInputError(
            f"the selection leaves {len(rows)} run(s) with compute, cost, chips and power; a forecast needs at least 3"
        )
    years = np.asarray(decimal_year([e.publication_date for e, _, _ in rows]), dtype=float).reshape(-1)
    medians = {k: np.array([g[k].median for _, g, _ in rows], dtype=float) for k in FRONTIER_QUANTITIES}
    medians["peak_flop_per_s"] = np.array([p for _, _, p in rows], dtype=float)
    sig = {}
    for k in FRONTIER_QUANTITIES:
        sig[k] = _sigma_log10([g[k].p5 for _, g, _ in rows], [g[k].p95 for _, g, _ in rows])
    sig["peak_flop_per_s"] = np.zeros(len(rows))
    return FrontierPoints(
        years=years,
        labels=[e.name for e, _, _ in rows],
        medians=medians,
        sigmas_log10=sig,
        source=db.describe(),
        dollars=res.dollars,
        method=method,
        left_out=left_out,
    )
