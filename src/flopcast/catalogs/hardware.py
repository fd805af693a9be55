"""The hardware catalog: curated, dated and cited accelerator specs.

Lookup accepts keys (``a100-sxm4-80gb``), names (``NVIDIA A100 SXM4 80 GB``), aliases
(``A100 80GB``) and bare family names (``a100``), which resolve to the family's most
common data-center variant. Epoch AI's chip table can extend or override the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from flopcast.catalogs._table import date, norm, num, read_rows, split
from flopcast.errors import AmbiguousNameError, CatalogError, InvalidInputError, UnknownHardwareError

#: Precisions in the order Cottier et al. 2024 prefer them when none is given:
#: tensor FP16/BF16, then TF32, then FP32 (TPUs list their BF16 rate as fp16/bf16).
PRECISION_PREFERENCE = ("bf16", "fp16", "tf32", "fp32")
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8")

_COLUMNS = (
    "key", "name", "family", "family_default", "aliases", "manufacturer", "type", "release_date",
    "release_price_usd", "peak_fp64_flop_per_s", "peak_fp32_flop_per_s", "peak_tf32_flop_per_s",
    "peak_fp16_flop_per_s", "peak_bf16_flop_per_s", "peak_fp8_flop_per_s", "peak_int8_op_per_s",
    "memory_bytes", "memory_bandwidth_bytes_per_s", "interconnect_bandwidth_bytes_per_s", "tdp_w",
    "source", "as_of", "notes",
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
    source: str = ""
    as_of: str = ""
    notes: str = ""
    origin: str = field(default="bundled", compare=False)

    @property
    def is_tpu(self) -> bool:
        return self.type.upper() == "TPU"

    def peak_flop_per_s(self, precision: str | None = None) -> float:
        """Dense peak at ``precision``; with none, the first of bf16, fp16, tf32, fp32."""
        table = self.peak_flop_per_s_by_precision
        if precision is None:
            for p in PRECISION_PREFERENCE:
                if p in table:
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
        return next((p for p in PRECISION_PREFERENCE if p in self.peak_flop_per_s_by_precision), None)


class HardwareCatalog:
    """A set of :class:`Hardware` rows with name resolution."""

    def __init__(self, rows: list[Hardware], label: str = "bundled"):
        self.label = label
        self._rows: dict[str, Hardware] = {}
        for hw in rows:
            self._rows[hw.key] = hw
        self._index()

    def _index(self) -> None:
        self._by_norm: dict[str, set[str]] = {}
        self._family_default: dict[str, str] = {}
        for hw in self._rows.values():
            for name in (hw.key, hw.name, *hw.aliases):
                self._by_norm.setdefault(norm(name), set()).add(hw.key)
            if hw.family_default:
                self._family_default[hw.family] = hw.key

    def __iter__(self):
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def keys(self) -> list[str]:
        return list(self._rows)

    def names(self) -> list[str]:
        out = []
        for hw in self._rows.values():
            out += [hw.key, hw.name, *hw.aliases]
        return out + list(self._family_default)

    def get(self, name: str) -> Hardware:
        """Resolve a key, name, alias or family to one row."""
        return self.resolve(name)[0]

    def resolve(self, name: str) -> tuple[Hardware, str]:
        """Resolve ``name`` and say how: the row and a note for the output."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"hardware={name!r} is empty; give a name such as 'a100' or 'h100-sxm'")
        if name in self._rows:
            return self._rows[name], ""
        q = norm(name)
        fam = name.strip().lower()
        if fam in self._family_default:
            hw = self._rows[self._family_default[fam]]
            return hw, f"{name!r} is the {hw.family} family; using its most common data-center variant, {hw.name}"
        hits = self._by_norm.get(q, set())
        if len(hits) == 1:
            return self._rows[next(iter(hits))], ""
        if len(hits) > 1:
            raise AmbiguousNameError("hardware", name, [self._rows[k].name for k in hits])
        fam_hits = [f for f in self._family_default if norm(f) == q]
        if len(fam_hits) == 1:
            return self.resolve(fam_hits[0])
        raise UnknownHardwareError(name, self.names())

    def find(self, name: str) -> Hardware | None:
        """Like :meth:`get`, but None for an unknown or ambiguous name (no error built)."""
        if not isinstance(name, str) or not name.strip():
            return None
        if name in self._rows:
            return self._rows[name]
        fam = name.strip().lower()
        if fam in self._family_default:
            return self._rows[self._family_default[fam]]
        hits = self._by_norm.get(norm(name), set())
        if len(hits) == 1:
            return self._rows[next(iter(hits))]
        if hits:
            return None
        q = norm(name)
        fam_hits = [f for f in self._family_default if norm(f) == q]
        return self._rows[self._family_default[fam_hits[0]]] if len(fam_hits) == 1 else None

    def merged(self, other: HardwareCatalog) -> HardwareCatalog:
        """Rows of ``other`` override rows with the same key; new keys are added."""
        rows = dict(self._rows)
        for hw in other:
            rows[hw.key] = hw
        return HardwareCatalog(list(rows.values()), f"{self.label}+{other.label}")


