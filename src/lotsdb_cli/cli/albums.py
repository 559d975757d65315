"""`lotsdb albums`: spreadsheet import, listing, just-in-time Spotify enrichment, bulk refresh."""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from lotsdb_cli.cli.common import FormatOption, LimitOption, emit_list, emit_object
from lotsdb_cli.cli.state import AppState, get_state

if TYPE_CHECKING:
    from lotsdb_cli.albums.models import Album

app = typer.Typer(help="The local album catalog, enriched from Spotify.", no_args_is_help=True)

LIST_COLUMNS = ["id", "artist", "title", "genre", "year", "spotify_id", "cover_url", "has_metadata"]
MaxAgeOption = Annotated[
    str, typer.Option("--max-age", help="Fetch again when metadata is older than this (30d, 12h, ...).")
]


@app.command("import")
def import_albums(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="CSV file, - for stdin, or an http(s) URL (Google Sheets links work).")],
    skip_spotify: Annotated[
        bool,
        typer.Option("--skip-spotify/--no-skip-spotify", help="Make no Spotify call (default), or enrich right away."),
    ] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Parse and report; write nothing.")] = False,
    reject_log: Annotated[str | None, typer.Option("--reject-log", help="Write invalid rows to this CSV.")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=256, help="For --no-skip-spotify.")] = 32,
) -> None:
    """Import an album spreadsheet; re-importing is idempotent and keeps enrichment.

    The file is read and written a row at a time, committed every few thousand rows: memory
    stays flat whatever its size, and an interrupted import keeps (and reports) what it committed.

    Example: lotsdb albums import examples/albums.csv --reject-log rejects.csv
    """
    import contextlib
    import os

    from lotsdb_cli.albums.importer import AlbumImporter
    from lotsdb_cli.albums.lines import stream_size
    from lotsdb_cli.cli import console
    from lotsdb_cli.cli.signals import exit_on_termination
    from lotsdb_cli.errors import InvalidInput, PartialFailure
    from lotsdb_cli.output import open_output

    state = get_state(ctx)
    log_path = reject_log if reject_log and not dry_run else None
    if log_path not in (None, "-"):
        for protected in (source, str(state.settings.db_path)):
            if os.path.abspath(str(log_path)) == os.path.abspath(protected) or (
                os.path.exists(protected)
                and os.path.exists(str(log_path))
                and os.path.samefile(str(log_path), protected)
            ):
                raise typer.BadParameter(
                    f"{log_path} is {protected}, which it would replace", param_hint="--reject-log"
                )
    store = state.albums() if not dry_run or state.settings.db_path.exists() else None
    stream, name = _read_source(state, source)
    total = stream_size(stream)
    bar = console.progress(total=total, desc="importing", unit="B")
    if hasattr(bar, "unit_scale"):
        bar.unit_scale = True  # 12.3MB, not 12345678B
    shown = 0

    def show_progress(bytes_read: int, total_bytes: int | None, rows: int) -> None:
        nonlocal shown
        bar.update(bytes_read - shown)
        shown = bytes_read
        bar.set_postfix_str(f"{rows:,} rows", refresh=False)

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
            exit_on_termination(),
            contextlib.nullcontext() if source == "-" else contextlib.closing(stream),
            open_output(log_path) if log_path else contextlib.nullcontext() as log_stream,
        ):
            importer.run(stream, total_bytes=total, reject_log=log_stream)
    finally:
        bar.close()
        report = importer.report
        if report.started:
            for warning in report.warnings:
                console.warn(warning)
            console.note(report.summary())
    if not skip_spotify and not dry_run and report.spotify_ids:
        selection = state.albums().select_for_refresh(report.spotify_ids)
        _run_refresh(state, selection.to_fetch, workers=workers, skipped=selection.skipped)
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


def _read_source(state: AppState, source: str) -> tuple[BinaryIO, str]:
    """The spreadsheet as a binary stream to read from (a URL's body arrives whole), and its name."""
    import io

    from lotsdb_cli.errors import InvalidInput

    if source == "-":
        if sys.stdin is None:
            raise InvalidInput("cannot read <stdin>: it is closed")
        return sys.stdin.buffer, "<stdin>"
    if source.startswith(("http://", "https://")):
        from lotsdb_cli.albums.importer import google_sheets_csv_url

        url = google_sheets_csv_url(source) or source
        return io.BytesIO(state.http().get_bytes(url).data), source
    try:
        return open(source, "rb"), source  # the import command closes it
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc.strerror or exc}") from None


