"""Compact pickles of the catalogs' and the database's frozen dataclasses.

A pickle of a (non-slots) dataclass stores its whole ``__dict__``; the parsed database
(:mod:`flopcast.datasets.parsed`) holds thousands of rows whose fields are mostly at their
defaults (None, "", ()). :func:`compact_state` leaves those out: on loading, a missing field
reads the class attribute that ``@dataclass`` keeps for every plain default, so the object is
equal, field by field, to the one pickled, and it loads in about half the time.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def _plain_defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


_MISSING = object()


def compact_state(obj: Any) -> dict[str, Any]:
    """``obj.__dict__`` without the fields equal (and of the same type) to their plain default."""
    cls = type(obj)
    defaults = cls.__dict__.get("_compact_defaults")
    if defaults is None:
        defaults = _plain_defaults(cls)
        type.__setattr__(cls, "_compact_defaults", defaults)
    get = defaults.get
    return {
        k: v
        for k, v in obj.__dict__.items()
        if (d := get(k, _MISSING)) is _MISSING or not (v is d or (type(v) is type(d) and v == d))
    }