def _row_to_hardware(row: dict, label: str) -> Hardware:
    peaks = {}
    for p, col in (
        ("fp64", "peak_fp64_flop_per_s"), ("fp32", "peak_fp32_flop_per_s"), ("tf32", "peak_tf32_flop_per_s"),
        ("fp16", "peak_fp16_flop_per_s"), ("bf16", "peak_bf16_flop_per_s"), ("fp8", "peak_fp8_flop_per_s"),
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
        source=(row.get("source") or "").strip(),
        as_of=(row.get("as_of") or "").strip(),
        notes=(row.get("notes") or "").strip(),
        origin=label,
    )


def load_hardware(name: str | None = None, path: str | Path | None = None) -> HardwareCatalog:
    """Load a catalog in flopcast's format: the bundled one by default, or a file."""
    if name is None and path is None:
        name = "hardware.csv"
    rows, label = read_rows(name, path, required=_COLUMNS[:7] + ("source", "as_of"))
    items = [_row_to_hardware(r, label) for r in rows]
    keys = [h.key for h in items]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise CatalogError(f"{label}: duplicate key(s) {', '.join(dupes)}")
    for h in items:
        if not h.source or not h.as_of:
            raise CatalogError(f"{label}: row {h.key!r} has no source or as_of; every row must cite a dated source")
    return HardwareCatalog(items, label)


# Epoch AI's chip table (ml_hardware.csv): column -> flopcast precision
_EPOCH_PEAKS = {
    "FP64 (double precision) performance (FLOP/s)": "fp64",
    "FP32 (single precision) performance (FLOP/s)": "fp32",
    "TF32 (TensorFloat-32) performance (FLOP/s)": "tf32",
    "Tensor-FP16/BF16 performance (FLOP/s)": "bf16",
    "FP8 performance (FLOP/s)": "fp8",
    "INT8 performance (OP/s)": "int8",
}


def load_epoch_hardware(path: str | Path) -> HardwareCatalog:
    """Rows from Epoch AI's chip table (the format of ``ml_hardware.csv``).

    Rows whose name matches a bundled row (after normalization) take that row's key,
    so merging overrides it; others get a slug key. The dense tensor FP16/BF16 figure
    is used for both fp16 and bf16; a row with only a plain FP16 figure keeps it as fp16.
    """
    rows, label = read_rows(path=path, required=("Hardware name",))
    bundled = {norm(h.name): h.key for h in bundled_hardware()}
    items = []
    for row in rows:
        name = (row.get("Hardware name") or "").strip()
        if not name:
            continue
        peaks = {}
        for col, p in _EPOCH_PEAKS.items():
            v = num(row, col, label) if col in row else None
            if v is not None:
                peaks[p] = v
        if "bf16" in peaks:
            peaks["fp16"] = peaks["bf16"]
        elif (v := num(row, "FP16 (half precision) performance (FLOP/s)", label) if "FP16 (half precision) performance (FLOP/s)" in row else None):
            peaks["fp16"] = v
        key = bundled.get(norm(name)) or "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
        items.append(
            Hardware(
                key=key,
                name=name,
                family=key,
                manufacturer=(row.get("Manufacturer") or "").strip(),
                type=(row.get("Type") or "").strip() or "GPU",
                peak_flop_per_s_by_precision=peaks,
                memory_bytes=num(row, "Memory size per board (Byte)", label) if "Memory size per board (Byte)" in row else None,
                memory_bandwidth_bytes_per_s=num(row, "Memory bandwidth (byte/s)", label) if "Memory bandwidth (byte/s)" in row else None,
                tdp_w=num(row, "TDP (W)", label) if "TDP (W)" in row else None,
                release_date=date(row, "Release date", label),
                release_price_usd=num(row, "Release price (USD)", label) if "Release price (USD)" in row else None,
                source=(row.get("Link to datasheet") or "Epoch AI, Machine Learning Hardware").strip(),
                origin=label,
            )
        )
    # keep the family defaults of the bundled rows that were overridden
    defaults = {h.key: h for h in bundled_hardware()}
    items = [replace(h, family=defaults[h.key].family, family_default=defaults[h.key].family_default,
                     aliases=defaults[h.key].aliases) if h.key in defaults else h for h in items]
    return HardwareCatalog(items, label)


@lru_cache(maxsize=1)
def bundled_hardware() -> HardwareCatalog:
    return load_hardware()


def get_hardware(name: str, catalog: HardwareCatalog | None = None) -> Hardware:
    """Look a chip up in ``catalog`` (the bundled one by default)."""
    return (catalog or bundled_hardware()).get(name)
