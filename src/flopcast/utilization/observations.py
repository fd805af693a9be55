"""The reported MFU values the utilization prior is fitted to and checked against, each with its covariates.

Two sources: every model of the database that reports its MFU (Epoch AI's "Hardware utilization (MFU)", with
the curated overlay), and the cited runs of ``catalogs/data/published_runs.csv``. ``scripts/fit_utilization_prior.py``
fits the prior to them, ``flopcast validate`` (``mfu-prior-coverage``) and ``tests/test_utilization_prior.py``
check its coverage on them: one list, read one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flopcast.catalogs._table import read_rows
from flopcast.dates import decimal_year
from flopcast.utilization.prior import PRECISION_CLASS, PUBLISHED_RUNS_FILE

if TYPE_CHECKING:
    from flopcast.catalogs.hardware import Hardware
    from flopcast.datasets.database import Database


@dataclass(frozen=True)
class Observation:
    """One reported MFU with the covariates the prior is conditioned on (None: unknown)."""

    key: str
    name: str
    mfu: float
    release_year: float | None
    chips: float | None
    #: the reported precision, else the chip's default (what the MFU's peak is at)
    precision: str | None
    #: "database" or "published"
    origin: str
    #: weight in the fit (1/runs of the same model for published runs)
    weight: float = 1.0
    #: the database key a published run stands for ("" for none)
    database_key: str = ""

    @property
    def precision_class(self) -> str | None:
        return PRECISION_CLASS.get(self.precision) if self.precision else None

    @property
    def complete(self) -> bool:
        return self.release_year is not None and self.chips is not None and self.precision_class is not None

    @property
    def covariates(self) -> tuple[float, float | None, float | None, str | None]:
        """``(mfu, release_year, chips, precision)``, as :func:`flopcast.utilization.prior.coverage` takes them."""
        return (self.mfu, self.release_year, self.chips, self.precision)


def _year(hw: Hardware | None) -> float | None:
    when = hw.release_date if hw is not None else None
    return float(decimal_year(when)) if when is not None else None


def database_observations(db: Database) -> list[Observation]:
    """Every database model that reports its MFU; the precision is the reported one, else the chip's default."""
    out = []
    for r in db.records:
        if r.utilization is None:
            continue
        hw, _ = db.hardware.match_names(r.training_hardware)
        precision = r.precision or (hw.default_precision() if hw is not None else None)
        out.append(
            Observation(
                key=r.key,
                name=r.name,
                mfu=float(r.utilization),
                release_year=_year(hw),
                chips=float(r.hardware_quantity) if r.hardware_quantity else None,
                precision=precision,
                origin="database",
            )
        )
    return out


def published_observations(db: Database) -> list[Observation]:
    """The cited runs of published_runs.csv (hardware keys resolved in the database's chip catalog), each run of
    one model weighted 1/(its runs) so that each model counts once."""
    rows, _ = read_rows(PUBLISHED_RUNS_FILE, required=("key", "model", "database_key", "hardware", "chips", "mfu"))
    runs: dict[str, int] = {}
    for r in rows:
        group = r["database_key"] or r["key"]
        runs[group] = runs.get(group, 0) + 1
    out = []
    for r in rows:
        hw = db.hardware.get(r["hardware"])
        precision = r["precision"] or hw.default_precision()
        out.append(
            Observation(
                key=r["key"],
                name=r["model"],
                mfu=float(r["mfu"]),
                release_year=_year(hw),
                chips=float(r["chips"]) if r["chips"] else None,
                precision=precision,
                origin="published",
                weight=1.0 / runs[r["database_key"] or r["key"]],
                database_key=r["database_key"],
            )
        )
    return out
