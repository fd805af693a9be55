"""The database every command estimates from: Epoch AI's tables with flopcast's curated overlay.

:func:`load_database` reads a :class:`~flopcast.datasets.source.DataSource` once per
process (the embedded snapshot by default) and returns a :class:`Database`:

* ``records``: one :class:`~flopcast.datasets.records.ModelRecord` per row of Epoch's AI models
  table, with the curated overlay (``catalogs/data/models.csv``) applied: a curated row that
  names an Epoch row (``epoch_name``) corrects or completes it field by field, each value
  with its citation; a curated row that names none is an addition.
* ``hardware``: the curated chip catalog plus every chip of Epoch's chip table that no
  curated row stands for (each chip once; see ``HardwareCatalog.with_epoch_chips``).
* ``price_book``: Epoch's price rows, looked up before the curated ones.
* ``price_index``: the producer price index shipped with the data (Cottier et al.'s), else CPI-U.

Nothing here estimates anything; :mod:`flopcast.pipeline` does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flopcast.datasets.records import ModelRecord
from flopcast.datasets.source import DataSource, resolve_source
from flopcast.errors import InvalidInputError, UnknownModelError

if TYPE_CHECKING:
    from flopcast.catalogs.hardware import HardwareCatalog
    from flopcast.catalogs.models import ModelSpec
    from flopcast.catalogs.price_index import PriceIndex
    from flopcast.catalogs.prices import PriceBook
    from flopcast.datasets.epoch import EpochModel
    from flopcast.datasets.imputation import Imputer
    from flopcast.datasets.parsing import ParseReport

#: tokens per word for English text (Epoch AI and OpenAI's rule of thumb: 0.75 words a token)
TOKENS_PER_WORD = 4.0 / 3.0

#: a compute below this is a data-entry defect (75 of the snapshot's 165 fine-tune computes are single digits)
MIN_PLAUSIBLE_COMPUTE_FLOP = 1e10

_TOKEN = re.compile(r"\btokens?\b", re.IGNORECASE)
_WORD = re.compile(r"\bwords?\b", re.IGNORECASE)


@dataclass
class Database:
    source: DataSource
    records: list[ModelRecord]
    hardware: HardwareCatalog
    price_book: PriceBook
    price_index: PriceIndex
    reports: list[ParseReport] = field(default_factory=list)
    #: the data's own date: the newest "Last modified" of the models table, or the pull date
    data_date: str = ""
    #: what the curated overlay did: (curated key, Epoch row or "", "overlaid" | "added")
    overlay: list[tuple[str, str, str]] = field(default_factory=list)

    def describe(self) -> str:
        return self.source.describe(self.data_date)

    @cached_property
    def _index(self) -> dict[str, list[ModelRecord]]:
        idx: dict[str, list[ModelRecord]] = {}
        for r in self.records:
            for n in {r.key, r.name, *r.aliases}:
                idx.setdefault(_norm(n), []).append(r)
        return idx

    @cached_property
    def _by_key(self) -> dict[str, ModelRecord]:
        return {r.key: r for r in self.records}

    @cached_property
    def _by_name(self) -> dict[str, ModelRecord]:
        """The first record of each name (a repeated name's later rows are ``name (2)``...)."""
        out: dict[str, ModelRecord] = {}
        for r in self.records:
            out.setdefault(r.name, r)
        return out

    def find(self, name: str) -> ModelRecord:
        """The record named ``name``: its key, its name, a curated alias, or the same up to case and punctuation.

        A miss raises :class:`~flopcast.errors.UnknownModelError` with the closest names.
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(
                f"model={name!r} is empty; give a name such as 'gpt-3' (see `flopcast models list`)"
            )
        if name in self._by_key:
            return self._by_key[name]
        if name in self._by_name:
            return self._by_name[name]
        hits = self._index.get(_norm(name), [])
        if hits:
            exact_key = [r for r in hits if _norm(r.key) == _norm(name)]
            return (exact_key or hits)[0]
        raise UnknownModelError(name, [n for r in self.records for n in (r.key, r.name, *r.aliases)])

    @cached_property
    def imputer(self) -> Imputer:
        """Hardware imputation fitted to every record of this database (not to a selection of it)."""
        from flopcast.datasets.imputation import Imputer

        return Imputer(self.records, self.hardware)


def _norm(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def dataset_tokens(size: float | None, notes: str | None, language: bool) -> tuple[float | None, str, str]:
    """Tokens in one pass from Epoch's dataset size: ``(tokens, unit, why)``.

    Epoch's "Training dataset size (datapoints)" counts words for older language models and
    tokens for newer ones, and images, examples or tweets elsewhere. The size counts as
    tokens only when the row is a language model and its "Dataset size notes" mention tokens
    and not words; as words (times 4/3 tokens a word) when they mention words and not
    tokens. Otherwise the unit is unknown and the 6·N·D route is not taken; ``why`` says so.
    """
    if size is None:
        return None, "", ""
    if not language:
        return None, "datapoints", "the dataset size counts datapoints, not tokens (not a language model)"
    text = notes or ""
    has_token, has_word = bool(_TOKEN.search(text)), bool(_WORD.search(text))
    if has_token and not has_word:
        return size, "tokens", ""
    if has_word and not has_token:
        return size * TOKENS_PER_WORD, "words", ""
    if has_token and has_word:
        return None, "", "the dataset size notes mention both tokens and words, so its unit is unclear"
    return None, "", "the dataset size notes do not say whether it counts tokens or words"


def _epoch_record(m: EpochModel, key: str, file: str) -> ModelRecord:
    src = f"Epoch AI database ({file} line {m.line})"
    language = any("language" in d.lower() for d in m.domains)
    tokens, unit, why = dataset_tokens(m.dataset_size, m.dataset_notes, language)
    conf = (m.confidence or "").lower()
    values: dict[str, Any] = dict(
        publication_date=m.publication_date,
        organizations=tuple(m.organizations),
        domains=tuple(m.domains),
        parameters=m.parameters,
        training_tokens=tokens,
        epochs=m.epochs if tokens is not None else None,
        dataset_size=m.dataset_size,
        dataset_unit=unit,
        training_compute_flop=m.training_compute_flop,
        compute_lower_flop=m.compute_lower_flop,
        compute_upper_flop=m.compute_upper_flop,
        confidence=conf,
        estimation_method=tuple(m.estimation_method),
        base_model=m.base_model or "",
        finetune_compute_flop=m.finetune_compute_flop,
        post_training_compute_flop=m.post_training_compute_flop,
        compute_rank=m.compute_rank,
        training_hardware=tuple(m.training_hardware),
        hardware_quantity=m.hardware_quantity,
        training_time_hours=m.training_time_hours,
        chip_hours=m.chip_hours,
        utilization=m.utilization,
        accessibility=m.accessibility or "",
        training_power_draw_w=m.training_power_draw_w,
        countries=tuple(m.country),
    )
    notes = [f"training tokens: {why}"] if why and m.dataset_size is not None and language else []
    for attr in ("finetune_compute_flop", "post_training_compute_flop"):
        v = values[attr]
        if v is not None and v < MIN_PLAUSIBLE_COMPUTE_FLOP:
            values[attr] = None
            notes.append(
                f"{attr}: the database's {v:g} FLOP is not a plausible compute (a truncated entry); treated as missing"
            )
    sources = {k: src for k, v in values.items() if v not in (None, "", ())}
    return ModelRecord(name=m.name, key=key, line=m.line, origin="epoch", sources=sources, notes=tuple(notes), **values)


#: curated column -> record field (None: the column is used otherwise)
_OVERLAY_FIELDS = {
    "publication_date": "publication_date",
    "params": "parameters",
    "params_active": "params_active",
    "training_compute_flop": "training_compute_flop",
    "chips": "hardware_quantity",
    "training_time_hours": "training_time_hours",
    "chip_hours": "chip_hours",
    "utilization": "utilization",
    "n_layers": "n_layers",
    "d_model": "d_model",
    "d_attn": "d_attn",
    "context_length": "context_length",
    "kv_cache_fraction": "kv_cache_fraction",
    "precision": "precision",
    "training_start_date": "training_start_date",
}


def _overlay(rec: ModelRecord, spec: ModelSpec, overlaid: bool) -> ModelRecord:
    """``rec`` with every value the curated row ``spec`` gives, each cited to the curated row's source."""
    src = f"curated: {spec.source} (as of {spec.as_of})"
    changes: dict[str, Any] = {}
    for col, fld in _OVERLAY_FIELDS.items():
        v = getattr(spec, col)
        if v is not None:
            changes[fld] = v
    if spec.training_tokens is not None:  # tokens and epochs go together
        changes["training_tokens"] = spec.training_tokens
        changes["epochs"] = spec.epochs
        changes["dataset_unit"] = "tokens"
    if spec.hardware:
        changes["training_hardware"] = (spec.hardware,)
    if spec.training_compute_flop is not None:
        changes["confidence"] = spec.confidence
    if spec.organization and not overlaid:
        changes["organizations"] = tuple(o.strip() for o in spec.organization.split(";") if o.strip())
    if spec.domain and not overlaid:
        changes["domains"] = (spec.domain,)
    sources = dict(rec.sources)
    for fld in changes:
        sources[fld] = src
    aliases = tuple(dict.fromkeys((*rec.aliases, spec.key, spec.name, *spec.aliases)))
    notes = tuple(n for n in rec.notes if not (n.startswith("training tokens:") and "training_tokens" in changes))
    return replace(
        rec,
        key=spec.key,
        aliases=aliases,
        origin="epoch+curated" if overlaid else "curated",
        sources=sources,
        notes=notes,
        **changes,
    )


def _build_records(
    models: Iterable[EpochModel], file: str, curated: Iterable[ModelSpec]
) -> tuple[list[ModelRecord], list[tuple[str, str, str]]]:
    seen: dict[str, int] = {}
    records = []
    for m in models:
        n = seen.get(m.name, 0) + 1
        seen[m.name] = n
        records.append(_epoch_record(m, m.name if n == 1 else f"{m.name} ({n})", file))
    by_name = {r.name: i for i, r in reversed(list(enumerate(records)))}
    log = []
    for spec in curated:
        i = by_name.get(spec.epoch_name) if spec.epoch_name else None
        if i is not None:
            records[i] = _overlay(records[i], spec, overlaid=True)
            log.append((spec.key, spec.epoch_name, "overlaid"))
        else:
            base = ModelRecord(name=spec.name, key=spec.key, origin="curated")
            records.append(_overlay(base, spec, overlaid=False))
            log.append((spec.key, "", "added"))
    return records, log


def _newest_modified(models: Iterable[EpochModel]) -> str:
    dates = [m.last_modified for m in models if m.last_modified is not None]
    return max(dates).isoformat() if dates else ""


_CACHE: dict[tuple, Database] = {}
_LOCK = threading.Lock()


def load_database(source: DataSource | str | None = None) -> Database:
    """The database of ``source`` (a DataSource, a folder, "cache", "embedded" or None for the default order).

    Read once per process and source (the files' size and modification time are part of the key).
    """
    if not isinstance(source, DataSource):
        source = resolve_source(source)
    key = source.fingerprint()
    with _LOCK:
        db = _CACHE.get(key)
        if db is None:
            db = _read(source)
            _CACHE.clear()  # keep one database: a process rarely needs two, and each holds ~50 MB
            _CACHE[key] = db
    return db


def _read(source: DataSource) -> Database:
    from flopcast.catalogs.hardware import bundled_hardware
    from flopcast.catalogs.models import bundled_models
    from flopcast.catalogs.price_index import bundled_price_index, load_price_index
    from flopcast.catalogs.prices import bundled_price_book, epoch_price_rows
    from flopcast.datasets import epoch

    models, report = epoch.load_epoch_models(source.models_path)
    reports = [report]
    records, log = _build_records(models, source.models_path.name.removesuffix(".gz"), list(bundled_models()))
    hardware = bundled_hardware()
    hw_path = source.path("hardware")
    if hw_path is not None:
        chips, rep = epoch.load_epoch_chips(hw_path)
        reports.append(rep)
        hardware = hardware.with_epoch_chips(chips)
    book = bundled_price_book()
    prices_path = source.path("prices")
    if prices_path is not None:
        rows, rep = epoch.load_epoch_prices(prices_path)
        reports.append(rep)
        book = book.with_rows(*epoch_price_rows(rows), label=f"Epoch AI prices ({prices_path.name})")
    idx_path = source.path("price_index")
    index = load_price_index(idx_path) if idx_path is not None else bundled_price_index()
    date = source.data_date if source.kind == "cache" else (_newest_modified(models) or source.data_date)
    return Database(source, records, hardware, book, index, reports, date, log)
