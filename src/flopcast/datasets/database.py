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

import datetime as dt
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

    if not TYPE_CHECKING:  # (hidden from mypy, which would otherwise accept any attribute of a Database)

        def __getattr__(self, name: str) -> Any:
            """``records`` of a database loaded from the parsed-database cache, unpacked when first used."""
            packed = self.__dict__.get("_packed")
            if name == "records" and packed is not None:
                records = packed.all()
                self.__dict__["records"] = records  # before the packed copy goes: another thread may be reading
                self.__dict__.pop("_packed", None)
                return records
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with each record packed on its own (see :class:`_PackedRecords`), and its name index."""
        records = self.records
        state = dict(self.__dict__)
        state.pop("records", None)
        state["_positions"] = self._positions
        state["_packed"] = _PackedRecords(records)
        return state

    @cached_property
    def _positions(self) -> tuple[dict[str, int], dict[str, int], dict[str, list[int]]]:
        """Where each key, each name (its first row) and each normalized name or alias is in :attr:`records`."""
        by_key: dict[str, int] = {}
        by_name: dict[str, int] = {}
        idx: dict[str, list[int]] = {}
        for i, r in enumerate(self.records):
            by_key[r.key] = i
            by_name.setdefault(r.name, i)
            for n in {r.key, r.name, *r.aliases}:
                idx.setdefault(_norm(n), []).append(i)
        return by_key, by_name, idx

    def _record(self, i: int) -> ModelRecord:
        packed = self.__dict__.get("_packed")
        return packed[i] if packed is not None else self.records[i]

    def find(self, name: str) -> ModelRecord:
        """The record named ``name``: its key, its name, a curated alias, or the same up to case and punctuation.

        A miss raises :class:`~flopcast.errors.UnknownModelError` with the closest names.
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(
                f"model={name!r} is empty; give a name such as 'gpt-3' (see `flopcast models list`)"
            )
        by_key, by_name, index = self._positions
        if name in by_key:
            return self._record(by_key[name])
        if name in by_name:
            return self._record(by_name[name])
        hits = [self._record(i) for i in index.get(_norm(name), [])]
        if hits:
            exact_key = [r for r in hits if _norm(r.key) == _norm(name)]
            return (exact_key or hits)[0]
        raise UnknownModelError(name, [n for r in self.records for n in (r.key, r.name, *r.aliases)])

    @cached_property
    def imputer(self) -> Imputer:
        """Hardware imputation fitted to every record of this database (not to a selection of it)."""
        from flopcast.datasets.imputation import Imputer

        return Imputer(self.records, self.hardware)


class _PackedRecords:
    """A database's records as the parsed-database cache stores them: each pickled on its own, unpickled when
    first asked for (an estimate reads one or two of the 1,900 records; a batch reads them all, once)."""

    __slots__ = ("_blob", "_done", "_ends")

    def __init__(self, records: list[ModelRecord]):
        import pickle
        from itertools import accumulate

        parts = [pickle.dumps(r, protocol=5) for r in records]
        self._blob = b"".join(parts)
        self._ends = list(accumulate(map(len, parts)))
        self._done: dict[int, ModelRecord] = {}

    def __getstate__(self) -> tuple[bytes, list[int]]:
        return self._blob, self._ends

    def __setstate__(self, state: tuple[bytes, list[int]]) -> None:
        self._blob, self._ends = state
        self._done = {}

    def __getitem__(self, i: int) -> ModelRecord:
        r = self._done.get(i)
        if r is None:
            import pickle

            start = self._ends[i - 1] if i else 0
            r = self._done[i] = pickle.loads(self._blob[start : self._ends[i]])
        return r

    def all(self) -> list[ModelRecord]:
        return [self[i] for i in range(len(self._ends))]


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
    "n_heads": "n_heads",
    "n_kv_heads": "n_kv_heads",
    "ffn_hidden": "ffn_hidden",
    "ffn_activation": "ffn_activation",
    "vocab": "vocab",
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
    models: Iterable[EpochModel], file: str, curated: Iterable[ModelSpec], newest: list[dt.date] | None = None
) -> tuple[list[ModelRecord], list[tuple[str, str, str]]]:
    """The records of ``models`` (read once, as they come) with the curated rows applied, and the overlay's log.
    ``newest`` receives the newest "Last modified" date of the models, when it is given and there is one."""
    seen: dict[str, int] = {}
    records: list[ModelRecord] = []
    by_name: dict[str, int] = {}  # the first row of each name
    last: dt.date | None = None
    for m in models:
        n = seen.get(m.name, 0) + 1
        seen[m.name] = n
        if n == 1:
            by_name[m.name] = len(records)
        if m.last_modified is not None and (last is None or m.last_modified > last):
            last = m.last_modified
        records.append(_epoch_record(m, m.name if n == 1 else f"{m.name} ({n})", file))
    if newest is not None and last is not None:
        newest.append(last)
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


_CACHE: dict[tuple, Database] = {}
_LOCK = threading.Lock()


def load_database(source: DataSource | str | None = None) -> Database:
    """The database of ``source`` (a DataSource, a folder, "cache", "embedded" or None for the default order).

    Read once per process and source (the files' size and modification time are part of the key). A fresh
    process takes the parsed database from the disk cache of :mod:`flopcast.datasets.parsed` when it was made
    from the same files and code, and reads the CSVs (and writes that cache) otherwise.
    """
    from flopcast.datasets import parsed

    if not isinstance(source, DataSource):
        source = resolve_source(source)
    key = source.fingerprint()
    with _LOCK:
        db = _CACHE.get(key)
        if db is None:
            db = parsed.load(source)
            if db is None:
                db = _read(source)
                parsed.store(source, db)
            _CACHE.clear()  # keep one database: a process rarely needs two, and each holds ~50 MB
            _CACHE[key] = db
    return db


def _read(source: DataSource) -> Database:
    from flopcast.catalogs.hardware import bundled_hardware
    from flopcast.catalogs.models import bundled_models
    from flopcast.catalogs.price_index import bundled_price_index, load_price_index
    from flopcast.catalogs.prices import bundled_price_book, epoch_price_rows
    from flopcast.datasets import epoch

    reports: list[ParseReport] = []
    newest: list[dt.date] = []
    records, log = _build_records(
        epoch.iter_epoch_models(source.models_path, reports),
        source.models_path.name.removesuffix(".gz"),
        list(bundled_models()),
        newest,
    )
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
    modified = newest[0].isoformat() if newest else ""
    date = source.data_date if source.kind == "cache" else (modified or source.data_date)
    return Database(source, records, hardware, book, index, reports, date, log)
