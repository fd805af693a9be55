"""Deployment scenarios: a cited, uncertain description of a serving **load**.

A scenario says how many tokens a day a deployment generates (and, optionally, how
many prompt tokens it reads per generated token) and for how long. It is a TOML file:
bundled ones live in ``flopcast/catalogs/data/scenarios/``; a user's file is loaded by
path. The format::

    name = "one-million-developers"          # the key; bundled files are named <name>.toml
    title = "Assist one million software developers for one year"
    description = "..."                      # optional
    duration_days = 365                      # a positive number

    [inputs.developers]                      # one table per input
    value = 1e6                              # a point ...
    unit = "developers"
    source = "Cottier (2022), ..."           # required, non-empty
    note = "scenario definition"             # optional
    as_of = "2022-12"                        # optional

    [inputs.tokens_per_developer_per_day]
    low = 1e3                                # ... or a 90% interval low..high
    high = 3e4                               #     (lognormal, as flopcast.uncertainty.ci)
    kind = "lognormal"                       # optional: lognormal (default), normal, beta
    unit = "tokens/day"
    source = "..."

    [load]
    generated_tokens_per_day = ["developers", "tokens_per_developer_per_day"]  # a product of inputs
    prompt_tokens_per_generated_token = "prompt_ratio"   # optional: one input's name; default: no prompt

Every input value must be a finite number > 0 (the load is a product of counts and
rates; a zero factor means "no load" and belongs nowhere in a scenario). Unknown keys,
at the top level, in an input or in ``[load]``, are **errors** (they are almost always
typos, and a silently ignored ``duraton_days`` would change the answer). An input that
the load never uses gives a :class:`UserWarning`.

The central value of an input is its median (for a lognormal ``low..high`` interval,
the geometric mean ``sqrt(low * high)``); since medians multiply through a product of
independent lognormals, :meth:`Scenario.central_generated_tokens_per_day` is the
median of the load.
"""

from __future__ import annotations

import math
import os
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from flopcast.errors import CatalogError, InvalidInputError, MissingInputError, UnknownNameError
from flopcast.units import FloatOrArray

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
from flopcast.uncertainty.distributions import Distribution, Point, ci, lognormal_product

__all__ = [
    "LoadSpec",
    "Scenario",
    "ScenarioInput",
    "generated_tokens_per_day",
    "list_scenarios",
    "load_scenario",
    "prompt_tokens_per_day",
    "scenario_names",
]

DATA_PACKAGE = "flopcast.catalogs.data"
SCENARIO_DIR = "scenarios"
SECONDS_PER_DAY = 86_400.0

_TOP_KEYS = {
    "name": "a string",
    "title": "a string",
    "description": "a string",
    "duration_days": "a positive number",
    "inputs": "a table of input tables",
    "load": "a table",
}
_REQUIRED_TOP = ("name", "duration_days", "inputs", "load")
_INPUT_KEYS = ("value", "low", "high", "kind", "unit", "source", "note", "as_of")
_LOAD_KEYS = ("generated_tokens_per_day", "prompt_tokens_per_generated_token", "output_tokens_per_request")
_KINDS = ("lognormal", "normal", "beta")


@dataclass(frozen=True, eq=False)
class ScenarioInput:
    """One cited input of a scenario: a point or a 90% interval, with its unit and source."""

    name: str
    distribution: Distribution
    unit: str
    source: str
    note: str = ""
    as_of: str = ""

    @property
    def central(self) -> float:
        """The median (for ``low..high`` lognormal inputs, ``sqrt(low * high)``)."""
        return float(self.distribution.median)


@dataclass(frozen=True)
class LoadSpec:
    """How the load follows from the inputs.

    ``generated_factors``: generated tokens per day = the product of these inputs.
    ``prompt_ratio_input``: the input giving prompt tokens read per generated token, or
    ``None`` when prompts are ignored. ``output_tokens_per_request``: a request's output (a code
    completion is tens of tokens, a chat answer hundreds), which with the ratio sets its prompt.
    """

    generated_factors: tuple[str, ...]
    prompt_ratio_input: str | None = None
    #: output tokens of one request (None: the serving default)
    output_tokens_per_request: float | None = None

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.generated_factors + ((self.prompt_ratio_input,) if self.prompt_ratio_input else ())


def _lookup(values: Mapping[str, FloatOrArray], name: str, what: str) -> FloatOrArray:
    try:
        return values[name]
    except KeyError:
        raise MissingInputError(
            f"{what} needs the input {name!r}; got values for {', '.join(sorted(values)) or 'nothing'}"
        ) from None


