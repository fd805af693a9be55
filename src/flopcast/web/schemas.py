"""Request bodies of the JSON API, validated by pydantic (errors come back as 422, per field)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flopcast.defaults import (
    CLOUD_TIERS,
    DEFAULT_CLOUD_TIER,
    DEFAULT_COST_METHOD,
    DEFAULT_DEPRECIATION,
    DEFAULT_METHOD,
    DEFAULT_SAMPLES,
    DEFAULT_SAMPLING,
    DEFAULT_SEED,
    DEFAULT_UTILIZATION_PRIOR,
    DEPRECIATION_CHOICES,
    RANDOM_SAMPLING,
    UTILIZATION_PRIOR_CHOICES,
)
from flopcast.errors import InvalidInputError
from flopcast.limits import MAX_CHIPS, MAX_PARAMS, MAX_SHAPE
from flopcast.service import (
    FORECAST_CAPS,
    FORECAST_COMPONENTS,
    FORECAST_METRICS,
    METHOD_CHOICES,
    METHOD_NAMES,
    TREND_METRICS,
)

# the recompute options and the largest parallel degree a plan takes (the service's; it loads no numpy)
from flopcast.service.plan import MAX_PARALLEL, PLAN_RECOMPUTE

MAX_SAMPLES = 100_000
#: a trend or a forecast estimates every model it selects: at most this many samples each
MAX_BATCH_SAMPLES = 10_000
#: a positive finite number, or a 90% interval [low, high]
Positive = Annotated[float, Field(gt=0, lt=1e40, allow_inf_nan=False)]
Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f<>]+$")]


def _interval(v, fraction: bool = False):
    if isinstance(v, list):
        if len(v) != 2:
            raise ValueError("an interval is [low, high]: two numbers")
        lo, hi = v
        if lo > hi:
            raise ValueError(f"low {lo:g} is greater than high {hi:g}")
        return [lo, hi]
    return v


class ErrorItem(BaseModel):
    """One thing wrong with a request: where (``loc``), what (``msg``) and its kind (``type``)."""

    loc: list[str | int] = Field(description='where: ["body", "params"], ["query", "a"], ["header", "host"], ...')
    msg: str
    type: str = Field(description="value_error, missing, json_invalid, too_large, misdirected, busy, ...")


class ErrorResponse(BaseModel):
    """Every error the app answers, whatever its status, has this shape."""

    detail: list[ErrorItem]


class ModelInfo(BaseModel):
    """A model of the database: ``key``, ``name`` and each alias are names ``model`` accepts."""

    key: str
    name: str
    aliases: list[str] = Field(description="other names the model is found by")
    publication_date: str | None
    params: float | None
    training_compute_flop: float | None
    hardware: list[str]
    origin: str = Field(description="epoch, epoch+curated (overlaid) or curated (an addition)")
    is_finetune: bool


class ChipInfo(BaseModel):
    """A chip: ``key``, ``name`` and each alias are names ``hardware`` accepts."""

    key: str
    name: str
    aliases: list[str] = Field(description="other names the chip is found by")
    family: str
    origin: str = Field(description="bundled (the curated catalog) or epoch (Epoch's chip table)")
    peak_flop_per_s: dict[str, float] = Field(description="dense peak by precision, FLOP/s")
    memory_bytes: float | None
    memory_bandwidth_bytes_per_s: float | None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Sampled(_Body):
    """A request whose answer is drawn: ``samples``, or ``sampling_precision`` for the count that precision takes
    (:func:`flopcast.service.sample_count`, as ``--sampling-precision`` on the command line). Once validated,
    ``samples`` holds the count and ``sampling_precision`` is None, so the rest of the app reads one number."""

    #: how the request's draws are made (the count a precision takes depends on it)
    sampling: ClassVar[str] = DEFAULT_SAMPLING
    samples: int = DEFAULT_SAMPLES  # each request sets its own bounds
    sampling_precision: Annotated[float, Field(ge=0.001, le=0.5, allow_inf_nan=False)] | None = Field(
        None,
        description="instead of samples: the relative error of p5, p50 and p95 at 95% confidence to draw for "
        "(0.01 = 1%: 8,192 Sobol samples)",
    )

    @model_validator(mode="after")
    def _count(self):
        if self.sampling_precision is None:
            return self
        field = type(self).model_fields["samples"]
        limit = next(m.le for m in field.metadata if getattr(m, "le", None) is not None)
        given = self.samples if "samples" in self.model_fields_set else None
        from flopcast.service import sample_count  # on first use: the app starts without numpy

        try:
            count = sample_count(given, self.sampling_precision, self.sampling, max_samples=limit)
        except InvalidInputError as exc:
            raise ValueError(str(exc)) from None
        self.samples, self.sampling_precision = count, None
        return self


class TrainingRequest(_Sampled):
    """A training run: a catalog model, an ad-hoc description, or a model with overrides.

    Each number is a point or a 90% interval ``[low, high]``.
    """

    model: Name | None = Field(
        None, description="a model of the database, e.g. gpt-3 or GPT-4o: a key, name or alias of GET /api/models"
    )
    params: Positive | list[Positive] | None = None
    tokens: Positive | list[Positive] | None = None
    compute: Positive | list[Positive] | None = Field(None, description="training compute, FLOP")
    hardware: Name | None = Field(
        None, description="chip, e.g. a100, h100: a key, name or alias of GET /api/hardware?all=true"
    )
    chips: Positive | list[Positive] | None = None
    days: Positive | list[Positive] | None = Field(None, description="wall-clock training time")
    utilization: Fraction | list[Fraction] | None = Field(None, description="MFU, in (0, 1]")
    price_per_chip_hour: Positive | list[Positive] | None = Field(None, description="cloud price, USD")
    chip_price: Positive | list[Positive] | None = Field(None, description="purchase price of one chip, USD")
    year_dollars: Annotated[int, Field(ge=1990, le=2100)] | None = Field(
        None, description="express dollars in this year's (default: nominal dollars of the publication month)"
    )
    method: Literal[METHOD_CHOICES] = DEFAULT_METHOD  # type: ignore[valid-type]
    cloud_tier: Literal[CLOUD_TIERS] = DEFAULT_CLOUD_TIER  # type: ignore[valid-type]
    cloud_vendor: Annotated[str, Field(max_length=40)] | None = Field(
        None,
        description="market (default: every provider's dated quotes), organization (Cottier et al.'s rule), "
        "hyperscaler, neocloud, marketplace, or a provider such as aws",
    )
    depreciation: Literal[DEPRECIATION_CHOICES] = DEFAULT_DEPRECIATION  # type: ignore[valid-type]
    depreciation_years: Annotated[float, Field(ge=1, le=30)] | None = Field(
        None, description="book life for straight-line depreciation, years"
    )
    cost_of_capital: Annotated[float, Field(ge=0, lt=1)] = 0.0
    grid: Annotated[str, Field(max_length=40)] | Annotated[float, Field(ge=0, le=2)] | None = Field(
        None, description="grid for emissions: a region (us, eu, france...) or kg CO2e per kWh"
    )
    utilization_prior: Literal[UTILIZATION_PRIOR_CHOICES] = Field(  # type: ignore[valid-type]
        DEFAULT_UTILIZATION_PRIOR,
        description="the MFU where none is reported: conditioned (on chip generation, chip count and precision) "
        "or cottier (Cottier et al.'s one prior)",
    )
    samples: Annotated[int, Field(ge=2, le=MAX_SAMPLES)] = DEFAULT_SAMPLES
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = DEFAULT_SEED
    sensitivity: bool = False

    _check = field_validator(
        "params", "tokens", "compute", "chips", "days", "utilization", "price_per_chip_hour", "chip_price"
    )(classmethod(lambda cls, v: _interval(v)))


#: the training precisions a plan takes (``flopcast plan --precision``); the chip must have a peak at it
PLAN_PRECISIONS = ("bf16", "fp16", "fp8", "tf32", "fp32")
Whole = Annotated[int, Field(ge=1, le=MAX_SHAPE)]
Degree = Annotated[int, Field(ge=1, le=MAX_PARALLEL)]


class PlanRequest(_Sampled):
    """A training run to plan on one chip (``flopcast plan``): a model of the database, or one described by its
    shape, its tokens or compute, a chip and a cluster size or a deadline; the layout fixes narrow the search.

    The fields are :func:`flopcast.service.training_plan`'s keywords, with the same names."""

    model: Name | None = Field(
        None, description="a model of the database, e.g. llama-2-70b: a key, name or alias of GET /api/models"
    )
    params: Annotated[float, Field(gt=0, le=MAX_PARAMS, allow_inf_nan=False)] | None = Field(
        None, description="total parameters (one number)"
    )
    n_layers: Whole | None = Field(None, description="transformer layers")
    d_model: Whole | None = Field(None, description="model width")
    n_heads: Whole | None = Field(None, description="attention heads")
    n_kv_heads: Whole | None = Field(None, description="key/value heads (grouped-query attention)")
    ffn_hidden: Whole | None = Field(None, description="feed-forward width (default 4 x d_model)")
    ffn_activation: Literal["gelu", "relu", "swiglu", "geglu"] | None = None
    vocab: Annotated[int, Field(ge=1, le=10_000_000)] | None = Field(None, description="vocabulary size")
    seq_len: Whole | None = Field(None, description="training sequence length, tokens")
    tokens: Positive | list[Positive] | None = Field(None, description="training tokens (default: the model's)")
    compute: Positive | list[Positive] | None = Field(None, description="training compute, FLOP (instead of tokens)")
    hardware: Name | None = Field(
        None, description="the chip, e.g. h100, b200: a key, name or alias of GET /api/hardware (default h100)"
    )
    precision: Literal[PLAN_PRECISIONS] | None = Field(  # type: ignore[valid-type]
        None, description="training precision (default: the chip's)"
    )
    chips: Annotated[int, Field(ge=1, le=MAX_CHIPS)] | None = Field(None, description="cluster size: the time follows")
    days: Positive | None = Field(None, description="deadline in days: the chips follow (give chips or days)")
    utilization: Fraction | list[Fraction] | None = Field(
        None, description="step MFU, in (0, 1] (default: the prior for the chip, the scale and the precision)"
    )
    global_batch_tokens: Positive | None = Field(None, description="tokens per optimizer step (default 4M)")
    tp: Degree | None = Field(None, description="fix the tensor parallelism (a power of 2)")
    pp: Degree | None = Field(None, description="fix the pipeline stages")
    dp: Degree | None = Field(None, description="fix the data parallelism")
    zero: Annotated[int, Field(ge=0, le=3)] | None = Field(None, description="fix the ZeRO stage: 0-3 (3 is FSDP)")
    micro_batch: Degree | None = Field(None, description="fix the micro-batch, sequences")
    recompute: Literal[PLAN_RECOMPUTE] | None = Field(None, description="fix the recompute")  # type: ignore[valid-type]
    method: Literal[METHOD_CHOICES] = DEFAULT_METHOD  # type: ignore[valid-type]
    cloud_tier: Literal[CLOUD_TIERS] = DEFAULT_CLOUD_TIER  # type: ignore[valid-type]
    cloud_vendor: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="market (default), organization, hyperscaler, neocloud, marketplace, or a provider"
    )
    depreciation: Literal[DEPRECIATION_CHOICES] = DEFAULT_DEPRECIATION  # type: ignore[valid-type]
    depreciation_years: Annotated[float, Field(ge=1, le=30)] | None = None
    cost_of_capital: Annotated[float, Field(ge=0, lt=1)] = 0.0
    grid: Annotated[str, Field(max_length=40)] | Annotated[float, Field(ge=0, le=2)] | None = None
    utilization_prior: Literal[UTILIZATION_PRIOR_CHOICES] = DEFAULT_UTILIZATION_PRIOR  # type: ignore[valid-type]
    start_date: dt.date | None = Field(None, description="training start, YYYY-MM-DD (default: today)")
    organization: Name | None = Field(None, description="the developer (sets the data center's PUE)")
    samples: Annotated[int, Field(ge=2, le=MAX_SAMPLES)] = DEFAULT_SAMPLES
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = DEFAULT_SEED

    _check = field_validator("tokens", "compute", "utilization")(classmethod(lambda cls, v: _interval(v)))


