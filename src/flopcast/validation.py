"""``flopcast validate``: every published reference check the project holds, rerunnable by anyone.

Each :class:`Check` names its source (paper, table, page), the published value or interval, and a
rule; running it computes flopcast's value (with its 90% interval where it has one) through the
same functions the CLI uses and decides pass or fail. Checks that need Epoch's databases are
skipped, not failed, when no data folder is given or cached. ``docs/validation.md`` is generated
from :func:`render_markdown` and a test keeps the two in step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PASS, FAIL, SKIP = "pass", "fail", "skipped"


@dataclass
class Outcome:
    value: float
    unit: str = ""
    low: float | None = None
    high: float | None = None
    ratio: float | None = None
    passed: bool = False
    note: str = ""


@dataclass
class Check:
    id: str
    area: str
    title: str
    source: str
    expected: str
    rule: str
    run: Callable
    needs_data: bool = False


@dataclass
class Result:
    check: Check
    status: str
    outcome: Outcome | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        c, o = self.check, self.outcome
        d = {
            "id": c.id,
            "area": c.area,
            "check": c.title,
            "source": c.source,
            "expected": c.expected,
            "rule": c.rule,
            "status": self.status,
        }
        if o is not None:
            d.update(value=o.value, unit=o.unit, low=o.low, high=o.high, ratio=o.ratio, note=o.note)
        if self.reason:
            d["reason"] = self.reason
        return d


# -- rules --------------------------------------------------------------------------------


def close(value: float, expected: float, rel: float, unit: str = "", low=None, high=None, note="") -> Outcome:
    """Pass when value / expected is within 1 +- rel."""
    r = value / expected
    return Outcome(value, unit, low, high, r, abs(r - 1) <= rel + 1e-12, note)


def within_factor(measured: float, value: float, factor: float, unit: str = "", note="") -> Outcome:
    """Pass when measured / flopcast is within [1/factor, factor]."""
    r = measured / value
    return Outcome(value, unit, None, None, r, 1 / factor <= r <= factor, note)


def covers(
    expected: float, median: float, low: float, high: float, unit: str = "", max_factor=None, note=""
) -> Outcome:
    """Pass when flopcast's 90% interval contains the published value (and, optionally, the median is close)."""
    r = median / expected
    ok = low <= expected <= high and (max_factor is None or 1 / max_factor <= r <= max_factor)
    return Outcome(median, unit, low, high, r, ok, note)


def inside(value: float, lo: float, hi: float, unit: str = "", low=None, high=None, note="") -> Outcome:
    """Pass when flopcast's value lies in the published interval."""
    mid = math.sqrt(lo * hi)
    return Outcome(value, unit, low, high, value / mid, lo <= value <= hi, note)


# -- context ------------------------------------------------------------------------------


@dataclass
class Context:
    data: str | None
    _cache: dict = field(default_factory=dict)

    def cached(self, key: str, make: Callable):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def db(self):
        from flopcast.service import database

        return self.cached("db", lambda: database(self.data))

    def estimate(self, name: str, **kw):
        """The estimate ``flopcast estimate NAME`` prints (the same function, on this database)."""
        from flopcast.service import training_estimate

        key = f"estimate:{name}:{sorted(kw.items())}"
        return self.cached(key, lambda: training_estimate(name, db=self.db(), **kw))


# -- the checks ---------------------------------------------------------------------------

BLOG = "Hugging Face 2022, 'Incredibly Fast BLOOM Inference with DeepSpeed and Accelerate'"


def _gpt3_central(ctx):
    return ctx.estimate("gpt-3", point=True)


def _compute_gpt3(ctx):
    from flopcast.compute import training_compute_flop

    return close(float(training_compute_flop(175e9, 300e9)), 3.14e23, 0.01, "FLOP")


def _compute_chinchilla(ctx):
    from flopcast.compute import training_compute_flop

    return close(
        float(training_compute_flop(70e9, 1.4e12)),
        5.76e23,
        0.03,
        "FLOP",
        note="6ND = 5.88e23; the paper's 5.76e23 counts FLOP in detail",
    )


def _cloud_gpt3(ctx):
    return close(_gpt3_central(ctx).central["cost_usd.cloud"], 4_120_320, 1e-6, "USD")


