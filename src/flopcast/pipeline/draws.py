"""Draws: every input slot drawn once per sample index, shared by all runs of a call."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from flopcast.defaults import (
    DEFAULT_PRECISION,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    SAMPLING_CHOICES,
)
from flopcast.errors import InvalidInputError
from flopcast.pipeline.spec import SLOTS
from flopcast.uncertainty import Distribution, LogitNormal, LogNormal, Normal, Point
from flopcast.uncertainty.precision import samples_for_precision
from flopcast.uncertainty.sampling import check_samples, make_rng, uniforms

# ----------------------------------------------------------------------------- draws


class Draws:
    """One uniform column per input slot, drawn once for a call (``samples`` x slots)."""

    def __init__(
        self,
        samples: int | None = DEFAULT_SAMPLES,
        seed: int | None = DEFAULT_SEED,
        sampling: str = DEFAULT_SAMPLING,
        *,
        precision: float = DEFAULT_PRECISION,
    ):
        """``samples=None``: as many as ``precision`` takes with ``sampling`` (:func:`samples_for_precision`)."""
        if sampling not in SAMPLING_CHOICES:
            raise InvalidInputError(f"sampling={sampling!r} is not one of {', '.join(SAMPLING_CHOICES)}")
        if samples is None:
            samples = samples_for_precision(precision, sampling, field="sampling_precision")
        self.samples, self.seed, self.sampling = check_samples(samples), seed, sampling
        # a whole-number seed goes as it is: its Sobol points may come from the disk cache
        u = uniforms(len(SLOTS), self.samples, seed if isinstance(seed, int) else make_rng(seed), sampling)
        self.u = np.ascontiguousarray(u.T)  # (slots, samples)
        self._z: dict[int, np.ndarray] = {}
        self._ppf: dict[tuple[int, str], tuple[Distribution, np.ndarray]] = {}
        self._exp: dict[tuple[str, float], np.ndarray] = {}
        self._orders: dict[int, np.ndarray] = {}

    def forget(self) -> None:
        """Drop the arrays kept for the runs evaluated so far (drawn distributions, ``exp(sigma z)`` factors),
        which grow with the distinct inputs; the per-slot normal scores and orders stay. A streamed batch calls
        it between chunks so that its memory stays flat; the numbers do not change (each kept array is a pure
        function of the uniforms, and is drawn again the same way when next asked for)."""
        self._ppf.clear()
        self._exp.clear()

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

    def orders(self, slots: Sequence[str]) -> np.ndarray:
        """``(len(slots), samples)``: each slot's sample indices in increasing order of its uniforms (kept for the call).

        Every input drawn in a slot is a nondecreasing function of its uniforms (a quantile function), so an
        output that depends on that input alone, monotonically, is sorted in this order too
        (:func:`~flopcast.uncertainty.summary.row_quantiles` reads its quantiles off it).
        """
        out = np.empty((len(slots), self.samples), dtype=np.intp)
        for j, slot in enumerate(slots):
            i = SLOTS.index(slot)
            if i not in self._orders:
                self._orders[i] = np.argsort(self.u[i], kind="stable")
            out[j] = self._orders[i]
        return out

    def exp_z(self, slot: str, sigma: float) -> np.ndarray:
        """``exp(sigma * z)`` of a slot: a ln_or_point factor with median 1, kept for the call."""
        key = (slot, sigma)
        if key not in self._exp:
            self._exp[key] = np.exp(sigma * self.z(slot))
        return self._exp[key]

    def has_exp_z(self, slot: str, sigma: float) -> bool:
        return (slot, sigma) in self._exp

    def z(self, slot: str) -> np.ndarray:
        from flopcast.uncertainty import special

        i = SLOTS.index(slot)
        if i not in self._z:
            self._z[i] = special.ndtri(self.u[i])
        return self._z[i]


def _logit_normal_rows(dists: list[Distribution], draws: Draws, slot: str) -> np.ndarray:
    """Logit-normal draws (the MFU prior) from the slot's normal scores, ``expit(mu + sigma z)``, each distinct
    ``(mu, sigma)`` computed once: bit for bit :meth:`LogitNormal.ppf` of the slot's uniforms."""
    z = draws.z(slot)
    out = np.empty((len(dists), draws.samples))
    done: dict[tuple[float, float], int] = {}
    for i, d in enumerate(dists):
        if isinstance(d, Point):
            out[i] = d.value
            continue
        assert isinstance(d, LogitNormal)
        j = done.get((d.mu, d.sigma))
        if j is not None:
            out[i] = out[j]
            continue
        row = out[i]
        np.multiply(d.sigma, z, out=row)
        np.add(d.mu, row, out=row)
        np.divide(row, 2.0, out=row)
        np.tanh(row, out=row)
        np.add(1.0, row, out=row)
        np.multiply(0.5, row, out=row)
        done[(d.mu, d.sigma)] = i
    return out


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
        shared = Counter(sigmas)
        for i, sg in enumerate(sigmas):
            if shared[sg] > 1 or draws.has_exp_z(slot, sg):
                np.multiply(scale[i, 0], draws.exp_z(slot, sg), out=out[i])
            else:  # a spread only this run has (a price's own interval): drawn in place, not kept for the call
                row = out[i]
                np.multiply(sg, draws.z(slot), out=row)
                np.exp(row, out=row)
                np.multiply(scale[i, 0], row, out=row)
        return out
    normal_or_point = [d for d in dists if isinstance(d, (Normal, Point))]
    if len(normal_or_point) == len(dists):
        mean = np.array([[d.mean if isinstance(d, Normal) else d.value] for d in normal_or_point])
        sd = np.array([[d.sd if isinstance(d, Normal) else 0.0] for d in normal_or_point])
        return mean + sd * draws.z(slot)[None, :]
    if all(isinstance(d, (LogitNormal, Point)) for d in dists):
        return _logit_normal_rows(dists, draws, slot)
    if all(d is dists[0] for d in dists):
        return np.broadcast_to(draws.ppf(dists[0], slot), (len(dists), draws.samples))
    out = np.empty((len(dists), draws.samples))
    for i, d in enumerate(dists):
        out[i] = draws.ppf(d, slot)
    return out