class DeployRequest(_Sampled):
    model: Name | None = Field(
        None, description="catalog model, e.g. llama-3-70b: a key, name or alias of GET /api/models?curated=true"
    )
    params: Positive | None = Field(None, description="parameters of an ad-hoc model")
    scenario: Literal["twitter-1pct", "one-million-developers", "150m-words-per-day", "chat-assistant"] | None = None
    tokens_per_day: Positive | list[Positive] | None = Field(None, description="generated (output) tokens a day")
    requests_per_s: Positive | list[Positive] | None = Field(None, description="requests a second")
    prompt_tokens: Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)] | None = Field(
        None, description="prompt tokens of a request (default 70, LMSYS-Chat-1M's mean)"
    )
    output_tokens: Annotated[float, Field(ge=1, le=10_000_000, allow_inf_nan=False)] | None = Field(
        None, description="output tokens of a request (default 215)"
    )
    ttft_s: Positive | Literal["none"] | None = Field(
        None, description="target time to first token in seconds, or 'none' (default 2, MLPerf's server target)"
    )
    tpot_s: Positive | Literal["none"] | None = Field(
        None, description="target time per output token in seconds, or 'none' (default 0.2, MLPerf's server target)"
    )
    hardware: Name | None = Field(
        None, description="chip, or chips 'a,b' to choose from: keys, names or aliases of GET /api/hardware "
        "(default: every chip with a price)"
    )  # fmt: skip
    chips: Annotated[int, Field(ge=1, le=4096)] | None = None
    tp: Annotated[int, Field(ge=1, le=4096)] | None = None
    ep: Annotated[int, Field(ge=1, le=4096)] | None = None
    precision: Literal["fp32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"] | None = None
    kv_precision: Literal["bf16", "fp16", "fp8", "fp4", "int8"] | None = None
    batch: Annotated[int, Field(ge=1, le=65_536)] | None = None
    context: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    cache_hit: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    draft_tokens: Annotated[int, Field(ge=0, le=16)] = 0
    acceptance: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    draft_cost: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    disaggregated: bool | None = Field(
        None,
        description="prompts on prefill instances of their own (true), between decode steps (false); default: the cheaper",
    )
    price_per_chip_hour: Positive | list[Positive] | None = None
    vs_training: bool = False
    sampling: ClassVar[str] = RANDOM_SAMPLING
    samples: Annotated[int, Field(ge=2, le=MAX_SAMPLES)] = DEFAULT_SAMPLES
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = DEFAULT_SEED

    _check = field_validator("tokens_per_day", "requests_per_s", "price_per_chip_hour")(
        classmethod(lambda cls, v: _interval(v))
    )


