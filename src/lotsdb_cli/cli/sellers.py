"""`lotsdb sellers`: the Catalog API's sellers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from lotsdb_cli.cli.common import FormatOption, LimitOption, emit_list, emit_object
from lotsdb_cli.cli.state import get_state

app = typer.Typer(help="Sellers of the Catalog API.", no_args_is_help=True)

COLUMNS = ["id", "name", "customerDisplayId", "isActive", "events"]


@app.command("list")
def list_sellers(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Only sellers whose name contains this text.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Only active (or only inactive) sellers.")
    ] = None,
    limit: LimitOption = None,
    fmt: FormatOption = None,
) -> None:
    """Every seller, all pages.

    Example: lotsdb sellers list --active --format csv > sellers.csv
    """
    sellers = get_state(ctx).db.sellers(name=name, active=active, limit=limit)
    emit_list(ctx, sellers, fmt, COLUMNS, row=_table_row)


@app.command("show")
def show_seller(
    ctx: typer.Context,
    seller_id: Annotated[int, typer.Argument(min=1, help="The seller's id.")],
    fmt: FormatOption = None,
) -> None:
    """One seller with its events.

    Example: lotsdb sellers show 3 --format json
    """
    emit_object(ctx, get_state(ctx).db.seller(seller_id), fmt)


def _table_row(seller: Mapping[str, Any]) -> dict[str, Any]:
    catalogs = seller.get("catalogs")
    return {**seller, "events": len(catalogs) if isinstance(catalogs, list) else None}
