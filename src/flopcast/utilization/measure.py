"""Measure MFU by training a GPT-style decoder on this machine (needs PyTorch: ``flopcast[measure]``).

The method (docs/utilization.md):

1. Build the decoder of :class:`~flopcast.utilization.config.DecoderConfig`, AdamW, and one
   fixed batch of random tokens (data loading is not part of what is measured).
2. Run ``steps`` training steps (forward, cross-entropy loss, backward, optimizer step). The
   first ``warmup`` are excluded from the statistics (allocator, kernel selection, caches).
3. Time every step with ``time.perf_counter`` between two device synchronizations
   (``torch.cuda.synchronize`` on CUDA), so a step's time is the wall time of its work.
4. FLOP per step: analytic, PaLM's convention with N = matmul parameters
   (``6 N + 12 L d T`` per token, attention counted in full). Cross-checked by counting one
   extra step with ``torch.utils.flop_counter.FlopCounterMode`` under the math attention
   backend (which multiplies full T x T matrices); under the default backend the CPU's fused
   attention kernel is not counted, which is reported too.
5. Peak: ``peak_flop_per_s`` if given; on CUDA the catalog's dense peak of the card at the
   precision; on a CPU (or an unknown card) a measured matrix-multiply peak (the best of several
   large matmuls), reported as such.
6. The headline is the ratio of sums over the measured (steady-state) window, as papers report a
   run's MFU (PaLM, Chowdhery et al. 2022, arXiv 2204.02311, Sec. 4.1: observed throughput over
   the theoretical peak throughput): total model FLOP of the measured steps / (their total time x
   peak). The per-step distribution (MFU of a step = FLOP per step / (step time x peak)) is
   reported beside it, and the effective utilization over the whole wall time (set-up and warm-up
   included), with the share of it spent in training steps, as Llama 3 reports its effective
   training time apart from its MFU (Llama Team 2024, arXiv 2407.21783, Sec. 3.3.4).
7. ``repeats`` runs the configuration that many times (a fresh model each time, the same seed)
   and reports each run's headline and their spread (:func:`run_spread`).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

import numpy as np

from flopcast.errors import InvalidInputError, MissingInputError
from flopcast.utilization.config import DecoderConfig

DEVICES = ("cpu", "cuda")
MIN_MEASURED_STEPS = 5
#: ``repeats`` allowed: 1 (a single run) up to this many runs of the same configuration
MAX_REPEATS = 20


def _torch() -> ModuleType:
    try:
        import torch
    except ImportError:  # pragma: no cover - the test extra installs torch
        raise MissingInputError(
            "measuring utilization needs PyTorch: pip install 'flopcast[measure]' (or pip install torch)"
        ) from None
    return torch


def _build_model(cfg: DecoderConfig, torch: ModuleType) -> Any:
    nn, F = torch.nn, torch.nn.functional
    d, h = cfg.d_model, cfg.n_heads
    # torch is imported at run time (an optional dependency), so its Module is a value here, not a static type
    Module: Any = nn.Module

    class Block(Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d, bias=False), nn.LayerNorm(d, bias=False)
            self.qkv, self.proj = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d, bias=False)
            self.fc, self.out = nn.Linear(d, 4 * d, bias=False), nn.Linear(4 * d, d, bias=False)

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape
            q, k, v = (z.view(b, t, h, d // h).transpose(1, 2) for z in self.qkv(self.ln1(x)).split(d, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
            x = x + self.proj(y)
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class Decoder(Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok, self.pos = nn.Embedding(cfg.vocab, d), nn.Embedding(cfg.context, d)
            self.blocks = nn.ModuleList(Block() for _ in range(cfg.n_layers))
            self.lnf = nn.LayerNorm(d, bias=False)

        def forward(self, idx: Any) -> Any:
            x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
            for blk in self.blocks:
                x = blk(x)
            return F.linear(self.lnf(x), self.tok.weight)  # output layer tied to the embedding

    return Decoder()


def _available_memory_bytes(device: str, torch: ModuleType) -> float | None:
    if device == "cuda":
        return float(torch.cuda.mem_get_info()[0])
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        return None
    return None


def measured_matmul_peak(
    torch: ModuleType, device: str, dtype: Any, n: int = 2048, repeats: int = 8
) -> tuple[float, str]:
    """The best FLOP/s of ``repeats`` n x n matrix multiplies (after one untimed)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    sync: Callable[[], None] = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    a @ b
    sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - t0)
    flops = 2.0 * n**3 / best
    threads = f" on {torch.get_num_threads()} threads" if device == "cpu" else ""
    return flops, f"measured: best of {repeats} {n}x{n} {str(dtype).replace('torch.', '')} matmuls{threads}"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _catalog_peak(device_name: str, precision: str, allow_tf32: bool) -> tuple[float, str] | None:
    from flopcast.catalogs import bundled_hardware
    from flopcast.errors import FlopcastError

    try:
        hw, _ = bundled_hardware().resolve(device_name)
    except FlopcastError:
        return None
    prec = {"fp32": "tf32" if allow_tf32 else "fp32", "bf16": "bf16", "fp16": "fp16"}[precision]
    if prec not in hw.peak_flop_per_s_by_precision:
        return None
    return hw.peak_flop_per_s(prec), f"catalog: {hw.name}, dense {prec} ({hw.source})"


