"""Drawing inputs: each input once per sample index, from one injected generator.

``draw(inputs, n, rng)`` returns a dict with one array per uncertain input (length
``n``) and a float for each point input. Because the chain then only combines these
arrays, an input used twice in a chain is the same draw both times. The same seed
gives bit-identical results. ``method="sobol"`` uses a scrambled Sobol sequence
(quasi-random), which reaches a given precision with fewer samples.

Scrambled Sobol points for a whole-number seed are kept on disk once made (:func:`sobol_points`):
making them needs ``scipy.stats``, whose import takes about 0.4 s of every command's start.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
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


def uniforms(d: int, n: int, rng: np.random.Generator | int, method: str = "random") -> np.ndarray:
    """An (n, d) array of uniforms in (0, 1). ``rng``: a Generator, or a whole-number seed (Sobol points for
    a seed come from the disk cache of :func:`sobol_points`)."""
    if method not in METHODS:
        raise InvalidInputError(f"method={method!r} is not one of {', '.join(METHODS)}")
    if d == 0:
        return np.empty((n, 0))
    m = max(int(np.ceil(np.log2(n))), 1)
    if method == "sobol" and isinstance(rng, (int, np.integer)):
        u = sobol_points(d, m, int(rng))[:n]
    elif method == "sobol":
        from scipy.stats import qmc

        u = qmc.Sobol(d=d, scramble=True, seed=make_rng(rng)).random_base2(m)[:n]
    else:
        u = make_rng(rng).random((n, d))
    return np.clip(u, _EPS, 1 - _EPS)


#: the folder of the Sobol cache: $FLOPCAST_SOBOL_CACHE ("off": no cache), else the user cache folder
SOBOL_CACHE_ENV = "FLOPCAST_SOBOL_CACHE"


def _sobol_cache() -> Path | None:
    env = os.environ.get(SOBOL_CACHE_ENV)
    if env == "off":
        return None
    if env:
        return Path(env).expanduser()
    from flopcast.paths import user_cache_dir

    return Path(user_cache_dir()) / "sobol"


def sobol_points(d: int, m: int, seed: int) -> np.ndarray:
    """The first 2**m points of scipy's scrambled Sobol sequence in ``d`` dimensions for ``seed``.

    Exactly ``qmc.Sobol(d, scramble=True, seed=np.random.default_rng(seed)).random_base2(m)``; read from
    the cache folder when an earlier call made them with the same scipy and numpy (a file that does not
    read back whole is made again), and written there atomically. A folder that cannot be written
    leaves the points uncached. The folder is bounded (:data:`SOBOL_CACHE_MAX_BYTES`): each write removes
    the least recently used files beyond it (a read marks its file used), so a web app asked for many seeds
    keeps only the points it uses most.
    """
    folder = _sobol_cache()
    name = f"sobol-d{d}-m{m}-seed{seed}-scipy{_scipy_version()}-numpy{np.__version__}.npy"
    if folder is not None:
        try:
            u = np.load(folder / name, allow_pickle=False)
            if u.shape == (2**m, d) and u.dtype == np.float64 and bool(((u >= 0) & (u < 1)).all()):
                with contextlib.suppress(OSError):
                    os.utime(folder / name)  # used now: the last file the bound removes
                return u
        except (OSError, ValueError, EOFError):
            pass
    from scipy.stats import qmc

    u = qmc.Sobol(d=d, scramble=True, seed=np.random.default_rng(seed)).random_base2(m)
    if folder is not None:
        _save_atomically(folder / name, u)
        _bound(folder, keep=name)
    return u


#: the most the Sobol cache keeps (a 16-input draw of 8,192 points is 1 MiB)
SOBOL_CACHE_MAX_BYTES = 256 * 2**20


def _bound(folder: Path, keep: str) -> None:
    """Remove the least recently used Sobol files beyond :data:`SOBOL_CACHE_MAX_BYTES` (never ``keep``)."""
    try:
        files = []
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.startswith("sobol-") and e.name.endswith(".npy") and e.is_file(follow_symlinks=False):
                    st = e.stat()
                    files.append((st.st_mtime_ns, st.st_size, e.path, e.name))
    except OSError:
        return
    total = sum(f[1] for f in files)
    for _, size, path, name in sorted(files):
        if total <= SOBOL_CACHE_MAX_BYTES:
            break
        if name != keep:
            with contextlib.suppress(OSError):
                os.unlink(path)
                total -= size


@lru_cache(maxsize=1)
def _scipy_version() -> str:
    """scipy's installed version, without importing scipy: from the name of its ``scipy-X.Y.Z.dist-info``
    folder beside the package (``importlib.metadata``, which costs about 40 ms to import, when there is
    not exactly one)."""
    import importlib.util

    spec = importlib.util.find_spec("scipy")
    if spec is not None and spec.origin is not None:
        found = list(Path(spec.origin).parent.parent.glob("scipy-*.dist-info"))
        if len(found) == 1:
            return found[0].name[len("scipy-") : -len(".dist-info")]
    from importlib.metadata import version

    return version("scipy")


def _save_atomically(path: Path, array: np.ndarray) -> None:
    import tempfile

    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
            tmp = f.name
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


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
    # a whole-number seed goes to uniforms as it is, so that its Sobol points can come from the disk cache
    source: int | np.random.Generator = (
        int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0 else make_rng(rng)
    )
    dists = {name: as_distribution(value, name) for name, value in inputs.items()}
    uncertain = [k for k, d in dists.items() if not isinstance(d, Point)]
    u = uniforms(len(uncertain), n, source, method)
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
