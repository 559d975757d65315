"""`lotsdb cache`: warm it for cron, see what is in it, clear it."""

from __future__ import annotations

from typing import Annotated

import typer

from lotsdb_cli.cli.common import MAX_ID, FormatOption, WorkersOption, emit_object, help_with_examples
from lotsdb_cli.cli.lots import partial_failure, run_dump
from lotsdb_cli.cli.params import DurationDefault, DurationOption, TextOption
from lotsdb_cli.cli.state import AppState, get_state

app = typer.Typer(
    help=help_with_examples(
        "The HTTP cache: warm, stats, clear.",
        "lotsdb cache warm --upcoming",
        "lotsdb cache stats",
        "lotsdb cache clear --expired",
    ),
    no_args_is_help=True,
)


@app.command("warm")
def warm(
    ctx: typer.Context,
    event_ids: Annotated[
        list[int] | None, typer.Argument(min=1, max=MAX_ID, metavar="EVENT_ID", help="Event ids to warm.")
    ] = None,
    upcoming: Annotated[
        bool, typer.Option("--upcoming", help="Also every event starting today (UTC) or later, within --within.")
    ] = False,
    sellers: Annotated[
        list[int] | None,
        typer.Option(
            "--seller", min=1, max=MAX_ID, metavar="SELLER_ID", help="With --upcoming: only this seller's; repeatable."
        ),
    ] = None,
    within: Annotated[
        float, DurationOption("--within", help="With --upcoming: events starting within this long from now.")
    ] = DurationDefault("30d"),
    workers: WorkersOption = 32,
) -> None:
    """Fetch every lot of the events into the cache, printing nothing but the summaries.

    An event that cannot be read (not found, a bad answer, its request still failing after the
    retries) is reported in one warning line and the others are still warmed; exit 3 when any
    event or lot failed. Only a stop (rate-limited beyond --max-wait, the host unreachable,
    credentials or settings refused) ends the run at once, keeping everything fetched (exit 75,
    or 4).

    Examples:

    \b
        lotsdb cache warm 1000 1001
        lotsdb cache warm --upcoming --seller 2 --within 7d
        */10 * * * *  lotsdb -q cache warm --upcoming   (crontab)
    """
    from lotsdb_cli.cli.params import given_on_command_line
    from lotsdb_cli.durations import format_duration
    from lotsdb_cli.errors import LotsdbError, PartialFailure, stops_the_run
    from lotsdb_cli.lots import DumpSummary

    given = given_on_command_line(ctx)
    if not event_ids and not upcoming:
        raise typer.BadParameter("give event ids, --upcoming, or both", ctx=ctx)
    if not upcoming and ("sellers" in given or "within" in given):
        raise typer.BadParameter("--seller and --within go with --upcoming", ctx=ctx)
    state = get_state(ctx)
    chosen = list(dict.fromkeys(event_ids or []))
    failures: list[str] = []
    if upcoming:
        unknown = _unknown_sellers(state, sellers or [])
        if unknown:
            failures.append(f"seller {', '.join(map(str, unknown))} could not be read")
        known = [seller for seller in sellers or [] if seller not in unknown]
        coming = state.db.upcoming_events(seller_ids=known, within=within) if known or not sellers else []
        chosen += [event["id"] for event in coming if event["id"] not in chosen]
        state.console.note(f"{_events(len(coming))} upcoming within {format_duration(within)}")
    total = DumpSummary()
    unreadable: list[int] = []
    for event_id in chosen:
        try:
            summary = run_dump(state, event_id, workers=workers, fmt=None, stream=None)
        except LotsdbError as exc:
            # A lot's failure is counted in its summary; what gets here is the event itself (its
            # request, its answer) or a stop that would fail every other event the same way.
            if stops_the_run(exc):
                raise
            unreadable.append(event_id)
            state.console.warn(f"event {event_id}: {exc.message}")
            continue
        total.add(summary)
        if summary.failed:
            failures.append(f"event {event_id}: {partial_failure(summary).message}")
    warmed = _events(len(chosen))
    if unreadable:
        warmed = f"{len(chosen) - len(unreadable)} of {warmed} ({len(unreadable)} failed)"
    state.console.note(f"warmed {warmed}: {total.line()}")
    if unreadable:
        failures.insert(
            0, f"{len(unreadable)} of {_events(len(chosen))} could not be read: {', '.join(map(str, unreadable))}"
        )
    if failures:
        raise PartialFailure("; ".join(failures), hint="the others were warmed; re-run to retry what failed")


def _unknown_sellers(state: AppState, sellers: list[int]) -> list[int]:
    """The sellers that cannot be read (unknown to the API, or their answer failed), each in a warning:
    a typo in a crontab must not warm nothing for ever in silence (one cached request per seller)."""
    from lotsdb_cli.errors import LotsdbError, NotFound, stops_the_run

    unknown = []
    for seller_id in dict.fromkeys(sellers):
        try:
            state.db.seller(seller_id)
        except LotsdbError as exc:  # like an event that cannot be read: the others are still warmed
            if stops_the_run(exc):
                raise
            unknown.append(seller_id)
            problem = "not found" if isinstance(exc, NotFound) else exc.message
            state.console.warn(f"seller {seller_id}: {problem}; its events are not warmed")
    return unknown


@app.command("stats")
def stats(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Backend, location, size, fresh/expired entries by endpoint, and recent runs' hits and misses.

    Examples:

    \b
        lotsdb cache stats
        lotsdb cache stats --format json | jq .endpoints
    """
    emit_object(ctx, get_state(ctx).db.cache_stats(), fmt)


@app.command("clear")
def clear(
    ctx: typer.Context,
    expired: Annotated[bool, typer.Option("--expired", help="Only entries past their freshness.")] = False,
    url_pattern: Annotated[
        str | None,
        TextOption(
            "--url-pattern",
            metavar="GLOB",
            help="Only URLs matching this glob: '*/api/Lot/*', or a path: '/api/Lot/*'.",
        ),
    ] = None,
) -> None:
    """Remove cache entries (all of them, unless narrowed).

    Examples:

    \b
        lotsdb cache clear --expired
        lotsdb cache clear --url-pattern '*/api/Catalog/*'
    """
    state = get_state(ctx)
    removed = state.db.cache_clear(expired_only=expired, url_pattern=url_pattern)
    state.console.note(f"removed {removed} cache entries")


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"