@dataclass(frozen=True)
class RunSpread:
    """The spread between repeated runs of one configuration: each run's headline and their statistics."""

    headlines: tuple[float, ...]
    median: float
    min: float
    max: float
    relative_spread: float
    cv: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": len(self.headlines),
            "headlines": list(self.headlines),
            "median": self.median,
            "min": self.min,
            "max": self.max,
            "relative_spread": self.relative_spread,
            "cv": self.cv,
        }


def run_spread(headlines: Sequence[float]) -> RunSpread:
    """The spread of ``headlines``, one MFU a run: median, min, max, relative spread and coefficient of variation.

    Relative spread = (max - min) / median; coefficient of variation = sample standard deviation (n - 1 in the
    denominator) / mean, None for a single run. Pure arithmetic, so it is tested on given values.
    """
    h = np.asarray(headlines, dtype=float)
    if h.ndim != 1 or h.size < 1 or not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise InvalidInputError(f"headlines={list(headlines)!r}: give one or more positive MFU values, one a run")
    median = float(np.median(h))
    cv = float(np.std(h, ddof=1) / np.mean(h)) if h.size > 1 else None
    return RunSpread(
        headlines=tuple(float(x) for x in h),
        median=median,
        min=float(h.min()),
        max=float(h.max()),
        relative_spread=float((h.max() - h.min()) / median),
        cv=cv,
    )


def check_repeats(repeats: object) -> int:
    """``repeats`` as a whole number in 1..:data:`MAX_REPEATS`, or an :class:`InvalidInputError` naming it."""
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or not 1 <= repeats <= MAX_REPEATS:
        raise InvalidInputError(f"repeats={repeats!r} must be a whole number of runs in 1..{MAX_REPEATS}")
    return int(repeats)