def generated_tokens_per_day(load: LoadSpec, values: Mapping[str, FloatOrArray]) -> FloatOrArray:
    """Generated tokens per day: the product of ``load.generated_factors`` taken from ``values``.

    Pure and array-in/array-out: each value may be a float or an array of samples (they
    broadcast). Floats in give a numpy float out.
    """
    out: FloatOrArray = np.float64(1.0)
    for name in load.generated_factors:
        out = out * np.asarray(_lookup(values, name, "generated_tokens_per_day"), dtype=float)
    return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out


def prompt_tokens_per_day(load: LoadSpec, values: Mapping[str, FloatOrArray]) -> FloatOrArray:
    """Prompt tokens read per day: generated tokens per day x the prompt-ratio input (0 when none)."""
    gen = generated_tokens_per_day(load, values)
    if load.prompt_ratio_input is None:
        return gen * 0.0
    ratio = np.asarray(_lookup(values, load.prompt_ratio_input, "prompt_tokens_per_day"), dtype=float)
    out = gen * ratio
    return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out


@dataclass(frozen=True, eq=False)
class Scenario:
    """A deployment load: cited inputs, the rule combining them, and a duration."""

    key: str
    title: str
    description: str
    duration_days: float
    inputs: dict[str, ScenarioInput]
    load: LoadSpec
    source_file: str

    @property
    def duration_s(self) -> float:
        return self.duration_days * SECONDS_PER_DAY

    def distributions(self) -> dict[str, Distribution]:
        """``{input name: Distribution}``, names **unprefixed** (exactly the TOML table names).

        Callers mixing them with other inputs prefix them themselves (``scenario.<name>``);
        the values they draw go back, unprefixed, to :meth:`generated_tokens_per_day`.
        """
        return {name: inp.distribution for name, inp in self.inputs.items()}

    def central_values(self) -> dict[str, float]:
        """``{input name: median}``."""
        return {name: inp.central for name, inp in self.inputs.items()}

    def generated_tokens_per_day(self, values: Mapping[str, FloatOrArray]) -> FloatOrArray:
        """Generated tokens per day for input ``values`` (floats or sample arrays)."""
        return generated_tokens_per_day(self.load, values)

    def prompt_tokens_per_day(self, values: Mapping[str, FloatOrArray]) -> FloatOrArray:
        """Prompt tokens read per day for input ``values`` (0 when the scenario has no prompt ratio)."""
        return prompt_tokens_per_day(self.load, values)

    def central_generated_tokens_per_day(self) -> float:
        """Generated tokens per day at the inputs' medians (the load's median when all are lognormal)."""
        return float(self.generated_tokens_per_day(self.central_values()))

    def central_prompt_tokens_per_day(self) -> float:
        return float(self.prompt_tokens_per_day(self.central_values()))

    def generated_tokens_per_day_distribution(self) -> Distribution | None:
        """Closed form of the load when every factor is lognormal or a point, else ``None`` (sample it)."""
        return lognormal_product([(self.inputs[n].distribution, 1.0) for n in self.load.generated_factors])

    def summary(self) -> str:
        lines = [f"{self.key}: {self.title} ({self.duration_days:g} days)"]
        for name, inp in self.inputs.items():
            lines.append(f"  {name} = {inp.distribution.describe()} {inp.unit}  [{inp.source}]")
        lines.append(f"  generated tokens/day (central) = {self.central_generated_tokens_per_day():.4g}")
        if self.load.prompt_ratio_input:
            lines.append(f"  prompt tokens/day (central) = {self.central_prompt_tokens_per_day():.4g}")
        return "\n".join(lines)


# -- parsing and validation --------------------------------------------------------------


def _type_name(v: object) -> str:
    return type(v).__name__


def _number(label: str, field: str, raw: object, *, positive: bool = True) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise CatalogError(
            f"{label}: field {field!r} = {raw!r} is a {_type_name(raw)}; expected a number"
            + (" > 0" if positive else "")
        )
    v = float(raw)
    if not math.isfinite(v):
        raise CatalogError(f"{label}: field {field!r} = {raw!r} is not finite; expected a finite number")
    if positive and v <= 0:
        raise CatalogError(f"{label}: field {field!r} = {raw!r} must be > 0 (a count, rate or ratio in a product)")
    return v


