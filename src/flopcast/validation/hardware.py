"""Utilization and hardware checks: model FLOP utilization and chip ratios against their publications.

Layer: validation. The checks run :mod:`flopcast.utilization` and :mod:`flopcast.comparison`, the functions
behind ``flopcast mfu calc`` and ``flopcast hardware compare``.
"""

from __future__ import annotations

from collections.abc import Callable

from flopcast.validation.rules import Check, Context, Outcome, close


def _mfu_opt(ctx: Context) -> Outcome:
    from flopcast.utilization import calculate

    return close(calculate("opt-175b", achieved_flop_per_s_per_chip=147e12).utilization, 0.47, 0.01, "fraction")


def _mfu_gpt3(ctx: Context) -> Outcome:
    from flopcast.utilization import calculate

    return close(calculate("gpt-3").utilization, 24.6 / 125, 0.01, "fraction")


def _mfu_palm(ctx: Context) -> Outcome:
    from flopcast.utilization import calculate
    from flopcast.validation.training_runs import PALM_D_ATTN, PALM_PARAMS, PALM_TOKENS_PER_S

    u = calculate("palm-540b", tokens_per_s=PALM_TOKENS_PER_S, params=PALM_PARAMS, d_attn=PALM_D_ATTN).utilization
    return close(u, 0.462, 0.002, "fraction")


def _hw_ratio(attr: str, expected: float) -> Callable[[Context], Outcome]:
    def run(ctx: Context) -> Outcome:
        from flopcast.comparison import compare_hardware

        return close(getattr(compare_hardware("v100", "a100"), attr), expected, 0.01, "x")

    return run


def hardware_checks() -> list[Check]:
    """The utilization and hardware-ratio checks, in the order of docs/validation.md."""
    return [
        Check(
            "mfu-opt",
            "utilization",
            "OPT-175B: 147 TFLOP/s per A100 against the 312 TFLOP/s peak",
            "Zhang et al. 2022 (arXiv 2205.01068)",
            "about 47%",
            "within 1%",
            _mfu_opt,
        ),
        Check(
            "mfu-gpt3",
            "utilization",
            "GPT-3: utilization implied by 3.14e23 FLOP on 10,000 V100 for 14.8 days",
            "Patterson et al. 2021 (arXiv 2104.10350): 24.6 of 125 TFLOP/s",
            "19.7%",
            "within 1%",
            _mfu_gpt3,
        ),
        Check(
            "mfu-palm",
            "utilization",
            "PaLM 540B MFU from 238.3K tokens/s on 6144 TPU v4",
            "Chowdhery et al. 2022 (arXiv 2204.02311), Appendix B",
            "46.2%",
            "within 0.2%",
            _mfu_palm,
        ),
        Check(
            "hw-peak",
            "hardware",
            "A100 against V100: peak FLOP/s (dense fp16/bf16 tensor)",
            "NVIDIA datasheets: 312 vs 125 TFLOP/s",
            "2.5x",
            "within 1%",
            _hw_ratio("peak_flop_per_s_ratio", 2.5),
        ),
        Check(
            "hw-memory",
            "hardware",
            "A100 80GB against V100 32GB: memory",
            "NVIDIA datasheets",
            "2.5x",
            "within 1%",
            _hw_ratio("memory_bytes_ratio", 2.5),
        ),
    ]