@app.command("list")
def list_albums(
    ctx: typer.Context,
    artist: Annotated[str | None, typer.Option(help="Artist contains this text.")] = None,
    genre: Annotated[str | None, typer.Option(help="Genre (from the spreadsheet) contains this text.")] = None,
    missing_cover: Annotated[bool, typer.Option("--missing-cover", help="Only albums without a cover URL.")] = False,
    limit: LimitOption = None,
    fmt: FormatOption = None,
) -> None:
    """Albums in the local catalog (no Spotify call).

    Example: lotsdb albums list --genre jazz --missing-cover
    """
    from lotsdb_cli.cli import console

    albums = get_state(ctx).albums().albums(artist=artist, genre=genre, missing_cover=missing_cover, limit=limit)
    bar = console.progress(total=None, desc="albums", unit="album")

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
        emit_list(rows, fmt, LIST_COLUMNS)
    finally:
        rows.close()


@app.command("show")
def show(
    ctx: typer.Context,
    album: Annotated[str, typer.Argument(help="Local id, Spotify id or Spotify URL.")],
    max_age: MaxAgeOption = "30d",
    fmt: FormatOption = None,
) -> None:
    """An album with its tracks, fetched from Spotify first if missing or older than --max-age.

    Example: lotsdb albums show https://open.spotify.com/album/JbOxBrphU2Sqm0bKBGcpXd
    """
    from lotsdb_cli.output import render_table, resolve_format

    record = album_details(_fresh_album(get_state(ctx), album, max_age))
    if resolve_format(fmt) != "table":
        emit_object(record, fmt)
        return
    tracks = record.pop("tracks")
    emit_object(record, "table")
    sys.stdout.write("\n" + render_table(tracks, ["track_number", "name", "duration", "artists"]))


@app.command("cover")
def cover(
    ctx: typer.Context,
    album: Annotated[str, typer.Argument(help="Local id, Spotify id or Spotify URL.")],
    max_age: MaxAgeOption = "30d",
) -> None:
    """Print the album's cover image URL (fetched from Spotify first if needed).

    Example: curl -sO "$(lotsdb albums cover 12)"
    """
    from lotsdb_cli.errors import NotFound

    found = _fresh_album(get_state(ctx), album, max_age)
    if not found.cover_url:
        raise NotFound(f"{found.label} has no cover image on Spotify")
    sys.stdout.write(found.cover_url + "\n")


def _fresh_album(state: AppState, ref: str, max_age: str) -> Album:
    from lotsdb_cli.albums.ids import SpotifyIdError, extract_album_id
    from lotsdb_cli.cli import console
    from lotsdb_cli.durations import parse_duration
    from lotsdb_cli.enrich import ensure_fresh
    from lotsdb_cli.errors import NotFound
    from lotsdb_cli.spotify import cover_url

    max_age_seconds = parse_duration(max_age)
    store = state.albums()
    album = store.get(ref)
    if album is None:
        try:
            spotify_id = extract_album_id(ref)
        except SpotifyIdError as exc:
            raise NotFound(
                f"no album {ref!r} in the library ({exc})", hint="use a local id, a Spotify id or a Spotify album URL"
            ) from None
        metadata = state.spotify().album(spotify_id)
        return store.store_metadata(spotify_id, metadata, cover_url(metadata))
    if album.not_found:
        console.warn(f"{album.label}: Spotify did not know this album ({album.fetch_error}); showing what is stored")
        return album
    if album.spotify_id is None:
        console.warn(f"{album.label} has no Spotify id; showing the spreadsheet data only")
        return album
    return ensure_fresh(store, state.spotify(), album, max_age_seconds)


