"""Configurations of the GPT-style decoder the measurement harness trains (no PyTorch needed here).

The decoder: token and learned position embeddings, ``n_layers`` pre-norm blocks (causal
multi-head self-attention, a 4x MLP with GELU), a final LayerNorm and an output layer tied to
the token embedding. Linear layers have no bias, so the parameters that enter matrix
multiplies are exactly ``12 n_layers d_model^2 + vocab d_model``.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

from flopcast.errors import InvalidInputError

PRECISIONS = ("fp32", "bf16", "fp16")
LIMITS = {
    "n_layers": (1, 256),
    "d_model": (8, 65_536),
    "n_heads": (1, 1024),
    "context": (2, 1_048_576),
    "vocab": (2, 1_048_576),
    "batch": (1, 65_536),
}


@dataclass(frozen=True)
class DecoderConfig:
    n_layers: int
    d_model: int
    n_heads: int
    context: int
    vocab: int
    batch: int
    precision: str = "fp32"
    name: str = "custom"

    def __post_init__(self) -> None:
        where = f"config {self.name!r}"
        for f, (lo, hi) in LIMITS.items():
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidInputError(f"{where}: {f}={v!r} must be a whole number in {lo:,}..{hi:,}")
            if not lo <= v <= hi:
                raise InvalidInputError(f"{where}: {f}={v:,} is outside {lo:,}..{hi:,}")
        if self.d_model % self.n_heads:
            raise InvalidInputError(f"{where}: d_model={self.d_model} is not a multiple of n_heads={self.n_heads}")
        if self.precision not in PRECISIONS:
            raise InvalidInputError(f"{where}: precision={self.precision!r} is not one of {', '.join(PRECISIONS)}")

    @property
    def tokens_per_step(self) -> int:
        return self.batch * self.context

    @property
    def matmul_params(self) -> int:
        """Parameters that enter matrix multiplies: 12 L d^2 (QKV 3, output 1, MLP 8) + the tied output layer."""
        return 12 * self.n_layers * self.d_model**2 + self.vocab * self.d_model

    @property
    def total_params(self) -> int:
        """All parameters: matmul ones plus position embeddings and LayerNorm weights."""
        return self.matmul_params + self.context * self.d_model + (2 * self.n_layers + 1) * self.d_model

    def model_flop_per_step(self, attention: str = "full") -> float:
        """Training FLOP of one step by the PaLM convention, with N = the matmul parameters."""
        from flopcast.utilization.calc import model_flop_per_token

        return (
            float(
                model_flop_per_token(self.matmul_params, self.n_layers, self.d_model, self.context, attention=attention)
            )
            * self.tokens_per_step
        )

    def memory_estimate_bytes(self) -> float:
        """Rough peak memory of a training step.

        Weights, gradients and AdamW's two moments in fp32 (16 bytes a parameter); activations
        per layer ``s b h (34 + 5 a s / h)`` bytes at 16 bits (Korthikanti et al. 2022, eq. 1),
        doubled for fp32; logits and their gradient (3 x batch x context x vocab x 4 bytes).
        """
        s, b, h, a = self.context, self.batch, self.d_model, self.n_heads
        act = s * b * h * (34 + 5 * a * s / h) * self.n_layers * (2.0 if self.precision == "fp32" else 1.0)
        return 16.0 * self.total_params + act + 3.0 * b * s * self.vocab * 4.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS = {
    # a few seconds a step on two CPU cores
    "small": DecoderConfig(n_layers=4, d_model=256, n_heads=4, context=256, vocab=8192, batch=4, name="small"),
    # GPT-2 small's shape (124M parameters; vocabulary padded to a multiple of 64), for a GPU
    "medium": DecoderConfig(
        n_layers=12, d_model=768, n_heads=12, context=1024, vocab=50304, batch=8, precision="bf16", name="medium"
    ),
    # GPT-3 XL's shape (1.3B parameters), for a large GPU
    "large": DecoderConfig(
        n_layers=24, d_model=2048, n_heads=16, context=2048, vocab=50304, batch=8, precision="bf16", name="large"
    ),
}


def load_config(spec: str | Path) -> DecoderConfig:
    """A preset name (small, medium, large) or a TOML/JSON file with the DecoderConfig fields."""
    if isinstance(spec, str) and spec in PRESETS:
        return PRESETS[spec]
    path = Path(spec)
    if not path.is_file():
        raise InvalidInputError(f"config={str(spec)!r} is neither a preset ({', '.join(PRESETS)}) nor a file")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(
            f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected a table of fields, got {type(data).__name__}")
    known = {f.name: f for f in fields(DecoderConfig)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InvalidInputError(f"{path}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(known)}")
    required = [n for n, f in known.items() if f.default is MISSING]
    missing = [n for n in required if n not in data]
    if missing:
        raise InvalidInputError(f"{path}: missing field(s) {', '.join(missing)} (whole numbers)")
    for n in ("precision", "name"):
        if n in data and not isinstance(data[n], str):
            raise InvalidInputError(f"{path}: {n}={data[n]!r} must be a string")
    data.setdefault("name", path.stem)
    try:
        return DecoderConfig(**data)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{path}: {exc}") from None
