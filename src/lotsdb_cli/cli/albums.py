"""`lotsdb albums`: spreadsheet import, listing, just-in-time Spotify enrichment, bulk refresh."""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lotsdb_cli.cli.album_runs import check_unknown, fetch_covers, read_source, reason, run_refresh
from lotsdb_cli.cli.common import (
    ArtistOption,
    FormatOption,
    GenreOption,
    LimitOption,
    WorkersOption,
    emit_list,
    emit_object,
    help_with_examples,
    output_targets,
)
from lotsdb_cli.cli.params import AlbumArgument, AlbumOption, DurationDefault, DurationOption
from lotsdb_cli.cli.state import AppState, get_state

if TYPE_CHECKING:
    from lotsdb_cli.albums.models import Album

app = typer.Typer(
    help=help_with_examples(
        "The local album catalog, enriched from Spotify.",
        "lotsdb albums import examples/albums.csv",
        "lotsdb albums refresh",
        "lotsdb albums gallery -o albums.html",
    ),
    no_args_is_help=True,
)

LIST_COLUMNS = ["id", "artist", "title", "genre", "year", "spotify_id", "cover_url", "has_metadata"]
MaxAgeOption = Annotated[
    float,
    DurationOption("--max-age", help="Fetch again when the stored metadata is older than this."),
]


@app.command("import")
def import_albums(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(metavar="SOURCE", help="CSV file, - for stdin, or an http(s) URL (Google Sheets links work)."),
    ],
    skip_spotify: Annotated[
        bool,
        typer.Option("--skip-spotify/--no-skip-spotify", help="Make no Spotify call (default), or enrich right away."),
    ] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Parse and report; write nothing.")] = False,
    reject_log: Annotated[
        str | None, typer.Option("--reject-log", metavar="FILE", help="Write invalid rows to this CSV.")
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=256, metavar="N", help="For --no-skip-spotify.")
    ] = 32,
) -> None:
    """Import an album spreadsheet; re-importing is idempotent and keeps enrichment.

    The file is read and written a row at a time, committed every few thousand rows: memory
    stays flat whatever its size, and an interrupted import keeps (and reports) what it committed.

    Examples:

    \b
        lotsdb albums import examples/albums.csv --reject-log rejects.csv
        lotsdb albums import 'https://docs.google.com/spreadsheets/d/KEY/edit'
        lotsdb albums import - < albums.csv
    """
    import contextlib

    from lotsdb_cli.albums.importer import REJECT_LOG_CUT, AlbumImporter
    from lotsdb_cli.albums.lines import stream_size
    from lotsdb_cli.cli.errors import silence
    from lotsdb_cli.errors import InvalidInput, PartialFailure
    from lotsdb_cli.output import open_output

    state = get_state(ctx)
    console = state.console
    log_path = reject_log if reject_log and not dry_run else None
    [log_target] = output_targets(ctx, log_path, inputs=[source])  # before reading: not over its source
    store = state.db.albums if not dry_run or state.settings.db_path.exists() else None
    stream, name = read_source(state, source)
    total = stream_size(stream)
    bar = console.progress(total=total, desc="importing", unit="B", unit_scale=True)
    shown = 0

    def show_progress(bytes_read: int, total_bytes: int | None, rows: int) -> None:
        nonlocal shown
        bar.update(bytes_read - shown, status=f"{rows:,} rows")
        shown = bytes_read

    importer = AlbumImporter(
        store,
        name,
        dry_run=dry_run,
        on_reject=lambda reject: console.note(f"{name}:{reject.line}: invalid: {reject.reason}"),
        on_duplicate=lambda duplicate: console.note(
            f"{name}:{duplicate.line}: duplicate of line {duplicate.first_line}"
        ),
        on_progress=show_progress,
        keep_spotify_ids=not skip_spotify and not dry_run,
    )
    try:
        with (
            contextlib.nullcontext() if source == "-" else contextlib.closing(stream),
            open_output(log_target) if log_path else contextlib.nullcontext() as log_stream,
        ):
            importer.run(stream, total_bytes=total, reject_log=log_stream)
    except BrokenPipeError:  # the reject log's last flush found its reader gone: the import itself is done
        if importer.report.completed and REJECT_LOG_CUT not in importer.report.warnings:
            importer.report.warnings.append(REJECT_LOG_CUT)
        if log_path == "-":
            silence(sys.stdout)
        if not importer.report.completed:
            raise
    finally:
        bar.close()
        report = importer.report
        if report.started:
            for warning in report.warnings:
                console.warn(warning)
            console.note(report.summary())
    if not skip_spotify and not dry_run and report.spotify_ids:
        selection = state.db.albums.select_for_refresh(report.spotify_ids)
        run_refresh(state, selection.to_fetch, workers=workers, skipped=selection.skipped)
    if report.swallowed is not None:
        first, last = report.swallowed
        raise InvalidInput(
            f"{name}, line {first}: a quoted cell opened there is never closed, so lines {first}-{last} "
            f"({last - first + 1:,} lines) were read as one cell and not imported",
            hint=f"close the quote and import again (the rows above line {first} are imported)",
        )
    if report.invalid and not report.imported:
        raise InvalidInput(
            f"none of the {report.invalid} rows of {name} could be imported (lines {report.lines_phrase()})"
            if report.invalid > 1
            else f"the only row of {name} could not be imported (line {report.lines_phrase()})",
            hint="see the reasons above; are the columns the ones the header names?",
        )
    if report.invalid:
        raise PartialFailure(
            f"{report.invalid} invalid rows were not imported (lines {report.lines_phrase()})",
            hint="fix them and import again" + ("" if reject_log else "; --reject-log FILE saves them as CSV"),
        )


