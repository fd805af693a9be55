"""What is known about one trained model: the record every estimate starts from.

A :class:`ModelRecord` is one row of the database (Epoch AI's AI models table with the
curated overlay applied, see :mod:`flopcast.datasets.database`), or a curated addition.
Values are in SI units; ``None`` means unknown. ``sources`` says, field by field, where a
value came from (the database row and line, or the curated row's citation), so every
estimate can show the provenance of its inputs.

This module holds the data shape only; reading files lives in :mod:`flopcast.datasets`,
estimating in :mod:`flopcast.pipeline`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One model: identity, size, data, compute, hardware and time of its (final) training run.

    Slotted: a database of 190,000 rows holds about 1 kB less per row than with an instance dict.
    """

    #: the display name (Epoch's spelling for database rows)
    name: str
    #: unique within a database: the curated key when there is one, else the name (``name (2)`` for repeats)
    key: str = ""
    publication_date: dt.date | None = None
    organizations: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    #: total parameters
    parameters: float | None = None
    #: parameters used per token (mixture-of-experts models); None = all of them
    params_active: float | None = None
    #: tokens in one pass over the training data (from a token or word count; see dataset_unit)
    training_tokens: float | None = None
    epochs: float | None = None
    #: the database's dataset size, as given (Epoch: "datapoints") and its unit when known
    dataset_size: float | None = None
    dataset_unit: str = ""
    #: reported training compute; for a fine-tune, Epoch's figure includes the base model's
    training_compute_flop: float | None = None
    compute_lower_flop: float | None = None
    compute_upper_flop: float | None = None
    confidence: str = ""
    estimation_method: tuple[str, ...] = ()
    #: the model this one was fine-tuned from ("" for a model trained from scratch)
    base_model: str = ""
    finetune_compute_flop: float | None = None
    post_training_compute_flop: float | None = None
    #: Epoch's "Compute rank when published" (1 = the most compute when it came out)
    compute_rank: float | None = None
    #: chip names as the source gives them (Epoch's chip-table names, or catalog keys)
    training_hardware: tuple[str, ...] = ()
    hardware_quantity: float | None = None
    training_time_hours: float | None = None
    chip_hours: float | None = None
    utilization: float | None = None
    training_start_date: dt.date | None = None
    n_layers: float | None = None
    d_model: float | None = None
    #: attention width of the score and value matmuls: heads x (d_qk + d_v) / 2 (d_model for MHA and GQA)
    d_attn: float | None = None
    #: the pretraining sequence length (the attention term uses it)
    context_length: float | None = None
    #: attention heads, KV heads (grouped-query), the feed-forward width and activation, the vocabulary
    #: (from the curated catalog: the memory per rank uses them)
    n_heads: float | None = None
    n_kv_heads: float | None = None
    ffn_hidden: float | None = None
    ffn_activation: str | None = None
    vocab: float | None = None
    kv_cache_fraction: float | None = None
    precision: str | None = None
    accessibility: str = ""
    #: Epoch's "Training power draw (W)": hardware quantity x TDP x server overhead x PUE (Epoch's method)
    training_power_draw_w: float | None = None
    #: the developers' countries (Epoch's "Country (of organization)")
    countries: tuple[str, ...] = ()
    #: the Epoch row's line in its file (0 for curated additions)
    line: int = 0
    #: "epoch", "epoch+curated" (overlaid) or "curated" (an addition)
    origin: str = "epoch"
    #: field -> where its value came from
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    notes: tuple[str, ...] = ()

    @property
    def is_finetune(self) -> bool:
        """True when the row names a base model: its own training is a fine-tune."""
        return bool(self.base_model)

    @property
    def params_per_token(self) -> float | None:
        return self.params_active or self.parameters

    def source_of(self, field_name: str) -> str:
        return self.sources.get(field_name, "")

    def __reduce__(self) -> tuple[type[ModelRecord], tuple[object, ...]]:
        """Pickled as the constructor's arguments: loads about twice as fast as the slots' state, field by field."""
        return ModelRecord, tuple([getattr(self, name) for name in _FIELDS])


_FIELDS = tuple(f.name for f in fields(ModelRecord))
