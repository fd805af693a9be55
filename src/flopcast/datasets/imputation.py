"""Hardware for models whose database row names no chip, fitted to the whole database.

Only a model whose row names no chip (or only chips the tables cannot cost) gets an
imputed one, and never a chip released after its training ended (publication date less
Cottier et al.'s 60-day gap). The rule, first that applies:

1. the most common costable chip of one of its organizations among its models published
   the same year, else within one year, else within two;
2. the most common chip of models published that year in its domain;
3. the most common chip of models published that year, then the year before or after;
4. the most common chip overall.

Each step counts only chips already released when the model's training ended. A model
trained before every chip in the tables gets no chip, and the reason says so. Counts are
built once per database (linear in its size); a lookup walks at most a few counters.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

from flopcast.catalogs import constants as K
from flopcast.catalogs.hardware import Hardware, HardwareCatalog
from flopcast.datasets.records import ModelRecord

RULE = (
    "most common costable chip of the organization's models of the same year (then within 1, then 2 years), else "
    "of the year and domain, else of the year (then the year before or after), else overall; only chips "
    "released before the model's training ended"
)


def training_end(r: ModelRecord) -> dt.date | None:
    """Publication date less Cottier et al.'s gap between the end of training and publication."""
    if r.publication_date is None:
        return None
    return r.publication_date - dt.timedelta(days=int(K.constant("training_start_gap_days").value))


def _ranked(counter: Counter[str]) -> tuple[str, ...]:
    """The keys of ``counter``, most common first (ties in the order first counted: ``Counter.most_common``)."""
    return tuple(k for k, _ in counter.most_common())


class Imputer:
    """The counts behind :attr:`RULE`, built once over a database's records (one pass, linear in its size).

    Kept as plain data (counts by organization and year; chip keys ranked by count for the other steps), so a
    lookup sorts at most the few chips of one organization's neighbouring years, and the imputer pickles compactly
    with the parsed database (:mod:`flopcast.datasets.parsed`).
    """

    def __init__(self, records: Sequence[ModelRecord], catalog: HardwareCatalog):
        self.catalog = catalog
        by_org: dict[str, dict[int, Counter[str]]] = {}
        by_year_domain: dict[tuple[int, str], Counter[str]] = {}
        by_year: dict[int, Counter[str]] = {}
        overall: Counter[str] = Counter()
        matched: dict[tuple[str, ...], str | None] = {}  # the chip of each "Training hardware" cell, resolved once
        for r in records:
            if not r.training_hardware or r.publication_date is None:
                continue
            names = r.training_hardware
            if names in matched:
                key = matched[names]
            else:
                hw, _ = catalog.match_names(names)
                key = matched[names] = hw.key if hw is not None else None
            if key is None:
                continue
            y = r.publication_date.year
            for o in r.organizations:
                by_org.setdefault(o.lower(), {}).setdefault(y, Counter())[key] += 1
            for d in r.domains or ("",):
                by_year_domain.setdefault((y, d.lower()), Counter())[key] += 1
            by_year.setdefault(y, Counter())[key] += 1
            overall[key] += 1
        #: organization (lowercase) -> year -> chip key -> models
        self.by_org: dict[str, dict[int, dict[str, int]]] = {
            o: {y: dict(c) for y, c in years.items()} for o, years in by_org.items()
        }
        #: chip keys, most common first
        self.by_year_domain: dict[tuple[int, str], tuple[str, ...]] = {k: _ranked(c) for k, c in by_year_domain.items()}
        self.by_year: dict[int, tuple[str, ...]] = {y: _ranked(c) for y, c in by_year.items()}
        self.overall: tuple[str, ...] = _ranked(overall)
        released = [h.release_date for h in catalog if h.release_date and h.peak_for_cost() is not None]
        self.oldest = min(released) if released else None

    def _first_released(self, ranked: Iterable[str], before: dt.date) -> Hardware | None:
        for key in ranked:
            hw = self.catalog.get(key)
            if hw.release_date is not None and hw.release_date <= before:
                return hw
        return None

    def hardware(self, r: ModelRecord) -> tuple[Hardware | None, str]:
        """The imputed chip and the rule that chose it, or None and why not."""
        published, end = r.publication_date, training_end(r)
        if published is None or end is None:
            return None, "no publication date to impute a chip from"
        if self.oldest is not None and end < self.oldest:
            return None, (
                f"trained before every chip in the tables (training ended by {end}; the oldest costable "
                f"chip was released {self.oldest})"
            )
        y = published.year
        for spread in (0, 1, 2):
            for o in r.organizations:
                years = self.by_org.get(o.lower())
                if not years:
                    continue
                near: Counter[str] = Counter()
                for yy in range(y - spread, y + spread + 1):
                    c = years.get(yy)
                    if c:
                        near.update(c)
                hw = self._first_released(_ranked(near), end) if near else None
                if hw is not None:
                    when = f"in {y}" if spread == 0 else f"within {spread} year{'s' if spread > 1 else ''} of {y}"
                    return hw, f"most common chip of {o}'s models published {when}"
        for d in r.domains or ("",):
            ranked = self.by_year_domain.get((y, d.lower()))
            hw = self._first_released(ranked, end) if ranked else None
            if hw is not None:
                return hw, f"most common chip of {d or 'all'} models published in {y}"
        for yy in (y, y - 1, y + 1):
            ranked = self.by_year.get(yy)
            hw = self._first_released(ranked, end) if ranked else None
            if hw is not None:
                return hw, f"most common chip of models published in {yy}"
        hw = self._first_released(self.overall, end)
        if hw is not None:
            return hw, "most common chip overall"
        return None, f"no chip in the tables was released before its training ended ({end})"
