"""Training-run checks: time from a published layout and MFU, PaLM's HFU, and the utilization prior's coverage.

Layer: validation. The checks run :func:`flopcast.parallelism.layout_time` (time from a layout at a reported
MFU, with the pipeline bubble and goodput), :func:`flopcast.utilization.calculate` (``flopcast mfu calc``) and
:func:`flopcast.utilization.prior.coverage`. The published layouts, MFU and chip-hours are read from
``catalogs/data/published_runs.csv`` (each row cites its paper and table) and the shapes from the models
catalog; figures that live in neither are given here with their source.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flopcast.validation.rules import Check, Context, Outcome, close

#: OPT-175B's logbook (metaseq, projects/OPT/chronicles/final_update.md, 2022-01-07): "completed its training
#: run on 300B tokens. This required ~4.30E+23 FLOPs of compute, or roughly ~33 days of continuous training on
#: 1024 80GB A100s (assuming no hardware issues, no numerical instabilities, etc.)"
OPT_LOGBOOK = "https://github.com/facebookresearch/metaseq/blob/main/projects/OPT/chronicles/final_update.md"
OPT_COMPUTE_FLOP = 4.30e23
OPT_TOKENS = 300e9
OPT_DAYS = 33.0
#: OPT-175B ran FSDP with Megatron-LM tensor parallelism (Zhang et al. 2022, arXiv 2205.01068, Sec. 2.3); the
#: degree 8 is the one ``tests/test_parallelism.py`` uses. At a given MFU the time depends only on the chips.
OPT_TP = 8

#: PaLM 540B (Chowdhery et al. 2022, arXiv 2204.02311, Appendix B): 238.3K tokens/s on 6144 TPU v4, 540.35B
#: parameters, attention width 48 heads x 256; the same inputs as the ``mfu-palm`` check.
PALM_TOKENS_PER_S = 238.3e3
PALM_PARAMS = 540.35e9
PALM_D_ATTN = 48 * 256

#: Korthikanti et al. 2022 (arXiv 2205.05198), Table 3 (heads, hidden h, layers L, TP t, PP p, global batch B,
#: micro-batch, interleaving v; sequence 2048, vocabulary 51,200) and Table 5 (iteration time in seconds and
#: MFU with sequence parallelism and selective recomputation on 80 GB A100s, 312 TFLOP/s dense bf16): the
#: transcription ``tests/test_parallelism.py`` pins. GPUs = t x p (one data-parallel replica).
KORTHIKANTI_SEQ, KORTHIKANTI_VOCAB = 2048, 51200
KORTHIKANTI_TABLE_5: dict[str, dict[str, float]] = {
    "22B": dict(heads=64, h=6144, L=48, t=8, p=1, batch=4, mb=4, v=1, time=1.10, mfu=0.415),
    "175B": dict(heads=96, h=12288, L=96, t=8, p=8, batch=64, mb=1, v=3, time=13.75, mfu=0.514),
    "530B": dict(heads=128, h=20480, L=105, t=8, p=35, batch=280, mb=1, v=3, time=37.83, mfu=0.560),
    "1T": dict(heads=160, h=25600, L=128, t=8, p=64, batch=512, mb=1, v=1, time=71.49, mfu=0.563),
}
KORTHIKANTI_HARDWARE, KORTHIKANTI_PRECISION = "a100-sxm4-80gb", "bf16"

SECONDS_PER_DAY = 86400.0


@lru_cache(maxsize=1)
def published_runs() -> dict[str, dict[str, str]]:
    """The rows of ``catalogs/data/published_runs.csv`` by key (cells as text, read once)."""
    from flopcast.catalogs._table import read_rows

    rows, _ = read_rows("published_runs.csv", required=("key", "hardware", "chips", "mfu", "source"))
    return {r["key"]: r for r in rows}


def _num(row: dict[str, str], col: str) -> float:
    from flopcast.errors import CatalogError

    try:
        return float(row[col])
    except (KeyError, ValueError):
        raise CatalogError(f"published_runs.csv: row {row.get('key')!r} has no number in {col!r}") from None


def _sci(x: float, digits: int = 3) -> str:
    """``3.8e25``, as the sources write it (Python's ``3.8e+25`` without the plus)."""
    return f"{x:.{digits}g}".replace("e+", "e")


def _peak(hardware: str, precision: str | None) -> float:
    from flopcast.catalogs import bundled_hardware

    return float(bundled_hardware().get(hardware).peak_flop_per_s(precision or None))


def _shape(model: str, seq_len: float) -> Any:
    """A :class:`~flopcast.parallelism.ModelShape` from the models catalog's row."""
    from flopcast.catalogs import get_model
    from flopcast.catalogs.models import GATED_FFN
    from flopcast.errors import CatalogError
    from flopcast.parallelism import ModelShape

    s = get_model(model)
    if not (s.params and s.n_layers and s.d_model and s.n_heads):
        raise CatalogError(f"models.csv: {model!r} needs params, n_layers, d_model and n_heads for a layout")
    return ModelShape(
        params=float(s.params),
        n_layers=int(s.n_layers),
        d_model=int(s.d_model),
        n_heads=int(s.n_heads),
        seq_len=int(seq_len),
        vocab=int(s.vocab or 0),
        n_kv_heads=int(s.n_kv_heads) if s.n_kv_heads else None,
        ffn_hidden=int(s.ffn_hidden) if s.ffn_hidden else None,
        gated_ffn=s.ffn_activation in GATED_FFN,  # and, as the plan and the pipeline take them, no dropout
        dropout=s.ffn_activation not in GATED_FFN,
    )


# -- PaLM's HFU -----------------------------------------------------------------------------------------


def _hfu_palm(ctx: Context) -> Outcome:
    from flopcast.utilization import calculate

    row = published_runs()["palm-540b"]
    r = calculate("palm-540b", tokens_per_s=PALM_TOKENS_PER_S, params=PALM_PARAMS, d_attn=PALM_D_ATTN, recompute="palm")
    assert r.hfu is not None  # the throughput route always gives HFU
    published = _num(row, "hfu")
    return close(
        r.hfu,
        published,
        0.002 / published,
        "fraction",
        note=f"recompute='palm': 7.5 N + 16 L d T a token; MFU {r.utilization:.1%} from the same 238.3K tokens/s",
    )


# -- the utilization prior's coverage -------------------------------------------------------------------

#: issue 20's bar: the prior's 90% interval covers at least this share of the reported MFU values
PRIOR_COVERAGE_AT_LEAST = 0.85


def reported_mfu(ctx: Context) -> list[tuple[str, str, tuple[float, float | None, float | None, str | None]]]:
    """Every reported MFU, as ``(origin, name, (mfu, release_year, chips, precision))``: the database's models
    that report one, then the cited runs of published_runs.csv (:mod:`flopcast.utilization.observations`, the rows
    scripts/fit_utilization_prior.py fits)."""
    from flopcast.utilization.observations import database_observations, published_observations

    db = ctx.db()
    return [(o.origin, o.name, o.covariates) for o in (*database_observations(db), *published_observations(db))]


def _prior_coverage(ctx: Context) -> Outcome:
    from flopcast.utilization.prior import coverage

    obs = reported_mfu(ctx)
    inside = coverage(o[2] for o in obs)
    n, k = len(obs), sum(inside)
    by = {
        origin: (
            sum(ok for (o, _, _), ok in zip(obs, inside, strict=True) if o == origin),
            sum(o[0] == origin for o in obs),
        )
        for origin in ("database", "published")
    }
    missed = sorted(name for (_, name, _), ok in zip(obs, inside, strict=True) if not ok)
    share = k / n if n else 0.0
    return Outcome(
        share,
        "fraction",
        None,
        None,
        share / PRIOR_COVERAGE_AT_LEAST,
        n > 0 and share >= PRIOR_COVERAGE_AT_LEAST,
        note=f"{k} of {n} inside: {by['database'][0]}/{by['database'][1]} database, "
        f"{by['published'][0]}/{by['published'][1]} published runs; outside: {', '.join(missed) or 'none'}",
    )


# -- Llama 3 405B ---------------------------------------------------------------------------------------


def _llama3_time(mfu: float) -> Any:
    from flopcast.catalogs import get_model
    from flopcast.errors import CatalogError
    from flopcast.parallelism import Layout, layout_time

    row = published_runs()["llama3-405b-16k-gpus"]
    seq, dp = _num(row, "seq_len"), int(_num(row, "dp"))
    layout = Layout(
        tp=int(_num(row, "tp")),
        pp=int(_num(row, "pp")),
        dp=dp,
        micro_batch=1,
        n_micro=max(1, round(_num(row, "global_batch_tokens") / (dp * seq))),
        recompute="selective",
    )
    tokens = get_model(row["database_key"]).training_tokens  # llama-3.1-405b: 15.6T tokens (models.csv)
    if tokens is None:
        raise CatalogError(f"models.csv: {row['database_key']!r} has no training_tokens")
    return layout_time(
        _shape(row["database_key"], seq),
        layout,
        model_flop=_num(row, "training_compute_flop"),
        tokens=float(tokens),
        peak_flop_per_s=_peak(row["hardware"], row["precision"]),
        mfu=mfu,
    )


def _chip_hours_llama3(ctx: Context) -> Outcome:
    runs = published_runs()
    row = runs["llama3-405b-16k-gpus"]
    res = _llama3_time(_num(row, "mfu"))
    best, worst = _num(runs["llama3-405b-8k-gpus"], "mfu"), _num(runs["llama3-405b-16k-long-context"], "mfu")
    lo, hi = _llama3_time(best), _llama3_time(worst)  # Table 4's 43% (8K GPUs) and 38% (long context)
    return close(
        res.chip_hours,
        _num(row, "reported_chip_hours"),
        0.15,
        "chip-hours",
        note=f"{res.train_s / SECONDS_PER_DAY:.1f} days of steps at {_num(row, 'mfu'):.0%} MFU, goodput "
        f"{res.goodput:.2f} (466 interruptions in 54 days): {res.total_s / SECONDS_PER_DAY:.1f} days; "
        f"{lo.chip_hours / 1e6:.1f}M at {best:.0%}, {hi.chip_hours / 1e6:.1f}M at {worst:.0%}; the card's hours "
        "cover all of "
        "Llama 3.1 405B's training",
    )


# -- OPT-175B -------------------------------------------------------------------------------------------


def _time_opt(ctx: Context) -> Outcome:
    from flopcast.errors import CatalogError
    from flopcast.parallelism import Layout, layout_time

    row = published_runs()["opt-175b"]
    chips = int(_num(row, "chips"))
    if chips % OPT_TP:
        raise CatalogError(f"published_runs.csv: opt-175b's chips={chips} is not a multiple of TP {OPT_TP}")
    peak = _peak(row["hardware"], row["precision"])
    achieved = _num(row, "tflop_per_s_per_chip") * 1e12
    res = layout_time(
        _shape(row["database_key"], _num(row, "seq_len")),
        Layout(tp=OPT_TP, dp=chips // OPT_TP, zero=3, recompute="full"),
        model_flop=OPT_COMPUTE_FLOP,
        tokens=OPT_TOKENS,
        peak_flop_per_s=peak,
        mfu=achieved / peak,
        interruptions_per_chip_hour=0.0,  # the logbook's days assume no hardware issues
    )
    return close(
        res.train_s / SECONDS_PER_DAY,
        OPT_DAYS,
        0.15,
        "days",
        note=f"{_sci(OPT_COMPUTE_FLOP)} FLOP / ({chips} x {achieved / 1e12:g} TFLOP/s); the logbook's "
        f"{OPT_DAYS:g} days are on 1024 GPUs, no failures",
    )


# -- Korthikanti et al. 2022, Table 5 ----------------------------------------------------------------------


def _iteration_korthikanti(name: str) -> Callable[[Context], Outcome]:
    def run(ctx: Context) -> Outcome:
        from flopcast.parallelism import Layout, ModelShape, layout_time
        from flopcast.utilization import model_flop_per_token

        c = KORTHIKANTI_TABLE_5[name]
        h, L, B, s, v = int(c["h"]), int(c["L"]), int(c["batch"]), KORTHIKANTI_SEQ, KORTHIKANTI_VOCAB
        # eq. 7, 72 B L s h^2 (1 + s/(6h) + v/(12 h L)), is PaLM's (6 N + 12 L h s) x B s with N = 12 L h^2 + v h
        params = 12.0 * L * h**2 + v * h
        flop = float(model_flop_per_token(params, L, h, s)) * B * s
        res = layout_time(
            ModelShape(params=params, n_layers=L, d_model=h, n_heads=int(c["heads"]), seq_len=s, vocab=v),
            Layout(
                tp=int(c["t"]),
                pp=int(c["p"]),
                micro_batch=int(c["mb"]),
                n_micro=B // int(c["mb"]),
                interleave=int(c["v"]),
            ),
            model_flop=flop,
            tokens=B * s,
            peak_flop_per_s=_peak(KORTHIKANTI_HARDWARE, KORTHIKANTI_PRECISION),
            mfu=c["mfu"],
            interruptions_per_chip_hour=0.0,
        )
        return close(
            res.train_s,
            c["time"],
            0.10,
            "s",
            note=f"{_sci(flop, 4)} FLOP (eq. 7) on {res.chips} GPUs at {c['mfu']:.1%} MFU; "
            f"bubble {res.bubble_share:.1%}",
        )

    return run


def training_run_checks() -> list[Check]:
    """The training-run checks, in the order of docs/validation.md: PaLM's HFU, the prior's coverage, then the
    times from published layouts (Llama 3 405B, OPT-175B, Korthikanti et al. 2022's Table 5)."""
    runs = published_runs()
    palm, llama, opt = runs["palm-540b"], runs["llama3-405b-16k-gpus"], runs["opt-175b"]
    lay = ", ".join(f"{k.upper()} {int(_num(llama, k))}" for k in ("tp", "cp", "pp", "dp"))
    return [
        Check(
            "hfu-palm",
            "utilization",
            f"PaLM 540B HFU from 238.3K tokens/s on {int(_num(palm, 'chips'))} TPU v4, with its rematerialization",
            "Chowdhery et al. 2022 (arXiv 2204.02311), Sec. 4.1 Table 3, Appendix B and Table 22",
            f"{_num(palm, 'hfu'):.1%}",
            "within 0.2 percentage points",
            _hfu_palm,
        ),
        Check(
            "mfu-prior-coverage",
            "utilization",
            "Utilization prior: share of the reported MFU values inside its 90% interval at their chip, scale and "
            "precision (the database's models and the cited runs)",
            "Issue 20; the reported MFU of the embedded database (Epoch AI) and catalogs/data/published_runs.csv",
            "at least 85%",
            "at least 85% inside",
            _prior_coverage,
            True,
        ),
        Check(
            "time-llama3-405b",
            "compute",
            f"Llama 3 405B H100-hours: {_sci(_num(llama, 'training_compute_flop'))} FLOP on "
            f"{int(_num(llama, 'chips')):,} H100 ({lay}) at {_num(llama, 'mfu'):.0%} BF16 MFU, with goodput",
            "Llama Team 2024 (arXiv 2407.21783), Table 4 and Sec. 3.3.4; Meta's Llama 3.1 model card",
            f"{_num(llama, 'reported_chip_hours') / 1e6:.2f}M H100-hours",
            "within 15%",
            _chip_hours_llama3,
        ),
        Check(
            "time-opt-175b",
            "compute",
            f"OPT-175B training time: {_sci(OPT_COMPUTE_FLOP)} FLOP on {int(_num(opt, 'chips'))} 80GB A100 at "
            f"{_num(opt, 'tflop_per_s_per_chip'):g} TFLOP/s per GPU",
            f"Zhang et al. 2022 (arXiv 2205.01068), Sec. 1; the OPT logbook ({OPT_LOGBOOK})",
            f"about {OPT_DAYS:g} days",
            "within 15%",
            _time_opt,
        ),
    ] + [
        Check(
            f"time-korthikanti-{name.lower()}",
            "compute",
            f"GPT {name} iteration time from its layout (TP {int(c['t'])}, PP {int(c['p'])}"
            + (f" x{int(c['v'])} interleaved" if c["v"] > 1 else "")
            + f", batch {int(c['batch'])}) and MFU {c['mfu']:.1%}, sequence parallelism and selective recompute",
            "Korthikanti et al. 2022 (arXiv 2205.05198), Tables 3 and 5",
            f"{c['time']:g} s",
            "within 10%",
            _iteration_korthikanti(name),
        )
        for name, c in KORTHIKANTI_TABLE_5.items()
    ]