def _amortized_gpt3(ctx):
    return close(
        _gpt3_central(ctx).central["cost_usd.amortized"],
        2.089e6,
        0.02,
        "USD",
        note="300 W V100 SXM2 TDP (datasheet) against Cottier's 250 W",
    )


def _amortized_gpt4_point(ctx):
    e = ctx.estimate("GPT-4", point=True)
    return close(e.central["cost_usd.amortized"], 40_155_934, 0.01, "USD")


def _cost_2023(ctx, name, published):
    s = ctx.estimate(name, year_dollars=2023).cost_usd["amortized"]
    return covers(published, s.median, s.p5, s.p95, "USD", max_factor=1.5)


def _compute_interval_gpt3(ctx):
    s = ctx.estimate("gpt-3").training_compute_flop
    ok = 3.14e23 * 0.85 <= s.p5 and s.p95 <= 3.14e23 * 1.15
    return Outcome(
        s.median,
        "FLOP",
        s.p5,
        s.p95,
        s.median / 3.14e23,
        ok,
        note="published parameters and tokens: only the spread between counting conventions",
    )


def _compute_interval_gpt4(ctx):
    g3, g4 = ctx.estimate("gpt-3").training_compute_flop, ctx.estimate("gpt-4").training_compute_flop
    w3, w4 = g3.p95 / g3.p5, g4.p95 / g4.p5
    return Outcome(
        g4.median,
        "FLOP",
        g4.p5,
        g4.p95,
        g4.median / 2.1e25,
        w4 > w3,
        note=f"90% interval {w4:.3g}x wide against GPT-3's {w3:.3g}x (Epoch: 'Speculative')",
    )


def _compute_llama31(ctx):
    s = ctx.estimate("llama-3.1-405b").compute_from_params_flop
    return close(
        s.median, 3.8e25, 0.15, "FLOP", s.p5, s.p95, note="6ND plus PaLM's 12 L T d_attn at the 8K pretraining length"
    )


def _chip_hours_llama2(ctx):
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


def _trend_cost(ctx):
    from flopcast.service import trend_analysis

    t = ctx.cached(
        "trend_cost", lambda: trend_analysis("cost", top=10, since=2016, until=2023, bootstrap=0, db=ctx.db())
    )
    g = t.fit.growth_per_year()
    return inside(
        g["estimate"], 2.0, 2.9, "x/year", g["low"], g["high"], note=f"{t.out['n_models']} models, fine-tunes left out"
    )


def _emulation(attr, expected, unit):
    def run(ctx):
        from flopcast.scaling import emulate

        return close(float(getattr(emulate(175e9, 300e9), attr)), expected, 0.01, unit)

    return run


def _lag_opt(ctx):
    from flopcast.lags import lag_between

    return close(lag_between(ctx.db().records, "gpt-3", "opt-175b"), 23, 0.05, "months")


def _bloom_chips(ctx):
    from flopcast.deployment import min_chips_to_fit, practical_chips, weight_bytes

    need = float(min_chips_to_fit(weight_bytes(176e9, "bf16"), 80e9, usable_fraction=1.0))
    return Outcome(
        float(practical_chips(need)),
        "chips",
        None,
        None,
        None,
        need == 5 and practical_chips(need) == 8,
        note=f"{need:.0f} chips hold 352 GB; the next power of two is used",
    )


def _bloom_bound(ctx):
    from flopcast.deployment import decode_step_s

    t = float(
        decode_step_s(
            params_active=176e9,
            weights_bytes=352e9,
            kv_per_token_bytes=0,
            batch=1,
            context=1,
            chips=8,
            peak_flop_per_s=312e12,
            memory_bandwidth_bytes_per_s=2.039e12,
            eff_memory=1.0,
            eff_compute=1.0,
            overlap="full",
        )
    )
    return close(t * 1e3, 22.0, 0.03, "ms")


def _bloom_day(ctx):
    from flopcast.deployment import estimate_deployment

    e = estimate_deployment(
        "bloom-176b",
        hardware="a100-80gb",
        chips=8,
        batch=64,
        context=300,
        tokens_per_day=1e6,
        price_usd_per_chip_hour=1.25,
        samples=2000,
    )
    return close(e.usd_per_day.median, 240.0, 1e-9, "USD")


