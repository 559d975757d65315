"""`lotsdb cache`: warm it for cron, see what is in it, clear it."""

from __future__ import annotations

from typing import Annotated

import typer

from lotsdb_cli.cli.common import FormatOption, emit_object
from lotsdb_cli.cli.lots import WorkersOption, partial_failure, run_dump
from lotsdb_cli.cli.state import get_state

app = typer.Typer(help="The HTTP cache: warm, stats, clear.", no_args_is_help=True)


@app.command("warm")
def warm(
    ctx: typer.Context,
    event_ids: Annotated[list[int], typer.Argument(min=1, help="One or more event ids.")],
    workers: WorkersOption = 32,
) -> None:
    """Fetch every lot of the events into the cache, printing nothing but the summary.

    Example (cron, every 10 minutes): */10 * * * * lotsdb -q cache warm 1000 1001
    """
    from lotsdb_cli.errors import PartialFailure

    state = get_state(ctx)
    failures: list[str] = []
    for event_id in event_ids:
        summary = run_dump(state, event_id, workers=workers, fmt=None, stream=None)
        if summary.failed:
            failures.append(f"event {event_id}: {partial_failure(summary).message}")
    if failures:
        raise PartialFailure("; ".join(failures), hint="re-run to retry the failed lots")


@app.command("stats")
def stats(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Backend, location, size, fresh/expired entries by endpoint, and recent runs' hits and misses.

    Example: lotsdb cache stats --format json | jq .endpoints
    """
    emit_object(ctx, get_state(ctx).db.cache_stats(), fmt)


@app.command("clear")
def clear(
    ctx: typer.Context,
    expired: Annotated[bool, typer.Option("--expired", help="Only entries past their freshness.")] = False,
    url_pattern: Annotated[
        str | None, typer.Option("--url-pattern", help="Only URLs matching this glob, e.g. '*/api/Lot/*'.")
    ] = None,
) -> None:
    """Remove cache entries (all of them, unless narrowed).

    Example: lotsdb cache clear --url-pattern '*/api/Catalog/*'
    """
    state = get_state(ctx)
    removed = state.db.cache_clear(expired_only=expired, url_pattern=url_pattern)
    state.console.note(f"removed {removed} cache entries")
