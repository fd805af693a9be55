"""``flopcast mfu``: utilization from reported figures (calc) and measured here (measure).

Registered in the main app with ``app.add_typer(mfu_app, name="mfu")``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flopcast.cli import options as opt
from flopcast.cli.parse import console as _console
from flopcast.cli.parse import echo_json, parse_point, print_table
from flopcast.defaults import DEFAULT_ATTENTION
from flopcast.errors import InvalidInputError

mfu_app = typer.Typer(
    help="Utilization: MFU/HFU from reported figures, or measured on this machine.", no_args_is_help=True
)


@mfu_app.command("calc")
def calc_cmd(
    model: Annotated[
        str | None, typer.Argument(help="A catalog model (fills shape, chips, hardware, compute, time).")
    ] = None,
    tokens_per_s: Annotated[str | None, typer.Option(help="Training throughput in tokens/s (all chips).")] = None,
    samples_per_s: Annotated[str | None, typer.Option(help="Training throughput in sequences/s (x --context).")] = None,
    achieved_per_chip: Annotated[
        str | None, typer.Option(help="Reported achieved FLOP/s per chip (e.g. 147e12).")
    ] = None,
    compute: Annotated[str | None, typer.Option(help="Training compute in FLOP (with --training-hours).")] = None,
    training_hours: Annotated[str | None, typer.Option(help="Wall-clock training time in hours.")] = None,
    params: Annotated[str | None, typer.Option(help="Parameters N (all of them, PaLM's convention).")] = None,
    layers: Annotated[int | None, typer.Option(help="Layers (for the attention term).")] = None,
    d_model: Annotated[int | None, typer.Option(help="Model width (for the attention term).")] = None,
    d_attn: Annotated[
        int | None, typer.Option(help="Attention width, heads x head size, where it differs from --d-model.")
    ] = None,
    context: Annotated[int | None, typer.Option(help="Sequence length in training.")] = None,
    chips: Annotated[int | None, typer.Option(help="Chips.")] = None,
    hardware: Annotated[str | None, typer.Option(help="Chip (its catalog peak is used).")] = None,
    precision: Annotated[str | None, typer.Option(help="Peak at this precision (bf16, fp16, tf32, fp32, fp8).")] = None,
    peak: Annotated[str | None, typer.Option(help="Peak FLOP/s per chip, instead of the catalog's.")] = None,
    attention: opt.Attention = DEFAULT_ATTENTION,
    recompute: Annotated[
        str,
        typer.Option(
            help="For HFU: none, selective (attention), full (whole forward) or palm (PaLM 540B's: 75% of the "
            "non-attention forward and all of the attention forward)."
        ),
    ] = "none",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """MFU from throughput, utilization from achieved FLOP/s, or the utilization a training run implies."""
    from flopcast.service import mfu_calculation

    for name, v in (
        ("layers", layers),
        ("d-model", d_model),
        ("d-attn", d_attn),
        ("context", context),
        ("chips", chips),
    ):
        if v is not None and v < 1:
            raise InvalidInputError(f"--{name}={v} must be >= 1")
    r = mfu_calculation(
        model,
        params=parse_point("params", params),
        n_layers=layers,
        d_model=d_model,
        context=context,
        tokens_per_s=parse_point("tokens-per-s", tokens_per_s),
        samples_per_s=parse_point("samples-per-s", samples_per_s),
        achieved_flop_per_s_per_chip=parse_point("achieved-per-chip", achieved_per_chip),
        compute_flop=parse_point("compute", compute),
        training_hours=parse_point("training-hours", training_hours),
        chips=chips,
        hardware=hardware,
        precision=precision,
        peak_flop_per_s=parse_point("peak", peak),
        attention=attention,
        recompute=recompute,
        d_attn=d_attn,
    )
    if as_json:
        echo_json(r.to_dict())
        return
    con = _console()
    label = {"throughput": "MFU", "achieved": "Utilization (achieved / peak)", "implied": "Implied utilization"}
    con.print(
        f"[bold]{label[r.method]}: {r.utilization:.1%}[/bold]"
        + (f"   HFU (recompute {recompute}): {r.hfu:.1%}" if r.hfu is not None else "")
    )
    con.print(
        f"achieved {r.achieved_flop_per_s_per_chip / 1e12:,.1f} TFLOP/s per chip of a peak of "
        f"{r.peak_flop_per_s / 1e12:,.1f} ({r.peak_origin})"
    )
    con.print(f"convention: {r.convention}")
    for n in r.notes:
        con.print(f"note: {n}")


@mfu_app.command("measure")
def measure_cmd(
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    config: Annotated[str, typer.Option(help="A preset (small, medium, large) or a TOML/JSON file.")] = "small",
    steps: Annotated[int, typer.Option(help="Training steps, warm-up included.")] = 20,
    warmup: Annotated[int, typer.Option(help="Warm-up steps excluded from the statistics.")] = 3,
    batch: Annotated[int | None, typer.Option(help="Override the config's batch size.")] = None,
    precision: Annotated[
        str | None, typer.Option(help="Override the config's precision: fp32, bf16, fp16 (CUDA).")
    ] = None,
    peak: Annotated[
        str | None, typer.Option(help="Peak FLOP/s to divide by, instead of the catalog's or a measured one.")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (default: PyTorch's).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    repeats: Annotated[
        int, typer.Option(help="Run the configuration this many times (1-20) and report the spread between runs.")
    ] = 1,
    quiet: opt.Quiet = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train a GPT-style decoder for a few steps and report MFU: total FLOP / total time, and per step."""
    from flopcast.service import mfu_config, mfu_measurement

    try:
        cfg = mfu_config(config, batch=batch, precision=precision)
    except OSError as exc:  # a file that exists but cannot be read (permissions, a device, an I/O error)
        reason = exc.strerror or str(exc)
        raise InvalidInputError(
            f"--config={config!r}: the file cannot be read ({reason[:1].lower() + reason[1:]}); "
            "give a readable TOML or JSON file, or a preset name"
        ) from None
    from flopcast.cli.progress import working
    from flopcast.formatting import plural

    times = f", {repeats} times" if repeats > 1 else ""
    with working(
        f"Training {cfg.name} for {plural(steps, 'step')} on {device}{times} (a minute or two)",
        quiet=quiet,
        as_json=as_json,
    ):
        m = mfu_measurement(
            cfg,
            device=device,
            steps=steps,
            warmup=warmup,
            seed=seed,
            peak_flop_per_s=parse_point("peak", peak),
            threads=threads,
            repeats=repeats,
        )
    d = m.to_dict()
    if as_json:
        echo_json(d)
        return
    from rich.table import Table

    from flopcast.formatting import label

    con = _console()
    s, e = d["mfu"], d["effective"]
    n = d["headline"]["measured_steps"]
    con.print(
        f"[bold]MFU {s['headline']:.1%}[/bold] (total FLOP / total time of {plural(n, 'measured step')})   "
        f"{d['tokens_per_s']:,.0f} tokens/s"
    )
    con.print(
        f"per step: median {s['median']:.1%}, mean {s['mean']:.1%}, p5-p95 {s['p5']:.1%}-{s['p95']:.1%}, "
        f"min-max {s['min']:.1%}-{s['max']:.1%}"
    )
    con.print(
        f"effective {e['mfu']:.1%} over the whole wall time of {e['wall_time_s']:,.2f} s (set-up and warm-up "
        f"included; {e['training_time_fraction']:.0%} of it in training steps)"
    )
    con.print(
        f"config {cfg.name}: {cfg.n_layers} layers x {cfg.d_model} wide, {cfg.n_heads} heads, context "
        f"{cfg.context}, vocab {cfg.vocab:,}, batch {cfg.batch}, {cfg.precision} on {d['device']} "
        f"({d['device_name']})"
    )
    con.print(f"peak {d['peak_flop_per_s'] / 1e12:,.3f} TFLOP/s: {d['peak_origin']}")
    f = d["flop_per_step"]
    con.print(
        f"FLOP per step {f['analytic']:.4g} (analytic); PyTorch's counter {f['counted_math_attention']:.4g} "
        f"(ratio {f['counted_over_analytic']:.4f})"
    )
    t = Table(title="The same run, quoted different ways")
    t.add_column("quote")
    t.add_column("MFU", justify="right", no_wrap=True)
    for k, v in d["quotes"].items():
        t.add_row(label(k), f"{v:.1%}")
    print_table(con, t)
    r = d["repeats"]
    if r["n"] > 1:
        t = Table(title=f"{r['n']} runs of the same configuration (fresh model, seed {seed})")
        for col in ("run", "MFU (total / total)", "effective", "median step", "tokens/s"):
            t.add_column(col, justify="right", no_wrap=True)
        for i, run in enumerate(r["runs"], 1):
            t.add_row(
                str(i),
                f"{run['headline']:.1%}",
                f"{run['effective']:.1%}",
                f"{run['median_step']:.1%}",
                f"{run['tokens_per_s']:,.0f}",
            )
        print_table(con, t)
        con.print(
            f"between runs: median {r['median']:.1%}, min-max {r['min']:.1%}-{r['max']:.1%}, relative spread "
            f"{r['relative_spread']:.1%} of the median, coefficient of variation {r['cv']:.1%}"
        )
