"""The Epoch AI files flopcast reads, their required columns and column aliases.

Columns are read by name. Each canonical column lists the headers it may appear under
(the snapshot in ``shared/data/epoch`` and the public downloads at epoch.ai differ a
little). A file kind is recognized from its header; a file that lacks a required
column is rejected with the names of the missing columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flopcast.errors import CatalogError


@dataclass(frozen=True)
class FileKind:
    name: str
    #: file names this kind is saved under in a data folder / the cache
    filenames: tuple[str, ...]
    #: canonical column -> accepted headers (first is the canonical spelling)
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    #: public download address, when there is one
    url: str | None = None


MODELS = FileKind(
    name="models",
    filenames=("ai_models.csv", "all_ai_models.csv", "notable_ai_models.csv"),
    columns={
        "model": ("Model", "System", "Name"),
        "domain": ("Domain",),
        "task": ("Task",),
        "organization": ("Organization", "Organization(s)"),
        "publication_date": ("Publication date", "Publication date (UTC)", "Date"),
        "parameters": ("Parameters",),
        "training_compute_flop": ("Training compute (FLOP)", "Training compute (FLOPs)", "Training compute"),
        "dataset_size": (
            "Training dataset size (datapoints)",
            "Training dataset size (total)",
            "Training dataset size",
        ),
        "epochs": ("Epochs",),
        "training_time_hours": ("Training time (hours)",),
        "training_hardware": ("Training hardware",),
        "hardware_quantity": ("Hardware quantity",),
        "utilization": ("Hardware utilization (MFU)", "Hardware utilization", "Hardware utilization (HFU)"),
        "chip_hours": ("Training chip-hours",),
        "confidence": ("Confidence",),
        "accessibility": ("Model accessibility",),
        "cloud_vendor": ("Training cloud compute vendor",),
        "organization_category": ("Organization categorization", "Organization categorization (from Organization)"),
        "compute_lower_flop": ("Training compute lower bound",),
        "compute_upper_flop": ("Training compute upper bound",),
        "numerical_format": ("Numerical format",),
        "notability": ("Notability criteria",),
        "compute_rank": ("Compute rank when published",),
        "estimation_method": ("Training compute estimation method",),
        "country": ("Country (of organization)",),
        "link": ("Link",),
        "base_model": ("Base model",),
        "finetune_compute_flop": ("Finetune compute (FLOP)",),
        "post_training_compute_flop": ("Post-training compute (FLOP)",),
        "dataset_notes": ("Dataset size notes",),
        "power_draw_w": ("Training power draw (W)",),
        "last_modified": ("Last modified",),
    },
    required=("model", "publication_date", "training_compute_flop"),
    url="https://epoch.ai/data/all_ai_models.csv",
)

HARDWARE = FileKind(
    name="hardware",
    filenames=("ml_hardware.csv",),
    columns={
        "name": ("Hardware name", "Name"),
        "manufacturer": ("Manufacturer",),
        "type": ("Type",),
        "release_date": ("Release date",),
        "release_price_usd": ("Release price (USD)",),
        "fp64": ("FP64 (double precision) performance (FLOP/s)",),
        "fp32": ("FP32 (single precision) performance (FLOP/s)",),
        "fp16": ("FP16 (half precision) performance (FLOP/s)",),
        "tf32": ("TF32 (TensorFloat-32) performance (FLOP/s)",),
        "tensor_fp16": ("Tensor-FP16/BF16 performance (FLOP/s)",),
        "fp8": ("FP8 performance (FLOP/s)",),
        "int8": ("INT8 performance (OP/s)",),
        "memory_bytes": ("Memory size per board (Byte)",),
        "memory_bandwidth_bytes_per_s": ("Memory bandwidth (byte/s)",),
        "tdp_w": ("TDP (W)",),
        "datasheet": ("Link to datasheet",),
    },
    required=("name",),
    url="https://epoch.ai/data/ml_hardware.csv",
)

PRICES = FileKind(
    name="prices",
    filenames=("hardware_prices.csv",),
    columns={
        "source": ("Price source",),
        "date": ("Price date",),
        "hardware": ("Hardware model",),
        "manufacturer": ("Manufacturer",),
        "vendor": ("Vendor",),
        "location": ("Location",),
        "on_demand": ("Price per chip-hour (on-demand)",),
        "one_year": ("Price per chip-hour (1-year CUD)",),
        "three_year": ("Price per chip-hour (3-year CUD)",),
        "purchase": ("Price (hardware purchase)",),
        "notes": ("Notes",),
        "n_chips": ("Number of GPUs",),
    },
    required=("date", "hardware"),
)

PRICE_INDEX = FileKind(
    name="price_index",
    filenames=("price_index_PCU518210518210.csv",),
    columns={"date": ("observation_date",)},
    required=("date",),
)

KINDS = (MODELS, HARDWARE, PRICES, PRICE_INDEX)


def resolve_columns(kind: FileKind, header: Iterable[str]) -> dict[str, str]:
    """Map canonical column -> the header present in the file (only those found)."""
    present = {h.strip().lstrip("\ufeff"): h for h in header}
    out = {}
    for canon, aliases in kind.columns.items():
        for alias in aliases:
            if alias in present:
                out[canon] = present[alias]
                break
    return out


def missing_required(kind: FileKind, header: Iterable[str]) -> list[str]:
    """Required columns not found, named by their canonical header."""
    found = resolve_columns(kind, header)
    return [kind.columns[c][0] for c in kind.required if c not in found]


def detect_kind(header: Iterable[str]) -> FileKind:
    """The file kind whose required columns the header has (models before hardware before prices)."""
    header = [h.strip().lstrip("\ufeff") for h in header]
    for kind in KINDS:
        if not missing_required(kind, header):
            return kind
    raise CatalogError(
        "the header matches none of Epoch's files (AI models, ML hardware, hardware prices, price index); "
        f"it starts with: {', '.join(header[:6]) or '(empty)'}"
    )


def check_header(kind: FileKind, header: Iterable[str], label: str) -> dict[str, str]:
    """Column map, or a CatalogError naming the missing required columns."""
    missing = missing_required(kind, header)
    if missing:
        raise CatalogError(f"{label}: missing required column(s) {', '.join(missing)} for Epoch's {kind.name} file")
    return resolve_columns(kind, header)
