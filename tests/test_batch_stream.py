"""The streamed batch (``costs --format csv|json``): the same bytes as the whole table, whatever the number of
worker processes and the chunking; memory flat in the number of models; a worker's error raised as in
process; ``FLOPCAST_WORKERS=1`` in process; no worker left behind."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path
from typing import ClassVar

import pytest

import flopcast.pipeline as pipeline
from flopcast.errors import InvalidInputError, UnknownNameError
from flopcast.pipeline import parallel
from flopcast.reporting.output import (
    batch_csv,
    batch_csv_pieces,
    batch_json,
    batch_json_pieces,
    csv_line,
    json_model,
    to_json,
)
from flopcast.service import cost_stream, cost_table, database
from flopcast.testing import run_cli

SAMPLES = 512
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need os.fork")


@pytest.fixture(scope="module")
def db():
    return database(None, None)


@pytest.fixture
def small_chunks(monkeypatch):
    """Tasks of 8 to 16 records, so that a small selection makes many tasks."""
    monkeypatch.setattr(pipeline, "STREAM_CHUNK", (8, 16))


_EARLIER: set[int] = set()


@pytest.fixture(autouse=True)
def _earlier_children():
    """The children this process already had (another test file's server, in the same test worker): not ours."""
    _EARLIER.clear()
    _EARLIER.update(_all_children())
    yield


def _children() -> list[int]:
    """The live processes whose parent is this one and that a test here started."""
    return [p for p in _all_children() if p not in _EARLIER]


def _all_children() -> list[int]:
    """The live processes whose parent is this one (Linux's /proc), or [] where it cannot tell."""
    me, found = str(os.getpid()), []
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for p in proc.iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[1] == me and fields[0] != "Z":
                found.append(int(p.name))
    return found


@needs_fork
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_csv_and_json_are_the_whole_tables_bytes(db, small_chunks, workers):
    opts = dict(db=db, since=2022, samples=SAMPLES, year_dollars=2023)
    table = cost_table(**opts)
    csv = cost_stream(csv_line, **opts).stream
    csv.workers = workers
    assert "".join(batch_csv_pieces(csv)) == batch_csv(table.result)
    rows_only = cost_stream(csv_line, row_outputs_only=True, **opts).stream  # what `costs --format csv` streams
    rows_only.workers = workers
    assert "".join(batch_csv_pieces(rows_only)) == batch_csv(table.result)
    js = cost_stream(json_model, **opts).stream
    js.workers = workers
    assert "".join(batch_json_pieces(js)) == batch_json(table.result)
    assert js.count == len(table.result.estimates) and js.skipped == table.result.skipped
    assert js.dollars == table.result.dollars
    assert _children() == []


@needs_fork
def test_cli_one_and_two_workers_write_the_same_files(tmp_path, capsys, monkeypatch):
    """The whole database through the command, in process and on two workers: the same bytes."""
    got = {}
    for workers in ("1", "2"):
        monkeypatch.setenv(parallel.ENV_WORKERS, workers)
        for fmt in ("csv", "json"):
            out = tmp_path / f"{workers}.{fmt}"
            code, _, err = run_cli(["costs", "--format", fmt, "--out", str(out), "--samples", "1024"], capsys)
            assert code == 0, err
            assert "wrote " in err
            got[workers, fmt] = out.read_bytes()
    assert got["1", "csv"] == got["2", "csv"]
    assert got["1", "json"] == got["2", "json"]
    code, printed, _ = run_cli(["costs", "--format", "csv", "--samples", "1024"], capsys)
    assert code == 0 and printed.encode() == got["1", "csv"]
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary files are renamed or removed


def test_the_table_keeps_its_rows_not_the_estimates(db):
    from flopcast.service import cost_rows

    table = cost_table(db=db, since=2024, samples=SAMPLES, year_dollars=2024)
    batch = cost_rows(db=db, since=2024, samples=SAMPLES, year_dollars=2024).stream.collect()
    res = table.result
    assert batch.rows() == res.rows()
    assert all(isinstance(row, dict) for row in batch.rows())
    for k in ("skipped", "methods", "dollars", "source", "samples", "seed", "sampling", "selection"):
        assert getattr(batch, k) == getattr(res, k), k


def test_a_batch_that_makes_flat_rows_summarizes_only_what_they_read(db):
    """Every model of the database: its flat row is the same whether the batch summarizes every output or only the
    row's (ROW_OUTPUTS), including where the compute came from (reported, parameters x tokens, hardware x time)."""
    from flopcast.pipeline import ROW_OUTPUTS, Draws, Settings, _resolve_all, evaluate, flat_row

    settings = Settings.from_options(db)
    runs, _ = _resolve_all(db.records, settings, db)
    draws = Draws(256, 0, "sobol")
    full = evaluate(runs, draws, settings)
    rows_only = evaluate(runs, draws, settings, outputs=ROW_OUTPUTS)
    assert [flat_row(e, settings.methods) for e in rows_only] == [flat_row(e, settings.methods) for e in full]
    sources = {flat_row(e, settings.methods)["compute_source"] for e in full}
    assert {"derived (parameters x tokens)", "derived (hardware x time)"} <= sources  # both derived kinds occur
    assert any(e.chips is not None for e in full) and all(e.chips is None for e in rows_only)
    assert all(e.duration_s is None and e.implied_utilization is None for e in rows_only)

    def kept(e):  # the numbers of the summaries both batches make (a Summary compares by identity)
        summaries = [e.training_compute_flop, e.chip_hours, *e.cost_usd.values(), e.energy_facility_j]
        return [None if x is None else (x.median, x.mean, x.p5, x.p95, x.unit) for x in summaries]

    assert [kept(e) for e in rows_only] == [kept(e) for e in full]


def test_memory_stays_flat_in_the_number_of_models(db, monkeypatch):
    """Five times the models, in process: the peak of traced memory grows far less than five times."""
    monkeypatch.setenv(parallel.ENV_WORKERS, "1")
    monkeypatch.setattr(pipeline, "STREAM_CHUNK", (64, 64))
    records = [r for r in db.records if r.publication_date and r.publication_date.year >= 2021][:128]
    settings = pipeline.Settings()

    def peak(copies: int) -> tuple[int, int]:
        stream = pipeline.stream_records(
            records * copies, db, csv_line, settings=settings, samples=256, keep_skipped=False
        )
        tracemalloc.start()
        try:
            size = sum(len(piece) for piece in batch_csv_pieces(stream))
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    peak(1)  # warm the caches (catalogs, prices) that any batch fills once
    one, size1 = peak(1)
    five, size5 = peak(5)
    assert size5 > 4.5 * size1
    assert five < 2 * one, (one, five)  # proportional would be 5x: what grows is bounded (caches)


def test_workers_1_runs_in_process(db, monkeypatch):
    monkeypatch.setenv(parallel.ENV_WORKERS, "1")
    stream = cost_stream(lambda e, m: os.getpid(), db=db, samples=SAMPLES).stream
    assert stream.workers == 1
    assert set(stream) == {os.getpid()}


@needs_fork
def test_workers_are_other_processes_and_never_nest(db, small_chunks, monkeypatch):
    monkeypatch.setenv(parallel.ENV_WORKERS, "2")
    stream = cost_stream(
        lambda e, m: (os.getpid(), parallel.worker_count(10_000)), db=db, samples=SAMPLES, since=2023
    ).stream
    assert stream.workers == 2
    got = list(stream)
    assert {pid for pid, _ in got} - {os.getpid()} and os.getpid() not in {pid for pid, _ in got}
    assert {nested for _, nested in got} == {1}
    assert _children() == []


def test_default_workers(monkeypatch):
    monkeypatch.delenv(parallel.ENV_WORKERS, raising=False)
    assert parallel.worker_count(parallel.MIN_PARALLEL_ITEMS - 1) == 1
    big = parallel.worker_count(parallel.MIN_PARALLEL_ITEMS)
    assert big == (parallel.cores() if hasattr(os, "fork") else 1)
    for bad in ("0", "-2", "two"):
        monkeypatch.setenv(parallel.ENV_WORKERS, bad)
        with pytest.raises(InvalidInputError, match=parallel.ENV_WORKERS):
            parallel.worker_count(1000)


def _failing(at: int, exc: BaseException):
    def fn(i: int) -> int:
        if i == at:
            raise exc
        return i * i

    return fn


@needs_fork
@pytest.mark.parametrize(
    "exc",
    [InvalidInputError("chips=-1 must be > 0"), UnknownNameError("hardware", "H9000", ["H100", "A100"])],
    ids=["invalid", "unknown-name"],
)
def test_a_workers_error_is_raised_as_in_process(exc):
    with pytest.raises(type(exc)) as in_process:
        list(parallel.ordered_map(_failing(5, exc), 12, 1))
    with pytest.raises(type(exc)) as in_workers:
        list(parallel.ordered_map(_failing(5, exc), 12, 2))
    assert str(in_workers.value) == str(in_process.value) == str(exc)
    assert in_workers.value.args == exc.args
    assert _children() == []


@needs_fork
def test_a_bug_in_a_worker_keeps_its_traceback():
    with pytest.raises(ZeroDivisionError) as info:
        list(parallel.ordered_map(lambda i: 1 / (i - 3), 8, 2))
    assert any("in a worker process" in n for n in getattr(info.value, "__notes__", []))
    assert _children() == []


@needs_fork
def test_results_come_in_order_and_an_early_stop_ends_the_workers():
    assert list(parallel.ordered_map(lambda i: i * 3, 50, 3, ahead=1)) == [3 * i for i in range(50)]
    gen = parallel.ordered_map(lambda i: i, 100, 2)
    assert next(gen) == 0
    gen.close()
    assert _children() == []


def _pid_after(i: int) -> int:
    """Task 0 is long (0.5 s), the others instant: the worker that ran it, as a process id."""
    if i == 0:
        import time

        time.sleep(0.5)
    return os.getpid()


@needs_fork
def test_a_long_task_does_not_hold_the_tasks_behind_it():
    # two workers, ahead=2 (a window of 4 tasks): task 0 keeps one worker busy; tasks 1, 2 and 3 go to the other,
    # idle one as it finishes each (before, each worker was given two tasks at the start, so task 1 waited behind
    # task 0 in the busy worker's queue while the other worker was done)
    pids = list(parallel.ordered_map(_pid_after, 4, 2))
    assert pids[1] == pids[2] == pids[3] != pids[0]
    assert _children() == []


@needs_fork
def test_a_stream_error_leaves_no_file(db, small_chunks, tmp_path, monkeypatch):
    """An error in a worker mid-stream: the target file is untouched and no temporary file is left."""
    from flopcast.reporting.output import write_pieces

    target = tmp_path / "costs.csv"
    target.write_text("old\n")

    def form(e, methods):
        if e.name.startswith("G"):
            raise InvalidInputError(f"no {e.name}")
        return csv_line(e, methods)

    stream = cost_stream(form, db=db, samples=SAMPLES, since=2023).stream
    stream.workers = 2
    with pytest.raises(InvalidInputError, match=r"^no G"):
        write_pieces(target, batch_csv_pieces(stream), label="--out")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["costs.csv"]
    assert _children() == []


def test_a_non_finite_model_is_named_as_the_whole_json_names_it():
    from flopcast.reporting.output import NonFinite

    class Fake:
        source, samples, seed, sampling, methods, selection, dollars = "s", 1, 0, "sobol", ("cloud",), "", "USD"
        skipped: ClassVar[list] = []

        def chunks(self):
            yield ['{\n      "a": 1\n    }']
            yield [NonFinite("cost_usd.cloud.p95", float("inf"))]

    whole = {"models": [{"a": 1}, {"cost_usd": {"cloud": {"p95": float("inf")}}}]}
    with pytest.raises(InvalidInputError) as expected:
        to_json(whole)
    with pytest.raises(InvalidInputError) as got:
        "".join(batch_json_pieces(Fake()))  # type: ignore[arg-type]
    assert str(got.value) == str(expected.value)


def _warns(i: int) -> int:
    import warnings

    if i == 2:
        warnings.warn("a worker's warning", RuntimeWarning, stacklevel=1)
    return i


@needs_fork
def test_a_workers_warnings_are_shown_by_the_parent():
    with pytest.warns(RuntimeWarning, match="a worker's warning"):
        assert list(parallel.ordered_map(_warns, 6, 2)) == list(range(6))
