"""The model catalog: landmark models with facts from primary sources.

Each row cites its source. Reading Epoch AI's whole database (issue 3) produces the
same :class:`ModelSpec` records, so the training chain takes either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
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
    #: attention: mha (multi-head), gqa (grouped-query), mqa (multi-query) or mla (multi-head latent)
    attention: str | None = None
    n_heads: float | None = None
    #: KV heads (gqa, mqa; None for mha = n_heads, and for mla)
    n_kv_heads: float | None = None
    head_dim: float | None = None
    #: multi-head latent attention (mla): the cached latent's width and the decoupled RoPE key's
    kv_lora_rank: float | None = None
    rope_head_dim: float | None = None
    #: mixture of experts: routed experts, experts each token is routed to, and layers with experts
    n_experts: float | None = None
    experts_per_token: float | None = None
    moe_layers: float | None = None
    #: the feed-forward block's hidden width (None: unpublished; 4 x d_model is the GPT default)
    ffn_hidden: float | None = None
    #: the feed-forward activation: gelu, relu (two matrices) or swiglu (gated: three matrices)
    ffn_activation: str | None = None
    #: the vocabulary (embedding rows)
    vocab: float | None = None
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
    def kv_values_per_token_layer(self) -> float | None:
        """KV-cache values per token and layer: 2 x KV heads x head width (mha, gqa, mqa), the latent
        plus the RoPE key (mla, DeepSeek-AI 2024 Section 2.1.1); None without an attention shape."""
        if self.attention == "mla" and self.kv_lora_rank is not None and self.rope_head_dim is not None:
            return self.kv_lora_rank + self.rope_head_dim
        if self.attention is None or self.n_heads is None or self.head_dim is None:
            return None
        kv_heads = self.n_kv_heads if self.attention in ("gqa", "mqa") and self.n_kv_heads else self.n_heads
        return 2.0 * kv_heads * self.head_dim

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


ATTENTIONS = ("mha", "gqa", "mqa", "mla")
#: feed-forward activations; the gated ones have three weight matrices instead of two
FFN_ACTIVATIONS = ("gelu", "relu", "swiglu", "geglu")
GATED_FFN = ("swiglu", "geglu")
_ARCHITECTURE = (
    "n_heads",
    "n_kv_heads",
    "head_dim",
    "kv_lora_rank",
    "rope_head_dim",
    "n_experts",
    "experts_per_token",
    "moe_layers",
    "ffn_hidden",
    "vocab",
)


def _architecture(row: dict, label: str) -> dict:
    """The attention and expert columns of a row, checked against each other and the KV-cache fraction."""
    where = f"{label} line {row['_line']}"
    attention = (row.get("attention") or "").strip().lower() or None
    if attention is not None and attention not in ATTENTIONS:
        raise CatalogError(f"{where}: attention={attention!r} is not one of {', '.join(ATTENTIONS)}")
    ffn = (row.get("ffn_activation") or "").strip().lower() or None
    if ffn is not None and ffn not in FFN_ACTIVATIONS:
        raise CatalogError(f"{where}: ffn_activation={ffn!r} is not one of {', '.join(FFN_ACTIVATIONS)}")
    out: dict = {"attention": attention, "ffn_activation": ffn, **{c: num(row, c, label) for c in _ARCHITECTURE}}
    if attention is not None and (out["n_heads"] is None or out["head_dim"] is None):
        raise CatalogError(f"{where}: attention={attention} needs n_heads and head_dim")
    if attention in ("gqa", "mqa") and out["n_kv_heads"] is None:
        raise CatalogError(f"{where}: attention={attention} needs n_kv_heads")
    if attention == "mla" and (out["kv_lora_rank"] is None or out["rope_head_dim"] is None):
        raise CatalogError(f"{where}: attention=mla needs kv_lora_rank and rope_head_dim")
    experts = (out["n_experts"], out["experts_per_token"], out["moe_layers"])
    if any(v is not None for v in experts) and not all(v is not None for v in experts):
        raise CatalogError(f"{where}: a mixture of experts needs n_experts, experts_per_token and moe_layers")
    if out["n_experts"] is not None and out["experts_per_token"] > out["n_experts"]:
        raise CatalogError(f"{where}: experts_per_token={out['experts_per_token']:g} exceeds n_experts")
    return out


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
        **_architecture(row, label),
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
    items = [_with_kv_fraction(_row_to_model(r, label), label) for r in rows]
    for m in items:
        if not m.source:
            raise CatalogError(f"{label}: model {m.key!r} has no source; every row must cite one")
    return ModelCatalog(items, label)


def _with_kv_fraction(m: ModelSpec, label: str) -> ModelSpec:
    """The KV-cache fraction from the attention shape where the row gives one, checked against the column."""
    kv = m.kv_values_per_token_layer
    if kv is None or m.d_model is None:
        return m
    derived = kv / (2.0 * m.d_model)
    if m.kv_cache_fraction is not None and abs(m.kv_cache_fraction / derived - 1.0) > 0.01:
        raise CatalogError(
            f"{label}: model {m.key!r} has kv_cache_fraction={m.kv_cache_fraction:g}, but its attention shape "
            f"gives {kv:g} / (2 x {m.d_model:g}) = {derived:.4g}"
        )
    return replace(m, kv_cache_fraction=derived if derived < 1.0 else m.kv_cache_fraction)


@lru_cache(maxsize=1)
def bundled_models() -> ModelCatalog:
    return load_models()


def get_model(name: str) -> ModelSpec:
    return bundled_models().get(name)
