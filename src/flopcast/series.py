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
        labels = [e.name for e in ests]
        dropped = len(chosen) - len(ests)
        notes.append(
            f"cost = flopcast's median {method} estimate ({res.dollars}; {samples:,} {sampling} samples, "
            f"seed {seed})" + (f"; {dropped} selected model(s) have no {method} cost" if dropped else "")
        )
        title = f"{METRICS[metric][0]} ({method})"
    else:
        attr = {"compute": "training_compute_flop", "params": "parameters", "data": "dataset_size"}[metric]
        pts = [
            (r.publication_date, getattr(r, attr), r.name) for r in chosen if r.publication_date and getattr(r, attr)
        ]
        dates = [p[0] for p in pts]
        values = np.array([p[1] for p in pts], dtype=float)
        labels = [p[2] for p in pts]
        title = METRICS[metric][0]
    if len(dates) < 3:
        raise InvalidInputError(
            f"the selection leaves {len(dates)} model(s) with a {metric} value; a trend needs at least 3"
        )
    return Series(metric, title, METRICS[metric][1], dates, values, labels, db.describe(), notes)


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
