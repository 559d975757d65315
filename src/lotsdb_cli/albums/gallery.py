"""The album gallery: one self-contained HTML page of cover tiles with a filter box.

Everything on the page that comes from a spreadsheet or from Spotify is escaped, links go only to
`https://open.spotify.com/`, and images come only from Spotify's image host or the configured
Spotify API origin's `/image/` path (the sandbox's covers); anything else is shown as the
placeholder. A Content-Security-Policy holds the page to that: no other script, style or image.
The page is written tile by tile, so a large catalog is never held twice in memory.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from lotsdb_cli.albums.ids import ALBUM_ID_LENGTH
from lotsdb_cli.albums.models import AlbumCard

SPOTIFY_IMAGE_ORIGIN = "https://i.scdn.co"
SPOTIFY_OPEN_ORIGIN = "https://open.spotify.com"
# The img's width and height attributes: the square the browser reserves before the image arrives.
TILE_IMAGE_SIZE = 300

_BASE62_ID = re.compile(rf"[0-9A-Za-z]{{{ALBUM_ID_LENGTH}}}")
# The paths of the URLs a page may hold: unreserved characters without "." (so no ".." either):
# nothing to escape, nothing to leave an attribute with. Spotify's own never need more.
_PATH = r"/[A-Za-z0-9_~-][A-Za-z0-9/_~-]*"
_SPOTIFY_IMAGE_URL = re.compile(re.escape(SPOTIFY_IMAGE_ORIGIN) + _PATH)
_SPOTIFY_OPEN_URL = re.compile(re.escape(SPOTIFY_OPEN_ORIGIN) + _PATH)
_PLAIN_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_COMBINING_MARKS = re.compile("[\u0300-\u036f]")

# `.cover img::after` is drawn only for an image that failed (no network, a stopped sandbox): the
# placeholder then stands where the browser would show its broken-image icon. Text from a spreadsheet
# may hold a run of hundreds of characters without a space: every text breaks anywhere
# (`overflow-wrap:anywhere`) and a tile may be narrower than its content (`min-width:0`), so such a
# value wraps inside its card instead of widening its column or being clipped by the card.
# The CSP's style-src hash is computed from this text (`GalleryPage.content_security_policy`).
STYLE = """
:root{color-scheme:light dark;--bg:#f5f4f1;--fg:#1c1c1e;--muted:#5a5a60;--card:#ffffff;--line:#d6d4ce;
--ph:#e3e1db;--ph-ink:#c4c1b8;--focus:#1a5fb4;
--record:radial-gradient(circle closest-side,var(--ph) 0 4%,var(--ph-ink) 4.5% 17%,var(--ph) 17.5% 26%,
var(--ph-ink) 26.5% 56%,var(--ph) 56.5%)}
@media (prefers-color-scheme:dark){:root{--bg:#141416;--fg:#f1f1f3;--muted:#a9a9b1;--card:#1f1f23;
--line:#35353c;--ph:#2a2a2f;--ph-ink:#45454d;--focus:#8ab4ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{position:sticky;top:0;z-index:1;display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;
padding:12px 20px;background:var(--bg);border-bottom:1px solid var(--line)}
h1{margin:0;font-size:1.3rem;letter-spacing:-.01em}
#search{flex:1 1 240px;max-width:440px}
#search[hidden]{display:none}
#filter{width:100%;padding:8px 12px;font:inherit;color:var(--fg);background:var(--card);
border:1px solid var(--line);border-radius:8px}
#filter:focus-visible{outline:3px solid var(--focus);outline-offset:1px}
#count{margin:0 0 0 auto;color:var(--muted);font-size:.9rem;white-space:nowrap}
main{padding:20px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:20px;margin:0;padding:0;
list-style:none}
.tile{min-width:0}
.card{display:block;height:100%;overflow:hidden;color:inherit;text-decoration:none;background:var(--card);
border-radius:10px;box-shadow:0 0 0 1px var(--line),0 1px 3px rgba(0,0,0,.06)}
a.card:hover{box-shadow:0 0 0 1px var(--muted),0 4px 14px rgba(0,0,0,.12)}
a.card:focus-visible{outline:3px solid var(--focus);outline-offset:3px}
.cover{position:relative;display:block;aspect-ratio:1;background:var(--record)}
.cover img{position:relative;display:block;width:100%;height:100%;object-fit:cover}
.cover img::after{content:"";position:absolute;inset:0;background:var(--record)}
.label{position:absolute;right:0;bottom:8px;left:0;color:var(--muted);font-size:.8rem;text-align:center}
.text{display:block;padding:9px 11px 12px}
.title,.artist{display:-webkit-box;overflow:hidden;-webkit-box-orient:vertical;-webkit-line-clamp:2;
overflow-wrap:anywhere}
.title{font-weight:600}
.meta,.note{display:block;margin-top:2px;color:var(--muted);font-size:.85rem;overflow-wrap:anywhere}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
#empty{color:var(--muted)}
@media (max-width:480px){header{padding:10px 12px}main{padding:12px}
#search{order:1;flex-basis:100%;max-width:none}
.grid{grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}}
""".strip()

# The page arrives with every tile (all of it works without JavaScript). The script keeps only the
# tiles that match the filter in the grid, and of those only the first BATCH until the end of the
# grid scrolls near: filtering 10,000 tiles then lays out a few hundred, not 10,000.
SCRIPT = """
(() => {
  const BATCH = 120;
  const grid = document.getElementById("albums");
  const search = document.getElementById("search");
  const input = document.getElementById("filter");
  const count = document.getElementById("count");
  const empty = document.getElementById("empty");
  const end = document.getElementById("end");
  const tiles = Array.from(grid.children, (tile) => [tile, tile.dataset.q]);
  const total = tiles.length;
  const albums = (n) => n + (n === 1 ? " album" : " albums");
  const fold = (text) => text.normalize("NFKD").replace(/[\\u0300-\\u036f]/g, "").toLowerCase();
  let matches = [];
  let shown = 0;
  let shownFor = null;
  const nearEnd = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) showMore();
  }, { rootMargin: "0px 0px 1500px 0px" });
  function showMore() {
    if (shown >= matches.length) return;
    const next = matches.slice(shown, shown + BATCH);
    shown += next.length;
    grid.append(...next);
    nearEnd.unobserve(end);
    nearEnd.observe(end);  // observing anew reports whether the end is still near
  }
  function apply() {
    const words = fold(input.value).split(/\\s+/).filter(Boolean);
    const key = words.join(" ");
    if (key === shownFor) return;
    shownFor = key;
    matches = [];
    for (const [tile, text] of tiles) {
      if (words.every((word) => text.includes(word))) matches.push(tile);
    }
    shown = 0;
    grid.replaceChildren();
    showMore();
    count.textContent = words.length ? matches.length + " of " + albums(total) : albums(total);
    empty.hidden = matches.length > 0 || total === 0;
  }
  input.addEventListener("input", apply);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && input.value) {
      input.value = "";
      apply();
    }
  });
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement;
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
    }
  });
  search.hidden = total === 0;
  apply();
})();
""".strip()


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


class CoverSources:
    """Where a page may take cover images from: Spotify's image host, and the `/image/` path of
    the configured Spotify API origin (the sandbox serves its covers there)."""

    def __init__(self, spotify_api_url: str) -> None:
        base = spotify_api_url.rstrip("/")
        # None when the setting is not a plain http(s) origin (a path, a user, odd characters).
        self.api_images = f"{base}/image" if _PLAIN_ORIGIN.fullmatch(base) else None
        self._api_image_url = re.compile(re.escape(self.api_images) + _PATH) if self.api_images else None

    def allows(self, url: object) -> bool:
        if not isinstance(url, str):
            return False
        return bool(_SPOTIFY_IMAGE_URL.fullmatch(url) or (self._api_image_url and self._api_image_url.fullmatch(url)))

    def csp_sources(self) -> str:
        """The CSP `img-src` list: Spotify's image host, and the API's image directory (with its slash)."""
        return " ".join([SPOTIFY_IMAGE_ORIGIN, *([f"{self.api_images}/"] if self.api_images else [])])


def spotify_link(card: AlbumCard) -> str | None:
    """The album on open.spotify.com: built from its id, else the stored link if it is on that origin."""
    if card.not_found:
        return None  # Spotify answered 404/400: there is no page to link to
    if card.spotify_id and _BASE62_ID.fullmatch(card.spotify_id):
        return f"{SPOTIFY_OPEN_ORIGIN}/album/{card.spotify_id}"
    if card.spotify_url and _SPOTIFY_OPEN_URL.fullmatch(card.spotify_url):
        return card.spotify_url
    return None


def search_text(*values: str | None) -> str:
    """What the filter box matches against: lower case, accents removed (as the page's script does)."""
    text = " ".join(value for value in values if value)
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text)).lower()


