"""Where the model, chip and price tables come from, and loading them.

Order: ``--data DIR`` (a folder holding Epoch's CSVs), else the cache that
``flopcast data pull`` fills, else the bundled curated catalog. Every result says
which source it used and the snapshot date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from flopcast.errors import CatalogError, UnknownModelError


@dataclass(frozen=True)
class DataSource:
    kind: str  # "data-dir" | "cache" | "bundled"
    label: str
    snapshot: str
    models_path: Path | None = None
    hardware_path: Path | None = None
    prices_path: Path | None = None
    price_index_path: Path | None = None

    def describe(self) -> str:
        return f"{self.label} (snapshot {self.snapshot})"


@dataclass
class Database:
    source: DataSource
    records: list
    hardware: object
    price_book: object
    reports: list = field(default_factory=list)
    epoch_models: list = field(default_factory=list)


def _first(folder: Path, names) -> Path | None:
    for n in names:
        if (folder / n).is_file():
            return folder / n
    return None


def resolve_source(data_dir: str | Path | None = None) -> DataSource:
    from flopcast.datasets import schema

    if data_dir is not None:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise CatalogError(f"--data {str(folder)!r} is not a folder; give the folder that holds Epoch's CSV files")
        models = _first(folder, schema.MODELS.filenames)
        if models is None:
            raise CatalogError(
                f"--data {str(folder)!r} holds none of {', '.join(schema.MODELS.filenames)}; "
                "it needs Epoch's AI models table"
            )
        stamp = dt.datetime.fromtimestamp(models.stat().st_mtime, dt.timezone.utc).date().isoformat()
        return DataSource("data-dir", f"--data {folder}", stamp, models, _first(folder, schema.HARDWARE.filenames),
                          _first(folder, schema.PRICES.filenames), _first(folder, schema.PRICE_INDEX.filenames))
    try:
        from flopcast.datasets import pull

        entries = {e.kind: e for e in pull.status() if e.exists}
    except (ImportError, CatalogError):
        entries = {}
    if "models" in entries:
        m = entries["models"]
        hw = entries.get("hardware")
        return DataSource("cache", f"cache {Path(m.path).parent}", str(m.fetched_at)[:10], Path(m.path),
                          Path(hw.path) if hw else None, None, None)
    return DataSource("bundled", "bundled curated catalog", "2026-11-28")


def load_database(source: DataSource) -> Database:
    """Records, merged chip table and price book for a source."""
    from flopcast.batch import ModelRecord
    from flopcast.catalogs.hardware import bundled_hardware, load_epoch_hardware
    from flopcast.catalogs.models import bundled_models
    from flopcast.catalogs.prices import bundled_price_book

    if source.kind == "bundled":
        return Database(source, [ModelRecord.from_spec(m) for m in bundled_models()], bundled_hardware(),
                        bundled_price_book())
    from flopcast.datasets import epoch

    models, report = epoch.load_epoch_models(source.models_path)
    reports = [report]
    by_name = {}
    curated = bundled_models()
    records = []
    for m in models:
        rec = ModelRecord.from_epoch(m)
        spec = curated.find(m.name)
        if spec is not None and spec.training_start_date is not None:
            from dataclasses import replace

            rec = replace(rec, training_start_date=spec.training_start_date)
        records.append(rec)
        by_name.setdefault(m.name, rec)
    hardware = bundled_hardware()
    if source.hardware_path is not None:
        hardware = hardware.merged(load_epoch_hardware(source.hardware_path))
    book = bundled_price_book()
    if source.prices_path is not None:
        rows, rep = epoch.load_epoch_prices(source.prices_path)
        reports.append(rep)
        book = book.with_rows(*price_rows(rows), label=str(source.prices_path))
    return Database(source, records, hardware, book, reports, models)


def price_rows(rows):
    """Epoch price-table rows -> (purchase rows, cloud rows) for a PriceBook."""
    from flopcast.catalogs.prices import CloudRow, PurchasePrice, family_token, vendor_key

    purchases, cloud = [], []
    for r in rows:
        if r.date is None or not r.hardware:
            continue
        fam = family_token(r.hardware)
        if r.purchase:
            notes = r.notes or ""
            purchases.append(PurchasePrice(fam, r.date, r.purchase, "dgx" in (notes + r.hardware).lower(),
                                           r.source or "", notes))
        if r.on_demand or r.one_year or r.three_year:
            cloud.append(CloudRow(fam, vendor_key(r.vendor), r.date, r.on_demand, r.one_year, r.three_year,
                                  r.source or "", r.notes or ""))
    return purchases, cloud



def database_model(db: Database, name: str):
    """A database row as a :class:`ModelSpec` for the single-model chain, with notes.

    Names match fuzzily (a miss lists the closest names). Hardware the chip tables do not
    know is imputed by the batch rule (most common chip for the year and domain).
    """
    from flopcast.batch import _Imputer, _match
    from flopcast.catalogs.models import ModelSpec
    from flopcast.datasets import epoch

    if db.source.kind == "bundled":
        from flopcast.catalogs.models import bundled_models

        return bundled_models().get(name), []
    try:
        m = epoch.find_model(db.epoch_models, name)
    except UnknownModelError:
        # a curated name or alias ("gpt-3") may name the database row ("GPT-3 175B (davinci)")
        from flopcast.catalogs.models import bundled_models

        spec = bundled_models().find(name)
        m = None
        for alias in (spec.name, *spec.aliases) if spec is not None else ():
            try:
                m = epoch.find_model(db.epoch_models, alias)
                break
            except UnknownModelError:
                continue
        if m is None:
            raise
    notes = [f"database row: {m.name!r} (line {m.line} of {db.source.models_path.name})"]
    hw = _match(db.hardware, tuple(m.training_hardware)) if m.training_hardware else None
    if hw is None:
        rec = next(r for r in db.records if r.name == m.name)
        imputer = _Imputer(db.records, [_match(db.hardware, r.training_hardware) if r.training_hardware else None
                                        for r in db.records])
        key, why = imputer.hardware(rec)
        if key is None:
            from flopcast.errors import MissingInputError

            raise MissingInputError(f"{m.name!r} has no training hardware and none can be imputed; give --hardware")
        hw = db.hardware.get(key)
        notes.append(f"hardware (imputed): {hw.name}, {why}")
    elif len(m.training_hardware) > 1:
        notes.append(f"several chip types ({', '.join(m.training_hardware)}); priced as {hw.name}")
    language = any("language" in d.lower() for d in m.domains)
    spec = ModelSpec(
        key=m.name, name=m.name, organization=", ".join(m.organizations),
        publication_date=m.publication_date or dt.date.today(), domain=", ".join(m.domains),
        params=m.parameters, training_tokens=m.dataset_size if language else None, epochs=m.epochs,
        training_compute_flop=m.training_compute_flop, hardware=hw.key, chips=m.hardware_quantity,
        training_time_hours=m.training_time_hours, chip_hours=m.chip_hours, utilization=m.utilization,
        confidence=(m.confidence or "likely") if (m.confidence or "likely") in ("confident", "likely", "speculative")
        else "likely", source=m.link or str(db.source.models_path), as_of=db.source.snapshot,
    )
    rec = next((r for r in db.records if r.name == m.name), None)
    if rec is not None and rec.training_start_date is not None:
        from dataclasses import replace

        spec = replace(spec, training_start_date=rec.training_start_date)
    return spec, notes

