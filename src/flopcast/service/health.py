"""Is a database fit to serve? The check ``flopcast serve`` runs before it starts listening.

:func:`flopcast.service.database` already refuses a folder without Epoch's models table, or one whose table lacks a
required column. A table can pass that and still be no use to the trend explorer: every row unreadable (only the
curated overlay left), or the columns the trend metrics read missing, so that every trend request would fail. This
check says so once, at start, in one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flopcast.errors import CatalogError

if TYPE_CHECKING:
    from flopcast.datasets.database import Database

#: a trend needs at least this many dated models with training compute
MIN_TREND_MODELS = 3
#: the models table's columns (canonical names of :data:`flopcast.datasets.schema.MODELS`) that the trend metrics
#: read: parameters (params), dataset size (data), and the training hardware, chip count and time that the cost
#: estimates start from (compute, the date and the name are required columns already)
TREND_COLUMNS = ("parameters", "dataset_size", "training_hardware", "hardware_quantity", "training_time_hours")


def serving_data_check(data: str | None = None) -> Database:
    """The database for ``data`` (as :func:`flopcast.service.database` reads it), checked for the web app.

    Raises :class:`~flopcast.errors.CatalogError` (one line) when its models table has fewer than
    :data:`MIN_TREND_MODELS` rows of its own with a publication date and training compute, or lacks a column of
    :data:`TREND_COLUMNS`.
    """
    from flopcast.datasets import schema
    from flopcast.service.training import database

    db = database(data)
    described = db.describe()
    report = next((r for r in db.reports if r.kind == schema.MODELS.name), None)
    table = report.file if report is not None else "the models table"
    # rows of the table itself: the curated overlay adds models to any table, so they do not count
    own = [r for r in db.records if r.origin.startswith("epoch") and r.publication_date and r.training_compute_flop]
    if len(own) < MIN_TREND_MODELS:
        rows = f"{report.records - report.skipped:,} row(s) read" if report is not None else "no rows read"
        raise CatalogError(
            f"{described}: {table} has {len(own)} model(s) with a publication date and training compute "
            f"({rows}); the web app needs at least {MIN_TREND_MODELS}"
        )
    if report is not None:
        headers = {schema.MODELS.columns[c][0]: c for c in TREND_COLUMNS}
        missing = [h for h in report.missing_columns if h in headers]
        if missing:
            raise CatalogError(
                f"{described}: {table} lacks the column(s) {', '.join(missing)} that the trends need; "
                "give a folder with Epoch's AI models table (flopcast data pull fetches it)"
            )
    return db
