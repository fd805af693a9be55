"""Sample counts chosen for the precision asked, not a fixed number.

``precision`` is the relative error of an estimate's p5, p50 and p95 that the sample count should keep
to at 95% confidence: 0.01 means each of the three is within 1% of its converged value in 19 runs out of
20 (different seeds). :func:`samples_for_precision` turns it into a sample count for a sampling scheme,
from the convergence measured in ``benchmarks/bench_mc.py`` (``benchmarks/RESULTS.md``, section 1).
"""

from __future__ import annotations

import math

from flopcast.defaults import DEFAULT_PRECISION, DEFAULT_SAMPLES, DEFAULT_SAMPLING
from flopcast.errors import InvalidInputError

#: samples that reach 1% at p5, p50 and p95 (95th percentile of the largest relative error over 20 seeds,
#: the same n with a second, disjoint set of 20 seeds for random and for all 40 together) on the six-input
#: GPT-3 cost chain of benchmarks/bench_mc.py: scrambled Sobol 2^13, plain random 2^16
MEASURED_AT_1_PERCENT = {"sobol": 2**13, "random": 2**16}

#: the precisions a sample count can be asked for; 0.001 already takes 2^20 Sobol or 6.6M random samples
PRECISION_RANGE = (0.001, 0.5)

#: never fewer samples than this: below it the 5% tail rests on fewer than about 50 draws
MIN_SAMPLES = 2**10


def samples_for_precision(
    precision: float = DEFAULT_PRECISION, sampling: str = "sobol", *, field: str = "precision"
) -> int:
    """The sample count that keeps p5, p50 and p95 within ``precision`` (relative, 95% confidence).

    Derivation, from the measured 1% points ``N1`` (:data:`MEASURED_AT_1_PERCENT`) and ``r = 0.01 / precision``:

    * ``random``: a sample quantile's error is asymptotically normal with standard deviation
      ``sqrt(p (1 - p) / n) / f(x_p)`` (the Bahadur representation; e.g. Serfling 1980, "Approximation
      Theorems of Mathematical Statistics", 2.3.3), so the relative error falls as ``n^(-1/2)`` and
      ``n = N1 r^2``: 65,536 samples at 1%, 262,144 at 0.5%, 16,384 at 2%.
    * ``sobol`` (scrambled): the error falls at least as fast as random sampling's, ``n^(-1/2)``, and
      for smooth outputs close to ``n^(-1)`` (Owen 1997, "Scrambled net variance for integrals of smooth
      functions", Ann. Statist. 25(4)); quantiles, being of a step function, sit in between. The rule
      takes the slower rate where it asks for more samples and the faster where it asks for fewer, so it
      never counts on more than the measured point shows: ``n = N1 max(r, r^2)``, rounded up to a power
      of two (scrambled Sobol points are balanced, a (t, m, s)-net, at ``2^m`` points). 8,192 at 1%,
      32,768 at 0.5%, 4,096 at 2%.

    At least :data:`MIN_SAMPLES`. The calibration is one chain of six inputs whose total spans about
    5x between p5 and p95 (log-sd about 0.5). A quantile's relative error grows with the output's log-sd
    ``s`` (it is ``s`` times the error in the normal score), so an output as wide as an imputed compute's
    (``s`` about 2, 1,000x between p5 and p95) would need about ``(s / 0.5)^2``, 16x, the samples for the
    same relative error. Measured on every model of the embedded database against an independent 2^17-sample
    Sobol run: at 8,192 Sobol samples p5, p50 and p95 of every output are within 1.3% of it for 95% of
    (model, quantile) pairs, the three costs within 2.4% (10,000 samples, the earlier default: 1.3% and
    2.4%; 2^15: 0.5% and 0.7%; 65,536 random: 1.0% and 1.1%).

    >>> samples_for_precision(0.01), samples_for_precision(0.01, "random")
    (8192, 65536)
    >>> samples_for_precision(0.005), samples_for_precision(0.02, "random")
    (32768, 16384)
    """
    if sampling not in MEASURED_AT_1_PERCENT:
        raise InvalidInputError(f"sampling={sampling!r} is not one of {', '.join(MEASURED_AT_1_PERCENT)}")
    lo, hi = PRECISION_RANGE
    meaning = "the relative error of p5, p50 and p95 at 95% confidence (0.01 = 1%)"
    if isinstance(precision, bool) or not isinstance(precision, (int, float)):
        raise InvalidInputError(f"{field}={precision!r} is not a number; it is {meaning}, in {lo:g}..{hi:g}")
    if not (lo <= precision <= hi):
        raise InvalidInputError(f"{field}={precision!r} is outside {lo:g}..{hi:g}; it is {meaning}")
    r = 0.01 / float(precision)
    n1 = MEASURED_AT_1_PERCENT[sampling]
    if sampling == "random":
        return max(MIN_SAMPLES, math.ceil(n1 * r * r))
    need = n1 * max(r, r * r)
    return max(MIN_SAMPLES, 1 << max(0, math.ceil(math.log2(need) - 1e-12)))


def sample_count(
    samples: int | None,
    sampling_precision: float | None,
    sampling: str = DEFAULT_SAMPLING,
    *,
    max_samples: int = 1_000_000,
) -> int:
    """The sample count a request asks for: ``samples`` as given, or as many as ``sampling_precision`` takes
    with ``sampling`` (:func:`samples_for_precision`), else :data:`~flopcast.defaults.DEFAULT_SAMPLES`.

    Every front-end turns its two options into one count here (``--samples``/``--sampling-precision`` on
    the command line, ``samples=``/``sampling_precision=`` in Python and in the web API's requests), so the
    same precision gives the same count, and the same numbers, wherever it is asked. Asking for both, or for
    a precision whose count is above ``max_samples`` (what the front-end allows), is an error.

    >>> sample_count(None, None), sample_count(4096, None), sample_count(None, 0.005)
    (8192, 4096, 32768)
    >>> sample_count(None, 0.01, "random")
    65536
    """
    if sampling_precision is None:
        return DEFAULT_SAMPLES if samples is None else samples
    if samples is not None:
        raise InvalidInputError(
            f"--samples={samples} and --sampling-precision={sampling_precision}: give one of them "
            "(a sample count, or the precision that sets it)"
        )
    n = samples_for_precision(sampling_precision, sampling, field="--sampling-precision")
    if n > max_samples:
        raise InvalidInputError(
            f"--sampling-precision={sampling_precision} takes {n:,} {sampling} samples, more than the "
            f"{max_samples:,} allowed here; ask for a coarser precision"
        )
    return n


__all__ = ["DEFAULT_PRECISION", "MEASURED_AT_1_PERCENT", "sample_count", "samples_for_precision"]
