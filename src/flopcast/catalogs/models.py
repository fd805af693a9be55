"""The model catalog: landmark models with facts from primary sources.

Each row cites its source. Reading Epoch AI's whole database (issue 3) produces the
same :class:`ModelSpec` records, so the training chain takes either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flopcast.catalogs._table import date, norm, num, read_rows, split
from flopcast.errors import AmbiguousNameError, CatalogError, InvalidInputError, UnknownModelError

_REQUIRED = ("key", "name", "organization", "publication_date", "source", "as_of")
_CONFIDENCE = ("confident", "likely", "speculative")


@dataclass(frozen=True)
class ModelSpec:
    """Published facts about one trained model (SI units; None where unpublished)."""

    key: str
    name: str
    organization: str
    publication_date: dt.date
    domain: str = ""
    params: float | None = None
    params_active: float | None = None
    training_tokens: float | None = None
    epochs: float | None = None
    training_compute_flop: float | None = None
    hardware: str | None = None
    chips: float | None = None
    training_time_hours: float | None = None
    chip_hours: float | None = None
    utilization: float | None = None
    n_layers: float | None = None
    d_model: float | None = None
    #: attention width of the score and value matmuls, heads x (d_qk + d_v) / 2 (PaLM's convention)
    d_attn: float | None = None
    #: the pretraining sequence length (used for the attention FLOP of training)
    context_length: float | None = None
    #: the longest context the released model takes (serving); None = context_length
    max_context_length: float | None = None
    #: KV-cache elements per token and layer over multi-head attention's 2 x d_model (GQA, MQA, MLA); None = 1
    kv_cache_fraction: float | None = None
    precision: str | None = None
    training_start_date: dt.date | None = None
    confidence: str = "likely"
    aliases: tuple[str, ...] = ()
    source: str = ""
    as_of: str = ""
    notes: str = ""
    #: the row of Epoch's AI models table this curated row corrects and completes ("" = an addition)
    epoch_name: str = ""

    @property
    def params_per_token(self) -> float | None:
        """Parameters used per token: active ones for mixture-of-experts models."""
        return self.params_active or self.params


class ModelCatalog:
    def __init__(self, rows: list[ModelSpec], label: str):
        self.label = label
        self._rows = {m.key: m for m in rows}
        self._by_norm: dict[str, set[str]] = {}
        for m in rows:
            for n in (m.key, m.name, *m.aliases):
                self._by_norm.setdefault(norm(n), set()).add(m.key)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def names(self) -> list[str]:
        return [n for m in self._rows.values() for n in (m.key, m.name, *m.aliases)]

    def get(self, name: str) -> ModelSpec:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"model={name!r} is empty; give a name such as 'gpt-3'")
        if name in self._rows:
            return self._rows[name]
        hits = self._by_norm.get(norm(name), set())
        if len(hits) == 1:
            return self._rows[next(iter(hits))]
        if len(hits) > 1:
            raise AmbiguousNameError("model", name, hits)
        raise UnknownModelError(name, self.names())

    def find(self, name: str) -> ModelSpec | None:
        """Like :meth:`get`, but None for an unknown or ambiguous name."""
        if name in self._rows:
            return self._rows[name]
        hits = self._by_norm.get(norm(name), set())
        return self._rows[next(iter(hits))] if len(hits) == 1 else None


def _fraction(row: dict, col: str, label: str) -> float | None:
    v = num(row, col, label)
    if v is not None and v > 1:
        raise CatalogError(f"{label} line {row['_line']}: {col}={v} is outside (0, 1]")
    return v


def _row_to_model(row: dict, label: str) -> ModelSpec:
    conf = (row.get("confidence") or "likely").strip().lower()
    if conf not in _CONFIDENCE:
        raise CatalogError(f"{label} line {row['_line']}: confidence={conf!r} is not one of {', '.join(_CONFIDENCE)}")
    utilization = num(row, "utilization", label)
    if utilization is not None and utilization > 1:
        raise CatalogError(f"{label} line {row['_line']}: utilization={utilization} is outside (0, 1]")
    return ModelSpec(
        key=row["key"].strip(),
        name=row["name"].strip(),
        organization=row["organization"].strip(),
        publication_date=date(row, "publication_date", label, required=True),
        domain=(row.get("domain") or "").strip(),
        params=num(row, "parameters", label),
        params_active=num(row, "parameters_active", label),
        training_tokens=num(row, "training_tokens", label),
        epochs=num(row, "epochs", label),
        training_compute_flop=num(row, "training_compute_flop", label),
        hardware=(row.get("hardware") or "").strip() or None,
        chips=num(row, "chip_count", label),
        training_time_hours=num(row, "training_time_hours", label),
        chip_hours=num(row, "training_chip_hours", label),
        utilization=utilization,
        n_layers=num(row, "n_layers", label),
        d_model=num(row, "d_model", label),
        d_attn=num(row, "d_attn", label),
        context_length=num(row, "context_length", label),
        max_context_length=num(row, "max_context_length", label),
        kv_cache_fraction=_fraction(row, "kv_cache_fraction", label),
        precision=(row.get("precision") or "").strip().lower() or None,
        training_start_date=date(row, "training_start_date", label),
        confidence=conf,
        aliases=split(row.get("aliases")),
        source=row["source"].strip(),
        as_of=row["as_of"].strip(),
        notes=(row.get("notes") or "").strip(),
        epoch_name=(row.get("epoch_name") or "").strip(),
    )


def load_models(name: str | None = None, path: str | Path | None = None) -> ModelCatalog:
    if name is None and path is None:
        name = "models.csv"
    rows, label = read_rows(name, path, required=_REQUIRED)
    items = [_row_to_model(r, label) for r in rows]
    for m in items:
        if not m.source:
            raise CatalogError(f"{label}: model {m.key!r} has no source; every row must cite one")
    return ModelCatalog(items, label)


@lru_cache(maxsize=1)
def bundled_models() -> ModelCatalog:
    return load_models()


def get_model(name: str) -> ModelSpec:
    return bundled_models().get(name)
