"""`lotsdb sellers`: the Catalog API's sellers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from lotsdb_cli.cli.common import MAX_ID, FormatOption, LimitOption, emit_list, emit_object, help_with_examples
from lotsdb_cli.cli.params import TextOption
from lotsdb_cli.cli.state import get_state

app = typer.Typer(
    help=help_with_examples("Sellers of the Catalog API.", "lotsdb sellers list --active", "lotsdb sellers show 3"),
    no_args_is_help=True,
)

COLUMNS = ["id", "name", "customerDisplayId", "isActive", "events"]


@app.command("list")
def list_sellers(
    ctx: typer.Context,
    name: Annotated[str | None, TextOption(help="Only sellers whose name contains this text.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Only active (or only inactive) sellers.")
    ] = None,
    limit: LimitOption = None,
    fmt: FormatOption = None,
) -> None:
    """Every seller, all pages.

    Examples:

    \b
        lotsdb sellers list --active --format csv > sellers.csv
        lotsdb sellers list --name gallery --limit 5
    """
    sellers = get_state(ctx).db.sellers(name=name, active=active, limit=limit)
    emit_list(ctx, sellers, fmt, COLUMNS, row=_table_row)


@app.command("show")
def show_seller(
    ctx: typer.Context,
    seller_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, metavar="SELLER_ID", help="The seller's id.")],
    fmt: FormatOption = None,
) -> None:
    """One seller with its events.

    Examples:

    \b
        lotsdb sellers show 3
        lotsdb sellers show 3 --format json | jq '.catalogs[].id'
    """
    emit_object(ctx, get_state(ctx).db.seller(seller_id), fmt)


def _table_row(seller: Mapping[str, Any]) -> dict[str, Any]:
    catalogs = seller.get("catalogs")
    return {**seller, "events": len(catalogs) if isinstance(catalogs, list) else None}
