"""The options several commands share: one name, one help text and one default each.

The choices come from the library's registries (cost methods, sampling, attention
conventions), never typed out again here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flopcast.defaults import (
    ATTENTION_CHOICES,
    CLOUD_TIERS,
    DEFAULT_SAMPLES,
    DEFAULT_UTILIZATION_PRIOR,
    DEPRECIATION_CHOICES,
    SAMPLING_CHOICES,
    UTILIZATION_PRIOR_CHOICES,
)
from flopcast.errors import InvalidInputError
from flopcast.service import METHOD_CHOICES, METHOD_NAMES, MoneyOptions

Data = Annotated[
    str | None,
    typer.Option(
        help="Epoch's database: a folder of its CSVs, 'cache' (the pulled copy) or 'embedded' (default: the pulled "
        "cache when newer than the embedded snapshot, else the embedded snapshot)."
    ),
]
Top = Annotated[
    int | None,
    typer.Option(
        help="Keep models among the N with the most training compute when published (Epoch's rank where given)."
    ),
]
Since = Annotated[int | None, typer.Option(help="First publication year.")]
Until = Annotated[int | None, typer.Option(help="Last publication year.")]
Domain = Annotated[str | None, typer.Option(help="Domain contains this (e.g. Language).")]
Org = Annotated[str | None, typer.Option(help="An organization contains this.")]
IncludeFinetunes = Annotated[
    bool,
    typer.Option(
        "--include-finetunes",
        help="Keep fine-tunes (rows with a base model) in frontier selections (--top) and "
        "trends; they are left out of those by default, as Cottier et al. do.",
    ),
]
Method = Annotated[str, typer.Option(help=f"Cost method: {', '.join(METHOD_CHOICES)}.")]
CostMethod = Annotated[str, typer.Option(help=f"The one cost method to use: {', '.join(METHOD_NAMES)}.")]
CloudTier = Annotated[str, typer.Option(help=f"Cloud price tier: {', '.join(CLOUD_TIERS)} (Cottier et al. use 3y).")]
CloudVendor = Annotated[
    str | None,
    typer.Option(
        help="Whose cloud prices: market (default: every provider's dated quotes near the run's date), "
        "organization (Cottier et al.'s rule: the developer's provider), hyperscaler, neocloud, marketplace, "
        "or one provider (aws, azure, gcp, lambda, coreweave...)."
    ),
]
Depreciation = Annotated[
    str,
    typer.Option(
        help=f"How the amortized method depreciates hardware: {', '.join(DEPRECIATION_CHOICES)} "
        "(Cottier et al.'s 0.14 OOM/year is the default)."
    ),
]
DepreciationYears = Annotated[
    float | None, typer.Option(help="Book life for --depreciation straight-line, in years (default 5).")
]
CostOfCapital = Annotated[
    float, typer.Option(help="Annual cost of the capital in hardware for the amortized method, e.g. 0.08 (default 0).")
]
UtilizationPrior = Annotated[
    str,
    typer.Option(
        help=f"The MFU where none is reported: {' or '.join(UTILIZATION_PRIOR_CHOICES)} (conditioned, the default: "
        "on chip generation, chip count and precision, fitted to reported MFU; cottier: Cottier et al.'s one "
        "prior, median 0.375, 90% CI 0.10-0.65).",
    ),
]
Grid = Annotated[
    str | None,
    typer.Option(
        help="The grid for emissions: a region (us, eu, china, france...) or kg CO2e per kWh "
        "(default: the developer's country, else the world average)."
    ),
]
YearDollars = Annotated[
    int | None,
    typer.Option(
        help="Express costs in this year's dollars (default: nominal dollars of each model's publication month)."
    ),
]
PriceIndex = Annotated[
    str | None,
    typer.Option(
        help="Price index CSV (FRED format) for --year-dollars (default: the database's PPI for data processing, "
        "as Cottier et al. use)."
    ),
]
Attention = Annotated[
    str,
    typer.Option(
        help=f"Attention FLOP: {', '.join(ATTENTION_CHOICES)} (PaLM's 12 L T d_attn per token; causal halves it)."
    ),
]
Samples = Annotated[
    int | None,
    typer.Option(
        help=f"Monte Carlo samples per model (2 to 1,000,000; default {DEFAULT_SAMPLES:,}, the count of a 1% "
        "precision), or give --sampling-precision."
    ),
]
SamplingPrecision = Annotated[
    float | None,
    typer.Option(
        help="Instead of --samples: as many samples as keep p5, p50 and p95 within this relative error at 95% "
        "confidence (0.001 to 0.5; 0.01 = 1% is 8,192 Sobol samples, 0.005 is 32,768). Set on an output whose "
        "p95 is about 5x its p5; wider ones need more (docs/uncertainty.md)."
    ),
]
Seed = Annotated[int, typer.Option(help="Random seed; the same seed gives identical output.")]
Sampling = Annotated[str, typer.Option(help=f"{' or '.join(SAMPLING_CHOICES)} (quasi-random Sobol is the default).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Wide = Annotated[
    bool,
    typer.Option(
        "--wide", help="Wide tables: add provenance, sources and the other columns the compact tables leave out."
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress on stderr (it is shown only when stderr is a terminal).")
]


def check_selection(since: int | None, until: int | None, price_index: str | None, year_dollars: int | None) -> None:
    if since is not None and until is not None and since > until:
        raise InvalidInputError(f"--since {since} is after --until {until}")
    if price_index is not None and year_dollars is None:
        raise InvalidInputError("--price-index needs --year-dollars")


def money_options(
    depreciation: str,
    depreciation_years: float | None,
    cost_of_capital: float,
    grid: str | None,
    utilization_prior: str = DEFAULT_UTILIZATION_PRIOR,
) -> MoneyOptions:
    """The service's MoneyOptions from the CLI's options; ``--grid`` is a number or a region name."""
    value: str | float | None = grid
    if grid is not None:
        try:
            value = float(grid)
        except ValueError:
            value = grid
    return MoneyOptions(
        depreciation=depreciation,
        depreciation_years=depreciation_years,
        cost_of_capital=cost_of_capital,
        grid=value,
        utilization_prior=utilization_prior,
    )
