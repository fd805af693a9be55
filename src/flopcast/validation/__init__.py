"""``flopcast validate``: every published reference check the project holds, rerunnable by anyone.

Layer: validation (a front-end of the service, beside reporting). Each :class:`Check` names its source
(paper, table, page), the published value or interval, and a rule; running it computes flopcast's value
(with its 90% interval where it has one) through the same functions the CLI uses and decides pass or fail.
Checks that need Epoch's databases are skipped, not failed, when no data folder is given or cached.
``docs/validation.md`` is generated from :func:`render_markdown` and a test keeps the two in step.

The modules, by idea: :mod:`~flopcast.validation.rules` (checks, outcomes, the pass rules and the context),
:mod:`~flopcast.validation.training` (compute, cost, trend, emulation and diffusion),
:mod:`~flopcast.validation.power` (power, energy and emissions),
:mod:`~flopcast.validation.serving` (deployment, and the BLOOM table of :func:`bloom_validation`),
:mod:`~flopcast.validation.hardware` (utilization and hardware ratios),
:mod:`~flopcast.validation.training_runs` (time from published layouts, PaLM's HFU, the prior's coverage) and
:mod:`~flopcast.validation.report` (the Markdown table). This package lists and runs them.
"""

from __future__ import annotations

from pathlib import Path

from flopcast.validation.hardware import hardware_checks
from flopcast.validation.power import power_checks
from flopcast.validation.report import render_markdown, value_text
from flopcast.validation.rules import (
    FAIL,
    PASS,
    SKIP,
    Check,
    Context,
    Outcome,
    Result,
    close,
    covers,
    inside,
    within_factor,
)
from flopcast.validation.serving import (
    BLOG,
    BLOOM_BENCH_CONTEXT,
    bloom_checks,
    bloom_validation,
    deepseek_decode,
    serving_checks,
    trtllm_checks,
    trtllm_max_checks,
    trtllm_max_validation,
    trtllm_validation,
)
from flopcast.validation.training import training_checks
from flopcast.validation.training_runs import training_run_checks

__all__ = [
    "BLOG",
    "BLOOM_BENCH_CONTEXT",
    "FAIL",
    "PASS",
    "SKIP",
    "Check",
    "Context",
    "Outcome",
    "Result",
    "all_checks",
    "bloom_validation",
    "close",
    "covers",
    "deepseek_decode",
    "inside",
    "render_markdown",
    "run_checks",
    "trtllm_max_validation",
    "trtllm_validation",
    "value_text",
    "within_factor",
]


def all_checks() -> list[Check]:
    """Every check, in the order of docs/validation.md: training, power and energy, deployment, utilization
    and hardware, training runs (PaLM's HFU, the utilization prior, times from published layouts), then one per
    row of the TensorRT-LLM and BLOOM tables."""
    return (
        training_checks()
        + power_checks()
        + serving_checks()
        + hardware_checks()
        + training_run_checks()
        + trtllm_checks()
        + trtllm_max_checks()
        + bloom_checks()
    )


def run_checks(data: str | Path | None = None, only: str | None = None) -> list[Result]:
    """Run every check (or those whose id or area starts with ``only``) on the database of ``data``."""
    from flopcast.errors import FlopcastError

    ctx = Context(None if data is None else str(data))
    ctx.db()  # a wrong --data fails here, once
    results = []
    for c in all_checks():
        if only and not (c.id.startswith(only) or c.area == only):
            continue
        try:
            o = c.run(ctx)
        except FlopcastError as exc:
            results.append(Result(c, FAIL, reason=str(exc)))
            continue
        results.append(Result(c, PASS if o.passed else FAIL, o))
    return results
