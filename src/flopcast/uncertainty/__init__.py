"""Uncertainty engine: inputs as numbers, intervals or distributions; outputs as summaries."""

from flopcast.uncertainty.distributions import (
    Beta,
    Distribution,
    LogNormal,
    LogUniform,
    Normal,
    Point,
    Samples,
    Triangular,
    Uniform,
    as_distribution,
    beta,
    ci,
    lognormal,
    lognormal_product,
    loguniform,
    normal,
    pert,
    samples,
    triangular,
    uniform,
)
from flopcast.uncertainty.sampling import METHODS, draw, make_rng
from flopcast.uncertainty.sensitivity import SensitivityRow, sensitivity
from flopcast.uncertainty.summary import Summary, summarize

__all__ = [
    "Beta", "Distribution", "LogNormal", "LogUniform", "Normal", "Point", "Samples", "Triangular",
    "Uniform", "as_distribution", "beta", "ci", "lognormal", "lognormal_product", "loguniform", "normal",
    "pert", "samples", "triangular", "uniform", "METHODS", "draw", "make_rng", "SensitivityRow",
    "sensitivity", "Summary", "summarize",
]