@dataclass
class GalleryCounts:
    albums: int = 0
    covers: int = 0

    @property
    def placeholders(self) -> int:
        return self.albums - self.covers

    def line(self) -> str:
        return (
            f"{_plural(self.albums, 'album')}, {self.covers} with a cover, {_plural(self.placeholders, 'placeholder')}"
        )


class GalleryPage:
    """Writes the page for a list of album cards to a text stream."""

    title = "Albums"

    def __init__(self, spotify_api_url: str) -> None:
        self.sources = CoverSources(spotify_api_url)

    def content_security_policy(self) -> str:
        return (
            f"default-src 'none'; img-src {self.sources.csp_sources()}; style-src {_csp_hash(STYLE)}; "
            f"script-src {_csp_hash(SCRIPT)}; base-uri 'none'; form-action 'none'"
        )

    def write(self, stream: IO[str], cards: Sequence[AlbumCard]) -> GalleryCounts:
        counts = GalleryCounts(albums=len(cards))
        stream.write(self._head(len(cards)))
        for card in cards:
            tile, has_cover = self.tile(card)
            counts.covers += has_cover
            stream.write(tile)
        stream.write(self._foot())
        return counts

    def _head(self, total: int) -> str:
        return (
            "<!doctype html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_escape(self.content_security_policy())}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            f"<title>{self.title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<header>\n<h1>{self.title}</h1>\n"
            '<div id="search" role="search" hidden>'
            '<label class="visually-hidden" for="filter">Filter by artist, title or genre</label>'
            '<input id="filter" type="search" placeholder="Filter by artist, title or genre"'
            ' aria-keyshortcuts="/" autocomplete="off" spellcheck="false"></div>\n'
            f'<p id="count" role="status" aria-live="polite">{_plural(total, "album")}</p>\n</header>\n<main>\n'
            + ("" if total else "<p>No albums yet: import a spreadsheet with <code>lotsdb albums import</code>.</p>\n")
            + '<ul class="grid" id="albums">\n'
        )

    def _foot(self) -> str:
        return (
            '</ul>\n<div id="end"></div>\n<p id="empty" hidden>No album matches the filter.</p>\n</main>\n'
            f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
        )

    def tile(self, card: AlbumCard) -> tuple[str, bool]:
        """One `<li>` of the grid, and whether it shows a cover."""
        title, artist, genre = _clean(card.title), _clean(card.artist), _clean(card.genre)
        meta = " · ".join(part for part in (str(card.year) if card.year else None, genre) if part)
        link = spotify_link(card)
        cover = card.cover_url if self.sources.allows(card.cover_url) else None
        if cover is None:
            picture = '<span class="cover" role="img" aria-label="No cover"><span class="label">No cover</span></span>'
        else:
            picture = (
                f'<span class="cover"><img src="{_escape(cover)}" width="{TILE_IMAGE_SIZE}"'
                f' height="{TILE_IMAGE_SIZE}" loading="lazy" decoding="async" alt=""></span>'
            )
        note = _note(card, link)
        text = (
            f'<span class="text"><span class="title" dir="auto">{_escape(title or "Untitled")}</span>'
            f'<span class="artist" dir="auto">{_escape(artist or "Unknown artist")}</span>'
            + (f'<span class="meta" dir="auto">{_escape(meta)}</span>' if meta else "")
            + (f'<span class="note">{note}</span>' if note else "")
            + "</span>"
        )
        if link:
            card_html = f'<a class="card" href="{_escape(link)}" target="_blank" rel="noopener noreferrer">'
            card_html += f"{picture}{text}</a>"
        else:
            card_html = f'<div class="card">{picture}{text}</div>'
        query = _escape(search_text(artist, title, genre))
        return f'<li class="tile" data-q="{query}">{card_html}</li>\n', cover is not None


def write_gallery(stream: IO[str], cards: Sequence[AlbumCard], *, spotify_api_url: str) -> GalleryCounts:
    """Write the gallery page of `cards` to `stream`; the counts say how many tiles have a cover."""
    return GalleryPage(spotify_api_url).write(stream, cards)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _note(card: AlbumCard, link: str | None) -> str:
    if card.not_found:
        return "Not found on Spotify"
    if link is None:
        return "No Spotify link"
    return ""


def _clean(value: str | None) -> str:
    """Text for the page: control characters (invalid in HTML) become spaces, runs of space one."""
    if not value:
        return ""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", value).split())


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