def _api_cost(ctx):
    from flopcast.deployment import api_cost_usd, words_to_tokens

    return close(float(api_cost_usd(words_to_tokens(150e6, 0.75), 0.02)), 4000.0, 1e-9, "USD")


def _twitter_ratio(ctx):
    from flopcast.deployment import estimate_deployment

    e = estimate_deployment(
        "bloom-176b",
        hardware="a100-80gb",
        batch=32,
        context=1024,
        scenario="twitter-1pct",
        vs_training=True,
        samples=4000,
    )
    r = e.vs_training["ratio"]
    return covers(0.20, r["median"], r["p5"], r["p95"], "ratio")


def _bloom_row(i):
    def run(ctx):
        from flopcast.deployment import bloom_validation

        r = ctx.cached("bloom", bloom_validation)[i]
        return within_factor(r["measured_ms"], r["flopcast_ms"], 2.0, "ms")

    return run


def _mfu_opt(ctx):
    from flopcast.utilization import calculate

    return close(calculate("opt-175b", achieved_flop_per_s_per_chip=147e12).utilization, 0.47, 0.01, "fraction")


def _mfu_gpt3(ctx):
    from flopcast.utilization import calculate

    return close(calculate("gpt-3").utilization, 24.6 / 125, 0.01, "fraction")


def _mfu_palm(ctx):
    from flopcast.utilization import calculate

    u = calculate("palm-540b", tokens_per_s=238.3e3, params=540.35e9, d_attn=48 * 256).utilization
    return close(u, 0.462, 0.002, "fraction")


def _hw_ratio(attr, expected):
    def run(ctx):
        from flopcast.comparison import compare_hardware

        return close(getattr(compare_hardware("v100", "a100"), attr), expected, 0.01, "x")

    return run


def all_checks() -> list[Check]:
    checks = [
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
        Check(
            "cost-gpt3-cloud",
            "cost",
            "GPT-3 cloud cost, point estimate (3,552,000 chip-hours x $1.16)",
            "Cottier et al. 2024 (arXiv 2405.21015), method and code",
            "$4,120,320",
            "within 0.0001%",
            _cloud_gpt3,
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
            "deploy-bloom-chips",
            "deployment",
            "BLOOM-176B bf16 weights on A100 80GB",
            "Cottier 2022 / Hugging Face 2022: 352 GB, 8x A100 80GB",
            "5 chips hold it, 8 used",
            "exact",
            _bloom_chips,
        ),
        Check(
            "deploy-bloom-bound",
            "deployment",
            "BLOOM-176B batch-1 decode bandwidth bound on 8x A100 (2.039 TB/s)",
            "Hugging Face 2022 (about 22 ms at least; 44 ms measured)",
            "about 22 ms",
            "within 3%",
            _bloom_bound,
        ),
        Check(
            "deploy-bloom-day",
            "deployment",
            "One BLOOM instance (8x A100) a day at $1.25 per GPU-hour",
            "Cottier 2022",
            "$240 a day",
            "exact",
            _bloom_day,
        ),
        Check(
            "deploy-api",
            "deployment",
            "150M words through an API at $0.02 per 1k tokens, 0.75 words a token",
            "Cottier 2022",
            "$4,000",
            "exact",
            _api_cost,
        ),
        Check(
            "deploy-twitter",
            "deployment",
            "Serving 1% of Twitter for a year against developing the model",
            "Cottier 2022: about 20% (90% CI 10-68%)",
            "20%",
            "inside flopcast's 90% interval",
            _twitter_ratio,
        ),
        Check(
            "mfu-opt",
            "utilization",
            "OPT-175B: 147 TFLOP/s per A100 against the 312 TFLOP/s peak",
            "Zhang et al. 2022 (arXiv 2205.01068)",
            "about 47%",
            "within 1%",
            _mfu_opt,
        ),
        Check(
            "mfu-gpt3",
            "utilization",
            "GPT-3: utilization implied by 3.14e23 FLOP on 10,000 V100 for 14.8 days",
            "Patterson et al. 2021 (arXiv 2104.10350): 24.6 of 125 TFLOP/s",
            "19.7%",
            "within 1%",
            _mfu_gpt3,
        ),
        Check(
            "mfu-palm",
            "utilization",
            "PaLM 540B MFU from 238.3K tokens/s on 6144 TPU v4",
            "Chowdhery et al. 2022 (arXiv 2204.02311), Appendix B",
            "46.2%",
            "within 0.2%",
            _mfu_palm,
        ),
        Check(
            "hw-peak",
            "hardware",
            "A100 against V100: peak FLOP/s (dense fp16/bf16 tensor)",
            "NVIDIA datasheets: 312 vs 125 TFLOP/s",
            "2.5x",
            "within 1%",
            _hw_ratio("peak_flop_per_s_ratio", 2.5),
        ),
        Check(
            "hw-memory",
            "hardware",
            "A100 80GB against V100 32GB: memory",
            "NVIDIA datasheets",
            "2.5x",
            "within 1%",
            _hw_ratio("memory_bytes_ratio", 2.5),
        ),
    ]
    from flopcast.deployment import bloom_validation

    for i, r in enumerate(bloom_validation()):
        checks.append(
            Check(
                f"bloom-{r['system'].lower()}-{r['precision']}-{r['chips']}gpu-bs{r['batch']}",
                "deployment",
                f"BLOOM-176B ms/token: {r['system']} {r['precision']} ({r['weight_kernel']} kernel), {r['chips']} GPUs, "
                f"batch {r['batch']}",
                BLOG,
                f"{r['measured_ms']:g} ms",
                "within 2x",
                _bloom_row(i),
            )
        )
    return checks


