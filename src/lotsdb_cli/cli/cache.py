"""`lotsdb cache`: warm it for cron, see what is in it, clear it."""

from __future__ import annotations

import sys
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
        summary = run_dump(state, event_id, workers=workers, fmt=None, stream=None, flush=False)
        if summary.failed:
            failures.append(f"event {event_id}: {partial_failure(summary).message}")
    if failures:
        raise PartialFailure("; ".join(failures), hint="re-run to retry the failed lots")


@app.command("stats")
def stats(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Backend, location, size, fresh/expired entries by endpoint, and recent runs' hits and misses.

    Example: lotsdb cache stats --format json | jq .endpoints
    """
    from lotsdb_cli.http.admin import cache_stats
    from lotsdb_cli.output import render_table, resolve_format

    info = cache_stats(get_state(ctx).http())
    if resolve_format(fmt) != "table":
        emit_object(info, fmt)
        return
    size = info["size_bytes"]
    sys.stdout.write(
        f"backend:  {info['backend']}\nlocation: {info['location']}\n"
        f"size:     {'-' if size is None else f'{size / 1024:.0f} KiB'}\n"
        f"entries:  {info['entries']} ({info['fresh']} fresh, {info['expired']} expired)\n\n"
    )
    sys.stdout.write(render_table(info["endpoints"], ["endpoint", "fresh", "expired"]))
    runs = info["recent_runs"][-5:]
    if runs:
        sys.stdout.write("\nrecent runs:\n")
        columns = ["at", "command", "cache_hits", "cache_misses", "sent", "stale", "throttled"]
        sys.stdout.write(render_table(runs, columns))


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
    from lotsdb_cli.cli import console
    from lotsdb_cli.http.admin import clear_cache

    removed = clear_cache(get_state(ctx).http(), expired_only=expired, url_pattern=url_pattern)
    console.note(f"removed {removed} cache entries")