@dataclass(eq=False)
class Measurement:
    """One run of the harness: per-step times, the headline MFU and the other ways to quote it, and the method.

    Every statistic is computed from ``step_times_s`` (and ``wall_time_s``), so a Measurement built directly from
    given times needs no PyTorch. ``runs`` holds every run's summary when the configuration was repeated (this
    run first), empty otherwise.
    """

    config: DecoderConfig
    device: str
    device_name: str
    step_times_s: list[float]
    warmup: int
    flop_per_step: float
    flop_per_step_counted: float
    flop_per_step_counted_default: float
    peak_flop_per_s: float
    peak_origin: str
    method: dict[str, Any] = field(default_factory=dict)
    wall_time_s: float | None = None
    runs: list[dict[str, float]] = field(default_factory=list)

    @property
    def steady_times(self) -> np.ndarray:
        return np.asarray(self.step_times_s[self.warmup :], dtype=float)

    @property
    def mfu_per_step(self) -> np.ndarray:
        return self.flop_per_step / (self.steady_times * self.peak_flop_per_s)

    @property
    def wall_s(self) -> float:
        """The run's wall time: as measured (set-up, every step and the gaps between them), else the steps' sum."""
        return float(self.wall_time_s) if self.wall_time_s is not None else float(np.sum(self.step_times_s))

    @property
    def headline(self) -> float:
        """MFU over the measured window, a ratio of sums: n x FLOP per step / (sum of the n step times x peak)."""
        steady = self.steady_times
        return float(self.flop_per_step * steady.size / (steady.sum() * self.peak_flop_per_s))

    @property
    def training_time_fraction(self) -> float:
        """The share of the wall time spent in training steps (warm-up included): sum of every step time / wall."""
        return float(np.sum(self.step_times_s) / self.wall_s)

    @property
    def effective(self) -> float:
        """Utilization over the whole wall time: FLOP of every step (warm-up included) / (wall time x peak)."""
        return float(self.flop_per_step * len(self.step_times_s) / (self.wall_s * self.peak_flop_per_s))

    def mfu_summary(self) -> dict[str, float]:
        """The headline (ratio of sums) and the per-step distribution beside it."""
        m = self.mfu_per_step
        p5, median, p95 = np.percentile(m, [5, 50, 95])
        return {
            "headline": self.headline,
            "mean": float(m.mean()),
            "median": float(median),
            "p5": float(p5),
            "p95": float(p95),
            "min": float(m.min()),
            "max": float(m.max()),
        }

    def quotes(self) -> dict[str, float]:
        """The figures a practitioner might quote from this same run (the headline is total FLOP / total time)."""
        all_t = np.asarray(self.step_times_s, dtype=float)
        steady = self.steady_times
        fp = self.flop_per_step / self.peak_flop_per_s
        return {
            "median_step": float(np.median(fp / steady)),
            "mean_of_steps": float(np.mean(fp / steady)),
            "total_flop_over_total_time": self.headline,
            "including_warmup": float(fp * all_t.size / all_t.sum()),
            "single_step (first after warm-up)": float(fp / steady[0]),
            "best_step": float(fp / steady.min()),
            "first_step (cold)": float(fp / all_t[0]),
        }

    def summary(self) -> dict[str, float]:
        """This run in a few numbers (one row of the repeats table)."""
        steady = self.steady_times
        return {
            "headline": self.headline,
            "effective": self.effective,
            "median_step": float(np.median(self.mfu_per_step)),
            "tokens_per_s": float(self.config.tokens_per_step * steady.size / steady.sum()),
            "wall_time_s": self.wall_s,
            "peak_flop_per_s": self.peak_flop_per_s,
        }

    def spread(self) -> RunSpread:
        """The spread of the headline between the repeated runs (this run alone when not repeated)."""
        return run_spread([r["headline"] for r in self.runs] if self.runs else [self.headline])

    def to_dict(self) -> dict[str, Any]:
        steady = self.steady_times
        return {
            "mfu": self.mfu_summary(),
            "headline": {
                "mfu": self.headline,
                "definition": "total model FLOP of the measured steps / (their total time x peak): a ratio of sums "
                "over the steady-state window",
                "measured_steps": int(steady.size),
                "model_flop": float(self.flop_per_step * steady.size),
                "time_s": float(steady.sum()),
            },
            "effective": {
                "mfu": self.effective,
                "training_time_fraction": self.training_time_fraction,
                "wall_time_s": self.wall_s,
                "definition": "model FLOP of every step, warm-up included / (wall time x peak); wall time = set-up, "
                "every step and the gaps between them",
            },
            "quotes": self.quotes(),
            "tokens_per_s": float(self.config.tokens_per_step * steady.size / steady.sum()),
            "peak_flop_per_s": self.peak_flop_per_s,
            "peak_origin": self.peak_origin,
            "device": self.device,
            "device_name": self.device_name,
            "flop_per_step": {
                "analytic": self.flop_per_step,
                "counted_math_attention": self.flop_per_step_counted,
                "counted_default_attention": self.flop_per_step_counted_default,
                "counted_over_analytic": self.flop_per_step_counted / self.flop_per_step,
            },
            "step_time_s": {
                "median": float(np.median(steady)),
                "mean": float(steady.mean()),
                "total": float(steady.sum()),
                "min": float(steady.min()),
                "max": float(steady.max()),
            },
            "step_times_s": [float(t) for t in self.step_times_s],
            "repeats": {**self.spread().to_dict(), "runs": [dict(r) for r in (self.runs or [self.summary()])]},
            "method": self.method,
        }


