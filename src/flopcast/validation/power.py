"""Power, energy and emissions checks, and DeepSeek-V3's cost at its stated price.

Layer: validation. Each runs ``flopcast estimate`` (or ``costs``) through the service, on the context's
database.
"""

from __future__ import annotations

import statistics

from flopcast.validation.rules import Check, Context, Outcome, close

#: J in a MWh
_J_PER_MWH = 3.6e9


def _factor(value: float, published: float, factor: float, unit: str, note: str = "") -> Outcome:
    """Pass when flopcast's value / the published one lies within [1/factor, factor] (the ratio shown)."""
    r = value / published
    return Outcome(value, unit, None, None, r, 1 / factor <= r <= factor, note)


def _energy_gpt3(ctx: Context) -> Outcome:
    e = ctx.estimate("gpt-3")
    s = e.energy_facility_j
    return _factor(
        s.median,
        1_287.0 * _J_PER_MWH,
        1.5,
        "J",
        note=f"90% CI {s.p5 / _J_PER_MWH:,.0f}-{s.p95 / _J_PER_MWH:,.0f} MWh; Cottier et al.'s 0.75 average power and "
        "PUE 1.25 against the paper's measured 330 W per chip and PUE 1.10",
    )


def _emissions_gpt3(ctx: Context) -> Outcome:
    from flopcast.service import MoneyOptions

    e = ctx.estimate("gpt-3", money=MoneyOptions(grid="patterson-gpt3"))
    s = e.emissions_kg_co2e
    return _factor(
        s.median,
        552.1e3,
        1.5,
        "kg CO2e",
        note=f"at the paper's 0.429 kg CO2e/kWh (--grid patterson-gpt3); 90% CI {s.p5 / 1e3:,.0f}-{s.p95 / 1e3:,.0f} t",
    )


def _energy_llama2(ctx: Context) -> Outcome:
    e = ctx.estimate("llama-2-70b", point=True)
    return close(
        e.central["energy_chip_j"],
        688.128 * _J_PER_MWH,
        0.05,
        "J",
        note="chip-level: 1,720,320 A100-hours x 400 W (the A100 SXM4 80 GB's TDP)",
    )


def _deepseek_v3(ctx: Context) -> Outcome:
    from flopcast.service import training_estimate

    e = training_estimate(
        params=37e9,
        params_active=37e9,
        tokens=14.8e12,
        hardware="h800",
        chip_hours=2.788e6,
        price_per_chip_hour=2.0,
        method="cloud",
        point=True,
        db=ctx.db(),
    )
    return close(e.cost_usd["cloud"].median, 5.576e6, 1e-9, "USD")


def _power_epoch(ctx: Context) -> Outcome:
    ratios = [
        e.peak_power_w.median / e.reported_power_w
        for e in _batch(ctx).estimates
        if e.reported_power_w and e.peak_power_w is not None
    ]
    if not ratios:
        return Outcome(float("nan"), "x", passed=False, note="no model has both figures")
    med = statistics.median(ratios)
    return Outcome(
        med,
        "x",
        ratio=med,
        passed=0.8 <= med <= 1.25,
        note=f"median over {len(ratios)} models of flopcast's peak power / Epoch's figure",
    )


def _batch(ctx: Context):
    from flopcast.service import cost_table

    return ctx.cached("batch:power", lambda: cost_table(db=ctx.db(), samples=256).result)


def power_checks() -> list[Check]:
    """The power, energy and emissions checks, in the order of docs/validation.md."""
    return [
        Check(
            "power-epoch-draw",
            "power",
            "Peak power against Epoch's 'Training power draw (W)', median ratio over the models with both",
            "Epoch AI, AI models database (chips x TDP x server overhead x PUE)",
            "ratio 1",
            "median ratio within 0.8-1.25",
            _power_epoch,
            True,
        ),
        Check(
            "energy-gpt3",
            "power",
            "GPT-3 facility-level energy",
            "Patterson et al. 2021 (arXiv 2104.10350), Table 4",
            "1,287 MWh",
            "within 1.5x",
            _energy_gpt3,
        ),
        Check(
            "emissions-gpt3",
            "power",
            "GPT-3 emissions at the paper's grid intensity (0.429 kg CO2e/kWh)",
            "Patterson et al. 2021 (arXiv 2104.10350), Table 4",
            "552 tCO2e",
            "within 1.5x",
            _emissions_gpt3,
        ),
        Check(
            "energy-llama2-70b",
            "power",
            "Llama 2 70B chip-level energy (GPU-hours x 400 W), point estimate",
            "Touvron et al. 2023 (arXiv 2307.09288), CO2 table",
            "688 MWh",
            "within 5%",
            _energy_llama2,
        ),
        Check(
            "cost-deepseek-v3",
            "cost",
            "DeepSeek-V3: 2.788M H800-hours at the stated $2 per GPU-hour",
            "DeepSeek-AI 2024 (arXiv 2412.19437), Table 1",
            "$5.576M",
            "within 0.0001%",
            _deepseek_v3,
        ),
    ]
