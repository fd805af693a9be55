"""The validation vocabulary: a check, its outcome and result, the pass rules, and the context checks run in.

Layer: validation. A :class:`Check` names its source, the published value and a rule; its ``run`` takes the
:class:`Context` (one database, estimates cached) and returns an :class:`Outcome` built by one of the rules
below (:func:`close`, :func:`within_factor`, :func:`covers`, :func:`inside`), which decides pass or fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, SKIP = "pass", "fail", "skipped"


@dataclass
class Outcome:
    value: float
    unit: str = ""
    low: float | None = None
    high: float | None = None
    ratio: float | None = None
    passed: bool = False
    note: str = ""


@dataclass
class Check:
    id: str
    area: str
    title: str
    source: str
    expected: str
    rule: str
    run: Callable[[Context], Outcome]
    needs_data: bool = False


@dataclass
class Result:
    check: Check
    status: str
    outcome: Outcome | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        c, o = self.check, self.outcome
        d: dict[str, Any] = {
            "id": c.id,
            "area": c.area,
            "check": c.title,
            "source": c.source,
            "expected": c.expected,
            "rule": c.rule,
            "status": self.status,
        }
        if o is not None:
            d.update(value=o.value, unit=o.unit, low=o.low, high=o.high, ratio=o.ratio, note=o.note)
        if self.reason:
            d["reason"] = self.reason
        return d


# -- rules --------------------------------------------------------------------------------


def close(
    value: float,
    expected: float,
    rel: float,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    note: str = "",
) -> Outcome:
    """Pass when value / expected is within 1 +- rel."""
    r = value / expected
    return Outcome(value, unit, low, high, r, abs(r - 1) <= rel + 1e-12, note)


def within_factor(measured: float, value: float, factor: float, unit: str = "", note: str = "") -> Outcome:
    """Pass when measured / flopcast is within [1/factor, factor]."""
    r = measured / value
    return Outcome(value, unit, None, None, r, 1 / factor <= r <= factor, note)


def covers(
    expected: float,
    median: float,
    low: float,
    high: float,
    unit: str = "",
    max_factor: float | None = None,
    note: str = "",
) -> Outcome:
    """Pass when flopcast's 90% interval contains the published value (and, optionally, the median is close)."""
    r = median / expected
    ok = low <= expected <= high and (max_factor is None or 1 / max_factor <= r <= max_factor)
    return Outcome(median, unit, low, high, r, ok, note)


def inside(
    value: float,
    lo: float,
    hi: float,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    note: str = "",
) -> Outcome:
    """Pass when flopcast's value lies in the published interval."""
    mid = math.sqrt(lo * hi)
    return Outcome(value, unit, low, high, value / mid, lo <= value <= hi, note)


# -- context ------------------------------------------------------------------------------


@dataclass
class Context:
    data: str | None
    _cache: dict[str, Any] = field(default_factory=dict)

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def db(self) -> Any:
        from flopcast.service import database

        return self.cached("db", lambda: database(self.data))

    def estimate(self, name: str, **kw: Any) -> Any:
        """The estimate ``flopcast estimate NAME`` prints (the same function, on this database)."""
        from flopcast.service import training_estimate

        key = f"estimate:{name}:{sorted(kw.items())}"
        return self.cached(key, lambda: training_estimate(name, db=self.db(), **kw))
