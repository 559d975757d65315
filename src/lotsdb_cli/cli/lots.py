"""`lotsdb lots`: show one lot, dump every lot of an event, append an override."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Annotated

import typer

from lotsdb_cli.cli.common import (
    MAX_ID,
    DumpFormat,
    FormatOption,
    OutputOption,
    WorkersOption,
    emit_object,
    help_with_examples,
    output_targets,
)
from lotsdb_cli.cli.params import FieldAssignmentOption
from lotsdb_cli.cli.state import AppState, get_state
from lotsdb_cli.errors import PartialFailure

if TYPE_CHECKING:
    from lotsdb_cli.export import Changes
    from lotsdb_cli.lots import DumpSummary, LotResult

app = typer.Typer(
    help=help_with_examples(
        "Lots: show, dump an event, override.",
        "lotsdb lots dump 1000 -o lots.jsonl",
        "lotsdb lots show 100001",
        "lotsdb lots override 100001 --set Qty=2",
    ),
    no_args_is_help=True,
)


@app.command("show")
def show_lot(
    ctx: typer.Context,
    lot_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, metavar="LOT_ID", help="The lot's id.")],
    fmt: FormatOption = None,
) -> None:
    """One lot, as the API's LotDto.

    Examples:

    \b
        lotsdb lots show 100001
        lotsdb lots show 100001 --format json | jq .overridenData
    """
    state = get_state(ctx)
    emit_object(ctx, state.db.lot(lot_id), fmt)


@app.command("dump")
def dump(
    ctx: typer.Context,
    event_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, metavar="EVENT_ID", help="The event's id.")],
    workers: WorkersOption = 32,
    fmt: Annotated[
        DumpFormat | None,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="Output format [default: the -o extension's, else jsonl]."
        ),
    ] = None,
    output: OutputOption = None,
    changes: Annotated[
        bool,
        typer.Option("--changes", help="Only lots new or changed since the last --changes export (and removed ones)."),
    ] = False,
    changes_reset: Annotated[
        bool, typer.Option("--changes-reset", help="Forget this event's --changes record first (export every lot).")
    ] = False,
) -> None:
    """Every lot of an event, fetched concurrently, in the event's lot order.

    Cached lots are not requested again, so a re-run after an interruption fetches only
    what is missing. Exit 3 when some lots failed (the others are written).

    With --changes, only the lots new or changed since the last complete --changes export of
    this event (in this format, on this machine) are written, then one {"id": ..., "removed":
    true} row per lot that left the event (CSV: their ids on stderr, even with -q). It is
    recorded only once the output is complete with no failed lot, so a failed (exit 3) or
    interrupted export is repeated whole next time.

    Examples:

    \b
        lotsdb lots dump 1000 -o lots.csv
        lotsdb lots dump 1000 | jq -c '{id, customerItemId}'
        lotsdb -q lots dump 1000 --changes -o /srv/exports/1000-delta.jsonl
    """
    from lotsdb_cli.cli.signals import finishing
    from lotsdb_cli.export import Changes, ExportLog
    from lotsdb_cli.output import format_for, open_output

    state = get_state(ctx)
    chosen = format_for(output, fmt, "jsonl", allowed=("jsonl", "json", "csv"))
    [target] = output_targets(ctx, output)
    log = ExportLog(state.db.albums, state.settings.catalog_url) if changes or changes_reset else None
    if log is not None and changes_reset:
        forgotten = log.forget(event_id)
        state.console.note(f"event {event_id}: forgot the --changes record of {forgotten} lots")
    delta = Changes(log.previous(event_id, chosen)) if log is not None and changes else None
    with open_output(target) as stream:
        summary = run_dump(
            state,
            event_id,
            workers=workers,
            fmt=chosen,
            stream=stream,
            live=not target.atomic,
            shown=target.is_stdout,
            changes=delta,
        )
        if summary.failed and len(summary.failed) == summary.total:
            raise partial_failure(summary)  # nothing arrived: an existing file is left as it was
        stream.flush()  # every byte is out before the export is recorded
        finishing()  # the file is put in place and the delta recorded, whatever signal comes now
    if log is not None and delta is not None:
        if delta.complete:
            log.record(event_id, chosen, delta.current)
            state.console.note(f"event {event_id}: {delta.line()}")
        else:  # a cron job may discard a file that ended in exit 3: its changes must come again
            state.console.note(
                f"event {event_id}: {delta.line()}; not recorded, as {len(delta.failed)} of {summary.total}"
                " lots failed: the next --changes export repeats this delta"
            )
        if chosen == "csv" and delta.removed:  # data, not chatter: shown even with -q
            state.console.data(f"event {event_id}: removed lots: {', '.join(map(str, delta.removed))}")
    if summary.failed:
        raise partial_failure(summary, changes=delta is not None)  # after the file with every other lot is in place


def partial_failure(summary: DumpSummary, *, changes: bool = False) -> PartialFailure:
    """Exit 3: the failed lots by id, after every other lot was written (`changes`: and nothing recorded)."""
    if len(summary.failed) == summary.total:
        hint = "nothing was written; re-run later to retry them"
    elif changes:
        hint = "the other lots were written but not recorded: the next --changes export repeats this delta"
    else:
        hint = "the other lots were written; re-run to retry the failed ones"
    return PartialFailure(
        f"{len(summary.failed)} of {summary.total} lots failed: {', '.join(map(str, summary.failed))}", hint=hint
    )


def run_dump(
    state: AppState,
    event_id: int,
    *,
    workers: int,
    fmt: str | None,
    stream: IO[str] | None,
    live: bool = False,
    shown: bool = False,
    changes: Changes | None = None,
) -> DumpSummary:
    """Fetch (and, given a stream, write) every lot of an event; the summary goes to stderr.

    `live`: the stream is read as it is written (a pipe, a FIFO): flush each lot. `shown`: the
    stream is stdout, which may be the terminal the progress bar would be drawn on.
    Failed lots are listed on stderr and in the returned summary (see `partial_failure`).
    """
    from lotsdb_cli.export import write_dump
    from lotsdb_cli.lots import CSV_COLUMNS
    from lotsdb_cli.output import RecordWriter

    console = state.console
    run = state.db.dump(event_id, workers=workers)
    summary = run.summary
    writer = RecordWriter(stream, fmt, CSV_COLUMNS if fmt == "csv" else None) if stream and fmt else None
    bar = console.progress(
        total=summary.total, desc=f"event {event_id}", unit="lot", data_on_terminal=shown and writer is not None
    )

    def progress(result: LotResult) -> None:
        bar.update(1, status=f"cached={summary.from_cache} failed={len(summary.failed)}")
        if live and writer is not None:
            writer.stream.flush()

    try:
        write_dump(run, writer, fmt or "jsonl", changes=changes, on_lot=progress)
        if writer is not None:
            writer.close()
    finally:
        bar.close()
        console.note(f"event {event_id}: {summary.line()}")
    for lot_id, reason in summary.failed.items():
        console.note(f"  failed lot {lot_id}: {reason}")
    return summary


@app.command("override")
def override(
    ctx: typer.Context,
    lot_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, metavar="LOT_ID", help="The lot's id.")],
    assignments: Annotated[
        list[str],
        FieldAssignmentOption("--set", "-s", help="A LotDataDto field and its value; repeat for several; null clears."),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the request body; send nothing.")] = False,
    fmt: FormatOption = None,
) -> None:
    """Append an override entry (the effective data with your changes) to a lot.

    Nothing is sent when the values are already the lot's effective data, so a script can
    re-run it safely.

    Examples:

    \b
        lotsdb lots override 100001 --set Qty=2 --set Notes="fragile, crate it"
        lotsdb lots override 100001 --set Notes=null --dry-run
    """
    from lotsdb_cli.lots import parse_assignments

    changes = parse_assignments(assignments)  # checked by the parser already; this joins them
    state = get_state(ctx)
    result = state.db.override(lot_id, changes, dry_run=dry_run)
    if result.body is None:
        state.console.note(f"lot {lot_id}: no change (the effective data already has these values); nothing sent")
        emit_object(ctx, result.lot, fmt)
        return
    if dry_run:
        emit_object(ctx, result.body, fmt)
        state.console.note(f"dry run: PUT /api/Lot/{lot_id} not sent")
        return
    state.console.note(f"lot {lot_id}: override {len(result.body['overridenData'])} stored; cached copy invalidated")
    emit_object(ctx, result.lot, fmt)
