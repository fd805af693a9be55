"""The hardware catalog: curated, dated and cited accelerator specs.

Lookup accepts keys (``a100-sxm4-80gb``), names (``NVIDIA A100 SXM4 80 GB``), aliases
(``A100 80GB``) and bare family names (``a100``), which resolve to the family's most
documented default variant. The database adds every chip of Epoch AI's chip table that no
curated row stands for (:meth:`HardwareCatalog.with_epoch_chips`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from flopcast.catalogs._pickling import compact_state
from flopcast.catalogs._table import date, norm, num, read_rows, split
from flopcast.errors import AmbiguousNameError, CatalogError, InvalidInputError, UnknownHardwareError

#: Precisions in the order Cottier et al. 2024 prefer them when none is given:
#: tensor FP16/BF16, then TF32, then FP32 (TPUs list their BF16 rate as fp16/bf16).
PRECISION_PREFERENCE = ("bf16", "fp16", "tf32", "fp32")
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "fp4", "int8")

_COLUMNS = (
    "key",
    "name",
    "family",
    "family_default",
    "aliases",
    "epoch_names",
    "manufacturer",
    "type",
    "release_date",
    "release_price_usd",
    "peak_fp64_flop_per_s",
    "peak_fp32_flop_per_s",
    "peak_tf32_flop_per_s",
    "peak_fp16_flop_per_s",
    "peak_bf16_flop_per_s",
    "peak_fp8_flop_per_s",
    "peak_fp4_flop_per_s",
    "peak_int8_op_per_s",
    "memory_bytes",
    "memory_bandwidth_bytes_per_s",
    "interconnect_bandwidth_bytes_per_s",
    "tdp_w",
    "source",
    "as_of",
    "notes",
)


@dataclass(frozen=True)
class Hardware:
    """One accelerator. Peak rates are dense (never the sparse figure), in FLOP/s."""

    key: str
    name: str
    family: str
    manufacturer: str
    type: str
    peak_flop_per_s_by_precision: dict[str, float]
    memory_bytes: float | None = None
    memory_bandwidth_bytes_per_s: float | None = None
    interconnect_bandwidth_bytes_per_s: float | None = None
    tdp_w: float | None = None
    release_date: dt.date | None = None
    release_price_usd: float | None = None
    family_default: bool = False
    aliases: tuple[str, ...] = ()
    #: the names this chip has in Epoch's chip table (exact spellings)
    epoch_names: tuple[str, ...] = ()
    #: the precision to cost training at when none is given, where the preference order would mislead
    #: (a plain, non-tensor FP16 figure: Cottier et al. take FP32 then)
    default_precision_override: str | None = None
    source: str = ""
    as_of: str = ""
    notes: str = ""
    origin: str = field(default="bundled", compare=False)

    #: pickles leave out the fields at their defaults (the parsed-database cache loads faster)
    __getstate__ = compact_state

    @property
    def is_tpu(self) -> bool:
        return self.type.upper() == "TPU"

    def peak_flop_per_s(self, precision: str | None = None) -> float:
        """Dense peak at ``precision``; with none, the first of bf16, fp16, tf32, fp32."""
        table = self.peak_flop_per_s_by_precision
        if precision is None:
            p = self.default_precision()
            if p is not None:
                return table[p]
            raise InvalidInputError(f"hardware {self.name!r} has no peak FLOP/s in the catalog; give peak_flop_per_s")
        p = precision.lower()
        if p not in PRECISIONS:
            raise InvalidInputError(f"precision={precision!r} is not one of {', '.join(PRECISIONS)}")
        if p not in table:
            have = ", ".join(table) or "none"
            raise InvalidInputError(f"hardware {self.name!r} has no {p} peak in the catalog (it has: {have})")
        return table[p]

    def default_precision(self) -> str | None:
        if self.default_precision_override:
            return self.default_precision_override
        return next((p for p in PRECISION_PREFERENCE if p in self.peak_flop_per_s_by_precision), None)

    def peak_for_cost(self) -> tuple[float, str] | None:
        """The peak training is costed at, and its precision: Cottier et al.'s preference, else INT8 OP/s.

        INT8 stands in only for chips with no floating-point figure at all (TPU v1); None when
        the chip tables give no peak.
        """
        p = self.default_precision()
        if p is not None:
            return self.peak_flop_per_s_by_precision[p], p
        int8 = self.peak_flop_per_s_by_precision.get("int8")
        return (int8, "int8") if int8 else None


class HardwareCatalog:
    """A set of :class:`Hardware` rows with name resolution.

    Lookup order: a key; an exact chip-table name (Epoch's spelling, case and spaces
    aside); a family name (``a100``), which gives the family's documented default variant;
    then a normalized name or alias that picks one row (curated rows win over rows taken
    from Epoch's chip table when both match).
    """

    def __init__(self, rows: list[Hardware], label: str = "bundled"):
        self.label = label
        by_key: dict[str, Hardware] = {}
        for hw in rows:
            by_key[hw.key] = hw
        self._rows: Mapping[str, Hardware] = by_key
        self._median_tdp: dict[bool, float] = {}
        self._index()

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled with each row packed on its own: a catalog loaded from the parsed-database cache
        (:mod:`flopcast.datasets.parsed`) unpickles a row only when it is first used (an estimate uses one or
        two of the 5,800 rows), and its name indexes as they are."""
        import pickle

        keys = list(self._rows)
        parts = [pickle.dumps(self._rows[k], protocol=5) for k in keys]
        where = dict(zip(keys, accumulate(map(len, parts)), strict=True))
        by_norm = {n: tuple(ks) for n, ks in self._by_norm.items()}  # tuples load faster than sets
        state = (by_norm, self._by_exact, self._family_default, self._by_family, self._median_tdp)
        return _unpack_catalog, (self.label, b"".join(parts), where, state)

    def _index(self) -> None:
        self._by_norm: dict[str, set[str]] = {}
        self._by_exact: dict[str, str] = {}
        self._family_default: dict[str, str] = {}
        by_family: dict[str, list[str]] = {}
        for hw in self._rows.values():
            by_family.setdefault(hw.family, []).append(hw.key)
            for name in (hw.key, hw.name, *hw.aliases):
                self._by_norm.setdefault(norm(name), set()).add(hw.key)
            for name in (hw.name, *hw.epoch_names):
                self._by_exact.setdefault(_exact(name), hw.key)
            if hw.family_default:
                self._family_default[hw.family] = hw.key
        #: each family's keys, in the catalog's order
        self._by_family: dict[str, tuple[str, ...]] = {f: tuple(ks) for f, ks in by_family.items()}
        # a curated row's Epoch names win over an Epoch row of the same name
        for hw in self._rows.values():
            if hw.origin != "epoch":
                for name in hw.epoch_names:
                    self._by_exact[_exact(name)] = hw.key

    def __iter__(self) -> Iterator[Hardware]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def keys(self) -> list[str]:
        return list(self._rows)

    def names(self) -> list[str]:
        out = []
        for hw in self._rows.values():
            out += [hw.key, hw.name, *hw.aliases]
        return out + list(self._family_default)

    def family_default(self, family: str) -> Hardware | None:
        key = self._family_default.get(family)
        return self._rows[key] if key else None

    def get(self, name: str) -> Hardware:
        """Resolve a key, name, alias or family to one row."""
        return self.resolve(name)[0]

    def resolve(self, name: str) -> tuple[Hardware, str]:
        """Resolve ``name`` and say how: the row and a note for the output."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"hardware={name!r} is empty; give a name such as 'a100' or 'h100-sxm'")
        hw, how = self._lookup(name)
        if hw is not None:
            return hw, how
        hits = self._by_norm.get(norm(name), set())
        if len(hits) > 1:
            raise AmbiguousNameError("hardware", name, [self._rows[k].name for k in hits])
        raise UnknownHardwareError(name, self.names())

    def find(self, name: str) -> Hardware | None:
        """Like :meth:`get`, but None for an unknown or ambiguous name (no error built)."""
        if not isinstance(name, str) or not name.strip():
            return None
        return self._lookup(name)[0]

    def _lookup(self, name: str) -> tuple[Hardware | None, str]:
        if name in self._rows:
            return self._rows[name], ""
        key = self._by_exact.get(_exact(name))
        if key is not None:
            hw = self._rows[key]
            note = "" if _exact(hw.name) == _exact(name) else f"{name!r} is {hw.name} ({_why_alias(hw, name)})"
            return hw, note
        fam = name.strip().lower()
        if fam in self._family_default:
            hw = self._rows[self._family_default[fam]]
            return hw, f"{name!r} is the {hw.family} family; using its documented default variant, {hw.name}"
        hits = self._by_norm.get(norm(name), set())
        if len(hits) > 1:
            curated = [k for k in hits if self._rows[k].origin != "epoch"]
            hits = set(curated) if len(curated) == 1 else hits
        if len(hits) == 1:
            return self._rows[next(iter(hits))], ""
        if not hits:
            fam_hits = [f for f in self._family_default if norm(f) == norm(name)]
            if len(fam_hits) == 1:
                return self._lookup(fam_hits[0])
        return None, ""

    def family_variant_before(self, family: str, when: dt.date) -> Hardware | None:
        """A chip of ``family`` released by ``when``: the family default if it was, else the latest such variant."""
        default = self.family_default(family)
        if default is not None and default.release_date and default.release_date <= when:
            return default
        rows = (self._rows[k] for k in self._by_family.get(family, ()))  # the family's rows, in the catalog's order
        ok = [h for h in rows if h.release_date and h.release_date <= when and h.peak_for_cost() is not None]
        return max(ok, key=lambda h: (h.release_date, h.origin != "epoch")) if ok else None

    def match_names(self, names: Iterable[str]) -> tuple[Hardware | None, list[str]]:
        """The chip a model's "Training hardware" names: the first that resolves and has a peak FLOP/s.

        Returns the row (None when no name qualifies) and notes on the names passed over
        (unknown names, chips without a peak, the other chips of a mixed cluster).
        """
        found: list[Hardware] = []
        notes: list[str] = []
        for n in names:
            hw = self.find(n)
            if hw is None:
                notes.append(f"chip {n!r} is not in the chip tables")
            elif hw.peak_for_cost() is None:
                notes.append(f"{hw.name} has no peak FLOP/s in the chip tables")
            else:
                found.append(hw)
        if len(found) > 1:
            notes.append(f"several chip types ({', '.join(h.name for h in found)}); priced as {found[0].name}")
        return (found[0] if found else None), notes

    def median_tdp_w(self, *, tpu: bool) -> float:
        """The median TDP of the costable TPUs (``tpu``) or other chips: the stand-in for a chip without one."""
        if tpu not in self._median_tdp:
            vals = [h.tdp_w for h in self if h.tdp_w and h.is_tpu == tpu and h.default_precision() is not None]
            import statistics  # here: it imports fractions, decimal and random, ~4 ms of every command

            self._median_tdp[tpu] = float(statistics.median(vals)) if vals else 300.0
        return self._median_tdp[tpu]

    def with_epoch_chips(self, chips: list[Hardware], label: str = "Epoch AI chip table") -> HardwareCatalog:
        """This catalog plus the chips of Epoch's table that no row here represents.

        A curated row names the Epoch rows it stands for (``epoch_names``); those Epoch rows
        are not added again, so each chip appears once. Repeated Epoch names keep the first.
        """
        taken = {_exact(n) for hw in self for n in (hw.name, *hw.epoch_names)}
        rows = list(self._rows.values())
        keys = set(self._rows)
        for hw in chips:
            if _exact(hw.name) in taken:
                continue
            taken.add(_exact(hw.name))
            key = hw.key
            n = 2
            while key in keys:
                key, n = f"{hw.key}-{n}", n + 1
            keys.add(key)
            rows.append(hw if key == hw.key else replace(hw, key=key, family=key))
        return HardwareCatalog(rows, f"{self.label}+{label}")


class _PackedRows(Mapping[str, Hardware]):
    """A catalog's rows as pickled by :meth:`HardwareCatalog.__reduce__`: each unpickled when first asked for.
    ``ends`` maps each key, in the catalog's order, to the end of its row's pickle in ``blob``."""

    __slots__ = ("_blob", "_done", "_ends", "_starts")

    def __init__(self, blob: bytes, ends: dict[str, int]):
        self._blob = blob
        self._ends = ends
        self._starts: dict[str, int] | None = None
        self._done: dict[str, Hardware] = {}

    def __getitem__(self, key: str) -> Hardware:
        hw = self._done.get(key)
        if hw is None:
            import pickle

            end = self._ends[key]
            if self._starts is None:
                self._starts = dict(zip(self._ends, [0, *list(self._ends.values())[:-1]], strict=True))
            hw = self._done[key] = pickle.loads(self._blob[self._starts[key] : end])
        return hw

    def __contains__(self, key: object) -> bool:
        return key in self._ends

    def __iter__(self) -> Iterator[str]:
        return iter(self._ends)

    def __len__(self) -> int:
        return len(self._ends)


def _unpack_catalog(
    label: str,
    blob: bytes,
    ends: dict[str, int],
    state: tuple[
        dict[str, tuple[str, ...]], dict[str, str], dict[str, str], dict[str, tuple[str, ...]], dict[bool, float]
    ],
) -> HardwareCatalog:
    """The catalog that :meth:`HardwareCatalog.__reduce__` packed."""
    cat = HardwareCatalog.__new__(HardwareCatalog)
    cat.label = label
    cat._rows = _PackedRows(blob, ends)
    by_norm, cat._by_exact, cat._family_default, cat._by_family, cat._median_tdp = state
    cat._by_norm = by_norm  # type: ignore[assignment]  # tuples where a built catalog has sets: both are only read
    return cat


def _exact(name: str) -> str:
    return " ".join(str(name).split()).lower()


def _why_alias(hw: Hardware, name: str) -> str:
    if hw.family_default and norm(name) == norm(hw.family):
        return f"Epoch's name for the {hw.family} family; its documented default variant"
    return "the same chip in Epoch's chip table"


def _row_to_hardware(row: dict, label: str) -> Hardware:
    peaks = {}
    for p, col in (
        ("fp64", "peak_fp64_flop_per_s"),
        ("fp32", "peak_fp32_flop_per_s"),
        ("tf32", "peak_tf32_flop_per_s"),
        ("fp16", "peak_fp16_flop_per_s"),
        ("bf16", "peak_bf16_flop_per_s"),
        ("fp8", "peak_fp8_flop_per_s"),
        ("fp4", "peak_fp4_flop_per_s"),
        ("int8", "peak_int8_op_per_s"),
    ):
        v = num(row, col, label)
        if v is not None:
            peaks[p] = v
    key = (row.get("key") or "").strip()
    if not key:
        raise CatalogError(f"{label} line {row['_line']}: column 'key' is empty")
    return Hardware(
        key=key,
        name=row["name"].strip(),
        family=(row.get("family") or key).strip().lower(),
        manufacturer=(row.get("manufacturer") or "").strip(),
        type=(row.get("type") or "GPU").strip(),
        peak_flop_per_s_by_precision=peaks,
        memory_bytes=num(row, "memory_bytes", label),
        memory_bandwidth_bytes_per_s=num(row, "memory_bandwidth_bytes_per_s", label),
        interconnect_bandwidth_bytes_per_s=num(row, "interconnect_bandwidth_bytes_per_s", label),
        tdp_w=num(row, "tdp_w", label),
        release_date=date(row, "release_date", label),
        release_price_usd=num(row, "release_price_usd", label),
        family_default=(row.get("family_default") or "").strip().lower() == "true",
        aliases=split(row.get("aliases")),
        epoch_names=split(row.get("epoch_names")),
        default_precision_override=(row.get("default_precision") or "").strip().lower() or None,
        source=(row.get("source") or "").strip(),
        as_of=(row.get("as_of") or "").strip(),
        notes=(row.get("notes") or "").strip(),
        origin=label,
    )


def load_hardware(name: str | None = None, path: str | Path | None = None) -> HardwareCatalog:
    """Load a catalog in flopcast's format: the bundled one by default, or a file."""
    if name is None and path is None:
        name = "hardware.csv"
    rows, label = read_rows(
        name,
        path,
        required=("key", "name", "family", "family_default", "aliases", "manufacturer", "type", "source", "as_of"),
    )
    items = [_row_to_hardware(r, label) for r in rows]
    keys = [h.key for h in items]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise CatalogError(f"{label}: duplicate key(s) {', '.join(dupes)}")
    for h in items:
        if not h.source or not h.as_of:
            raise CatalogError(f"{label}: row {h.key!r} has no source or as_of; every row must cite a dated source")
    return HardwareCatalog(items, label)


@lru_cache(maxsize=1)
def bundled_hardware() -> HardwareCatalog:
    return load_hardware()


def get_hardware(name: str, catalog: HardwareCatalog | None = None) -> Hardware:
    """Look a chip up in ``catalog`` (the bundled one by default)."""
    return (catalog or bundled_hardware()).get(name)
