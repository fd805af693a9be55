"""Method constants with sources and ranges (``data/constants.csv``).

Each constant has a central ``value`` (what the published method uses) and, where the
authors give one, a 90% interval ``low``-``high`` with a distribution ``kind`` that
feeds the Monte Carlo.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

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


# -- the beta fits of the catalog's intervals, made once and stored ---------------------------

#: the bundled files whose ``kind=beta`` constants have a stored fit and table
BETA_CONSTANT_FILES = ("constants.csv", "diffusion_constants.csv", "forecast_constants.csv")
#: the credibility of every catalog interval (``ci``'s default)
CATALOG_CREDIBILITY = 0.9


def beta_intervals() -> dict[tuple[float, float, float], list[str]]:
    """Each distinct ``(low, high, credibility)`` of a ``kind=beta`` constant, with the constants that use it."""
    out: dict[tuple[float, float, float], list[str]] = {}
    for name in BETA_CONSTANT_FILES:
        for c in read_constants(name).values():
            if c.kind == "beta" and c.low is not None and c.high is not None and c.low < c.high:
                out.setdefault((c.low, c.high, CATALOG_CREDIBILITY), []).append(c.name)
    return out


def write_beta_fits(folder: Path | None = None) -> tuple[Path, Path]:
    """Fit every catalog beta interval and tabulate its inverse; write both files atomically.

    ``beta_fits.csv`` holds ``low, high, credibility, a, b, constants`` (the shape from
    :func:`flopcast.uncertainty.distributions.fit_beta`, scipy's root finder, with ``repr`` digits so it
    reads back bit for bit) and ``beta_tables.npy`` one row ``a, b, y...`` per fit (the table of
    :func:`flopcast.uncertainty.special.build_table`). ``folder`` defaults to the bundled data folder;
    rerun this after adding or changing a ``kind=beta`` constant (``tests/test_special.py`` checks that
    the stored files cover every one)::

        python -c "from flopcast.catalogs.constants import write_beta_fits; write_beta_fits()"
    """
    import csv
    import io
    import os
    import tempfile

    import numpy as np

    from flopcast.uncertainty import special
    from flopcast.uncertainty.distributions import fit_beta

    folder = Path(folder) if folder is not None else special.FITS_FILE.parent
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([*special.FITS_COLUMNS, "constants"])
    rows = []
    for (lo, hi, cred), names in sorted(beta_intervals().items()):
        a, b = fit_beta(lo, hi, cred)
        writer.writerow([repr(lo), repr(hi), repr(cred), repr(a), repr(b), " ".join(names)])
        rows.append(np.concatenate([[a, b], special.build_table(a, b)]))
    tables = np.array(rows, dtype=np.float64).reshape(len(rows), special.N_NODES + 2)
    fits_path, tables_path = folder / special.FITS_FILE.name, folder / special.TABLES_FILE.name
    for path, write in (
        (tables_path, lambda f: np.save(f, tables, allow_pickle=False)),
        (fits_path, lambda f: f.write(text.getvalue().encode("utf-8"))),
    ):
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.chmod(tmp, 0o644)  # package data, readable by all (mkstemp makes 0600)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    return fits_path, tables_path
