"""Options shared by the commands that select models from a database, and their checks."""

from __future__ import annotations

from typing import Annotated

import typer

from flopcast.errors import InvalidInputError

Data = Annotated[str | None, typer.Option(help="Folder with Epoch's CSVs (default: the pulled cache, else the bundled catalog).")]
Top = Annotated[int | None, typer.Option(help="Keep models in the top N by training compute at their release.")]
Since = Annotated[int | None, typer.Option(help="First publication year.")]
Until = Annotated[int | None, typer.Option(help="Last publication year.")]
Domain = Annotated[str | None, typer.Option(help="Domain contains this (e.g. Language).")]
Org = Annotated[str | None, typer.Option(help="An organization contains this.")]
YearDollars = Annotated[int | None, typer.Option(help="Express costs in this year's dollars.")]
PriceIndex = Annotated[str | None, typer.Option(help="Price index CSV (FRED format) for --year-dollars.")]


def check_selection(since: int | None, until: int | None, price_index: str | None, year_dollars: int | None) -> None:
    if since is not None and until is not None and since > until:
        raise InvalidInputError(f"--since {since} is after --until {until}")
    if price_index is not None and year_dollars is None:
        raise InvalidInputError("--price-index needs --year-dollars")


def price_index_for(year_dollars: int | None, path: str | None):
    """The index to express dollars in ``year_dollars`` (a file's, else the bundled CPI-U), or None."""
    from flopcast.catalogs.price_index import index_for

    return index_for(year_dollars, path)
