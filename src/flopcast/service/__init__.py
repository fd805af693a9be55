"""The service facade: one entry point per question, shared by the CLI, the HTML report, the
web app and ``validate``.

Front-ends parse their own input (command-line strings, JSON bodies) into plain values, a
number or a ``(low, high)`` 90% interval, and call these functions; they only format what
comes back. Every function estimates through :mod:`flopcast.pipeline` on one database
(:func:`flopcast.datasets.database.load_database`: ``--data DIR``, else the pulled cache when
newer, else the embedded snapshot), so the same inputs give the same numbers everywhere.
The option names and defaults here are the ones every front-end shows (:data:`DEFAULTS`).

- :mod:`flopcast.service.training`: estimates, cost tables, model listings, histograms.
- :mod:`flopcast.service.forecasts`: trends and bands, diffusion, catch-up lags, emulation.
- :mod:`flopcast.service.outlook`: forecasts of the largest training run by components (``forecast``).
- :mod:`flopcast.service.serving`: serving cost (:mod:`flopcast.serving`).
- :mod:`flopcast.service.hardware`: the chips, their prices at a date, two chips compared at one date,
  and a run planned across chips (:mod:`flopcast.planning`).
- :mod:`flopcast.service.data`: the database in use, the cache, pulling and checking Epoch's files.
- :mod:`flopcast.service.plan`: a training run's layout, memory per rank, time and cost on one chip
  (:mod:`flopcast.layout_plan`).
- :mod:`flopcast.service.utilization`: MFU from reported figures, and measured on this machine.
- :mod:`flopcast.service.checks`: the one check of physically impossible values (the limits of
  :mod:`flopcast.limits`) that the functions above apply, so every front-end refuses the same.

The CLI and the web app import only this package (and the foundation modules); a contract of
``[tool.importlinter]`` checks it. Importing it stays light (no numpy) for ``flopcast --help``:
each function imports the layers it calls. Types of those layers that a front-end names in an
annotation are re-exported here for type checking only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flopcast.defaults import ATTENTION_CHOICES, SAMPLING_CHOICES
from flopcast.methods import DEFAULT_EXPERIMENTS, EXPERIMENT_BASES, EXPERIMENT_CHOICES, METHOD_CHOICES, METHOD_NAMES

if TYPE_CHECKING:
    from flopcast.datasets.cache import CachedFile as CachedFile
    from flopcast.datasets.parsing import ParseReport as ParseReport
    from flopcast.service.data import DataPull, DataStatus, data_check, data_check_all, data_pull, data_status
    from flopcast.service.explain import CostExplanation, cost_explanation
    from flopcast.service.forecasts import (
        EMULATION_FITS,
        FRONTIER_BASES,
        TREND_METRICS,
        AffordabilityProbability,
        DiffusionAnalysis,
        EmulationAnalysis,
        LagAnalysis,
        LagCounterfactual,
        Reference,
        TrendAnalysis,
        actors_with,
        affordability_probability,
        diffusion_analysis,
        diffusion_reference,
        emulation,
        frontier_reference,
        lag_analysis,
        lag_counterfactual,
        price_performance_fit,
        trend_analysis,
        trend_band,
    )
    from flopcast.service.hardware import (
        DEFAULT_PLAN_CHIPS,
        hardware_comparison,
        hardware_details,
        hardware_list,
        hardware_prices,
        run_plan,
    )
    from flopcast.service.health import serving_data_check
    from flopcast.service.outlook import (
        FORECAST_CAPS,
        FORECAST_COMPONENTS,
        FORECAST_METRICS,
        FrontierForecast,
        frontier_forecast,
    )
    from flopcast.service.plan import PLAN_MEMORY_KEYS, PLAN_RECOMPUTE, PLAN_ZERO, training_plan
    from flopcast.service.serving import deployment_estimate
    from flopcast.service.training import (
        DEFAULTS,
        MAX_SAMPLES,
        CostStream,
        CostSwing,
        CostTable,
        ModelSelection,
        MoneyOptions,
        as_input,
        cost_rows,
        cost_stream,
        cost_swings,
        cost_table,
        database,
        histogram,
        reference_cost,
        select_models,
        settings,
        training_estimate,
    )
    from flopcast.service.utilization import mfu_calculation, mfu_config, mfu_measurement
    from flopcast.uncertainty.precision import sample_count

#: each name of the facade and the module that defines it, imported on first use (:func:`__getattr__`)
_LAZY: dict[str, str] = {
    "DataPull": "flopcast.service.data",
    "DataStatus": "flopcast.service.data",
    "data_check": "flopcast.service.data",
    "data_check_all": "flopcast.service.data",
    "data_pull": "flopcast.service.data",
    "data_status": "flopcast.service.data",
    "CostExplanation": "flopcast.service.explain",
    "cost_explanation": "flopcast.service.explain",
    "EMULATION_FITS": "flopcast.service.forecasts",
    "FRONTIER_BASES": "flopcast.service.forecasts",
    "TREND_METRICS": "flopcast.service.forecasts",
    "AffordabilityProbability": "flopcast.service.forecasts",
    "DiffusionAnalysis": "flopcast.service.forecasts",
    "EmulationAnalysis": "flopcast.service.forecasts",
    "LagAnalysis": "flopcast.service.forecasts",
    "LagCounterfactual": "flopcast.service.forecasts",
    "Reference": "flopcast.service.forecasts",
    "TrendAnalysis": "flopcast.service.forecasts",
    "actors_with": "flopcast.service.forecasts",
    "affordability_probability": "flopcast.service.forecasts",
    "diffusion_analysis": "flopcast.service.forecasts",
    "diffusion_reference": "flopcast.service.forecasts",
    "emulation": "flopcast.service.forecasts",
    "frontier_reference": "flopcast.service.forecasts",
    "lag_analysis": "flopcast.service.forecasts",
    "lag_counterfactual": "flopcast.service.forecasts",
    "price_performance_fit": "flopcast.service.forecasts",
    "trend_analysis": "flopcast.service.forecasts",
    "trend_band": "flopcast.service.forecasts",
    "DEFAULT_PLAN_CHIPS": "flopcast.service.hardware",
    "hardware_comparison": "flopcast.service.hardware",
    "hardware_details": "flopcast.service.hardware",
    "hardware_list": "flopcast.service.hardware",
    "hardware_prices": "flopcast.service.hardware",
    "run_plan": "flopcast.service.hardware",
    "serving_data_check": "flopcast.service.health",
    "FORECAST_CAPS": "flopcast.service.outlook",
    "FORECAST_COMPONENTS": "flopcast.service.outlook",
    "FORECAST_METRICS": "flopcast.service.outlook",
    "FrontierForecast": "flopcast.service.outlook",
    "frontier_forecast": "flopcast.service.outlook",
    "deployment_estimate": "flopcast.service.serving",
    "DEFAULTS": "flopcast.service.training",
    "MAX_SAMPLES": "flopcast.service.training",
    "CostStream": "flopcast.service.training",
    "CostSwing": "flopcast.service.training",
    "CostTable": "flopcast.service.training",
    "ModelSelection": "flopcast.service.training",
    "MoneyOptions": "flopcast.service.training",
    "as_input": "flopcast.service.training",
    "cost_rows": "flopcast.service.training",
    "cost_stream": "flopcast.service.training",
    "cost_swings": "flopcast.service.training",
    "cost_table": "flopcast.service.training",
    "database": "flopcast.service.training",
    "histogram": "flopcast.service.training",
    "reference_cost": "flopcast.service.training",
    "select_models": "flopcast.service.training",
    "settings": "flopcast.service.training",
    "training_estimate": "flopcast.service.training",
    "PLAN_MEMORY_KEYS": "flopcast.service.plan",
    "PLAN_RECOMPUTE": "flopcast.service.plan",
    "PLAN_ZERO": "flopcast.service.plan",
    "training_plan": "flopcast.service.plan",
    "mfu_calculation": "flopcast.service.utilization",
    "mfu_config": "flopcast.service.utilization",
    "mfu_measurement": "flopcast.service.utilization",
    "sample_count": "flopcast.uncertainty.precision",
}


def __getattr__(name: str) -> Any:
    """A facade name, from its module on first use (so importing the facade costs nothing)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ATTENTION_CHOICES",
    "DEFAULTS",
    "DEFAULT_EXPERIMENTS",
    "DEFAULT_PLAN_CHIPS",
    "EMULATION_FITS",
    "EXPERIMENT_BASES",
    "EXPERIMENT_CHOICES",
    "FORECAST_CAPS",
    "FORECAST_COMPONENTS",
    "FORECAST_METRICS",
    "FRONTIER_BASES",
    "MAX_SAMPLES",
    "METHOD_CHOICES",
    "METHOD_NAMES",
    "PLAN_MEMORY_KEYS",
    "PLAN_RECOMPUTE",
    "PLAN_ZERO",
    "SAMPLING_CHOICES",
    "TREND_METRICS",
    "AffordabilityProbability",
    "CostExplanation",
    "CostStream",
    "CostSwing",
    "CostTable",
    "DataPull",
    "DataStatus",
    "DiffusionAnalysis",
    "EmulationAnalysis",
    "FrontierForecast",
    "LagAnalysis",
    "LagCounterfactual",
    "ModelSelection",
    "MoneyOptions",
    "Reference",
    "TrendAnalysis",
    "actors_with",
    "affordability_probability",
    "as_input",
    "cost_explanation",
    "cost_rows",
    "cost_stream",
    "cost_swings",
    "cost_table",
    "data_check",
    "data_check_all",
    "data_pull",
    "data_status",
    "database",
    "deployment_estimate",
    "diffusion_analysis",
    "diffusion_reference",
    "emulation",
    "frontier_forecast",
    "frontier_reference",
    "hardware_comparison",
    "hardware_details",
    "hardware_list",
    "hardware_prices",
    "histogram",
    "lag_analysis",
    "lag_counterfactual",
    "mfu_calculation",
    "mfu_config",
    "mfu_measurement",
    "price_performance_fit",
    "reference_cost",
    "run_plan",
    "sample_count",
    "select_models",
    "serving_data_check",
    "settings",
    "training_estimate",
    "training_plan",
    "trend_analysis",
    "trend_band",
]
