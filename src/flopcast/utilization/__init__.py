"""Utilization: MFU and HFU from reported figures, and measured on real hardware.

The calculator (:mod:`flopcast.utilization.calc`) needs only numpy; the measurement
harness (:mod:`flopcast.utilization.measure`) needs PyTorch (``pip install 'flopcast[measure]'``)
and imports it only when called.
"""

from flopcast.defaults import ATTENTION_CHOICES as ATTENTION
from flopcast.utilization.calc import (
    RECOMPUTE,
    UtilizationResult,
    calculate,
    hardware_flop_per_token,
    implied_utilization,
    mfu,
    model_flop_per_token,
)
from flopcast.utilization.config import PRESETS, DecoderConfig, load_config

__all__ = [
    "ATTENTION",
    "PRESETS",
    "RECOMPUTE",
    "DecoderConfig",
    "UtilizationResult",
    "calculate",
    "hardware_flop_per_token",
    "implied_utilization",
    "load_config",
    "mfu",
    "model_flop_per_token",
]
