"""Spotify album ids out of the forms people paste into spreadsheets.

Accepted: a bare 22-character base62 id, `spotify:album:ID`, and links on `open.spotify.com` or
`play.spotify.com` (with or without scheme, `intl-xx/` and `embed/` prefixes, query strings,
fragments and trailing slashes). Everything else raises `SpotifyIdError` saying why.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lotsdb_cli.errors import LotsdbError

ALBUM_ID_LENGTH = 22
_ALBUM_ID = re.compile(r"[0-9A-Za-z]{22}")
_SPOTIFY_HOSTS = frozenset({"open.spotify.com", "play.spotify.com"})
_SHORT_LINK_HOSTS = frozenset({"spotify.link", "spotify.app.link"})
# Path prefixes that come before `/album/ID` in a link: localized and embedded players.
_INTL_PREFIX = re.compile(r"intl-[a-z]{2}(?:-[a-z]{2,4})?", re.IGNORECASE)
_EMBED_PREFIXES = frozenset({"embed", "embed-podcast"})
_OTHER_KINDS = frozenset({"track", "artist", "playlist", "show", "episode", "user", "audiobook", "chapter", "genre"})
_URL_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w-]+(?:\.[\w-]+)+(?:[/?#]|$))", re.IGNORECASE)
_SHOWN_CHARACTERS = 100
# The form nearly every row of a sheet has, recognised without parsing the link.
_PLAIN_ALBUM_LINK = re.compile(r"https://open\.spotify\.com/album/([0-9A-Za-z]{22})(?:[/?#].*)?", re.DOTALL)


class SpotifyIdError(LotsdbError):
    """A text that should name a Spotify album does not."""


def is_album_id(text: str) -> bool:
    """True if `text` is exactly a 22-character base62 album id."""
    return _ALBUM_ID.fullmatch(text) is not None


def extract_album_id(text: str) -> str:
    """The 22-character album id in `text` (a bare id, a `spotify:album:` URI or an album link)."""
    cleaned = text.strip()
    plain = _PLAIN_ALBUM_LINK.fullmatch(cleaned)
    if plain is not None:
        return plain[1]
    if not cleaned:
        raise SpotifyIdError("empty Spotify link")
    if cleaned.lower().startswith("spotify:"):
        return _id_from_uri(cleaned)
    if _URL_LIKE.match(cleaned):
        return _id_from_url(cleaned)
    return _checked_id(cleaned, shown=cleaned)


def _shown(text: str) -> str:
    if len(text) > _SHOWN_CHARACTERS:
        text = text[: _SHOWN_CHARACTERS - 1] + "…"
    return repr(text)


def _checked_id(candidate: str, *, shown: str) -> str:
    if is_album_id(candidate):
        return candidate
    if len(candidate) != ALBUM_ID_LENGTH:
        raise SpotifyIdError(
            f"{_shown(shown)} is not a Spotify album id or link (an id has "
            f"{ALBUM_ID_LENGTH} letters and digits, this has {len(candidate)} characters)"
        )
    raise SpotifyIdError(f"{_shown(shown)} is not a Spotify album id (only letters A-Z, a-z and digits are allowed)")


def _kind_named(parts: list[str]) -> str:
    """What a non-album reference points at; old `user/NAME/playlist/ID` forms are playlists."""
    lowered = [part.lower() for part in parts]
    if "playlist" in lowered:
        return "playlist"
    return next(part for part in lowered if part in _OTHER_KINDS)


def _wrong_kind(kind: str, text: str) -> SpotifyIdError:
    article = "an" if kind[0] in "aeiou" else "a"
    return SpotifyIdError(f"{_shown(text)} is {article} {kind} link, not an album")


def _id_from_uri(uri: str) -> str:
    parts = uri.split(":")
    # spotify:album:ID; old playlist URIs look like spotify:user:NAME:playlist:ID.
    kind = parts[1].lower() if len(parts) > 1 else ""
    if kind == "album" and len(parts) == 3:
        return _checked_id(parts[2], shown=uri)
    if kind in _OTHER_KINDS:
        raise _wrong_kind(_kind_named(parts), uri)
    raise SpotifyIdError(f"{_shown(uri)} is not a Spotify album URI (expected spotify:album:ID)")


def _id_from_url(url: str) -> str:
    with_scheme = url if "://" in url else f"https://{url}"
    try:
        parts = urlsplit(with_scheme)
        host = (parts.hostname or "").lower().removeprefix("www.")
    except ValueError:
        raise SpotifyIdError(f"{_shown(url)} is not a valid link") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise SpotifyIdError(f"{_shown(url)} is not a web link to a Spotify album")
    if host in _SHORT_LINK_HOSTS:
        raise SpotifyIdError(
            f"{_shown(url)} is a {host} short link: short links cannot be resolved offline; "
            "open it and paste the album URL"
        )
    if host not in _SPOTIFY_HOSTS:
        raise SpotifyIdError(f"{_shown(url)} is not a Spotify link (host {host or 'missing'})")
    segments = [segment for segment in parts.path.split("/") if segment]
    while segments and (_INTL_PREFIX.fullmatch(segments[0]) or segments[0].lower() in _EMBED_PREFIXES):
        segments.pop(0)
    if len(segments) >= 2 and segments[0].lower() == "album":
        return _checked_id(segments[1], shown=url)
    if segments and segments[0].lower() in _OTHER_KINDS:
        raise _wrong_kind(_kind_named(segments), url)
    raise SpotifyIdError(f"{_shown(url)} is not a link to a Spotify album (expected /album/ID)")