@app.command("list")
def list_albums(
    ctx: typer.Context,
    artist: ArtistOption = None,
    genre: GenreOption = None,
    missing_cover: Annotated[bool, typer.Option("--missing-cover", help="Only albums without a cover URL.")] = False,
    limit: LimitOption = None,
    fmt: FormatOption = None,
) -> None:
    """Albums in the local catalog (no Spotify call).

    Examples:

    \b
        lotsdb albums list --genre jazz --missing-cover
        lotsdb albums list --format csv > albums.csv
    """
    state = get_state(ctx)
    albums = state.db.albums.albums(artist=artist, genre=genre, missing_cover=missing_cover, limit=limit)
    bar = state.console.progress(total=None, desc="albums", unit="album", data_on_terminal=True)

    def records() -> Generator[dict[str, Any], None, None]:
        try:
            for album in albums:
                bar.update(1)
                yield album.to_record()
        finally:
            bar.close()  # before a table is drawn on the same terminal
            albums.close()

    rows = records()
    try:
        emit_list(ctx, rows, fmt, LIST_COLUMNS)
    finally:
        rows.close()


@app.command("show")
def show(
    ctx: typer.Context,
    album: Annotated[str, AlbumArgument(help="Local id, Spotify id or Spotify URL.")],
    max_age: MaxAgeOption = DurationDefault("30d"),
    fmt: FormatOption = None,
) -> None:
    """An album with its tracks, fetched from Spotify first if missing or older than --max-age.

    Examples:

    \b
        lotsdb albums show 12
        lotsdb albums show https://open.spotify.com/album/JbOxBrphU2Sqm0bKBGcpXd
    """
    from lotsdb_cli.albums.details import album_details

    emit_object(ctx, album_details(_fresh_album(get_state(ctx), album, max_age)), fmt)


@app.command("cover")
def cover(
    ctx: typer.Context,
    album: Annotated[str, AlbumArgument(help="Local id, Spotify id or Spotify URL.")],
    max_age: MaxAgeOption = DurationDefault("30d"),
) -> None:
    """Print the album's cover image URL (fetched from Spotify first if needed).

    Examples:

    \b
        curl -sO "$(lotsdb albums cover 12)"
    """
    from lotsdb_cli.errors import NotFound

    found = _fresh_album(get_state(ctx), album, max_age)
    if not found.cover_url:
        raise NotFound(f"{found.label} has no cover image on Spotify")
    sys.stdout.write(found.cover_url + "\n")


def _fresh_album(state: AppState, ref: str, max_age: float) -> Album:
    album, note = state.db.album(ref, max_age=max_age)
    if note is not None:
        state.console.warn(note)
    return album


