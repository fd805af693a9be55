"""Draws: every input slot drawn once per sample index, shared by all runs of a call."""

from __future__ import annotations

import math

import numpy as np

from flopcast.defaults import (
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    SAMPLING_CHOICES,
)
from flopcast.errors import InvalidInputError
from flopcast.pipeline.spec import SLOTS
from flopcast.uncertainty import Distribution, LogNormal, Normal, Point
from flopcast.uncertainty.sampling import check_samples, make_rng, uniforms

# ----------------------------------------------------------------------------- draws


class Draws:
    """One uniform column per input slot, drawn once for a call (``samples`` x slots)."""

    def __init__(
        self, samples: int = DEFAULT_SAMPLES, seed: int | None = DEFAULT_SEED, sampling: str = DEFAULT_SAMPLING
    ):
        if sampling not in SAMPLING_CHOICES:
            raise InvalidInputError(f"sampling={sampling!r} is not one of {', '.join(SAMPLING_CHOICES)}")
        self.samples, self.seed, self.sampling = check_samples(samples), seed, sampling
        # a whole-number seed goes as it is: its Sobol points may come from the disk cache
        u = uniforms(len(SLOTS), self.samples, seed if isinstance(seed, int) else make_rng(seed), sampling)
        self.u = np.ascontiguousarray(u.T)  # (slots, samples)
        self._z: dict[int, np.ndarray] = {}
        self._ppf: dict[tuple[int, str], tuple[Distribution, np.ndarray]] = {}
        self._exp: dict[tuple[str, float], np.ndarray] = {}

    def uniform(self, slot: str) -> np.ndarray:
        return self.u[SLOTS.index(slot)]

    def ppf(self, dist: Distribution, slot: str) -> np.ndarray:
        """``dist`` drawn in ``slot``; kept for the call, so a distribution many runs share is drawn once."""
        key = (id(dist), slot)
        hit = self._ppf.get(key)
        if hit is None or hit[0] is not dist:
            hit = (dist, np.asarray(dist.ppf(self.uniform(slot)), dtype=float))
            self._ppf[key] = hit
        return hit[1]

    def exp_z(self, slot: str, sigma: float) -> np.ndarray:
        """``exp(sigma * z)`` of a slot: a ln_or_point factor with median 1, kept for the call."""
        key = (slot, sigma)
        if key not in self._exp:
            self._exp[key] = np.exp(sigma * self.z(slot))
        return self._exp[key]

    def z(self, slot: str) -> np.ndarray:
        from scipy import special

        i = SLOTS.index(slot)
        if i not in self._z:
            self._z[i] = special.ndtri(self.u[i])
        return self._z[i]


def _stack(dists: list[Distribution], draws: Draws, slot: str) -> np.ndarray:
    """(models x samples) draws of one slot; (models x 1) when every run's value is a point."""
    points = [d for d in dists if isinstance(d, Point)]
    if len(points) == len(dists):
        return np.array([[d.value] for d in points], dtype=float)
    ln_or_point = [d for d in dists if isinstance(d, (LogNormal, Point))]
    if len(ln_or_point) == len(dists) and all(isinstance(d, LogNormal) or d.value > 0 for d in ln_or_point):
        # median x exp(sigma z), element by element the same whatever the other runs of the chunk are
        scale = np.array([[math.exp(d.mu) if isinstance(d, LogNormal) else d.value] for d in ln_or_point])
        sigmas = [d.sigma if isinstance(d, LogNormal) else 0.0 for d in ln_or_point]
        if len(set(sigmas)) == 1:
            return scale * draws.exp_z(slot, sigmas[0])[None, :]
        out = np.empty((len(dists), draws.samples))
        for i, sg in enumerate(sigmas):
            np.multiply(scale[i, 0], draws.exp_z(slot, sg), out=out[i])
        return out
    normal_or_point = [d for d in dists if isinstance(d, (Normal, Point))]
    if len(normal_or_point) == len(dists):
        mean = np.array([[d.mean if isinstance(d, Normal) else d.value] for d in normal_or_point])
        sd = np.array([[d.sd if isinstance(d, Normal) else 0.0] for d in normal_or_point])
        return mean + sd * draws.z(slot)[None, :]
    if all(d is dists[0] for d in dists):
        return np.broadcast_to(draws.ppf(dists[0], slot), (len(dists), draws.samples))
    out = np.empty((len(dists), draws.samples))
    for i, d in enumerate(dists):
        out[i] = draws.ppf(d, slot)
    return out