def run_checks(data: str | Path | None = None, only: str | None = None) -> list[Result]:
    """Run every check (or those whose id or area starts with ``only``) on the database of ``data``."""
    from flopcast.errors import FlopcastError

    ctx = Context(None if data is None else str(data))
    ctx.db()  # a wrong --data fails here, once
    results = []
    for c in all_checks():
        if only and not (c.id.startswith(only) or c.area == only):
            continue
        try:
            o = c.run(ctx)
        except FlopcastError as exc:
            results.append(Result(c, FAIL, reason=str(exc)))
            continue
        results.append(Result(c, PASS if o.passed else FAIL, o))
    return results


def _fmt(x, unit: str) -> str:
    from flopcast.formatting import format_value

    if x is None:
        return ""
    if unit == "fraction":
        return f"{x:.1%}"
    if unit in ("x", "x/year"):
        return f"{x:.3g}x"
    if unit in ("ms", "months"):
        return f"{x:.3g} {unit}"
    if unit == "ratio":
        return f"{x:.0%}"
    if unit == "FLOP":
        return f"{x:.3g} FLOP"
    return format_value(x, unit)


def value_text(r: Result) -> str:
    o = r.outcome
    if o is None:
        return "-"
    s = _fmt(o.value, o.unit)
    if o.low is not None and o.high is not None:
        s += f" ({_fmt(o.low, o.unit)}-{_fmt(o.high, o.unit)})"
    return s


def render_markdown(results: list[Result], source: str = "") -> str:
    n = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, SKIP)}
    lines = [
        "# Validation: flopcast against published figures",
        "",
        "Generated by `flopcast validate --markdown`"
        + (f" on {source}" if source else "")
        + "; `tests/test_validation.py` regenerates it and fails if this file differs. Run it yourself with "
        "`flopcast validate` (`--data DIR` runs it on another copy of Epoch's database).",
        "",
        f"**{n[PASS]} pass, {n[FAIL]} fail, {n[SKIP]} skipped.** The ratio is flopcast's value over the "
        "published one (for the BLOOM rows: measured over flopcast's). Values in brackets are flopcast's 90% "
        "interval where the quantity is uncertain.",
        "",
        "| id | check | source | published | flopcast | ratio | rule | result |",
        "|---|---|---|---|---|---:|---|---|",
    ]
    for r in results:
        o = r.outcome
        ratio = f"{o.ratio:.3f}" if o is not None and o.ratio is not None else ""
        status = r.status if not r.reason else f"{r.status}: {r.reason}"
        note = f" ({o.note})" if o is not None and o.note else ""
        lines.append(
            f"| {r.check.id} | {r.check.title}{note} | {r.check.source} | {r.check.expected} | "
            f"{value_text(r)} | {ratio} | {r.check.rule} | {status} |"
        )
    lines.append("")
    return "\n".join(lines)
