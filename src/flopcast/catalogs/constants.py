"""Method constants with sources and ranges (``data/constants.csv``).

Each constant has a central ``value`` (what the published method uses) and, where the
authors give one, a 90% interval ``low``-``high`` with a distribution ``kind`` that
feeds the Monte Carlo.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from flopcast.catalogs._table import num, read_rows
from flopcast.errors import CatalogError, UnknownNameError
from flopcast.uncertainty.distributions import Distribution, Point, ci

_KINDS = ("point", "lognormal", "normal", "beta")


@dataclass(frozen=True)
class Constant:
    name: str
    value: float
    low: float | None
    high: float | None
    kind: str
    unit: str
    source: str
    notes: str = ""

    @cached_property
    def _distribution(self) -> Distribution:
        if self.kind == "point" or self.low is None or self.high is None:
            return Point(self.value)
        return ci(self.low, self.high, kind=self.kind)

    def distribution(self) -> Distribution:
        """The Monte Carlo input: the 90% interval, or the value when there is none (built once)."""
        return self._distribution

    def point(self) -> Point:
        return Point(self.value)


def read_constants(name: str) -> dict[str, Constant]:
    """A bundled constants file (``name,value,low,high,kind,unit,source,...``), schema checked."""
    rows, label = read_rows(name, required=("name", "value", "low", "high", "kind", "unit", "source", "as_of"))
    out = {}
    for r in rows:
        key = r["name"].strip()
        kind = r["kind"].strip()
        if kind not in _KINDS:
            raise CatalogError(f"{label} line {r['_line']}: kind={kind!r} is not one of {', '.join(_KINDS)}")
        if key in out:
            raise CatalogError(f"{label} line {r['_line']}: constant {key!r} appears twice")
        out[key] = Constant(
            name=key,
            value=num(r, "value", label, required=True, positive=False),
            low=num(r, "low", label, positive=False),
            high=num(r, "high", label, positive=False),
            kind=kind,
            unit=r["unit"].strip(),
            source=r["source"].strip(),
            notes=(r.get("notes") or "").strip(),
        )
    return out


@lru_cache(maxsize=1)
def constants() -> dict[str, Constant]:
    """Method constants of Cottier et al. 2024 and others (``constants.csv``)."""
    return read_constants("constants.csv")


def constant(name: str, variant: str | None = None) -> Constant:
    """``constant("server_overhead", "a100")`` falls back to ``server_overhead.default``."""
    table = constants()
    if variant is not None:
        for key in (f"{name}.{variant}", f"{name}.default"):
            if key in table:
                return table[key]
    if name in table:
        return table[name]
    raise UnknownNameError("constant", name if variant is None else f"{name}.{variant}", table)


@lru_cache(maxsize=1)
def _diffusion_constants() -> dict[str, Constant]:
    return read_constants("diffusion_constants.csv")


def diffusion_constant(name: str) -> Constant:
    """A constant of ``diffusion_constants.csv`` (``"algorithmic_oom_per_year.language"``,
    ``"chinchilla.alpha"``...), with its value, 90% interval and source."""
    table = _diffusion_constants()
    if name not in table:
        raise UnknownNameError("diffusion constant", name, table)
    return table[name]


@lru_cache(maxsize=1)
def forecast_constants() -> dict[str, Constant]:
    """Constraint caps and published forecast anchors (``forecast_constants.csv``): ``"cap.power"``..."""
    return read_constants("forecast_constants.csv")


def forecast_constant(name: str) -> Constant:
    """A constant of ``forecast_constants.csv``, with its value, 90% interval and source."""
    table = forecast_constants()
    if name not in table:
        raise UnknownNameError("forecast constant", name, table)
    return table[name]