@app.command("refresh")
def refresh(
    ctx: typer.Context,
    album_ids: Annotated[
        list[str] | None,
        AlbumOption("--album-id", help="Local id, Spotify id or URL; repeat for several."),
    ] = None,
    artist: ArtistOption = None,
    genre: GenreOption = None,
    stale_after: Annotated[
        float,
        DurationOption("--max-age", "--stale-after", help="Refetch metadata older than this (--stale-after: same)."),
    ] = DurationDefault("30d"),
    force: Annotated[bool, typer.Option("--force", help="Fetch every selected album, fresh or not.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be fetched; no request.")] = False,
    workers: WorkersOption = 32,
    fmt: FormatOption = None,
) -> None:
    """Fetch Spotify metadata for the selected albums (default: none yet, or older than --max-age).

    Examples:

    \b
        lotsdb albums refresh --dry-run
        lotsdb albums refresh --workers 8
        lotsdb albums refresh --artist Saltwater --force
    """
    state = get_state(ctx)
    console = state.console
    selection = state.db.albums.select_for_refresh(
        album_ids or (), artist=artist, genre=genre, stale_after=stale_after, force=force
    )
    for ref in selection.unknown_refs:
        console.warn(f"no album {ref!r} in the library")
    if dry_run:
        records = [{**album.to_record(), "reason": reason(album)} for album in selection.to_fetch]
        emit_list(ctx, records, fmt, ["id", "spotify_id", "artist", "title", "reason"])
        console.note(
            f"dry run: {len(selection.to_fetch)} albums would be fetched, {len(selection.fresh)} are fresh, "
            f"{selection.skipped} skipped (no Spotify id or unknown to Spotify); no request made"
        )
    else:
        run_refresh(
            state,
            selection.to_fetch,
            workers=workers,
            skipped=selection.skipped,
            fresh=len(selection.fresh),
            force=force,
        )
    check_unknown(selection.unknown_refs, found=len(selection.to_fetch) + len(selection.fresh) + selection.skipped)


@app.command("gallery")
def gallery(
    ctx: typer.Context,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="HTML file to write, - for stdout [default: stdout when piped, else albums.html].",
        ),
    ] = None,
    artist: ArtistOption = None,
    genre: GenreOption = None,
    missing_cover: Annotated[
        bool, typer.Option("--missing-cover", help="Only albums without a cover (still none after the fetch).")
    ] = False,
    limit: LimitOption = None,
    no_fetch: Annotated[bool, typer.Option("--no-fetch", help="Use only what is stored; no Spotify request.")] = False,
    workers: WorkersOption = 32,
    max_age: MaxAgeOption = DurationDefault("30d"),
) -> None:
    """One self-contained HTML page of album covers, with a filter box and links to Spotify.

    Covers that are missing or older than --max-age are fetched from Spotify first, as `refresh`
    does (--no-fetch or --offline: only what is stored). Albums without a cover get a placeholder.

    Examples:

    \b
        lotsdb albums gallery -o albums.html
        lotsdb albums gallery --genre jazz --no-fetch > jazz.html
    """
    from lotsdb_cli.albums.gallery import write_gallery
    from lotsdb_cli.cli.signals import finishing
    from lotsdb_cli.output import open_output

    state = get_state(ctx)
    console = state.console
    [target] = output_targets(ctx, output or ("albums.html" if state.env.stdout_isatty else "-"))
    store = state.db.albums
    filters: dict[str, Any] = {"artist": artist, "genre": genre, "missing_cover": missing_cover, "limit": limit}
    shown, stopped = None, None
    with open_output(target) as stream:
        if not (no_fetch or state.settings.offline):
            selection = store.select_for_gallery(**filters, max_age=max_age)
            if selection.to_fetch:
                shown = selection.album_ids  # a fetch can change what the filters match (--missing-cover, --limit)
                stopped = fetch_covers(
                    state, selection.to_fetch, workers=workers, skipped=selection.skipped, fresh=selection.fresh
                )
        cards = store.album_cards(**filters, among=shown)
        counts = write_gallery(stream, cards, spotify_api_url=state.settings.spotify_api_url)
        stream.flush()
        finishing()  # the page is whole: it is put in place whatever signal comes now
    written = "stdout" if target.is_stdout else str(target.real_path or target)
    console.note(f"gallery: {counts.line()}; written to {written}")
    if stopped is not None:
        raise stopped
