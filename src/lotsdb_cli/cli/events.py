"""`lotsdb events`: the Catalog API's catalogs, which are auction events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from lotsdb_cli.cli.common import MAX_ID, FormatOption, LimitOption, emit_list, emit_object, help_with_examples
from lotsdb_cli.cli.state import get_state

app = typer.Typer(
    help=help_with_examples("Auction events (the API's catalogs).", "lotsdb events list", "lotsdb events show 1000"),
    no_args_is_help=True,
)

COLUMNS = ["id", "title", "startDate", "endDate", "isCompleted", "agent", "customerCatalogId", "sellers", "lots"]


@app.command("list")
def list_events(
    ctx: typer.Context,
    seller: Annotated[
        int | None, typer.Option(min=1, max=MAX_ID, metavar="SELLER_ID", help="Only events of this seller id.")
    ] = None,
    upcoming: Annotated[
        bool, typer.Option("--upcoming/--all", help="Events starting today (UTC) or later, or every event.")
    ] = True,
    limit: LimitOption = None,
    fmt: FormatOption = None,
) -> None:
    """Events, soonest first.

    Examples:

    \b
        lotsdb events list
        lotsdb events list --seller 2 --all --limit 5
    """
    events = get_state(ctx).db.events(seller_id=seller, upcoming=upcoming, limit=limit)
    emit_list(ctx, events, fmt, COLUMNS, row=_table_row)


@app.command("show")
def show_event(
    ctx: typer.Context,
    event_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, metavar="EVENT_ID", help="The event's id.")],
    fmt: FormatOption = None,
) -> None:
    """One event with its lot count (`lotCount`, added to the API's object).

    Examples:

    \b
        lotsdb events show 1000
        lotsdb events show 1000 --format json | jq .lotCount
    """
    event = get_state(ctx).db.event(event_id)
    lots = event.get("lots")
    emit_object(ctx, {**event, "lotCount": len(lots) if isinstance(lots, list) else 0}, fmt)


def _table_row(event: Mapping[str, Any]) -> dict[str, Any]:
    sellers = event.get("sellers") if isinstance(event.get("sellers"), list) else []
    named = (seller.get("name") for seller in sellers or [] if isinstance(seller, dict))
    names = ", ".join(str(name) for name in named if name)  # a seller without a name adds nothing, not its id
    lots = event.get("lots")
    return {**event, "sellers": names, "lots": len(lots) if isinstance(lots, list) else 0}
