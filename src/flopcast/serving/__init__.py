"""Serving orchestration: a model, a chip and a load in, a typed :class:`DeploymentEstimate` out.

- :mod:`flopcast.serving.chain`: :func:`estimate_deployment` and its result.
- :mod:`flopcast.serving.sweep`: :func:`sweep` over chips, precisions and batch sizes.
"""

from __future__ import annotations

from flopcast.serving.chain import DeploymentEstimate, estimate_deployment
from flopcast.serving.sweep import sweep

__all__ = ["DeploymentEstimate", "estimate_deployment", "sweep"]
