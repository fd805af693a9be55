"""Batch estimates over a table of models (Epoch AI's database or the curated catalog).

The same stage functions as the single-model chain, evaluated for many models at
once: per-model central values (M) broadcast against shared Monte Carlo factor
samples (S), in chunks of models so memory stays bounded. Each model gets its
median and 90% interval by each method, and a record, input by input, of whether a
value was reported, derived or imputed.

Imputation rules (each fitted to the table being estimated, and stated in the
output): hardware -> the most common matched chip for that publication year and
domain (then year, then overall); utilization -> a beta fitted to the reported MFU
values (central: their median); training time -> a lognormal fitted to the reported
times (central: their median); chips -> chip-hours / training time.

Note: all models share the same factor draws at a sample index, so each model's
distribution is right but draws are correlated across models; do not sum samples
across models.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from flopcast import training
from flopcast.catalogs import constants as K
from flopcast.catalogs.hardware import Hardware, HardwareCatalog
from flopcast.catalogs.models import ModelSpec
from flopcast.catalogs.price_index import PriceIndex, bundled_price_index
from flopcast.catalogs.prices import PriceBook, electricity_price_usd_per_kwh
from flopcast.errors import FlopcastError, InvalidInputError, UnknownNameError
from flopcast.uncertainty import Beta, LogNormal, draw
from flopcast.units import DAYS_PER_YEAR, SECONDS_PER_HOUR

METHODS = ("cloud", "amortized", "acquisition")
HYPERSCALERS = ("google", "deepmind", "microsoft", "amazon", "meta", "facebook")
_CHUNK = 128


@dataclass(frozen=True)
class ModelRecord:
    """What the batch needs of a model row (Epoch's database or the curated catalog)."""

    name: str
    publication_date: dt.date | None
    organizations: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    parameters: float | None = None
    training_compute_flop: float | None = None
    dataset_size: float | None = None
    epochs: float | None = None
    training_time_hours: float | None = None
    training_hardware: tuple[str, ...] = ()
    hardware_quantity: float | None = None
    utilization: float | None = None
    chip_hours: float | None = None
    training_start_date: dt.date | None = None
    accessibility: str = ""

    @classmethod
    def from_epoch(cls, m) -> ModelRecord:
        return cls(m.name, m.publication_date, tuple(m.organizations), tuple(m.domains), m.parameters,
                   m.training_compute_flop, m.dataset_size, m.epochs, m.training_time_hours,
                   tuple(m.training_hardware), m.hardware_quantity, m.utilization, m.chip_hours,
                   accessibility=m.accessibility or "")

    @classmethod
    def from_spec(cls, m: ModelSpec) -> ModelRecord:
        return cls(m.name, m.publication_date, tuple(o.strip() for o in m.organization.split(";")),
                   (m.domain,) if m.domain else (), m.params_per_token, m.training_compute_flop, m.training_tokens,
                   m.epochs, m.training_time_hours, (m.hardware,) if m.hardware else (), m.chips, m.utilization,
                   m.chip_hours, m.training_start_date)


@dataclass
class BatchResult:
    rows: list[dict]
    skipped: list[dict]
    methods: tuple[str, ...]
    dollars: str
    source: str
    samples: int
    imputation: dict = field(default_factory=dict)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def to_dict(self) -> dict:
        return {"source": self.source, "dollars": self.dollars, "samples": self.samples, "methods": list(self.methods),
                "imputation": self.imputation, "models": self.rows, "skipped": self.skipped}


def _is_language(domains: Iterable[str]) -> bool:
    return any("language" in d.lower() for d in domains)


def _hyperscaler(orgs: Iterable[str]) -> bool:
    text = " ".join(orgs).lower()
    return any(h in text for h in HYPERSCALERS)


def _fit_beta(values: np.ndarray) -> Beta:
    m, v = float(np.mean(values)), float(np.var(values))
    k = m * (1 - m) / v - 1 if v > 0 else 50.0
    return Beta(max(m * k, 0.5), max((1 - m) * k, 0.5))


def _fit_lognormal(values: np.ndarray) -> LogNormal:
    logs = np.log(values)
    return LogNormal(float(np.mean(logs)), float(max(np.std(logs), 0.05)))


def frontier_mask(records: Sequence[ModelRecord], compute: np.ndarray, top: int) -> np.ndarray:
    """True for models in the top ``top`` by training compute among all models published up to their date."""
    import bisect

    order = sorted((i for i in range(len(records)) if records[i].publication_date and compute[i] > 0),
                   key=lambda i: records[i].publication_date)
    seen: list[float] = []  # sorted negative computes
    keep = np.zeros(len(records), dtype=bool)
    j = 0
    while j < len(order):
        # models published the same day are ranked together
        day = records[order[j]].publication_date
        group = [i for i in order[j:] if records[i].publication_date == day]
        for i in group:
            bisect.insort(seen, -compute[i])
        for i in group:
            rank = bisect.bisect_left(seen, -compute[i]) + 1
            keep[i] = rank <= top
        j += len(group)
    return keep


class _Imputer:
    """Fits the imputation distributions to the table."""

    def __init__(self, records: Sequence[ModelRecord], matched: list[Hardware | None]):
        mfu = np.array([r.utilization for r in records if r.utilization and 0 < r.utilization <= 1])
        hours = np.array([r.training_time_hours for r in records if r.training_time_hours and r.training_time_hours > 0])
        const_u = K.constant("utilization", "default")
        self.mfu = _fit_beta(mfu) if mfu.size >= 5 else const_u.distribution()
        self.mfu_central = float(np.median(mfu)) if mfu.size >= 5 else const_u.value
        default_h = K.constant("training_time_hours", "default").value
        self.hours = _fit_lognormal(hours) if hours.size >= 5 else LogNormal(math.log(default_h), 0.7)
        self.hours_central = float(np.median(hours)) if hours.size >= 5 else default_h
        self.n_mfu, self.n_hours = int(mfu.size), int(hours.size)
        by_year_domain: dict[tuple, Counter] = {}
        by_year: dict[int, Counter] = {}
        overall: Counter = Counter()
        by_org: dict[str, list[tuple[int, str]]] = {}
        for r, hw in zip(records, matched):
            if hw is None or r.publication_date is None or _peak(hw)[0] is None:
                continue
            y = r.publication_date.year
            for o in r.organizations:
                by_org.setdefault(o.lower(), []).append((y, hw.key))
            for d in r.domains or ("",):
                by_year_domain.setdefault((y, d.lower()), Counter())[hw.key] += 1
            by_year.setdefault(y, Counter())[hw.key] += 1
            overall[hw.key] += 1
        self.by_year_domain, self.by_year, self.overall = by_year_domain, by_year, overall
        self.by_org = by_org

    def hardware(self, r: ModelRecord) -> tuple[str | None, str]:
        y = r.publication_date.year if r.publication_date else None
        for o in r.organizations:
            near = Counter(k for yy, k in self.by_org.get(o.lower(), ()) if y is not None and abs(yy - y) <= 2)
            if near:
                return near.most_common(1)[0][0], f"most common hardware of {o} within 2 years of {y}"
        for d in r.domains or ("",):
            c = self.by_year_domain.get((y, d.lower()))
            if c:
                return c.most_common(1)[0][0], f"most common hardware for {y}, {d}"
        for yy in (y, (y or 0) - 1, (y or 0) + 1):
            if yy in self.by_year:
                return self.by_year[yy].most_common(1)[0][0], f"most common hardware around {yy}"
        if self.overall:
            return self.overall.most_common(1)[0][0], "most common hardware overall"
        return None, ""

    def describe(self) -> dict:
        lo_u, hi_u = self.mfu.interval(0.9)
        lo_h, hi_h = self.hours.interval(0.9)
        return {
            "utilization": {"fitted_to": self.n_mfu, "central": self.mfu_central, "p5": lo_u, "p95": hi_u,
                            "distribution": "beta (method of moments)"},
            "training_time_hours": {"fitted_to": self.n_hours, "central": self.hours_central, "p5": lo_h, "p95": hi_h,
                                    "distribution": "lognormal"},
            "hardware": "most common matched chip of the organization within 2 years, then for the year and "
                        "domain, then the year, then overall",
        }


def _peak(hw: Hardware) -> tuple[float | None, str]:
    """Dense peak by Cottier's precision preference; INT8 OP/s as a last resort (e.g. TPU v1)."""
    if hw.default_precision() is not None:
        return hw.peak_flop_per_s(), ""
    int8 = hw.peak_flop_per_s_by_precision.get("int8")
    if int8:
        return int8, f"{hw.name} has no floating-point peak; its INT8 OP/s stands in"
    return None, ""


def _median_tdp(catalog: HardwareCatalog, tpu: bool) -> float:
    """Median TDP of the catalog's TPUs (or other chips), cached on the catalog."""
    cache = catalog.__dict__.setdefault("_median_tdp_cache", {})
    if tpu not in cache:
        vals = [h.tdp_w for h in catalog if h.tdp_w and h.is_tpu == tpu and h.default_precision() is not None]
        cache[tpu] = float(np.median(vals)) if vals else 300.0
    return cache[tpu]


def _match(catalog: HardwareCatalog, names: tuple[str, ...]) -> Hardware | None:
    """The first of a model's training chips that the chip table knows."""
    for n in names:
        hw = catalog.find(n)
        if hw is not None:
            return hw
    return None


def estimate_batch(
    records: Sequence[ModelRecord],
    *,
    hardware: HardwareCatalog,
    price_book: PriceBook,
    methods: Sequence[str] = METHODS,
    samples: int = 10_000,
    seed: int = 0,
    sampling: str = "sobol",
    target_year: int | None = None,
    price_index: PriceIndex | None = None,
    cloud_tier: str = "3y",
    source: str = "",
) -> BatchResult:
    """Estimate compute, chip-hours and cost by each method for every model that allows it."""
    for m in methods:
        if m not in METHODS:
            raise UnknownNameError("cost method", m, METHODS)
    if target_year is not None:
        price_index = price_index or bundled_price_index()
    matched = [_match(hardware, r.training_hardware) if r.training_hardware else None for r in records]
    imp = _Imputer(records, matched)

    const = {n: K.constant(n) for n in ("training_compute_factor", "chip_count_factor", "training_time_factor",
                                         "electricity_price_factor", "depreciation_oom_per_year", "interconnect_fraction",
                                         "acquisition_shift_days")}
    # shared factor draws: each column drawn once per sample index
    shared = draw({
        "f_compute": const["training_compute_factor"].distribution(),
        "f_chips": const["chip_count_factor"].distribution(),
        "f_time": const["training_time_factor"].distribution(),
        "u_imputed": imp.mfu,
        "t_imputed": imp.hours,
        "f_elec": const["electricity_price_factor"].distribution(),
        "rate": const["depreciation_oom_per_year"].distribution(),
        "interconnect": const["interconnect_fraction"].distribution(),
        "shift_days": const["acquisition_shift_days"].distribution(),
        "server_overhead": K.constant("server_overhead", "default").distribution(),
        "power_gpu": K.constant("average_power_fraction", "gpu").distribution(),
        "power_tpu": K.constant("average_power_fraction", "tpu").distribution(),
        "pue_hyper": K.constant("pue", "hyperscaler").distribution(),
        "pue_other": K.constant("pue", "default").distribution(),
        "f_price_gpu": K.constant("chip_price_factor", "gpu").distribution(),
        "f_price_tpu": K.constant("chip_price_factor", "tpu").distribution(),
    }, samples, seed, sampling)
    shared = {k: np.asarray(v, dtype=float) for k, v in shared.items()}
    shared["power_gpu"] = np.minimum(shared["power_gpu"], 1.0)
    shared["power_tpu"] = np.minimum(shared["power_tpu"], 1.0)
    shared["pue_hyper"] = np.maximum(shared["pue_hyper"], 1.0)
    shared["pue_other"] = np.maximum(shared["pue_other"], 1.0)

    skipped, prepared = [], []
    gap_days = K.constant("training_start_gap_days").value
    after_release = K.constant("acquisition_after_release_days").value
    for r, hw in zip(records, matched):
        try:
            prepared.append(_prepare(r, hw, imp, hardware, price_book, methods, cloud_tier, gap_days, after_release,
                                     target_year, price_index))
        except _Skip as exc:
            skipped.append({"model": r.name, "reason": str(exc)})
    rows = _evaluate_all(prepared, shared, methods)
    dollars = "nominal USD of each model's publication month" if target_year is None else \
        f"{target_year} USD ({price_index.name})"
    return BatchResult(rows, skipped, tuple(methods), dollars, source, samples, imp.describe())


class _Skip(Exception):
    pass


@dataclass
class _Prep:
    record: ModelRecord
    hw: Hardware
    path: str  # "chip_hours" | "chips_time" | "compute"
    compute: float | None
    compute_source: str
    chip_hours: float | None
    chips: float | None
    hours: float | None
    hours_imputed: bool
    utilization: float | None
    peak: float
    cloud_price: float | None
    chip_price: float | None
    includes_server: bool
    server_overhead: float
    years_held: float
    tdp: float | None
    power_ratio: float
    hyperscaler: bool
    usd_per_kwh: float
    inflation: float
    provenance: dict
    notes: list


def _prepare(r: ModelRecord, hw: Hardware | None, imp: _Imputer, catalog, book: PriceBook, methods, tier,
             gap_days, after_release, target_year, price_index) -> _Prep:
    prov: dict[str, str] = {}
    notes: list[str] = []
    if r.publication_date is None:
        raise _Skip("no publication date")
    # compute
    compute, csrc = None, ""
    if r.training_compute_flop:
        compute, csrc = r.training_compute_flop, "reported"
    elif r.parameters and r.dataset_size and _is_language(r.domains):
        compute, csrc = 6.0 * r.parameters * r.dataset_size * (r.epochs or 1.0), "derived (6ND)"
    # hardware
    if hw is None:
        if r.training_hardware:
            notes.append(f"hardware {', '.join(r.training_hardware)!r} not in the chip tables")
        key, why = imp.hardware(r)
        if key is None:
            raise _Skip("no hardware and nothing to impute it from")
        hw = catalog.get(key)
        prov["hardware"] = f"imputed: {why}"
    else:
        prov["hardware"] = "reported"
        if len(r.training_hardware) > 1:
            notes.append(f"several chip types ({', '.join(r.training_hardware)}); priced as {hw.name}")
    peak, peak_note = _peak(hw)
    if peak is None:
        raise _Skip(f"{hw.name} has no peak FLOP/s or OP/s in the chip tables")
    if peak_note:
        notes.append(peak_note)
    u = r.utilization if r.utilization and 0 < r.utilization <= 1 else None
    prov["utilization"] = "reported" if u else "imputed"
    hours, hours_imputed = r.training_time_hours, False
    if r.chip_hours:
        path, prov["chip_hours"] = "chip_hours", "reported"
    elif r.hardware_quantity and r.training_time_hours:
        path, prov["chip_hours"] = "chips_time", "derived (chips x time)"
    elif compute:
        path, prov["chip_hours"] = "compute", "derived (compute / (peak x utilization))"
    else:
        raise _Skip("no training compute, parameters x data, or chip-hours")
    if not hours:
        hours, hours_imputed = imp.hours_central, True
        prov["training_time_hours"] = "imputed"
    else:
        prov["training_time_hours"] = "reported"
    prov["training_compute_flop"] = csrc or "derived (chip-hours x peak x utilization)"
    prov["chips"] = "reported" if r.hardware_quantity else "derived (chip-hours / time)"
    start = r.training_start_date or r.publication_date - dt.timedelta(days=int(hours // 24) + gap_days)
    cloud_price = chip_price = None
    includes_server, server_overhead, years = True, 1.0, 0.0
    org = ", ".join(r.organizations)
    if "cloud" in methods:
        try:
            cp = book.cloud_price(hw, tier=tier, on=start - dt.timedelta(days=gap_days), organization=org)
            cloud_price = cp.price_usd_per_chip_hour
            prov["price_usd_per_chip_hour"] = f"{cp.vendor} {cp.tier} {cp.date}"
        except FlopcastError:
            prov["price_usd_per_chip_hour"] = "missing"
    if "amortized" in methods or "acquisition" in methods:
        pp = book.purchase_price(hw)
        if pp is None:
            pp = _trend_price(hw, book, start)
            prov["chip_price_usd"] = "imputed: hardware price-performance trend"
        else:
            prov["chip_price_usd"] = f"reported {pp.date}"
        if pp is not None:
            chip_price, includes_server = pp.price_usd_per_chip, pp.includes_server
            server_overhead = 1.0 if includes_server else K.constant("server_overhead", hw.family).value
            release = hw.release_date or pp.date
            acquisition = max(pp.date, release + dt.timedelta(days=int(after_release)))
            years = (start - acquisition).days / DAYS_PER_YEAR
    tdp = hw.tdp_w or (K.constant("tpu_v4_tdp_w").value if hw.family == "tpu-v4" else None)
    if tdp is None:
        tdp = _median_tdp(catalog, hw.is_tpu)
        prov["tdp_w"] = f"imputed: median TDP of {'TPUs' if hw.is_tpu else 'other chips'} in the chip tables"
    inflation = 1.0
    if target_year is not None:
        when = r.publication_date if r.publication_date.year <= price_index.last_year else price_index.last_year
        if isinstance(when, dt.date) and when.year < price_index.first_year:
            when = price_index.first_year
        inflation = price_index.factor(when, target_year)
    return _Prep(
        record=r, hw=hw, path=path, compute=compute, compute_source=csrc, chip_hours=r.chip_hours,
        chips=r.hardware_quantity, hours=hours, hours_imputed=hours_imputed, utilization=u, peak=peak,
        cloud_price=cloud_price, chip_price=chip_price, includes_server=includes_server,
        server_overhead=server_overhead, years_held=years, tdp=tdp,
        power_ratio=K.constant("server_power_ratio", hw.family).value, hyperscaler=_hyperscaler(r.organizations),
        usd_per_kwh=electricity_price_usd_per_kwh(r.publication_date.year), inflation=inflation,
        provenance=prov, notes=notes,
    )


def _trend_price(hw: Hardware, book: PriceBook, when: dt.date):
    """Purchase price from the price-performance trend: peak / (FLOP/s per $ on the trend at ``when``).

    The trend's slope is the depreciation rate (0.14 OOM/year, Hobbhahn et al. 2023); its
    level is fitted to the chips in the book that have purchase prices (chip-only prices,
    servers divided by their overhead).
    """
    from flopcast.catalogs.prices import PurchasePrice

    rate = K.constant("depreciation_oom_per_year").value
    level = _trend_level(book, rate)
    if level is None:
        return None
    years = (when - dt.date(2000, 1, 1)).days / DAYS_PER_YEAR
    flop_per_usd = 10 ** (level + rate * years)
    try:
        peak = hw.peak_flop_per_s()
    except FlopcastError:
        return None
    return PurchasePrice(hw.key, when, peak / flop_per_usd, False, "price-performance trend",
                         f"{rate} OOM/year, level fitted to the priced chips")


def _trend_level(book: PriceBook, rate: float) -> float | None:
    """log10(FLOP/s per $) at 2000-01-01 on a trend of slope ``rate``, median over priced chips (cached on the book)."""
    cache = book.__dict__.setdefault("_trend_level_cache", {})
    if rate in cache:
        return cache[rate]
    pts = []
    for p in book_purchases(book):
        peak = _peak_for_family(p.hardware)
        if peak is None:
            continue
        price = p.price_usd_per_chip / (K.constant("server_overhead", p.hardware).value if p.includes_server else 1.0)
        years = (p.date - dt.date(2000, 1, 1)).days / DAYS_PER_YEAR
        pts.append(math.log10(peak / price) - rate * years)
    level = float(np.median(pts)) if pts else None
    cache[rate] = level
    return level


def book_purchases(book: PriceBook):
    seen = []
    b = book
    while b is not None:
        seen += list(b.purchases)
        b = getattr(b, "rest", None)
    return seen


def _peak_for_family(name: str) -> float | None:
    from flopcast.catalogs.hardware import bundled_hardware
    from flopcast.catalogs.prices import family_token

    hw = bundled_hardware().find(family_token(name))
    if hw is None or hw.default_precision() is None:
        return None
    return hw.peak_flop_per_s()


def _col(preps, attr, default=np.nan) -> np.ndarray:
    return np.array([default if getattr(p, attr) is None else getattr(p, attr) for p in preps], dtype=float)[:, None]


def _group_key(p: _Prep) -> tuple:
    """Models with the same key take the same branch at every step of the evaluation."""
    return (p.path, p.utilization is not None, p.hours_imputed, p.chips is not None, p.compute is not None,
            p.hw.is_tpu, p.includes_server, p.hyperscaler, p.chip_price is not None, p.tdp is not None,
            p.cloud_price is not None)


def _evaluate_all(prepared: list[_Prep], shared: dict, methods) -> list[dict]:
    groups: dict[tuple, list[_Prep]] = {}
    for p in prepared:
        groups.setdefault(_group_key(p), []).append(p)
    rows: dict[int, dict] = {}
    for preps in groups.values():
        for start in range(0, len(preps), _CHUNK):
            chunk = preps[start:start + _CHUNK]
            for p, row in zip(chunk, _evaluate_chunk(chunk, shared, methods)):
                rows[id(p)] = row
    return [rows[id(p)] for p in prepared]  # the input order


def _evaluate_chunk(preps: list[_Prep], sh: dict, methods) -> list[dict]:
    """One homogeneous chunk of models: (models x samples) arrays through the stage functions."""
    s = {k: v[None, :] for k, v in sh.items()}
    p0 = preps[0]
    peak = _col(preps, "peak")
    u = _col(preps, "utilization") if p0.utilization is not None else s["u_imputed"]
    hours = s["t_imputed"] if p0.hours_imputed else _col(preps, "hours") * s["f_time"]
    chips_r = _col(preps, "chips") * s["f_chips"] if p0.chips is not None else None
    if p0.path == "chip_hours":
        chip_hours = _col(preps, "chip_hours") * (s["f_chips"] * s["f_time"])
    elif p0.path == "chips_time":
        chip_hours = chips_r * hours
    else:
        chip_hours = training.chip_hours_from_compute(_col(preps, "compute") * s["f_compute"], peak, u)
    if p0.compute is not None:
        compute = _col(preps, "compute") * s["f_compute"]
    else:
        compute = chip_hours * SECONDS_PER_HOUR * peak * u
    out = {"training_compute_flop": compute, "chip_hours": chip_hours}
    infl = _col(preps, "inflation")
    if "cloud" in methods and p0.cloud_price is not None:
        out["cloud"] = training.cloud_cost_usd(chip_hours, _col(preps, "cloud_price") * infl)
    if p0.chip_price is not None and ("amortized" in methods or "acquisition" in methods):
        chip_price = _col(preps, "chip_price") * (s["f_price_tpu"] if p0.hw.is_tpu else s["f_price_gpu"])
        if p0.includes_server:
            server_overhead = 1.0
        else:
            server_overhead = _col(preps, "server_overhead") * (
                s["server_overhead"] / K.constant("server_overhead", "default").value)
        if "amortized" in methods and p0.tdp is not None:
            hw_cost = training.amortized_hardware_cost_usd(
                chip_hours, chip_price, server_overhead=server_overhead, interconnect_fraction=s["interconnect"],
                years_held=_col(preps, "years_held") + s["shift_days"] / DAYS_PER_YEAR,
                depreciation_oom_per_year=np.maximum(s["rate"], 1e-6))
            energy = training.energy_cost_usd(
                chip_hours, _col(preps, "tdp"), server_power_ratio=_col(preps, "power_ratio"),
                average_power_fraction=s["power_tpu"] if p0.hw.is_tpu else s["power_gpu"],
                pue=s["pue_hyper"] if p0.hyperscaler else s["pue_other"],
                usd_per_kwh=_col(preps, "usd_per_kwh") * s["f_elec"])
            out["amortized"] = (hw_cost + energy) * infl
        if "acquisition" in methods:
            chips = chips_r if chips_r is not None else np.ceil(chip_hours / hours)
            out["acquisition"] = training.acquisition_cost_usd(
                chips, chip_price, server_overhead=server_overhead, interconnect_fraction=s["interconnect"]) * infl
    q = {k: np.quantile(v, [0.05, 0.5, 0.95], axis=1) for k, v in out.items()}
    rows = []
    for i, p in enumerate(preps):
        r = p.record
        row = {
            "model": r.name,
            "publication_date": r.publication_date.isoformat(),
            "organization": ", ".join(r.organizations),
            "domain": ", ".join(r.domains),
            "hardware": p.hw.name,
        }
        for k in ("training_compute_flop", "chip_hours"):
            row[k], row[f"{k}_p5"], row[f"{k}_p95"] = float(q[k][1, i]), float(q[k][0, i]), float(q[k][2, i])
            if k == "training_compute_flop":
                row["compute_source"] = p.provenance["training_compute_flop"]
        for m in methods:
            if m in q:
                row[f"cost_{m}_usd"] = float(q[m][1, i])
                row[f"cost_{m}_usd_p5"] = float(q[m][0, i])
                row[f"cost_{m}_usd_p95"] = float(q[m][2, i])
            else:
                row[f"cost_{m}_usd"] = row[f"cost_{m}_usd_p5"] = row[f"cost_{m}_usd_p95"] = None
        row["imputed_inputs"] = ";".join(k for k, v in p.provenance.items() if v.startswith("imputed"))
        row["provenance"] = dict(p.provenance)
        row["notes"] = "; ".join(p.notes)
        rows.append(row)
    return rows


def select(records: Sequence[ModelRecord], *, since: int | None = None, until: int | None = None,
           domain: str | None = None, org: str | None = None, top: int | None = None) -> list[ModelRecord]:
    """Filter records: publication years, domain and organization (substring), top-N at release."""
    if top is not None and top < 1:
        raise InvalidInputError(f"top={top} must be >= 1")
    keep = list(records)
    if top is not None:
        compute = np.array([r.training_compute_flop or 0.0 for r in keep])
        mask = frontier_mask(keep, compute, top)
        keep = [r for r, k in zip(keep, mask) if k]
    out = []
    for r in keep:
        y = r.publication_date.year if r.publication_date else None
        if since is not None and (y is None or y < since):
            continue
        if until is not None and (y is None or y > until):
            continue
        if domain and not any(domain.lower() in d.lower() for d in r.domains):
            continue
        if org and not any(org.lower() in o.lower() for o in r.organizations):
            continue
        out.append(r)
    return out
