"""The flopcast error family.

Every error flopcast raises on purpose is a :class:`FlopcastError`. Subclasses also
inherit the matching builtin, so ``except KeyError`` or ``except ValueError`` keep
working for callers that do not know flopcast. Messages say what was given, what is
allowed, and where to look; the CLI prints them as one line and exits with status 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class FlopcastError(Exception):
    """Base class of every error raised by flopcast on purpose."""


class InvalidInputError(ValueError, FlopcastError):
    """A value is outside what a function accepts (negative, NaN, out of range...)."""


class MissingInputError(ValueError, FlopcastError):
    """A method needs an input that was not given."""


class UnknownNameError(KeyError, FlopcastError):
    """A name (hardware, model, constant, method) is not in its catalog or registry."""

    def __init__(self, kind: str, name: str, valid: Iterable[str], hint: str = ""):
        self.kind = kind
        self.name = name
        lower_to_valid: dict[str, str] = {}
        for v in sorted(set(valid)):
            lower_to_valid.setdefault(v.lower(), v)
        valid = sorted(lower_to_valid.values())
        self.closest = difflib.get_close_matches(str(name).lower(), list(lower_to_valid), n=5, cutoff=0.4)
        closest = [lower_to_valid[c] for c in self.closest]
        msg = f"unknown {kind} {name!r}"
        if closest:
            msg += f"; closest matches: {', '.join(closest)}"
        elif len(valid) > 40:
            msg += f"; none of the {len(valid):,} names is close"
        else:
            shown = ", ".join(valid[:12]) + (", ..." if len(valid) > 12 else "")
            msg += f"; valid names: {shown}"
        if hint:
            msg += f" ({hint})"
        self.message = msg
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class UnknownHardwareError(UnknownNameError):
    """A hardware name that the catalog does not know."""

    def __init__(self, name: str, valid: Iterable[str]):
        super().__init__("hardware", name, valid, hint="see `flopcast hardware list`")


class AmbiguousNameError(UnknownNameError):
    """A name that matches several catalog entries equally well."""

    def __init__(self, kind: str, name: str, candidates: Iterable[str]):
        candidates = sorted(set(candidates))
        FlopcastError.__init__(self)
        self.kind, self.name, self.closest = kind, name, candidates
        self.message = f"ambiguous {kind} {name!r}: it matches {', '.join(candidates)}; give one of these"
        KeyError.__init__(self, self.message)


class UnknownModelError(UnknownNameError):
    """A model name that the catalog does not know."""

    def __init__(self, name: str, valid: Iterable[str]):
        super().__init__("model", name, valid, hint="see `flopcast models list`")


class CatalogError(ValueError, FlopcastError):
    """A catalog or data file that does not have the expected schema or values."""