def measure(
    config: DecoderConfig,
    *,
    device: str = "cpu",
    steps: int = 20,
    warmup: int = 3,
    seed: int = 0,
    peak_flop_per_s: float | None = None,
    threads: int | None = None,
    repeats: int = 1,
) -> Measurement:
    """Train ``config`` for ``steps`` steps on ``device``, ``repeats`` times, and measure MFU.

    The headline of a run is the ratio of sums over its measured steps (:attr:`Measurement.headline`). With
    ``repeats`` > 1 each run builds a fresh model from the same seed; the first run is returned, with every run's
    summary in ``runs`` and their spread in :meth:`Measurement.spread`. Where the peak is measured (a CPU, or a
    card the catalog lacks), every run is divided by the best peak measured over all runs, so that the runs differ
    only in their step times.
    """
    repeats = check_repeats(repeats)
    if device not in DEVICES:
        raise InvalidInputError(f"device={device!r} is not one of {', '.join(DEVICES)}")
    if warmup < 0:
        raise InvalidInputError(f"warmup={warmup} must be >= 0")
    if steps - warmup < MIN_MEASURED_STEPS:
        raise InvalidInputError(
            f"steps={steps} with warmup={warmup} leaves {steps - warmup} measured steps; "
            f"give at least {warmup + MIN_MEASURED_STEPS} steps (or fewer warm-up steps)"
        )
    if peak_flop_per_s is not None and not peak_flop_per_s > 0:
        raise InvalidInputError(f"peak_flop_per_s={peak_flop_per_s} must be > 0")
    torch = _torch()
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device=cuda: no CUDA device is available here; use --device cpu")
    if threads is not None:
        if threads < 1:
            raise InvalidInputError(f"threads={threads} must be >= 1")
        torch.set_num_threads(threads)
    if config.precision == "fp16" and device == "cpu":
        raise InvalidInputError("precision=fp16 is for CUDA; on a CPU use fp32 or bf16")
    need = config.memory_estimate_bytes()
    free = _available_memory_bytes(device, torch)
    if free is not None and need > 0.9 * free:
        raise InvalidInputError(
            f"config {config.name!r} needs about {need / 1e9:.1f} GB for a training step and {device} has "
            f"{free / 1e9:.1f} GB free; reduce batch, context, n_layers or d_model"
        )

    runs = [_measure_once(config, torch, device, steps, warmup, seed, peak_flop_per_s) for _ in range(repeats)]
    if peak_flop_per_s is None and runs[0].peak_origin.startswith("measured"):  # one peak for every run: the best
        best = max(runs, key=lambda r: r.peak_flop_per_s)
        runs = [replace(r, peak_flop_per_s=best.peak_flop_per_s, peak_origin=best.peak_origin) for r in runs]
    first = runs[0]
    first.method["repeats"] = repeats
    if repeats > 1:
        first.runs = [r.summary() for r in runs]
        if first.peak_origin.startswith("measured"):
            first.method["peak_over_repeats"] = "the best peak measured over all runs divides every run"
    return first


