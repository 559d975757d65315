"""What the `albums` commands share: reading a spreadsheet source, running a refresh with its
progress bar and summary, and the errors for albums asked for that the library does not have."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from lotsdb_cli.albums.models import Album
    from lotsdb_cli.cli.state import AppState


def read_source(state: AppState, source: str) -> tuple[BinaryIO, str]:
    """The spreadsheet as a binary stream to read from (a URL's body arrives whole), and its name."""
    import io

    from lotsdb_cli.errors import InvalidInput

    if source == "-":
        if sys.stdin is None:
            raise InvalidInput("cannot read <stdin>: it is closed")
        return sys.stdin.buffer, "<stdin>"
    scheme, colon, rest = source.partition(":")
    if colon and scheme.lower() in ("http", "https") and rest.startswith("//"):  # `HTTP://` is a URL too
        source = scheme.lower() + colon + rest
        from lotsdb_cli.albums.importer import google_sheets_csv_url
        from lotsdb_cli.http.urls import strip_userinfo

        url = google_sheets_csv_url(source) or source
        return io.BytesIO(state.db.fetch_bytes(url)), strip_userinfo(source)
    try:
        return open(source, "rb"), source  # the import command closes it
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc.strerror or exc}") from None


def run_refresh(
    state: AppState, albums: list[Album], *, workers: int, skipped: int, fresh: int = 0, force: bool = False
) -> None:
    """Fetch and store `albums`; `force` asks Spotify even when the HTTP cache has a fresh answer."""
    from lotsdb_cli.errors import PartialFailure

    console = state.console
    run = state.db.refresh(albums, workers=workers, fresh=force)
    summary = run.summary
    summary.skipped, summary.unchanged = skipped, fresh
    bar = console.progress(total=len(albums), desc="albums", unit="album")
    try:
        for result in run:
            bar.update(1)
            if result.error is not None:
                album = result.album
                console.warn(f"album {album.id} ({album.spotify_id}, {album.label}): {result.error}")
    finally:
        bar.close()
        console.note(summary.line())
    if summary.failed:
        raise PartialFailure(
            f"{len(summary.failed)} of {len(albums)} albums failed", hint="see the warnings above; re-run to retry"
        )


def fetch_covers(state: AppState, albums: list[Album], *, workers: int, skipped: int, fresh: int) -> Exception | None:
    """Fetch and store the albums' Spotify objects (and so their covers) as `albums refresh` does.

    Returns the error that cut the fetch short, if it is one that keeps what was stored (some
    albums failed, or Spotify asked to wait longer than --max-wait): the gallery is written from
    what the store holds, then the command ends with that error's exit status.
    """
    from lotsdb_cli.errors import PartialFailure, TemporarilyUnavailable

    try:
        run_refresh(state, albums, workers=workers, skipped=skipped, fresh=fresh)
    except (PartialFailure, TemporarilyUnavailable) as exc:
        return exc
    return None


def check_unknown(unknown: list[str], *, found: int) -> None:
    """Albums asked for by id that the library does not have: an error (1) when no album asked for
    was found, else a partial success (3); each was named in a warning already."""
    from lotsdb_cli.errors import NotFound, PartialFailure

    if not unknown:
        return
    if not found:
        raise NotFound(f"no album {unknown[0]!r} in the library", hint="import it first, or use a Spotify id")
    raise PartialFailure(
        f"{len(unknown)} of the albums asked for are not in the library", hint="see the warnings above"
    )


def reason(album: Album) -> str:
    if album.metadata_fetched_at is None:
        return "no metadata yet"
    if album.not_found:
        return "forced (Spotify said not found)"
    return "stale or forced"