def _string(label: str, field: str, raw: object, *, required: bool = False) -> str:
    if raw is None:
        if required:
            raise CatalogError(f"{label}: field {field!r} is missing; expected a non-empty string")
        return ""
    if not isinstance(raw, str):
        raise CatalogError(f"{label}: field {field!r} = {raw!r} is a {_type_name(raw)}; expected a string")
    if required and not raw.strip():
        raise CatalogError(f"{label}: field {field!r} is empty; expected a non-empty string")
    return raw.strip()


def _unknown_keys(label: str, where: str, table: dict[str, Any], allowed: Sequence[str]) -> None:
    extra = [k for k in table if k not in allowed]
    if extra:
        raise CatalogError(
            f"{label}: unknown key(s) {', '.join(map(repr, extra))} in {where}; allowed: {', '.join(allowed)}"
        )


def _parse_input(label: str, name: str, table: object) -> ScenarioInput:
    where = f"inputs.{name}"
    if not isinstance(table, dict):
        raise CatalogError(
            f"{label}: field {where!r} is a {_type_name(table)}; expected a table "
            f"([{where}] with value or low and high, unit, source)"
        )
    _unknown_keys(label, f"[{where}]", table, _INPUT_KEYS)
    has_value, has_low, has_high = "value" in table, "low" in table, "high" in table
    if has_value and (has_low or has_high):
        raise CatalogError(f"{label}: field {where!r} gives both value and low/high; give one or the other")
    kind = table.get("kind")
    if kind is not None and kind not in _KINDS:
        raise CatalogError(f"{label}: field {where + '.kind'!r} = {kind!r}; expected one of {', '.join(_KINDS)}")
    if has_value:
        if kind is not None:
            raise CatalogError(f"{label}: field {where + '.kind'!r} applies to a low..high interval, not to a value")
        dist: Distribution = Point(_number(label, f"{where}.value", table["value"]))
    elif has_low and has_high:
        low = _number(label, f"{where}.low", table["low"])
        high = _number(label, f"{where}.high", table["high"])
        if low > high:
            raise CatalogError(
                f"{label}: field {where!r} has low={low:g} > high={high:g}; write the interval as low..high"
            )
        try:
            dist = ci(low, high, kind=kind)
        except InvalidInputError as exc:
            raise CatalogError(f"{label}: field {where!r}: {exc}") from None
    elif has_low or has_high:
        missing = "high" if has_low else "low"
        raise CatalogError(
            f"{label}: field {where!r} has {'low' if has_low else 'high'} but no {missing}; "
            "give value, or both low and high (a 90% interval)"
        )
    else:
        raise CatalogError(
            f"{label}: field {where!r} has neither value nor low and high; "
            "give value = <number> or low = <number> and high = <number> (a 90% interval)"
        )
    return ScenarioInput(
        name=name,
        distribution=dist,
        unit=_string(label, f"{where}.unit", table.get("unit")),
        source=_string(label, f"{where}.source", table.get("source"), required=True),
        note=_string(label, f"{where}.note", table.get("note")),
        as_of=_string(label, f"{where}.as_of", table.get("as_of")),
    )


def _input_ref(label: str, field: str, raw: object, inputs: Mapping[str, ScenarioInput]) -> str:
    if not isinstance(raw, str):
        raise CatalogError(
            f"{label}: field {field!r} holds {raw!r}, a {_type_name(raw)}; expected an input name (string)"
        )
    if raw not in inputs:
        raise CatalogError(
            f"{label}: field {field!r} refers to unknown input {raw!r}; inputs are {', '.join(inputs) or 'none'}"
        )
    return raw


def _parse_load(label: str, table: object, inputs: Mapping[str, ScenarioInput]) -> LoadSpec:
    if not isinstance(table, dict):
        raise CatalogError(f"{label}: field 'load' is a {_type_name(table)}; expected a table [load]")
    _unknown_keys(label, "[load]", table, _LOAD_KEYS)
    field = "load.generated_tokens_per_day"
    if "generated_tokens_per_day" not in table:
        raise CatalogError(
            f"{label}: field {field!r} is missing; expected a list of input names whose product "
            "is generated tokens per day"
        )
    raw = table["generated_tokens_per_day"]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise CatalogError(
            f"{label}: field {field!r} = {raw!r} is a {_type_name(raw)}; expected a non-empty list of input names"
        )
    factors = tuple(_input_ref(label, field, r, inputs) for r in raw)
    prompt = table.get("prompt_tokens_per_generated_token")
    if prompt is not None:
        prompt = _input_ref(label, "load.prompt_tokens_per_generated_token", prompt, inputs)
    out = table.get("output_tokens_per_request")
    if out is not None:
        out = _number(label, "load.output_tokens_per_request", out)
    return LoadSpec(factors, prompt, out)


