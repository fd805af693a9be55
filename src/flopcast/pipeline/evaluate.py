"""Evaluation: (models x samples) arrays through the stage functions, in chunks and threads."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import numpy as np

from flopcast import compute as C
from flopcast import power as P
from flopcast import training
from flopcast.catalogs import constants as K
from flopcast.methods import COST_METHODS
from flopcast.pipeline.draws import Draws, _stack
from flopcast.pipeline.evidence import _factor
from flopcast.pipeline.results import TrainingEstimate
from flopcast.pipeline.spec import _BOUNDS, OUTPUT_UNITS, Run, Settings
from flopcast.uncertainty import LogNormal, Summary, special
from flopcast.uncertainty.sensitivity import sensitivity
from flopcast.uncertainty.summary import SUMMARY_QUANTILES, row_quantiles
from flopcast.units import SECONDS_PER_HOUR

# ----------------------------------------------------------------------------- evaluation


def _group_key(run: Run) -> tuple:
    """Runs with the same key take the same branch at every step of the evaluation."""
    return (
        run.path,
        tuple(sorted(run.inputs)),
        run.methods,
        run.compute_including_base_flop is not None,
        run.state_precision,
        run.hardware is not None and bool(run.hardware.memory_bytes),
        None if run.architecture is None else run.architecture.gated_ffn,
    )


def _stage(v: dict, run: Run, settings: Settings) -> dict[str, np.ndarray]:
    """The stage functions on drawn (or central) inputs of one homogeneous chunk of runs."""
    out: dict[str, np.ndarray] = {}
    if "params_per_token" in v and "tokens" in v:
        shape = all(k in v for k in ("n_layers", "d_attn", "context_length"))
        c6 = C.training_compute_flop(
            v["params_per_token"],
            v["tokens"],
            epochs=v["epochs"],
            n_layers=v["n_layers"] if shape else None,
            d_attn=v["d_attn"] if shape else None,
            context_length=v["context_length"] if shape else None,
            convention=settings.convention,
        )
        out["compute_from_params_flop"] = c6 * v["flop_convention"]
    compute = v.get("training_compute_flop", out.get("compute_from_params_flop"))
    if run.path is not None:
        peak = v["peak_flop_per_s"]
        if run.path == "chip_hours":
            chip_hours = v["chip_hours"]
        elif run.path == "chips_time":
            chip_hours = v["chips"] * v["training_time_hours"]
        else:
            assert compute is not None  # the "compute" route needs a compute (resolve's _route)
            chip_hours = training.chip_hours_from_compute(compute, peak, v["utilization"])
        out["chip_hours"] = chip_hours
        if run.path != "compute" and compute is not None:
            out["implied_utilization"] = compute / (chip_hours * SECONDS_PER_HOUR * peak)
        if compute is None:
            compute = C.compute_from_chip_hours(chip_hours, peak, v["utilization"])
        if "chips" in v:
            chips = v["chips"]
            hours = v.get("training_time_hours")
            out["duration_s"] = (
                hours * SECONDS_PER_HOUR if hours is not None else training.duration_s(chip_hours, chips)
            )
        elif "training_time_hours" in v:
            chips = training.chips_for_deadline(chip_hours, v["training_time_hours"] * SECONDS_PER_HOUR)
            out["duration_s"] = v["training_time_hours"] * SECONDS_PER_HOUR + 0.0 * chip_hours
        else:
            chips = None
        if chips is not None:
            out["chips"] = chips + 0.0 * chip_hours
    assert compute is not None  # a run without a route to chip-hours has a compute (resolve's _route)
    out["training_compute_flop"] = compute
    if "params" in v:
        states = training.model_state_bytes(v["params"], run.state_precision, settings.optimizer)
        mem = states
        shape = all(k in v for k in ("n_layers", "d_attn", "context_length"))
        if shape:
            mem = mem + training.activation_bytes(
                v["n_layers"],
                v["d_attn"],
                v["context_length"],
                micro_batch=settings.micro_batch,
                recompute=settings.recompute,
            )
        out["memory_bytes"] = mem
        if "_chip_memory" in v:
            out["min_chips"] = _min_chips(v, states, shape, run, settings)
    cluster = out.get("chips")
    if run.path is not None and cluster is None:  # the cluster of Cottier et al.'s default training time
        cluster = np.ceil(out["chip_hours"] / K.constant("training_time_hours", "default").value)
    if cluster is not None and "tdp_w" in v:
        _power(v, out, cluster)
    if run.methods:
        w = dict(v, chip_hours=out["chip_hours"], chips=cluster)
        if "energy_facility_j" in out:
            w["energy_facility_j"] = out["energy_facility_j"]
        infl = v["_inflation"]
        nominal = bool((infl == 1.0).all())  # x * 1.0 is x: nominal dollars skip a pass over the samples
        for m in run.methods:
            cost = COST_METHODS[m].cost(w)
            out[f"cost_usd.{m}"] = cost if nominal else cost * infl
    return out


#: the architecture's numbers the memory per rank takes (:class:`~flopcast.pipeline.spec.Architecture`)
_ARCHITECTURE = ("n_heads", "kv_ratio", "ffn_ratio", "vocab")


def _min_chips(v: dict, states: np.ndarray, shape: bool, run: Run, settings: Settings) -> np.ndarray:
    """The fewest chips whose most-loaded rank holds the run (:func:`flopcast.parallelism.min_chips`: each
    data-parallel replica keeps its own activations; over tensor, pipeline, ZeRO and recompute layouts), else (a
    context only context parallelism holds) with the activations sharded over every chip too. Without the model's
    shape: the training state sharded over every chip (ZeRO-3). Each chip keeps a reserve for buffers."""
    from flopcast import parallelism

    if not shape:
        return parallelism.min_chips_sharded(states, v["_chip_memory"])
    precision = parallelism.Precision(run.state_precision, run.state_precision, settings.optimizer)
    args = (v["params"], v["n_layers"], v["d_attn"], v["context_length"], v["_chip_memory"])
    kw: dict = {"micro_batch": settings.micro_batch, "precision": precision}
    if run.architecture is not None:
        kw.update({k: v[f"_{k}"] for k in _ARCHITECTURE})
        kw["gated_ffn"] = run.architecture.gated_ffn
        kw["dropout"] = not run.architecture.gated_ffn
    chips = parallelism.min_chips(*args, **kw)  # over every recompute option: full recompute holds the most
    if np.isinf(chips).any():  # no layout holds it (a context that needs context parallelism): activations sharded
        mem = states + training.activation_bytes(*args[1:4], micro_batch=settings.micro_batch, recompute="full")
        spread = parallelism.min_chips_sharded(mem, v["_chip_memory"])
        chips = np.where(np.isinf(chips), spread, chips)
    return chips


def _power(v: dict, out: dict[str, np.ndarray], chips: np.ndarray) -> None:
    """Peak power, energy by both conventions and emissions (:mod:`flopcast.power`)."""
    hours = out["chip_hours"]
    # one number per model when chips, TDP, server ratio and PUE all are (a point output, like any other)
    out["peak_power_w"] = P.cluster_peak_power_w(
        chips, v["tdp_w"], server_power_ratio=v["server_power_ratio"], pue=v["pue"]
    )
    out["energy_chip_j"] = P.chip_energy_j(hours, v["tdp_w"])
    out["energy_facility_j"] = P.facility_energy_j(
        hours,
        v["tdp_w"],
        server_power_ratio=v["server_power_ratio"],
        average_power_fraction=v["average_power_fraction"],
        pue=v["pue"],
    )
    if "grid_kg_co2e_per_kwh" in v:
        out["emissions_kg_co2e"] = P.emissions_kg_co2e(out["energy_facility_j"], v["grid_kg_co2e_per_kwh"])


#: outputs that are another output times one input and a constant: (output, input, constant)
_SCALED = {"energy_chip_j": ("chip_hours", "tdp_w", SECONDS_PER_HOUR)}


def _quantiles(x: np.ndarray, *, scratch: bool = False, orders: np.ndarray | None = None) -> np.ndarray:
    """p5, p50 and p95 of each row; a row that does not vary (a point input's output) is its value, unsorted.

    Bit for bit ``np.quantile`` (:func:`~flopcast.uncertainty.summary.row_quantiles`), whichever way a row's
    order statistics are found: ``orders``, the sample orders of the chunk's drawn slots, serve the outputs
    that depend on one input alone. ``scratch``: ``x`` is not needed in sample order afterwards, so it is
    partitioned in place (no copy).
    """
    # a sampled output differs between its first two samples: only where none does is the whole row checked
    if x.shape[1] == 1 or ((x[:, 0] == x[:, 1]).all() and (x.min(axis=1) == x.max(axis=1)).all()):
        return np.repeat(x[:, :1].T, 3, axis=0)
    return row_quantiles(x, SUMMARY_QUANTILES, scratch=scratch, orders=orders)


#: the normal scores of p5, p50 and p95
_Z = np.asarray(special.ndtri(np.array(SUMMARY_QUANTILES)), dtype=float)


def _closed_forms(
    chunk: Sequence[Run], drawn: dict[str, np.ndarray], out: dict[str, np.ndarray]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The outputs whose distribution is known exactly: a lognormal input passed through unchanged.

    A reported compute (``training_compute_flop``) or chip-hours (the chip-hours route) is the output as it
    was drawn, so its p5, p50, p95 and mean are the lognormal's own, ``exp(mu + sigma z_p)`` and
    ``exp(mu + sigma^2 / 2)``, not estimates from the samples (the samples stay, for keep_samples, the
    sensitivity ranking and every output computed from them). Per output: the rows, their ``mu`` and
    ``sigma``. A clipped input (:data:`~flopcast.pipeline.spec._BOUNDS`) is not a lognormal any more.
    """
    found = {}
    for k, x in out.items():
        if k not in drawn or x is not drawn[k] or k in _BOUNDS:
            continue
        rows = [i for i, run in enumerate(chunk) if isinstance(run.inputs[k].value, LogNormal)]
        if rows:
            dists = [run.inputs[k].value for run in (chunk[i] for i in rows)]
            found[k] = (
                np.array(rows, dtype=np.intp),
                np.array([d.mu for d in dists if isinstance(d, LogNormal)]),
                np.array([d.sigma for d in dists if isinstance(d, LogNormal)]),
            )
    return found


def _exact_dists(found: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[int, LogNormal]:
    """Each closed-form row's lognormal, by row."""
    rows, mu, sigma = found
    return {r: LogNormal(m, sg) for r, m, sg in zip(rows.tolist(), mu.tolist(), sigma.tolist(), strict=True)}


def _clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``np.clip(x, lo, hi)``: a row shared by every run (a broadcast view) is clipped once, a fresh array in place."""
    if x.ndim == 2 and x.shape[0] > 1 and x.strides[0] == 0:
        return np.broadcast_to(np.clip(x[:1], lo, hi), x.shape)
    if x.flags.writeable and x.flags.owndata:
        return np.clip(x, lo, hi, out=x)
    return np.clip(x, lo, hi)


#: from this many runs on, outputs that depend on one input are read off that slot's sample order (an argsort of
#: its uniforms, about 0.5 ms at 10,000 samples, paid once per slot and call); a smaller call partitions
ORDERS_FROM_RUNS = 32


#: the samples of one (runs x samples) array of a chunk, at most: 2^17 doubles, 1 MiB, so that the arrays one
#: stage function reads and writes at once stay close to a core's own cache. Measured over the embedded database's
#: 999 runs at 8,192 samples in one process on one core (1 MiB L2), 10 interleaved rounds, medians: chunks of 16 runs
#: take 1.86 s, of 8 1.92 s and of 32 (2 MiB arrays, the earlier size) 2.07 s
CHUNK_SAMPLES = 1 << 17


def _chunk_size(samples: int) -> int:
    return max(1, CHUNK_SAMPLES // max(samples, 1))


def evaluate(
    runs: Sequence[Run],
    draws: Draws,
    settings: Settings | None = None,
    *,
    keep_samples: bool = False,
    with_sensitivity: bool = False,
    outputs: AbstractSet[str] | None = None,
) -> list[TrainingEstimate]:
    """Estimate every run on the shared ``draws``; results in the order of ``runs``.

    ``outputs``: the outputs to summarize besides the compute and every method's cost (None: all). The others
    are still computed where another output needs them, but get no quantiles and are None in the estimates
    (:data:`~flopcast.pipeline.results.ROW_OUTPUTS`: what a flat row reads); the summaries made are the same.
    """
    settings = settings or Settings()
    groups: dict[tuple, list[int]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(_group_key(run), []).append(i)
    results: list[TrainingEstimate | None] = [None] * len(runs)
    step = _chunk_size(draws.samples)
    chunks = [idx[start : start + step] for idx in groups.values() for start in range(0, len(idx), step)]

    use_orders = len(runs) >= ORDERS_FROM_RUNS

    def work(ids: list[int]) -> None:
        chunk = [runs[i] for i in ids]
        for i, est in zip(
            ids,
            _evaluate_chunk(chunk, draws, settings, keep_samples, with_sensitivity, use_orders, outputs),
            strict=True,
        ):
            results[i] = est

    workers = min(len(chunks), _workers())
    if workers <= 1:
        for ids in chunks:
            work(ids)
    else:  # numpy releases the GIL in its array loops: chunks run side by side, each exactly as alone
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, chunks))
    done = [e for e in results if e is not None]
    assert len(done) == len(runs), "every run is evaluated by one chunk"
    return done


def _workers() -> int:
    from flopcast.defaults import usable_cores
    from flopcast.pipeline.parallel import in_worker

    if in_worker():  # a worker process of the batch already has its core
        return 1
    return min(4, usable_cores())


def _evaluate_chunk(
    chunk: list[Run],
    draws: Draws,
    settings: Settings,
    keep_samples: bool,
    with_sensitivity: bool,
    use_orders: bool = False,
    outputs: AbstractSet[str] | None = None,
) -> list[TrainingEstimate]:
    r0 = chunk[0]
    drawn: dict[str, np.ndarray] = {}
    centrals: dict[str, np.ndarray] = {}
    for name in r0.inputs:
        dists = [run.inputs[name].value for run in chunk]
        x = _stack(dists, draws, name)
        if name in _BOUNDS:
            lo, hi = _BOUNDS[name]
            x = _clip(x, lo, hi)
        drawn[name] = x
        centrals[name] = np.array([[run.inputs[name].central] for run in chunk], dtype=float)
    drawn["_inflation"] = centrals["_inflation"] = np.array([[run.inflation] for run in chunk])
    if r0.hardware is not None and r0.hardware.memory_bytes:  # the group key makes this true of every run
        chip_memory = []
        for run in chunk:
            assert run.hardware is not None
            chip_memory.append([run.hardware.memory_bytes])
        drawn["_chip_memory"] = centrals["_chip_memory"] = np.array(chip_memory)
    if r0.architecture is not None:  # the group key makes every run of the chunk have one
        for name in _ARCHITECTURE:
            col = np.array([[getattr(run.architecture, name)] for run in chunk], dtype=float)
            drawn[f"_{name}"] = centrals[f"_{name}"] = col
    if "flop_convention" not in drawn and "tokens" in drawn:
        fc = _stack([_factor("flop_convention_factor")] * len(chunk), draws, "flop_convention")
        drawn["flop_convention"] = fc
        centrals["flop_convention"] = np.ones((len(chunk), 1))
    out = _stage(drawn, r0, settings)
    cen = _stage(centrals, r0, settings)
    if outputs is not None:  # only these are summarized (the compute and the costs always are)
        out = {
            k: x for k, x in out.items() if k in outputs or k == "training_compute_flop" or k.startswith("cost_usd.")
        }
    means = {k: np.mean(x, axis=1) for k, x in out.items()}
    # without samples to keep or rank, each output is partitioned in place (the batch: no copies)
    scratch = not keep_samples and not with_sensitivity
    sampled = [n for n, a in drawn.items() if not n.startswith("_") and a.shape[1] > 1]
    orders = draws.orders(sampled) if use_orders and sampled else None
    exact = _closed_forms(chunk, drawn, out)
    q: dict[str, np.ndarray] = {}
    for k, x in out.items():
        base = _SCALED.get(k)
        if base is not None and base[0] in q and drawn[base[1]].shape[1] == 1:
            # chip energy is chip-hours x 3600 x a TDP that is one number per model: its quantiles are chip-hours'
            factor = drawn[base[1]][:, 0] * base[2]
            q[k] = q[base[0]] * factor
            if base[0] in exact:  # and where chip-hours are a lognormal, so is chip energy: its mean too
                rows, mu, sigma = exact[base[0]]
                exact[k] = (rows, mu + np.log(factor[rows]), sigma)
                means[k][rows] = means[base[0]][rows] * factor[rows]
            continue
        if k in exact:
            rows, mu, sigma = exact[k]
            if rows.size == len(chunk):
                q[k] = np.empty((3, len(chunk)))
            else:
                q[k] = _quantiles(x, scratch=False, orders=orders)
            q[k][:, rows] = np.exp(mu[None, :] + sigma[None, :] * _Z[:, None])  # LogNormal.ppf, element by element
            means[k][rows] = np.exp(mu + sigma**2 / 2)
        else:
            q[k] = _quantiles(x, scratch=scratch, orders=orders)
    results = []
    # Python floats once per chunk (the same numbers): reading numpy scalars one by one is the slow part here
    units = {k: "USD" if k.startswith("cost_usd.") else OUTPUT_UNITS[k] for k in out}
    p5s, p50s, p95s = ({k: q[k][j].tolist() for k in out} for j in range(3))
    mean_l = {k: means[k].tolist() for k in out}
    cen_l = {k: c[:, 0].tolist() for k, c in cen.items()}
    closed = {k: _exact_dists(found) for k, found in exact.items()}
    no_dists: dict[int, LogNormal] = {}
    for i, run in enumerate(chunk):
        summ: dict[str, Summary] = {}
        for k, x in out.items():
            samples = x[i].copy() if keep_samples and x.shape[1] > 1 else None
            summ[k] = Summary(
                p50s[k][i], mean_l[k][i], p5s[k][i], p95s[k][i], units[k], samples, closed.get(k, no_dists).get(i)
            )
        central = {k: c[i] for k, c in cen_l.items()}
        if run.compute_including_base_flop is not None:
            v = float(run.compute_including_base_flop)
            summ["compute_including_base_flop"] = Summary(v, v, v, v, "FLOP")
            central["compute_including_base_flop"] = v
        sens = {}
        if with_sensitivity:
            inputs_i = {n: a[i] for n, a in drawn.items() if not n.startswith("_") and a.shape[1] > 1}
            for k in ("training_compute_flop", "chip_hours", *[f"cost_usd.{m}" for m in run.methods]):
                if k in out:
                    sens[k] = sensitivity(inputs_i, out[k][i])
        rec = run.record
        results.append(
            TrainingEstimate(
                name=run.name,
                key=run.key,
                hardware=run.hardware.name if run.hardware else "",
                training_compute_flop=summ["training_compute_flop"],
                chip_hours=summ.get("chip_hours"),
                duration_s=summ.get("duration_s"),
                chips=summ.get("chips"),
                memory_bytes=summ.get("memory_bytes"),
                min_chips=summ.get("min_chips"),
                peak_power_w=summ.get("peak_power_w"),
                energy_chip_j=summ.get("energy_chip_j"),
                energy_facility_j=summ.get("energy_facility_j"),
                emissions_kg_co2e=summ.get("emissions_kg_co2e"),
                reported_power_w=rec.training_power_draw_w if rec is not None else None,
                cost_usd={m: summ[f"cost_usd.{m}"] for m in run.methods},
                central=central,
                compute_from_params_flop=summ.get("compute_from_params_flop"),
                compute_including_base_flop=summ.get("compute_including_base_flop"),
                implied_utilization=summ.get("implied_utilization"),
                dollars=run.dollars,
                inputs=list(run.inputs.values()),
                notes=list(run.notes),
                warnings=list(run.warnings),
                skipped_methods=dict(run.skipped_methods),
                sensitivity=sens,
                samples=draws.samples,
                seed=draws.seed,
                sampling=draws.sampling,
                source=run.source,
                publication_date=run.publication_date,
                is_finetune=run.is_finetune,
                organization=", ".join(rec.organizations) if rec else "",
                domain=", ".join(rec.domains) if rec else "",
                hardware_provenance=run.hardware_provenance,
            )
        )
    return results