class TrendRequest(_Sampled):
    metric: Literal[TREND_METRICS] = "cost"  # type: ignore[valid-type]
    top: Annotated[int, Field(ge=1, le=1000)] | None = 10
    since: Annotated[int, Field(ge=1950, le=2100)] | None = 2016
    until: Annotated[int, Field(ge=1950, le=2100)] | None = None
    extrapolate: Annotated[int, Field(ge=1950, le=2100)] | None = None
    cost_method: Literal[METHOD_NAMES] = DEFAULT_COST_METHOD  # type: ignore[valid-type]
    utilization_prior: Literal[UTILIZATION_PRIOR_CHOICES] = DEFAULT_UTILIZATION_PRIOR  # type: ignore[valid-type]
    samples: Annotated[int, Field(ge=2, le=MAX_BATCH_SAMPLES)] = DEFAULT_SAMPLES
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = DEFAULT_SEED


class ForecastRequest(_Sampled):
    """``flopcast forecast``: the largest run (or the top-N frontier's trend) year by year."""

    metric: Literal[FORECAST_METRICS] = "cost"  # type: ignore[valid-type]
    largest: bool = True
    top: Annotated[int, Field(ge=1, le=1000)] = 10
    until: Annotated[int, Field(ge=1950, le=2100)] = 2032
    fit_since: Annotated[int, Field(ge=1950, le=2100)] | None = 2016
    fit_until: Annotated[int, Field(ge=1950, le=2100)] | None = None
    thresholds: Annotated[list[Annotated[float, Field(gt=0, le=1e100, allow_inf_nan=False)]], Field(max_length=10)] = []
    #: component -> [low, high] growth a year (x), a 90% interval
    priors: dict[Literal[FORECAST_COMPONENTS], Annotated[list[Positive], Field(min_length=2, max_length=2)]] = {}  # type: ignore[valid-type]
    caps: Annotated[list[Literal[(*FORECAST_CAPS, "all")]], Field(max_length=5)] = []  # type: ignore[valid-type]
    cost_method: Literal[METHOD_NAMES] = DEFAULT_COST_METHOD  # type: ignore[valid-type]
    utilization_prior: Literal[UTILIZATION_PRIOR_CHOICES] = DEFAULT_UTILIZATION_PRIOR  # type: ignore[valid-type]
    sampling: ClassVar[str] = RANDOM_SAMPLING
    samples: Annotated[int, Field(ge=100, le=MAX_BATCH_SAMPLES)] = DEFAULT_SAMPLES
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = DEFAULT_SEED

    @field_validator("priors")
    @classmethod
    def _ordered(cls, v):
        for name, (lo, hi) in v.items():
            if lo > hi:
                raise ValueError(f"{name}: low {lo:g} is greater than high {hi:g}")
        return v
