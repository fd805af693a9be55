"""Actor presets: who has how much to spend on one training run (``catalogs/data/actors.csv``).

The presets are illustrative, each with its source and as-of date; a user's CSV with the
same columns replaces them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flopcast.catalogs._table import date as _date_cell
from flopcast.catalogs._table import num, read_rows
from flopcast.errors import CatalogError, UnknownNameError

__all__ = ["Actor", "get_actor", "load_actors"]

_ACTOR_COLUMNS = ("key", "name", "budget_usd", "source", "as_of")


@dataclass(frozen=True)
class Actor:
    """Someone with a budget for one training run (USD)."""

    key: str
    name: str
    budget_usd: float
    source: str = ""
    as_of: dt.date | None = None
    notes: str = ""


def load_actors(path: str | Path | None = None) -> list[Actor]:
    """The bundled actor presets (``catalogs/data/actors.csv``), or a user's CSV with the
    same columns (key, name, budget_usd, source, as_of; notes optional).

    The presets are illustrative: copy the file, edit the budgets and pass its path.
    Budgets must be positive and keys unique; a bad file raises :class:`CatalogError`
    naming the file, line and column.
    """
    rows, label = (
        read_rows("actors.csv", required=_ACTOR_COLUMNS)
        if path is None
        else read_rows(path=path, required=_ACTOR_COLUMNS)
    )
    actors: list[Actor] = []
    seen: dict[str, int] = {}
    for r in rows:
        line = r["_line"]
        key = (r.get("key") or "").strip()
        name = (r.get("name") or "").strip()
        if not key:
            raise CatalogError(f"{label} line {line}: column 'key' is empty; every actor needs a unique key")
        if key in seen:
            raise CatalogError(f"{label} line {line}: key {key!r} repeats line {seen[key]}; keys must be unique")
        seen[key] = line
        budget = num(r, "budget_usd", label, required=True, positive=True)
        actors.append(
            Actor(
                key=key,
                name=name or key,
                budget_usd=float(budget),
                source=(r.get("source") or "").strip(),
                as_of=_date_cell(r, "as_of", label),
                notes=(r.get("notes") or "").strip(),
            )
        )
    if not actors:
        raise CatalogError(f"{label}: no actors; add at least one row under the header {','.join(_ACTOR_COLUMNS)}")
    return actors


def get_actor(key: str, path: str | Path | None = None) -> Actor:
    """One actor by key (``"startup"``), from the presets or a user's file."""
    actors = load_actors(path)
    for a in actors:
        if a.key == key:
            return a
    raise UnknownNameError("actor", key, [a.key for a in actors])
