"""The defaults and choices every front-end shares, in a module light enough for ``flopcast --help``.

The pipeline, the service layer, the CLI, the web API's schema and the docs take these from
here; nothing else spells them out.
"""

from __future__ import annotations

import os

#: the precision of every estimate: p5, p50 and p95 within 1% (relative) at 95% confidence
DEFAULT_PRECISION = 0.01
#: Monte Carlo samples per model, the seed and the sampling scheme of every estimate. The sample count is
#: the one the default precision takes with the default (Sobol) sampling: 2^13
#: (``flopcast.uncertainty.precision.samples_for_precision(DEFAULT_PRECISION, DEFAULT_SAMPLING)``, which a
#: test keeps equal); with random sampling that precision takes 65,536
DEFAULT_SAMPLES = 8_192
DEFAULT_SEED = 0
DEFAULT_SAMPLING = "sobol"
SAMPLING_CHOICES = ("sobol", "random")
#: the JSON names of a training plan's memory terms, in the order of ``flopcast.parallelism.RankMemory.terms``
#: (the planner, the service's facade, the web app's schema and the API name them from here)
PLAN_MEMORY_KEYS = (
    "weights",
    "gradients",
    "optimizer_states",
    "activations",
    "embedding_activations",
    "zero3_buffers",
    "reserved",
)
#: how the Monte Carlos beyond the training chain draw (serving, forecasts, diffusion, lags): plain random samples,
#: which is what a sample count asked for a precision is counted in there (1% is 65,536 of them)
RANDOM_SAMPLING = "random"
#: the attention FLOP conventions (``flopcast.compute.convention``): PaLM's in full, halved, or none
ATTENTION_CHOICES = ("full", "causal", "none")
DEFAULT_ATTENTION = "full"
#: cloud price tiers; Cottier et al. use the 3-year committed-use price
CLOUD_TIERS = ("on-demand", "1y", "3y", "spot")
DEFAULT_CLOUD_TIER = "3y"
#: how the amortized method depreciates hardware: at the price-performance trend (Cottier et al.) or
#: straight-line over a book life
DEPRECIATION_CHOICES = ("price-performance", "straight-line")
DEFAULT_DEPRECIATION = "price-performance"
#: the MFU imputed where none is reported: conditioned on chip generation, chip count and precision (fitted to
#: reported MFU; flopcast.utilization.prior), or Cottier et al. 2024's one prior for every run (median 0.375,
#: 90% CI 0.10-0.65)
UTILIZATION_PRIOR_CHOICES = ("conditioned", "cottier")
DEFAULT_UTILIZATION_PRIOR = "conditioned"
#: ``--method``: every cost method the inputs allow (``flopcast.methods.METHOD_CHOICES``)
DEFAULT_METHOD = "all"
#: the one cost method of the questions that need one (trends, diffusion)
DEFAULT_COST_METHOD = "amortized"


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (``taskset``, a container's limits), else the
    machine's. What the batch's and the web app's worker processes count by default."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)
