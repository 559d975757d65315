"""`lotsdb albums gallery` against the sandbox, the page's safety rules, and the sandbox's cover images."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import Cli, route_count
from gallery_page import Page, parse_gallery, png_pixels

from lotsdb_cli.albums.gallery import CoverSources, spotify_link, write_gallery
from lotsdb_cli.albums.models import AlbumCard
from lotsdb_cli.albums.store import AlbumStore
from lotsdb_cli.sandbox import Sandbox
from lotsdb_cli.sandbox.albumids import album_id

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "albums.csv"
UNKNOWN_TO_SPOTIFY = album_id(99, 0)  # "Unmapped Signal - Not In The Sandbox" in the sample


def album_requests(sandbox: Sandbox) -> int:
    return route_count(sandbox, "GET /v1/albums/{id}")


def imported(cli: Cli) -> None:
    assert cli("albums", "import", str(SAMPLE)).code == 3  # the sample has invalid rows on purpose


def gallery(cli: Cli, *args: str) -> tuple[int, Page, str]:
    result = cli("albums", "gallery", *args)
    return result.code, parse_gallery(result.stdout), result.stderr


def spotify_id_of(tile_href: str | None) -> str | None:
    return tile_href.rsplit("/", 1)[-1] if tile_href else None


# -- the command against the sandbox -------------------------------------------------------------


def test_fetches_missing_covers_once_and_shows_every_album(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    imported(cli)
    out = tmp_path / "albums.html"
    first = cli("albums", "gallery", "-o", str(out))
    assert first.code == 3, first.stderr  # the album unknown to Spotify failed; the page is written anyway
    assert UNKNOWN_TO_SPOTIFY in first.stderr
    assert "albums: 40 refreshed, 0 unchanged, 1 failed, 1 skipped" in first.stderr
    assert f"gallery: 42 albums, 37 with a cover, 5 placeholders; written to {out}" in first.stderr
    assert first.stdout == ""
    assert album_requests(sandbox) == 41
    page = parse_gallery(out.read_text(encoding="utf-8"))
    assert len(page.tiles) == 42
    for tile in page.tiles:
        album = spotify_id_of(tile.href)
        has_cover = album is not None and sandbox.data.albums.spec(album).has_cover  # type: ignore[union-attr]
        assert tile.placeholder is not has_cover and (tile.img is None) is not has_cover
        if has_cover:
            assert tile.img is not None and str(tile.img["src"]).startswith(f"{sandbox.url}/image/")
            assert (tile.img["loading"], tile.img["width"], tile.img["height"]) == ("lazy", "300", "300")
    by_artist = {tile.artist: tile for tile in page.tiles}
    assert by_artist["Glass Orchard"].href is None and by_artist["Glass Orchard"].texts["note"] == "No Spotify link"
    unknown = by_artist["Unmapped Signal"]
    assert unknown.href is None and unknown.placeholder and unknown.texts["note"] == "Not found on Spotify"

    sandbox.reset()
    again = cli("albums", "gallery", "-o", str(out))
    assert again.code == 0 and sandbox.stats()["requests"] == 0  # fresh covers, and the 404 is remembered
    assert again.stderr.startswith("gallery: 42 albums, 37 with a cover")


def test_no_fetch_and_offline_use_only_what_is_stored(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    for args in (["albums", "gallery", "--no-fetch"], ["--offline", "albums", "gallery"]):
        result = cli(*args)
        assert result.code == 0, result.stderr
        page = parse_gallery(result.stdout)
        assert len(page.tiles) == 42 and all(tile.placeholder for tile in page.tiles)
    assert sandbox.stats()["requests"] == 0


def test_filters_and_limit_select_what_is_fetched_and_shown(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    code, page, _ = gallery(cli, "--genre", "jazz")
    assert code == 0 and len(page.tiles) == 3
    assert all("Jazz" in tile.texts["meta"] for tile in page.tiles)
    assert album_requests(sandbox) == 3  # only the selected albums are fetched
    code, page, _ = gallery(cli, "--artist", "the", "--limit", "2", "--no-fetch")
    listed = json.loads(cli("albums", "list", "--artist", "the", "--limit", "2", "--format", "json").stdout)
    assert code == 0 and [tile.artist for tile in page.tiles] == [album["artist"] for album in listed]
    assert len(listed) == 2


def test_missing_cover_shows_the_albums_still_without_one(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    code, page, errors = gallery(cli, "--missing-cover")
    assert code == 3  # the unknown album
    assert album_requests(sandbox) == 41  # every album was missing its cover before the fetch
    assert len(page.tiles) == 5 and all(tile.placeholder for tile in page.tiles)
    assert "gallery: 5 albums, 0 with a cover, 5 placeholders" in errors


def test_max_age_fetches_old_covers_again(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    cli("albums", "gallery", "--artist", "delta")
    sandbox.reset()
    assert cli("albums", "gallery", "--artist", "delta", "--max-age", "1d").code == 0
    assert album_requests(sandbox) == 0
    refetched = cli("albums", "gallery", "--artist", "delta", "--max-age", "0")
    assert refetched.code == 0 and "albums: 0 refreshed, 1 unchanged, 0 failed, 0 skipped" in refetched.stderr
    assert album_requests(sandbox) == 1  # Spotify was asked (and confirmed the copy), as for `refresh`
    assert cli("--refresh", "albums", "gallery", "--artist", "delta", "--max-age", "0").code == 0
    assert album_requests(sandbox) == 2
    assert cli("albums", "gallery", "--max-age", "soon").code == 2  # a usage error, refused before any request
    assert album_requests(sandbox) == 2


def test_quota_stop_still_writes_the_page_and_exits_75(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    imported(cli)
    listed = json.loads(cli("albums", "list", "--format", "json").stdout)
    stopper = [album["spotify_id"] for album in listed if album["spotify_id"]][20]  # halfway down the page
    sandbox.add_fault(f"/v1/albums/{stopper}", "retry_after", value="3600", quota=True)
    out = tmp_path / "albums.html"
    stopped = cli("albums", "gallery", "--workers", "1", "-o", str(out))
    assert stopped.code == 75
    assert "QUOTA_EXCEEDED" in stopped.stderr and "run again after" in stopped.stderr
    page = parse_gallery(out.read_text(encoding="utf-8"))
    stored = [album for album in json.loads(cli("albums", "list", "--format", "json").stdout) if album["cover_url"]]
    assert len(page.tiles) == 42  # what was fetched before the stop, placeholders for the rest
    assert 10 < sum(tile.img is not None for tile in page.tiles) == len(stored) < 37


def test_piped_stdout_gets_the_page(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    imported(cli)
    for args in ([], ["-o", "-"]):
        result = cli("albums", "gallery", "--no-fetch", *args)
        assert result.code == 0 and result.stdout.startswith("<!doctype html>\n")
        assert "written to stdout" in result.stderr
    assert not (tmp_path / "albums.html").exists()


def test_on_a_terminal_writes_albums_html_and_says_where(cli: Cli, tmp_path: Path) -> None:
    imported(cli)
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lotsdb_cli", "albums", "gallery", "--no-fetch"],
            env={**os.environ, **cli.env},
            cwd=tmp_path,
            stdout=terminal,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "albums.html"
    assert str(written.resolve()) in done.stderr
    assert len(parse_gallery(written.read_text(encoding="utf-8")).tiles) == 42


def test_an_empty_library_is_an_empty_page(cli: Cli, sandbox: Sandbox) -> None:
    code, page, errors = gallery(cli)
    assert code == 0 and page.tiles == [] and "gallery: 0 albums" in errors
    assert sandbox.stats()["requests"] == 0


def test_unwritable_output_is_refused_before_any_request(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    imported(cli)
    result = cli("albums", "gallery", "-o", str(tmp_path / "missing" / "albums.html"))
    assert result.code == 1 and result.stderr.startswith("error: cannot write")
    assert sandbox.stats()["requests"] == 0


# -- what the page holds: escaping, links, images, the CSP ----------------------------------------

HOSTILE = {
    "title": "Say \"Hi\" <script>alert(1)</script> & 'bye'\nVol. 2\x07",
    "artist": '=HYPERLINK("https://evil.example/","click")',
    "genre": '"><img src=x onerror=alert(2)>',
}


def card(**values: object) -> AlbumCard:
    fields: dict[str, object] = {
        "id": 1,
        "spotify_id": album_id(1, 0),
        "artist": "Artist",
        "title": "Title",
        "genre": None,
        "year": 1999,
        "cover_url": "https://i.scdn.co/image/ab67616d0000b273aaaa",
        "spotify_url": None,
        "not_found": False,
    }
    fields.update(values)
    return AlbumCard(**fields)  # type: ignore[arg-type]


def render(*cards: AlbumCard, api: str = "https://api.spotify.com") -> str:
    import io

    stream = io.StringIO()
    write_gallery(stream, list(cards), spotify_api_url=api)
    return stream.getvalue()


def test_every_value_is_escaped_in_text_and_attributes() -> None:
    text = render(card(**HOSTILE))
    page = parse_gallery(text)
    (tile,) = page.tiles
    assert tile.title == "Say \"Hi\" <script>alert(1)</script> & 'bye' Vol. 2"  # control characters and breaks gone
    assert tile.artist == HOSTILE["artist"]
    assert tile.texts["meta"] == "1999 · " + HOSTILE["genre"]
    assert 'say "hi" <script>' in tile.q and "=hyperlink(" in tile.q  # the filter's data, as text
    assert [tag for tag, _ in page.tags].count("script") == 1  # only the page's own
    assert [tag for tag, _ in page.tags].count("img") == 1  # the cover, not the genre's
    assert not any(name.startswith("on") for _, attributes in page.tags for name in attributes)
    assert "<script>alert" not in text and "<img src=x" not in text


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://i.scdn.co/image/ab67616d0000b273c5b24ecfa39523a75c993c4", True),
        ("http://127.0.0.1:8765/image/6f2a755caf0d93d51f89475822966473748369ce", True),
        ("http://i.scdn.co/image/abc", False),  # not https
        ("https://i.scdn.co.evil.example/image/abc", False),
        ("https://user@i.scdn.co/image/abc", False),
        ("https://i.scdn.co/image/../../x", False),
        ("https://i.scdn.co/image/a b", False),
        ("https://i.scdn.co/image/a,b 2x", False),  # would add a srcset candidate
        ('https://i.scdn.co/image/a"onerror=x', False),
        ("https://i.scdn.co/image/abc?x=1", False),
        ("https://i.scdn.co/", False),
        ("http://127.0.0.1:8765/v1/albums/x", False),  # the API origin, but not its images
        ("http://127.0.0.1:8766/image/abc", False),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,iVBOR", False),
        ("//i.scdn.co/image/abc", False),
        ("", False),
        (None, False),
    ],
)
def test_images_only_from_spotify_or_the_api_origin(url: str | None, allowed: bool) -> None:
    sources = CoverSources("http://127.0.0.1:8765/")
    assert sources.allows(url) is allowed
    page = parse_gallery(render(card(cover_url=url), api="http://127.0.0.1:8765"))
    assert (page.tiles[0].img is not None) is allowed and page.tiles[0].placeholder is not allowed


@pytest.mark.parametrize(
    ("values", "link"),
    [
        ({}, f"https://open.spotify.com/album/{album_id(1, 0)}"),
        ({"spotify_id": None, "spotify_url": "https://open.spotify.com/album/X1"}, "https://open.spotify.com/album/X1"),
        ({"spotify_id": None, "spotify_url": "https://open.spotify.com.evil.example/album/X"}, None),
        ({"spotify_id": None, "spotify_url": "http://open.spotify.com/album/X1"}, None),
        ({"spotify_id": None, "spotify_url": "javascript:alert(1)//https://open.spotify.com/"}, None),
        ({"spotify_id": None, "spotify_url": 'https://open.spotify.com/album/"><script>'}, None),
        ({"spotify_id": "not-an-id"}, None),
        ({"not_found": True}, None),  # Spotify has no page for it
    ],
)
def test_links_only_to_open_spotify_com(values: dict[str, object], link: str | None) -> None:
    album = card(**values)
    assert spotify_link(album) == link
    assert parse_gallery(render(album)).tiles[0].href == link


def test_the_page_is_self_contained_and_its_csp_allows_only_its_own_code() -> None:
    page = parse_gallery(render(card(), api="http://127.0.0.1:8765"))
    directives = dict(part.strip().split(" ", 1) for part in page.csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "https://i.scdn.co http://127.0.0.1:8765/image/"
    (style,), (script,) = page.styles, page.scripts
    assert directives["style-src"] == f"'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'"
    assert directives["script-src"] == f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
    assert not [attributes for tag, attributes in page.tags if tag in ("link", "iframe", "object", "embed", "base")]
    assert not [attributes for tag, attributes in page.tags if tag == "script" and "src" in attributes]
    assert not re.search(r"url\(|@import|@font-face|https?:", style)
    assert not re.search(r"https?:|fetch\(|XMLHttpRequest|import\(", script)
    assert not any("style" in attributes for _, attributes in page.tags)  # would need 'unsafe-inline'


def test_search_text_folds_case_and_accents() -> None:
    from lotsdb_cli.albums.gallery import search_text

    assert search_text("Sigur Rós", None, "Ágætis Byrjun", "") == "sigur ros agætis byrjun"


def test_odd_api_settings_allow_no_images_from_them() -> None:
    assert CoverSources("https://api.spotify.com").api_images == "https://api.spotify.com/image"
    for setting in ("http://proxy.example/spotify", "https://u:p@api.example", "ftp://api.example", "nonsense"):
        sources = CoverSources(setting)
        assert sources.api_images is None and sources.csp_sources() == "https://i.scdn.co"


# -- the store's side: what to fetch, what to show -------------------------------------------------


def test_store_selects_what_to_fetch_and_reads_cards_in_list_order(tmp_path: Path) -> None:
    from lotsdb_cli.albums.models import ImportRow

    store = AlbumStore(tmp_path / "lotsdb.sqlite")
    rows = [
        ImportRow(line=2, title="B side", artist="Beta", spotify_id=album_id(1, 1)),
        ImportRow(line=3, title="A side", artist="Alpha", spotify_id=album_id(1, 2)),
        ImportRow(line=4, title="No link", artist="Gamma"),
        ImportRow(line=5, title="Gone", artist="Delta", spotify_id=album_id(1, 3)),
    ]
    store.upsert_imported(rows)
    store.store_metadata(album_id(1, 1), {"name": "B side"}, "https://i.scdn.co/image/b", fetched_at=1000.0)
    store.store_error(album_id(1, 3), "not found", not_found=True)
    selection = store.select_for_gallery(max_age=100.0, now=1050.0)
    assert [album.title for album in selection.to_fetch] == ["A side"]
    assert (selection.fresh, selection.skipped) == (1, 2)
    assert selection.to_fetch[0].metadata_json is None  # a full row: never fetched yet
    later = store.select_for_gallery(max_age=100.0, now=2000.0)
    assert [album.title for album in later.to_fetch] == ["A side", "B side"]
    assert later.to_fetch[1].metadata == {"name": "B side"}  # read whole for the refresh to compare
    cards = store.album_cards()
    assert [card.artist for card in cards] == ["Alpha", "Beta", "Delta", "Gamma"]
    assert cards[1].cover_url == "https://i.scdn.co/image/b" and cards[2].not_found
    assert [card.artist for card in store.album_cards(missing_cover=True, among=[1, 2, 3])] == ["Alpha", "Gamma"]
    store.close()


# -- the sandbox's cover images --------------------------------------------------------------------


def test_sandbox_serves_a_cover_per_album_and_size(sandbox: Sandbox) -> None:
    albums = [sandbox.data.albums[album] for album in sandbox.data.album_ids[:13]]
    assert [album["images"] == [] for album in albums].count(True) == 1  # every twelfth has none, on purpose
    covered = [album for album in albums if album["images"]]
    seen: set[bytes] = set()
    with requests.Session() as session:
        for album in covered[:3]:
            assert [image["width"] for image in album["images"]] == [640, 300, 64]
            for image in album["images"]:
                answer = session.get(image["url"], timeout=10)  # no token, like Spotify's CDN
                assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png"
                assert "max-age=" in answer.headers["Cache-Control"] and answer.headers["ETag"]
                width, height, rows = png_pixels(answer.content)
                assert (width, height, len(rows)) == (image["width"], image["height"], image["height"])
                seen.add(answer.content)
        same = session.get(image["url"], headers={"If-None-Match": answer.headers["ETag"]}, timeout=10)
        assert same.status_code == 304
        for key in ("0" * 40, "not-a-key", hashlib.sha1(b"x").hexdigest()):
            missing = session.get(f"{sandbox.url}/image/{key}", timeout=10)
            assert missing.status_code == 404 and "max-age" not in missing.headers.get("Cache-Control", "")
    assert len(seen) == 9  # a different picture for every album and size


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(color: str) -> float:
        channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(scheme: str) -> None:
    from lotsdb_cli.albums.gallery import STYLE

    blocks = re.findall(r":root\{([^}]*)\}", STYLE)
    palette = dict(re.findall(r"--([a-z-]+):(#[0-9a-f]{6})", blocks[0 if scheme == "light" else 1]))
    for text, background in [("fg", "bg"), ("fg", "card"), ("muted", "bg"), ("muted", "card"), ("muted", "ph")]:
        assert contrast(palette[text], palette[background]) >= 4.5, (scheme, text, background)
