"""Training checks: compute, cost, trend, emulation and diffusion figures against their publications.

Layer: validation. Each check runs through the functions the CLI uses (``flopcast estimate`` through
:meth:`~flopcast.validation.rules.Context.estimate`, the trend fit through :mod:`flopcast.service`), on the
context's database; the checks that need Epoch's databases say so (``needs_data``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flopcast.validation.rules import Check, Context, Outcome, close, covers, inside


def _gpt3_central(ctx: Context) -> Any:
    return ctx.estimate("gpt-3", point=True, cloud_vendor="organization")


def _cloud_gpt3_market(ctx: Context) -> Outcome:
    s = ctx.estimate("gpt-3").cost_usd["cloud"]
    return covers(4_120_320, s.median, s.p5, s.p95, "USD", max_factor=1.25)


def _compute_gpt3(ctx: Context) -> Outcome:
    from flopcast.compute import training_compute_flop

    return close(float(training_compute_flop(175e9, 300e9)), 3.14e23, 0.01, "FLOP")


def _compute_chinchilla(ctx: Context) -> Outcome:
    from flopcast.compute import training_compute_flop

    return close(
        float(training_compute_flop(70e9, 1.4e12)),
        5.76e23,
        0.03,
        "FLOP",
        note="6ND = 5.88e23; the paper's 5.76e23 counts FLOP in detail",
    )


def _cloud_gpt3(ctx: Context) -> Outcome:
    return close(_gpt3_central(ctx).central["cost_usd.cloud"], 4_120_320, 1e-6, "USD")


def _amortized_gpt3(ctx: Context) -> Outcome:
    return close(
        _gpt3_central(ctx).central["cost_usd.amortized"],
        2.089e6,
        0.02,
        "USD",
        note="300 W V100 SXM2 TDP (datasheet) against Cottier's 250 W",
    )


def _amortized_gpt4_point(ctx: Context) -> Outcome:
    e = ctx.estimate("GPT-4", point=True)
    return close(e.central["cost_usd.amortized"], 40_155_934, 0.01, "USD")


def _cost_2023(ctx: Context, name: str, published: float) -> Outcome:
    s = ctx.estimate(name, year_dollars=2023).cost_usd["amortized"]
    return covers(published, s.median, s.p5, s.p95, "USD", max_factor=1.5)


def _compute_interval_gpt3(ctx: Context) -> Outcome:
    s = ctx.estimate("gpt-3").training_compute_flop
    ok = s.p5 >= 3.14e23 * 0.85 and s.p95 <= 3.14e23 * 1.15
    return Outcome(
        s.median,
        "FLOP",
        s.p5,
        s.p95,
        s.median / 3.14e23,
        ok,
        note="published parameters and tokens: only the spread between counting conventions",
    )


def _compute_interval_gpt4(ctx: Context) -> Outcome:
    g3, g4 = ctx.estimate("gpt-3").training_compute_flop, ctx.estimate("gpt-4").training_compute_flop
    w3, w4 = g3.p95 / g3.p5, g4.p95 / g4.p5
    return Outcome(
        g4.median,
        "FLOP",
        g4.p5,
        g4.p95,
        g4.median / 2.1e25,
        w4 > w3,
        note=f"90% interval {w4:,.0f}x wide against GPT-3's {w3:.3g}x (Epoch: 'Speculative')",
    )


def _compute_llama31(ctx: Context) -> Outcome:
    s = ctx.estimate("llama-3.1-405b").compute_from_params_flop
    return close(
        s.median, 3.8e25, 0.15, "FLOP", s.p5, s.p95, note="6ND plus PaLM's 12 L T d_attn at the 8K pretraining length"
    )


def _chip_hours_llama2(ctx: Context) -> Outcome:
    s = ctx.estimate("llama-2-70b").chip_hours
    ok = s.p5 <= 1_720_320 <= s.p95 and s.p5 >= 1_720_320 * 0.75 and s.p95 <= 1_720_320 * 1.25
    return Outcome(
        s.median,
        "chip-hours",
        s.p5,
        s.p95,
        s.median / 1_720_320,
        ok,
        note="reported chip-hours used as reported, with a narrow interval",
    )


def _trend_cost(ctx: Context) -> Outcome:
    from flopcast.service import trend_analysis

    t = ctx.cached(
        "trend_cost", lambda: trend_analysis("cost", top=10, since=2016, until=2023, bootstrap=0, db=ctx.db())
    )
    g = t.fit.growth_per_year()
    return inside(
        g["estimate"], 2.0, 2.9, "x/year", g["low"], g["high"], note=f"{t.out['n_models']} models, fine-tunes left out"
    )


def _forecast_cottier(ctx: Context) -> Outcome:
    from flopcast.service import frontier_forecast

    f = ctx.cached(
        "forecast_cottier",
        lambda: frontier_forecast(
            "cost", until=2032, thresholds=[1e9], fit_since=2016, fit_until=2023, year_dollars=2023, db=ctx.db()
        ),
    ).forecast
    c = f.crossings["1e9"]
    return inside(
        c["median"],
        2026.0,
        2027.99,
        "year",
        c["p5"],
        c["p95"],
        note=f"median year the largest run passes $1B (2023 USD); cost growth x{f.growth['cost']['growth_per_year']:.2f}"
        f" a year on {f.n_runs} runs",
    )


def _forecast_compute_growth(ctx: Context) -> Outcome:
    from flopcast.service import frontier_forecast

    f = ctx.cached(
        "forecast_compute",
        lambda: frontier_forecast("compute", until=2030, fit_since=2010, samples=2000, db=ctx.db()),
    ).forecast
    g = f.growth["compute"]
    return inside(
        g["growth_per_year"], 4.0, 5.0, "x/year", g["low"], g["high"], note=f"top 10 at release, {f.n_runs} runs"
    )


def _emulation(attr: str, expected: float, unit: str) -> Callable[[Context], Outcome]:
    def run(ctx: Context) -> Outcome:
        from flopcast.service import emulation

        fe = emulation(params=175e9, tokens=300e9, fit="hoffmann").first  # what `flopcast emulate` shows
        s = getattr(fe, attr)
        return close(float(getattr(fe.point, attr)), expected, 0.01, unit, low=s.p5, high=s.p95)

    return run


def _refit_spread(ctx: Context) -> Outcome:
    import numpy as np

    from flopcast.scaling import fit_draws

    # the draws behind the refit's interval against Besiroglu et al.'s bootstrap standard error of B
    return close(float(np.std(fit_draws("besiroglu")["B"], ddof=1)), 1293.23, 0.05, "nats/token")


def _lag_opt(ctx: Context) -> Outcome:
    from flopcast.lags import lag_between

    return close(lag_between(ctx.db().records, "gpt-3", "opt-175b"), 23, 0.05, "months")


def _lag_open_weights(ctx: Context) -> Outcome:
    from flopcast.service import lag_analysis

    a = ctx.cached(
        "lag_open_weights", lambda: lag_analysis(top=1, since=2018, bootstrap=1000, seed=0, db=ctx.db())
    ).overall
    med = a["open_weights_median_months"]
    note = (
        f"Kaplan-Meier median over {a['frontier_models']} record-holders since 2018 "
        f"({a['open_weights_not_yet']} not yet caught up, censored); p5-p95 from 1000 bootstrap resamples"
    )
    if med is None:
        return Outcome(math.inf, "months", None, None, None, False, note + "; fewer than half caught up")
    return inside(med, 5, 22, "months", a["open_weights_p5_months"], a["open_weights_p95_months"], note=note)


def training_checks() -> list[Check]:
    """The compute, cost, trend, emulation and diffusion checks, in the order of docs/validation.md."""
    return _compute_checks() + _cost_checks() + _forecast_checks()


def _compute_checks() -> list[Check]:
    return [
        Check(
            "compute-gpt3",
            "compute",
            "GPT-3 training compute, 6 N D with N = 175e9, D = 300e9",
            "Brown et al. 2020 (arXiv 2005.14165), Table D.1",
            "3.14e23 FLOP",
            "within 1%",
            _compute_gpt3,
        ),
        Check(
            "compute-chinchilla",
            "compute",
            "Chinchilla training compute, 6 N D with N = 70e9, D = 1.4e12",
            "Hoffmann et al. 2022 (arXiv 2203.15556), Table 3",
            "5.76e23 FLOP",
            "within 3%",
            _compute_chinchilla,
        ),
        Check(
            "compute-gpt3-interval",
            "compute",
            "GPT-3 training compute: the 90% interval, N and D published",
            "Brown et al. 2020: 3.14e23 FLOP",
            "within +-15% of 3.14e23",
            "p5 and p95 within 15%",
            _compute_interval_gpt3,
        ),
        Check(
            "compute-gpt4-interval",
            "compute",
            "GPT-4 training compute: interval wider than GPT-3's",
            "Epoch AI database: 2.1e25 FLOP, confidence 'Speculative'",
            "wider than GPT-3's",
            "ratio p95/p5 larger than GPT-3's",
            _compute_interval_gpt4,
        ),
        Check(
            "compute-llama31-405b",
            "compute",
            "Llama 3.1 405B compute from parameters x tokens",
            "Llama Team 2024 (arXiv 2407.21783): 3.8e25 FLOP",
            "3.8e25 FLOP",
            "within 15%",
            _compute_llama31,
        ),
        Check(
            "chip-hours-llama2-70b",
            "compute",
            "Llama 2 70B chip-hours as reported",
            "Touvron et al. 2023 (arXiv 2307.09288): 1,720,320 A100-80GB GPU-hours",
            "1,720,320 in the interval",
            "interval contains it and is within +-25%",
            _chip_hours_llama2,
        ),
    ]


def _cost_checks() -> list[Check]:
    return [
        Check(
            "cost-gpt3-cloud",
            "cost",
            "GPT-3 cloud cost, point estimate (3,552,000 chip-hours x $1.16), the developer's provider's price "
            "(--cloud-vendor organization)",
            "Cottier et al. 2024 (arXiv 2405.21015), method and code",
            "$4,120,320",
            "within 0.0001%",
            _cloud_gpt3,
        ),
        Check(
            "cost-gpt3-cloud-market",
            "cost",
            "GPT-3 cloud cost at the market's V100 3-year price of 2019-08 (the default)",
            "Cottier et al. 2024 (arXiv 2405.21015): Azure's $1.16 of 2018-12",
            "$4,120,320",
            "inside flopcast's 90% interval, median within 1.25x",
            _cloud_gpt3_market,
        ),
        Check(
            "cost-gpt3-amortized",
            "cost",
            "GPT-3 amortized hardware + energy, point estimate",
            "Cottier et al. 2024, code output",
            "$2.089M",
            "within 2%",
            _amortized_gpt3,
        ),
        Check(
            "cost-gpt4-amortized",
            "cost",
            "GPT-4 amortized hardware + energy, point estimate, Epoch's inputs",
            "Cottier et al. 2024, code output",
            "$40,155,934",
            "within 1%",
            _amortized_gpt4_point,
            True,
        ),
        Check(
            "cost-gpt4-2023",
            "cost",
            "GPT-4 amortized cost in 2023 dollars, batch estimate over Epoch's data",
            "Cottier et al. 2024, Figure 1 / text",
            "about $40M",
            "inside flopcast's 90% interval, median within 1.5x",
            lambda ctx: _cost_2023(ctx, "GPT-4", 40e6),
            True,
        ),
        Check(
            "cost-gpt3-2023",
            "cost",
            "GPT-3 amortized cost in 2023 dollars, batch estimate over Epoch's data",
            "Cottier et al. 2024, text",
            "about $2.2M",
            "inside flopcast's 90% interval, median within 1.5x",
            lambda ctx: _cost_2023(ctx, "GPT-3 175B (davinci)", 2.2e6),
            True,
        ),
    ]


def _forecast_checks() -> list[Check]:
    return [
        Check(
            "trend-cost",
            "trend",
            "Growth of frontier training cost (amortized), top 10 at release, 2016-2023",
            "Cottier et al. 2024: 2.4x a year (90% CI 2.0-2.9)",
            "2.0-2.9 x/year",
            "estimate inside the interval",
            _trend_cost,
            True,
        ),
        Check(
            "forecast-largest-1b",
            "forecast",
            "Year the largest training run passes $1B, their trend (top 10 at release, 2016-2023) extrapolated",
            "Cottier et al. 2024: 'the largest training runs will cost more than a billion dollars by 2027'",
            "by 2027",
            "median year in 2026-2027",
            _forecast_cottier,
            True,
        ),
        Check(
            "forecast-compute-growth",
            "forecast",
            "Growth of frontier training compute, top 10 at release, 2010 on",
            "Sevilla and Roldan (Epoch, 2024): 4-5x a year",
            "4-5 x/year",
            "estimate inside the interval",
            _forecast_compute_growth,
            True,
        ),
        Check(
            "emulate-params",
            "emulation",
            "Compute-optimal model matching GPT-3's loss: parameters",
            "Cottier 2022, with the Hoffmann et al. 2022 fit",
            "about 15e9",
            "within 1%",
            _emulation("params_opt", 15e9, "parameters"),
        ),
        Check(
            "emulate-ratio",
            "emulation",
            "Compute-optimal model matching GPT-3's loss: compute saved",
            "Cottier 2022",
            "about 3x less compute",
            "within 1%",
            _emulation("compute_ratio", 3.0, "x"),
        ),
        Check(
            "emulate-refit-spread",
            "emulation",
            "Spread of the refit's parameter draws (the emulation interval): standard deviation of B",
            "Besiroglu et al. 2024 (arXiv 2404.10102), bootstrap standard error of B",
            "1293.23",
            "within 5%",
            _refit_spread,
        ),
        Check(
            "lag-opt",
            "diffusion",
            "OPT-175B after GPT-3 (publication dates)",
            "Cottier 2022: OPT-175B (May 2022) 23 months after GPT-3 (May 2020)",
            "23 months",
            "within 5%",
            _lag_opt,
            True,
        ),
        Check(
            "lag-open-weights",
            "diffusion",
            "Open-weights catch-up of the compute record-holders (top 1 at release) since 2018, KM median",
            "Epoch (2024), 'How far behind are open models?': open models trail closed ones by about 5-22 months",
            "5-22 months",
            "KM median inside the interval",
            _lag_open_weights,
            True,
        ),
    ]