def parse_scenario(data: dict[str, Any], label: str) -> Scenario:
    """Validate parsed TOML ``data`` (from a file described by ``label``) into a :class:`Scenario`."""
    _unknown_keys(label, "the top level", data, tuple(_TOP_KEYS))
    for key in _REQUIRED_TOP:
        if key not in data:
            raise CatalogError(f"{label}: field {key!r} is missing; expected {_TOP_KEYS[key]}")
    key = _string(label, "name", data["name"], required=True)
    duration = _number(label, "duration_days", data["duration_days"])
    raw_inputs = data["inputs"]
    if not isinstance(raw_inputs, dict) or not raw_inputs:
        raise CatalogError(
            f"{label}: field 'inputs' is {'empty' if raw_inputs == {} else 'a ' + _type_name(raw_inputs)}; "
            "expected a table of [inputs.<name>] tables"
        )
    inputs = {name: _parse_input(label, name, t) for name, t in raw_inputs.items()}
    load = _parse_load(label, data["load"], inputs)
    unused = [n for n in inputs if n not in load.input_names]
    if unused:
        warnings.warn(f"{label}: input(s) {', '.join(unused)} are not used by [load]", UserWarning, stacklevel=3)
    return Scenario(
        key=key,
        title=_string(label, "title", data.get("title")) or key,
        description=_string(label, "description", data.get("description")),
        duration_days=duration,
        inputs=inputs,
        load=load,
        source_file=label,
    )


def _parse_text(text: str, label: str) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{label}: TOML syntax error: {exc}") from None
    return parse_scenario(data, label)


# -- bundled scenarios and user files ----------------------------------------------------


def _bundled_dir() -> Traversable:
    return resources.files(DATA_PACKAGE).joinpath(SCENARIO_DIR)


def _bundled_files() -> dict[str, Traversable]:
    d = _bundled_dir()
    if not d.is_dir():
        return {}
    return {f.name[: -len(".toml")]: f for f in d.iterdir() if f.name.endswith(".toml") and f.is_file()}


def _load_bundled(stem: str, resource: Traversable) -> Scenario:
    label = f"bundled:{SCENARIO_DIR}/{resource.name}"
    sc = _parse_text(resource.read_text(encoding="utf-8"), label)
    if sc.key != stem:
        raise CatalogError(f"{label}: field 'name' = {sc.key!r} does not match the file name; expected {stem!r}")
    return sc


def scenario_names() -> list[str]:
    """Keys of the bundled scenarios, sorted."""
    return sorted(_bundled_files())


def list_scenarios() -> list[Scenario]:
    """Every bundled scenario, sorted by key (loaded, and so validated, on each call)."""
    return [_load_bundled(stem, res) for stem, res in sorted(_bundled_files().items())]


def _looks_like_path(name: str) -> bool:
    return name.endswith(".toml") or os.sep in name or (os.altsep is not None and os.altsep in name)


def load_scenario(name_or_path: str | os.PathLike[str]) -> Scenario:
    """A bundled scenario by key (``"twitter-1pct"``) or a user's TOML file by path.

    A string is a path when it is a :class:`os.PathLike`, ends with ``.toml`` or contains
    a path separator; otherwise it is a bundled key, and an unknown key raises
    :class:`~flopcast.errors.UnknownNameError` listing the valid ones.
    """
    if isinstance(name_or_path, os.PathLike) or _looks_like_path(str(name_or_path)):
        p = Path(name_or_path)
        if p.is_dir():
            raise CatalogError(f"scenario file {str(p)!r} is a folder; give a .toml file or a bundled name")
        if not p.is_file():
            raise CatalogError(f"scenario file {str(p)!r} does not exist or is not a file")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CatalogError(
                f"scenario file {str(p)!r} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        except OSError as exc:  # it exists but cannot be read: permissions, an I/O error, a special file
            reason = exc.strerror or str(exc)
            raise CatalogError(f"scenario file {str(p)!r} cannot be read ({reason[:1].lower() + reason[1:]})") from None
        return _parse_text(text, str(p))
    name = str(name_or_path).strip()
    files = _bundled_files()
    if name not in files:
        raise UnknownNameError(
            "scenario",
            name,
            files,
            hint="or give a path to a .toml file",
        )
    return _load_bundled(name, files[name])