def _measure_once(
    config: DecoderConfig,
    torch: ModuleType,
    device: str,
    steps: int,
    warmup: int,
    seed: int,
    peak_flop_per_s: float | None,
) -> Measurement:
    """One run: a fresh model from ``seed``, ``steps`` timed steps, the FLOP counter's two extra steps."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[config.precision]
    measured_before = measured_matmul_peak(torch, device, dtype) if peak_flop_per_s is None else None
    sync: Callable[[], None] = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    wall0 = time.perf_counter()  # the wall clock: set-up (model, optimizer, data), every step, the gaps between
    torch.manual_seed(seed)
    model = _build_model(config, torch).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    idx = torch.randint(0, config.vocab, (config.batch, config.context), generator=gen).to(device)
    tgt = torch.randint(0, config.vocab, (config.batch, config.context), generator=gen).to(device)
    use_amp = config.precision != "fp32"
    scaler = torch.amp.GradScaler(device) if config.precision == "fp16" else None

    def step() -> None:
        with torch.autocast(device_type=device, dtype=dtype, enabled=use_amp):
            logits = model(idx)
            loss = torch.nn.functional.cross_entropy(logits.view(-1, config.vocab).float(), tgt.view(-1))
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        opt.zero_grad(set_to_none=True)

    try:
        times = []
        for _ in range(steps):
            sync()
            t0 = time.perf_counter()
            step()
            sync()
            times.append(time.perf_counter() - t0)
        wall = time.perf_counter() - wall0
        counted = {}
        for label, backend in (("math", SDPBackend.MATH), ("default", None)):
            fc = FlopCounterMode(display=False)
            if backend is None:
                with fc:
                    step()
            else:
                with sdpa_kernel(backend), fc:
                    step()
            counted[label] = float(fc.get_total_flops())
    except torch.cuda.OutOfMemoryError:  # pragma: no cover - needs a GPU
        raise InvalidInputError(
            f"config {config.name!r} ran out of GPU memory; reduce batch, context, n_layers or d_model"
        ) from None

    device_name = torch.cuda.get_device_name() if device == "cuda" else _cpu_name()
    allow_tf32 = bool(torch.backends.cuda.matmul.allow_tf32) if device == "cuda" else False
    if peak_flop_per_s is not None:
        peak, origin = float(peak_flop_per_s), "given"
    else:
        found = _catalog_peak(device_name, config.precision, allow_tf32) if device == "cuda" else None
        if found:
            peak, origin = found
        else:  # the better of a measurement before and one after the run (another load may slow either)
            assert measured_before is not None  # measured above whenever no peak was given
            peak, origin = max(measured_before, measured_matmul_peak(torch, device, dtype), key=lambda x: x[0])
    method = {
        "config": config.to_dict(),
        "steps": steps,
        "warmup": warmup,
        "measured_steps": steps - warmup,
        "seed": seed,
        "precision": config.precision,
        "optimizer": "AdamW",
        "data": "one fixed batch of random tokens",
        "timer": "time.perf_counter between device synchronizations; a step = forward, loss, backward, optimizer step",
        "flop_convention": "6 N + 12 n_layers d_model context per token (PaLM), N = matmul parameters "
        f"({config.matmul_params:,}); attention counted in full (the mask is causal)",
        "headline": "total model FLOP of the measured steps / (their total time x peak): a ratio of sums",
        "effective": "model FLOP of every step / (wall time x peak); wall time from building the model to the end "
        "of the last step",
        "torch": torch.__version__,
        "threads": torch.get_num_threads() if device == "cpu" else None,
        "total_params": config.total_params,
    }
    return Measurement(
        config=config,
        device=device,
        device_name=device_name,
        step_times_s=times,
        warmup=warmup,
        flop_per_step=config.model_flop_per_step(),
        flop_per_step_counted=counted["math"],
        flop_per_step_counted_default=counted["default"],
        peak_flop_per_s=peak,
        peak_origin=origin,
        method=method,
        wall_time_s=wall,
    )