def album_details(album: Album) -> dict[str, Any]:
    """What `albums show` prints: the spreadsheet data plus the useful parts of Spotify's object."""
    metadata = album.metadata or {}
    tracks = (metadata.get("tracks") or {}).get("items") or []
    return {
        "id": album.id,
        "spotify_id": album.spotify_id,
        "artist": album.artist,
        "title": album.title,
        "genre": album.genre,
        "year": album.year,
        "spotify_name": metadata.get("name"),
        "artists": ", ".join(a.get("name") or "" for a in metadata.get("artists") or [] if isinstance(a, dict)),
        "release_date": metadata.get("release_date"),
        "total_tracks": metadata.get("total_tracks"),
        "cover_url": album.cover_url,
        "spotify_url": (metadata.get("external_urls") or {}).get("spotify"),
        "fetched_at": _timestamp(album.metadata_fetched_at),
        "fetch_error": album.fetch_error,
        "tracks": [_track(track) for track in tracks if isinstance(track, dict)],
    }


def _track(track: dict[str, Any]) -> dict[str, Any]:
    duration_ms = track.get("duration_ms")
    minutes, seconds = divmod(round((duration_ms or 0) / 1000), 60)
    return {
        "track_number": track.get("track_number"),
        "name": track.get("name"),
        "duration_ms": duration_ms,
        "duration": f"{minutes}:{seconds:02d}" if duration_ms else None,
        "artists": ", ".join(a.get("name") or "" for a in track.get("artists") or [] if isinstance(a, dict)),
    }


def _timestamp(moment: float | None) -> str | None:
    import time

    return None if moment is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


@app.command("refresh")
def refresh(
    ctx: typer.Context,
    album_ids: Annotated[
        list[str] | None, typer.Option("--album-id", help="Local id, Spotify id or URL; repeat for several.")
    ] = None,
    artist: Annotated[str | None, typer.Option(help="Only albums whose artist contains this text.")] = None,
    genre: Annotated[str | None, typer.Option(help="Only albums whose genre contains this text.")] = None,
    stale_after: Annotated[str, typer.Option(help="Refetch metadata older than this.")] = "30d",
    force: Annotated[bool, typer.Option("--force", help="Fetch every selected album, fresh or not.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be fetched; no request.")] = False,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=256, help="Most requests in flight.")] = 32,
    fmt: FormatOption = None,
) -> None:
    """Fetch Spotify metadata for the selected albums (default: none yet, or older than --stale-after).

    Example: lotsdb albums refresh --dry-run; lotsdb albums refresh --workers 8
    """
    from lotsdb_cli.cli import console
    from lotsdb_cli.durations import parse_duration

    state = get_state(ctx)
    selection = state.albums().select_for_refresh(
        album_ids or (), artist=artist, genre=genre, stale_after=parse_duration(stale_after), force=force
    )
    for ref in selection.unknown_refs:
        console.warn(f"no album {ref!r} in the library")
    if dry_run:
        records = [{**album.to_record(), "reason": _reason(album)} for album in selection.to_fetch]
        emit_list(records, fmt, ["id", "spotify_id", "artist", "title", "reason"])
        console.note(
            f"dry run: {len(selection.to_fetch)} albums would be fetched, {len(selection.fresh)} are fresh, "
            f"{selection.skipped} skipped (no Spotify id or unknown to Spotify); no request made"
        )
        return
    _run_refresh(state, selection.to_fetch, workers=workers, skipped=selection.skipped, fresh=len(selection.fresh))


def _reason(album: Album) -> str:
    if album.metadata_fetched_at is None:
        return "no metadata yet"
    if album.not_found:
        return "forced (Spotify said not found)"
    return "stale or forced"


def _run_refresh(state: AppState, albums: list[Album], *, workers: int, skipped: int, fresh: int = 0) -> None:
    from lotsdb_cli.cli import console
    from lotsdb_cli.enrich import RefreshSummary
    from lotsdb_cli.enrich import refresh as run
    from lotsdb_cli.errors import PartialFailure

    summary = RefreshSummary(skipped=skipped, unchanged=fresh)
    bar = console.progress(total=len(albums), desc="albums", unit="album")

    def log_failure(album: Album, reason: str) -> None:
        console.warn(f"album {album.id} ({album.spotify_id}, {album.label}): {reason}")

    try:
        for _ in run(state.albums(), state.spotify(), albums, workers=workers, summary=summary, on_failure=log_failure):
            bar.update(1)
    finally:
        bar.close()
        console.note(summary.line())
    if summary.failed:
        raise PartialFailure(
            f"{len(summary.failed)} of {len(albums)} albums failed", hint="see the warnings above; re-run to retry"
        )
