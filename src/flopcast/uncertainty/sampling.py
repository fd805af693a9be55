"""Drawing inputs: each input once per sample index, from one injected generator.

``draw(inputs, n, rng)`` returns a dict with one array per uncertain input (length
``n``) and a float for each point input. Because the chain then only combines these
arrays, an input used twice in a chain is the same draw both times. The same seed
gives bit-identical results. ``method="sobol"`` uses a scrambled Sobol sequence
(quasi-random), which reaches a given precision with fewer samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import numpy as np

from flopcast.errors import InvalidInputError
from flopcast.uncertainty.distributions import Distribution, Point, Samples, as_distribution

METHODS = ("random", "sobol")
MAX_SAMPLES = 10_000_000
_EPS = 1e-12

#: a seed, an existing Generator, or None (fresh entropy)
Seed: TypeAlias = "int | np.integer | np.random.Generator | None"


def make_rng(seed: Seed) -> np.random.Generator:
    """A numpy Generator from a seed, an existing Generator, or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer)):
        if seed is not None and seed < 0:
            raise InvalidInputError(f"seed={seed} must be >= 0")
        return np.random.default_rng(seed)
    raise InvalidInputError(f"seed={seed!r} must be an integer, a numpy Generator or None")


def uniforms(d: int, n: int, rng: np.random.Generator, method: str = "random") -> np.ndarray:
    """An (n, d) array of uniforms in (0, 1)."""
    if method not in METHODS:
        raise InvalidInputError(f"method={method!r} is not one of {', '.join(METHODS)}")
    if d == 0:
        return np.empty((n, 0))
    if method == "sobol":
        from scipy.stats import qmc

        m = max(int(np.ceil(np.log2(n))), 1)
        u = qmc.Sobol(d=d, scramble=True, seed=rng).random_base2(m)[:n]
    else:
        u = rng.random((n, d))
    return np.clip(u, _EPS, 1 - _EPS)


def check_samples(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidInputError(f"samples={n!r} must be a whole number")
    if not (2 <= n <= MAX_SAMPLES):
        raise InvalidInputError(f"samples={n} is outside 2..{MAX_SAMPLES:,}")
    return int(n)


def draw(
    inputs: Mapping[str, object],
    n: int,
    rng: Seed = None,
    method: str = "random",
) -> dict[str, np.ndarray | float]:
    """Draw every input once per sample index.

    Inputs are numbers, :class:`Distribution` objects or sample arrays. Point inputs
    come back as floats, the rest as arrays of length ``n``; the order of ``inputs``
    fixes which uniform column each input takes, so the same inputs, seed and method
    give identical draws.
    """
    n = check_samples(n)
    rng = make_rng(rng)
    dists = {name: as_distribution(value, name) for name, value in inputs.items()}
    uncertain = [k for k, d in dists.items() if not isinstance(d, Point)]
    u = uniforms(len(uncertain), n, rng, method)
    out: dict[str, np.ndarray | float] = {}
    col = {name: i for i, name in enumerate(uncertain)}
    for name, dist in dists.items():
        if isinstance(dist, Point):
            out[name] = float(dist.value)
        elif isinstance(dist, Samples) and dist.values.size == n and method == "random":
            out[name] = dist.values.copy()
        else:
            out[name] = np.asarray(dist.ppf(u[:, col[name]]), dtype=float)
    return out


def is_uncertain(value: object) -> bool:
    """True when an input is a distribution other than a point."""
    return not isinstance(as_distribution(value), Point)


__all__ = ["METHODS", "Distribution", "draw", "is_uncertain", "make_rng", "uniforms"]
