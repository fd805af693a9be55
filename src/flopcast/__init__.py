"""flopcast: AI training compute, hardware and dollar cost, with honest uncertainty.

Imports are lazy so that ``flopcast --help`` starts fast; ``flopcast.estimate`` and
friends load numpy/scipy on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "estimate": "flopcast.pipeline",
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
