"""Utilization questions: MFU and HFU from the figures a paper reports, and MFU measured on this machine.

The work is in :mod:`flopcast.utilization` (the calculator needs numpy; the measurement harness
needs PyTorch, imported only when a measurement runs); front-ends only format.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from flopcast.defaults import DEFAULT_ATTENTION

if TYPE_CHECKING:
    from flopcast.utilization import DecoderConfig, UtilizationResult
    from flopcast.utilization.measure import Measurement


def mfu_calculation(
    model: str | None = None,
    *,
    params: float | None = None,
    n_layers: float | None = None,
    d_model: float | None = None,
    context: float | None = None,
    tokens_per_s: float | None = None,
    samples_per_s: float | None = None,
    achieved_flop_per_s_per_chip: float | None = None,
    compute_flop: float | None = None,
    training_hours: float | None = None,
    chips: float | None = None,
    hardware: str | None = None,
    precision: str | None = None,
    peak_flop_per_s: float | None = None,
    attention: str = DEFAULT_ATTENTION,
    recompute: str = "none",
    d_attn: float | None = None,
) -> UtilizationResult:
    """Utilization behind ``flopcast mfu calc`` (:func:`flopcast.utilization.calculate`, same arguments).

    Routes, in order: ``tokens_per_s`` or ``samples_per_s`` (x ``context``) gives MFU and HFU;
    ``achieved_flop_per_s_per_chip`` gives achieved / peak; ``compute_flop`` with ``training_hours``
    gives the implied utilization. A catalog ``model`` fills its shape, chips, hardware, compute and
    training time; explicit arguments win.
    """
    from flopcast.service import checks
    from flopcast.utilization import calculate

    checks.check_params("params", params)
    for name, shape, unit in (("n_layers", n_layers, "layers"), ("d_model", d_model, "dimensions")):
        checks.check_shape(name, shape, unit=unit)
    checks.check_shape("context", context, unit="tokens")
    checks.check_shape("d_attn", d_attn, unit="dimensions")
    for name, rate in (
        ("tokens_per_s", tokens_per_s),
        ("samples_per_s", samples_per_s),
        ("achieved_flop_per_s_per_chip", achieved_flop_per_s_per_chip),
        ("peak_flop_per_s", peak_flop_per_s),
    ):
        checks.check_positive(name, rate)
    checks.check_count("compute_flop", compute_flop, unit="FLOP", one="FLOP")
    checks.check_duration("training_hours", training_hours, unit_s=3600.0, unit="hours")
    checks.check_chips("chips", chips)
    return calculate(
        model,
        params=params,
        n_layers=n_layers,
        d_model=d_model,
        context=context,
        tokens_per_s=tokens_per_s,
        samples_per_s=samples_per_s,
        achieved_flop_per_s_per_chip=achieved_flop_per_s_per_chip,
        compute_flop=compute_flop,
        training_hours=training_hours,
        chips=chips,
        hardware=hardware,
        precision=precision,
        peak_flop_per_s=peak_flop_per_s,
        attention=attention,
        recompute=recompute,
        d_attn=d_attn,
    )


def mfu_config(spec: str | Path, *, batch: int | None = None, precision: str | None = None) -> DecoderConfig:
    """The decoder a measurement trains: a preset (small, medium, large) or a TOML/JSON file
    (:func:`flopcast.utilization.load_config`), with its batch size and precision overridden where given."""
    from flopcast.utilization import load_config

    cfg = load_config(spec)
    if batch is not None or precision is not None:
        cfg = dataclasses.replace(
            cfg,
            batch=cfg.batch if batch is None else batch,
            precision=cfg.precision if precision is None else precision,
        )
    return cfg


def mfu_measurement(
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
    """Train ``config`` for ``steps`` steps on ``device``, ``repeats`` times, and measure MFU, behind
    ``flopcast mfu measure`` (:func:`flopcast.utilization.measure.measure`, same arguments).

    The headline (:attr:`~flopcast.utilization.measure.Measurement.headline`) is the ratio of sums over the
    measured steps: their total model FLOP / (their total time x peak); the per-step distribution, the
    effective utilization over the whole wall time and, with ``repeats`` > 1, the spread between runs
    (:meth:`~flopcast.utilization.measure.Measurement.spread`) are reported beside it. ``repeats`` is checked
    (1..20) before anything is trained.
    """
    from flopcast.utilization.measure import measure

    return measure(
        config,
        device=device,
        steps=steps,
        warmup=warmup,
        seed=seed,
        peak_flop_per_s=peak_flop_per_s,
        threads=threads,
        repeats=repeats,
    )
