"""``flopcast report`` (a self-contained HTML file) and ``flopcast serve`` (the local web app)."""

from __future__ import annotations

from typing import Annotated

import typer

from flopcast.cli import options as opt
from flopcast.defaults import DEFAULT_SAMPLING, DEFAULT_SEED
from flopcast.errors import InvalidInputError

#: the most worker processes ``serve --workers`` starts (each holds its own copy of the database)
MAX_WORKERS = 64


def report_cmd(
    name: Annotated[
        str | None, typer.Argument(help="A model of the database, or none for an ad-hoc run described by flags.")
    ] = None,
    out: Annotated[
        str, typer.Option(help="The HTML file to write (atomically; - for standard output).")
    ] = "report.html",
    params: Annotated[str | None, typer.Option(help="Parameters (point or low..high).")] = None,
    tokens: Annotated[str | None, typer.Option(help="Training tokens.")] = None,
    compute: Annotated[str | None, typer.Option(help="Training compute in FLOP.")] = None,
    hardware: Annotated[str | None, typer.Option(help="Chip, e.g. a100, h100.")] = None,
    chips: Annotated[str | None, typer.Option(help="Number of chips.")] = None,
    days: Annotated[str | None, typer.Option(help="Wall-clock training time in days.")] = None,
    utilization: Annotated[str | None, typer.Option(help="MFU, a fraction in (0, 1].")] = None,
    price_per_chip_hour: Annotated[str | None, typer.Option(help="Cloud price, USD per chip-hour.")] = None,
    chip_price: Annotated[str | None, typer.Option(help="Purchase price of one chip, USD.")] = None,
    year_dollars: opt.YearDollars = None,
    scenario: Annotated[
        str | None, typer.Option(help="Deployment scenario for the serving section (default twitter-1pct).")
    ] = None,
    data: opt.Data = None,
    samples: opt.Samples = None,
    sampling_precision: opt.SamplingPrecision = None,
    seed: opt.Seed = DEFAULT_SEED,
    quiet: opt.Quiet = False,
) -> None:
    """Write one self-contained HTML report: inputs, costs, distributions, sensitivity, hardware, serving, trend."""
    from flopcast.cli.parse import parse_value
    from flopcast.reporting.html import build_report, write_report
    from flopcast.reporting.output import check_writable, output_target
    from flopcast.service import sample_count

    samples = sample_count(samples, sampling_precision, DEFAULT_SAMPLING)

    target = output_target(out, label="--out")  # standard output, a device or a regular file
    if target.is_file and not out.lower().endswith((".html", ".htm")):
        raise InvalidInputError(f"--out={out!r} must end in .html")
    if not (2 <= samples <= 1_000_000):
        raise InvalidInputError(f"--samples={samples} is outside 2..1,000,000")
    check_writable(target)  # a folder that cannot be written in fails before the work
    args = dict(
        params=parse_value("params", params),
        tokens=parse_value("tokens", tokens),
        compute=parse_value("compute", compute),
        hardware=hardware,
        chips=parse_value("chips", chips),
        days=parse_value("days", days),
        utilization=parse_value("utilization", utilization, fraction=True),
        price_per_chip_hour=parse_value("price-per-chip-hour", price_per_chip_hour),
        chip_price=parse_value("chip-price", chip_price),
        year_dollars=year_dollars,
    )
    args = {k: v for k, v in args.items() if v is not None}
    from flopcast.cli.progress import working

    with working("Building the report", quiet=quiet):
        html = build_report(name, estimate_args=args, scenario=scenario, data=data, samples=samples, seed=seed)
    path = write_report(out, html, label="--out")
    # the report itself may be on standard output: the note then goes to standard error
    typer.echo(f"wrote {path} ({len(html.encode()) / 1024:,.0f} KiB)", err=target.kind == "stream")


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to bind (default: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    data: opt.Data = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another Host header to answer (NAME or NAME:PORT), e.g. this machine's name on a network; repeatable.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes that run the estimates (default: one per core this process may use); "
            "1 runs them in the server's own process.",
        ),
    ] = None,
) -> None:
    """Run the local web app: calculators, hardware comparison, trend explorer and a JSON API under /api."""
    if not (1 <= port <= 65_535):
        raise InvalidInputError(f"--port={port} is outside 1..65,535")
    if workers is not None and not (1 <= workers <= MAX_WORKERS):
        raise InvalidInputError(f"--workers={workers} is outside 1..{MAX_WORKERS}")
    try:
        import uvicorn
    except ImportError:
        raise InvalidInputError("the web app needs its extra: pip install 'flopcast[web]'") from None
    from flopcast.defaults import usable_cores
    from flopcast.service import serving_data_check
    from flopcast.web import create_app
    from flopcast.web.guards import is_loopback

    # read and check now: a missing folder, or one the trend explorer cannot use, fails before the server starts
    db = serving_data_check(data)
    allowed = _served_hosts(host, port, allow_host or [])
    typer.echo(f"flopcast: {len(db.records):,} models from {db.describe()}", err=True)
    typer.echo(f"flopcast: answering Host {', '.join(allowed)}", err=True)
    n = workers if workers is not None else usable_cores()
    typer.echo(f"flopcast: {'estimates in this process' if n == 1 else f'{n} worker processes'}", err=True)
    app = create_app(data=data, allowed_hosts=allowed, workers=n)
    if not is_loopback(host):
        typer.echo(f"warning: binding {host} exposes the app beyond this machine", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


def _served_hosts(host: str, port: int, extra: list[str]) -> list[str]:
    """The Host headers ``serve`` answers: the bind address (the loopback names for a loopback bind; those and this
    machine's name for 0.0.0.0 or ::), and each --allow-host."""
    import ipaddress
    import socket

    from flopcast.web.guards import served_hosts

    out = served_hosts(host, port)
    try:
        unspecified = ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        unspecified = False
    if unspecified:
        out += [*served_hosts("127.0.0.1", port), f"{socket.gethostname().lower()}:{port}"]
    for h in extra:
        h = h.strip()
        if not h or any(c in h for c in "/ @,") or len(h) > 255:
            raise InvalidInputError(f"--allow-host={h!r} is not a host name (NAME or NAME:PORT)")
        out.append(h.lower())
    return list(dict.fromkeys(out))


def validate_cmd(
    data: opt.Data = None,
    only: Annotated[
        str | None, typer.Option(help="Run the checks of one area (cost, deployment, ...) or id prefix.")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the Markdown table of docs/validation.md.")
    ] = False,
    wide: opt.Wide = False,
    quiet: opt.Quiet = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run every published reference check; exit 1 if any fails."""
    from flopcast.cli.parse import echo_json
    from flopcast.cli.progress import working
    from flopcast.validation import FAIL, PASS, SKIP, render_markdown, run_checks, value_text

    with working("Checking flopcast against published figures", quiet=quiet, as_json=as_json or markdown):
        results = run_checks(data, only)
    if not results:
        raise InvalidInputError(f"--only={only!r} matches no check")
    failed = sum(r.status == FAIL for r in results)
    if as_json:
        echo_json(
            {
                "passed": sum(r.status == PASS for r in results),
                "failed": failed,
                "skipped": sum(r.status == SKIP for r in results),
                "checks": [r.to_dict() for r in results],
            }
        )
    elif markdown:
        from flopcast.service import database

        typer.echo(render_markdown(results, database(data).describe()), nl=False)
    else:
        from rich.table import Table

        from flopcast.cli.parse import console, print_table

        t = Table(title="flopcast against published figures", show_lines=True)
        t.add_column("check", no_wrap=True)  # the id --only takes: never cut
        if wide:
            t.add_column("source", overflow="fold")
            t.add_column("published")
            t.add_column("flopcast (90% CI)")
        t.add_column("ratio", justify="right", no_wrap=True)
        t.add_column("result, and the rule it passes or fails")
        style = {PASS: "green", FAIL: "bold red", SKIP: "yellow"}
        for r in results:
            o = r.outcome
            ratio = f"{o.ratio:.3f}" if o is not None and o.ratio is not None else ""
            # the rule beside the verdict: a 2.7x miss that passes says which tolerance it is inside
            verdict = f"[{style[r.status]}]{r.status}[/]: {r.check.rule}" + (f" ({r.reason})" if r.reason else "")
            if wide and o is not None and o.note:
                verdict += f"; {o.note}"
            shown = [r.check.source, r.check.expected, value_text(r)] if wide else []
            t.add_row(r.check.id, *shown, ratio, verdict)
        con = console()
        print_table(con, t)
        con.print(
            f"{sum(r.status == PASS for r in results)} pass, {failed} fail, "
            f"{sum(r.status == SKIP for r in results)} skipped"
            + ("" if wide else "; --wide adds each check's source, the published figure, flopcast's and notes")
        )
    if failed:
        raise typer.Exit(1)
