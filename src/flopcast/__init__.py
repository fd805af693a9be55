"""flopcast: AI training compute, hardware and dollar cost, with honest uncertainty.

The notebook API is :mod:`flopcast.api`, here at the top: ``flopcast.costs()``, ``flopcast.estimate``,
``flopcast.deploy``, ``flopcast.trend``, ``flopcast.compare``, ``flopcast.forecast`` and ``flopcast.plan``, each calling
:mod:`flopcast.service` and returning a typed result with ``.to_frame()`` and ``.plot()`` (docs/api.md).

Imports are lazy so that ``flopcast --help`` starts fast; ``flopcast.estimate`` and
friends load numpy/scipy on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "costs": "flopcast.api",
    "estimate": "flopcast.api",
    "deploy": "flopcast.api",
    "trend": "flopcast.api",
    "compare": "flopcast.api",
    "forecast": "flopcast.api",
    "plan": "flopcast.api",
    "Plan": "flopcast.api",
    "Estimate": "flopcast.api",
    "Deployment": "flopcast.api",
    "Trend": "flopcast.api",
    "Comparison": "flopcast.api",
    "Forecast": "flopcast.api",
    "Chart": "flopcast.api",
    "estimate_records": "flopcast.pipeline",
    "RunSpec": "flopcast.pipeline",
    "TrainingEstimate": "flopcast.pipeline",
    "load_database": "flopcast.datasets.database",
    "compare_hardware": "flopcast.comparison",
    "ci": "flopcast.uncertainty",
    "get_hardware": "flopcast.catalogs",
    "get_model": "flopcast.catalogs",
    "FlopcastError": "flopcast.errors",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'flopcast' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
