"""The service facade: one entry point per question, shared by the CLI, the HTML report, the
web app and ``validate``.

Front-ends parse their own input (command-line strings, JSON bodies) into plain values, a
number or a ``(low, high)`` 90% interval, and call these functions; they only format what
comes back. Every function estimates through :mod:`flopcast.pipeline` on one database
(:func:`flopcast.datasets.database.load_database`: ``--data DIR``, else the pulled cache when
newer, else the embedded snapshot), so the same inputs give the same numbers everywhere.
The option names and defaults here are the ones every front-end shows (:data:`DEFAULTS`).

- :mod:`flopcast.service.training`: estimates, cost tables, histograms.
- :mod:`flopcast.service.forecasts`: trends and bands, diffusion, emulation.
"""

from __future__ import annotations

from flopcast.defaults import ATTENTION_CHOICES, SAMPLING_CHOICES
from flopcast.methods import METHOD_CHOICES, METHOD_NAMES
from flopcast.service.forecasts import (
    TREND_METRICS,
    DiffusionAnalysis,
    Reference,
    TrendAnalysis,
    diffusion_analysis,
    diffusion_reference,
    emulation,
    price_performance_fit,
    trend_analysis,
    trend_band,
)
from flopcast.service.training import (
    DEFAULTS,
    MAX_SAMPLES,
    CostTable,
    as_input,
    cost_table,
    database,
    histogram,
    reference_cost,
    settings,
    training_estimate,
)

__all__ = [
    "ATTENTION_CHOICES",
    "DEFAULTS",
    "MAX_SAMPLES",
    "METHOD_CHOICES",
    "METHOD_NAMES",
    "SAMPLING_CHOICES",
    "TREND_METRICS",
    "CostTable",
    "DiffusionAnalysis",
    "Reference",
    "TrendAnalysis",
    "as_input",
    "cost_table",
    "database",
    "diffusion_analysis",
    "diffusion_reference",
    "emulation",
    "histogram",
    "price_performance_fit",
    "reference_cost",
    "settings",
    "training_estimate",
    "trend_analysis",
    "trend_band",
]
