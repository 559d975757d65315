"""What `albums show` shows of an album: the spreadsheet's data with the useful parts of Spotify's object."""

from __future__ import annotations

from typing import Any

from lotsdb_cli.albums.models import Album


def album_details(album: Album) -> dict[str, Any]:
    """What `albums show` prints: the spreadsheet data plus the useful parts of Spotify's object."""
    # Answers are checked before they are stored (shapes.album_problem); a row stored by an older
    # lotsdb is read just as warily: a field of the wrong type shows as empty, never as a crash.
    metadata = _object(album.metadata)
    tracks = _list(_object(metadata.get("tracks")).get("items"))
    return {
        "id": album.id,
        "spotify_id": album.spotify_id,
        "artist": album.artist,
        "title": album.title,
        "genre": album.genre,
        "year": album.year,
        "spotify_name": metadata.get("name"),
        "artists": _names(metadata.get("artists")),
        "release_date": metadata.get("release_date"),
        "total_tracks": metadata.get("total_tracks"),
        "cover_url": album.cover_url,
        "spotify_url": _object(metadata.get("external_urls")).get("spotify"),
        "fetched_at": _timestamp(album.metadata_fetched_at),
        "fetch_error": album.fetch_error,
        "tracks": [_track(track) for track in tracks if isinstance(track, dict)],
    }


def _track(track: dict[str, Any]) -> dict[str, Any]:
    duration_ms = track.get("duration_ms")
    if not isinstance(duration_ms, int) or isinstance(duration_ms, bool):
        duration_ms = None
    minutes, seconds = divmod(round((duration_ms or 0) / 1000), 60)
    return {
        "track_number": track.get("track_number"),
        "name": track.get("name"),
        "duration_ms": duration_ms,
        "duration": f"{minutes}:{seconds:02d}" if duration_ms else None,
        "artists": _names(track.get("artists")),
    }


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _names(artists: Any) -> str:
    return ", ".join(str(a.get("name") or "") for a in _list(artists) if isinstance(a, dict))


def _timestamp(moment: float | None) -> str | None:
    import time

    return None if moment is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
