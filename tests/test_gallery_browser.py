"""The gallery page in a real browser: Debian's headless `chromium`, driven by Playwright, against covers
served by the sandbox. One browser for the whole module; each test opens its own pages.

Outside CI these tests are skipped, with the reason, when Playwright or Chromium is missing; with
CI=true they fail instead (`.ci/run` installs Chromium).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from gallery_page import CHROMIUM, CHROMIUM_ARGS, png_pixels

from lotsdb_cli.albums.gallery import write_gallery
from lotsdb_cli.albums.store import AlbumStore
from lotsdb_cli.sandbox import Sandbox
from lotsdb_cli.sandbox.albumids import album_id

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "albums.csv"
TILES = "#albums .tile"
LAYOUT = """() => {
  const rows = new Map();
  for (const tile of document.querySelectorAll("#albums .tile")) {
    const top = Math.round(tile.getBoundingClientRect().top + scrollY);
    rows.set(top, (rows.get(top) || 0) + 1);
  }
  return {
    display: getComputedStyle(document.getElementById("albums")).display,
    perRow: [...rows.values()],
    overflow: document.documentElement.scrollWidth - innerWidth,
  };
}"""
COVERS = """() => Array.from(document.querySelectorAll("#albums img"), (img) => ({
  loaded: img.complete && img.naturalWidth > 0, height: img.getBoundingClientRect().height }))"""
PLACEHOLDERS = """() => Array.from(document.querySelectorAll("#albums .cover:not(:has(img))"),
  (cover) => cover.getBoundingClientRect().height)"""


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            unavailable(f"Chromium at {CHROMIUM} did not start: {exc.message.splitlines()[0]}")
        yield chromium
        chromium.close()


@dataclass
class Site:
    sandbox: Sandbox
    gallery: Path  # the sample, imported and fetched
    hostile: Path  # spreadsheet and stored values that try to break out of the page
    unreachable: Path  # covers on an origin nobody answers on (offline, a stopped sandbox)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("gallery")
    with Sandbox(seed=1, albums=60) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(work / "home")})
        assert cli("albums", "import", str(SAMPLE)).code == 3
        assert cli("albums", "gallery", "-o", str(work / "albums.html")).code == 3  # the album unknown to Spotify
        yield Site(sandbox, work / "albums.html", _hostile_gallery(sandbox, work), _unreachable_gallery(work))


def _unreachable_gallery(work: Path) -> Path:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with AlbumStore(work / "home" / "lotsdb.sqlite") as store:
        cards = [replace(card, cover_url=f"{dead}/image/{card.id:040x}") for card in store.album_cards(limit=4)]
    cards.append(replace(cards[0], id=0, title="Nothing to show", cover_url=None))
    with open(work / "unreachable.html", "w", encoding="utf-8") as stream:
        write_gallery(stream, cards, spotify_api_url=dead)
    return work / "unreachable.html"


def _hostile_gallery(sandbox: Sandbox, work: Path) -> Path:
    cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(work / "hostile")})
    rows = (
        "Artist,Album,Genre,Spotify\n"
        f'"=HYPERLINK(""https://evil.example"")","<script>alert(1)</script>","x"" onmouseover=""alert(2)",'
        f"{album_id(1, 0)}\n"
        f'"<img src=x onerror=alert(3)>","Quote "" and \' and &amp;",Jazz,{album_id(1, 1)}\n'
        "Sigur Rós,Ágætis byrjun,Post-Rock,\n"
    )
    assert cli("albums", "import", "-", stdin=rows).code == 0
    with AlbumStore(work / "hostile" / "lotsdb.sqlite") as store:
        store.store_metadata(album_id(1, 0), {"name": "x"}, "https://evil.example/cover.png")
        store.store_metadata(album_id(1, 1), {"name": "y"}, "javascript:alert(4)")
    assert cli("albums", "gallery", "--no-fetch", "-o", str(work / "hostile.html")).code == 0
    return work / "hostile.html"


@contextmanager
def opened(
    browser: Any, page_file: Path, width: int, *, javascript: bool = True, failed_loads: bool = False
) -> Iterator[Any]:
    """The page in a fresh browser context; afterwards, no error may have reached the console (a CSP
    violation, a script error; with `failed_loads`, images that could not be fetched are expected)."""
    context = browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=javascript)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not (failed_loads and message.text.startswith("Failed to load resource")):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(page_file.as_uri())
        yield page
        assert problems == []
    finally:
        context.close()


def all_covers_loaded(page: Any) -> list[dict[str, Any]]:
    height = page.evaluate("() => document.body.scrollHeight")
    for top in range(0, height, 600):  # bring every lazy image in range on the way down
        page.evaluate(f"() => window.scrollTo(0, {top})")
        page.wait_for_timeout(20)
    page.wait_for_function(f"() => ({COVERS})().every((cover) => cover.loaded)", timeout=20_000)
    return page.evaluate(COVERS)


def test_desktop_grid_loads_covers_and_shows_placeholders(browser: Any, site: Site) -> None:
    with opened(browser, site.gallery, 1280) as page:
        layout = page.evaluate(LAYOUT)
        assert layout["display"] == "grid" and layout["perRow"][0] >= 4 and layout["overflow"] <= 0
        assert page.locator(TILES).count() == 42
        covers = all_covers_loaded(page)
        assert len(covers) == 37 and all(cover["height"] > 100 for cover in covers)
        placeholders = page.evaluate(PLACEHOLDERS)
        assert len(placeholders) == 5 and all(height > 100 for height in placeholders)
        assert page.get_by_text("No cover").count() == 5


def test_a_cover_that_cannot_load_looks_like_the_placeholder(browser: Any, site: Site) -> None:
    with opened(browser, site.unreachable, 1280, failed_loads=True) as page:
        page.wait_for_function("() => Array.from(document.images).every((img) => img.complete)")
        assert page.evaluate("() => Array.from(document.images, (img) => img.naturalWidth)") == [0, 0, 0, 0]
        box = page.locator(f"{TILES} .cover").first.bounding_box()
        assert box is not None
        # Below the card's rounded corners, above where "No cover" is written: the record, and where the
        # browser would draw a broken image's icon and frame.
        clip = {**box, "y": box["y"] + 12, "height": box["height"] * 0.7}
        broken = page.screenshot(clip=clip)
        page.keyboard.press("/")
        page.keyboard.type("nothing to show")  # the tile without a cover, now first: the same pixels
        page.wait_for_function("() => document.getElementById('count').textContent === '1 of 5 albums'")
        assert png_pixels(page.screenshot(clip=clip)) == png_pixels(broken)  # no broken-image icon, no alt text


def test_phone_shows_one_or_two_tiles_a_row(browser: Any, site: Site) -> None:
    with opened(browser, site.gallery, 390) as page:
        layout = page.evaluate(LAYOUT)
        assert layout["perRow"][0] == 2 and max(layout["perRow"]) <= 2 and layout["overflow"] <= 0
        assert page.locator("#filter").is_visible()
        assert len(all_covers_loaded(page)) == 37


def test_typing_in_the_filter_narrows_the_tiles_and_the_count(browser: Any, site: Site) -> None:
    with opened(browser, site.gallery, 1280) as page:
        page.keyboard.press("/")
        assert page.evaluate("() => document.activeElement.id") == "filter"
        page.keyboard.type("jazz")
        page.wait_for_function("() => document.getElementById('count').textContent === '3 of 42 albums'")
        assert page.locator(TILES).count() == 3
        assert all("jazz" in text.lower() for text in page.locator(TILES).all_inner_texts())
        page.keyboard.type(" blue meridian")  # every word must match
        page.wait_for_function("() => document.getElementById('count').textContent === '1 of 42 albums'")
        assert page.locator(TILES).inner_text().startswith("Live at the Blue Room")
        page.keyboard.type("zzz")
        page.wait_for_function("() => document.getElementById('count').textContent === '0 of 42 albums'")
        assert page.locator("#empty").is_visible() and page.locator(TILES).count() == 0
        page.keyboard.press("Escape")
        page.wait_for_function("() => document.getElementById('count').textContent === '42 albums'")
        assert page.locator(TILES).count() == 42 and not page.locator("#empty").is_visible()


def test_keyboard_reaches_the_filter_then_the_tiles(browser: Any, site: Site) -> None:
    with opened(browser, site.gallery, 1280) as page:
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "filter"
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => ({ href: document.activeElement.href,"
            " outline: getComputedStyle(document.activeElement).outlineStyle })"
        )
        assert focused["href"].startswith("https://open.spotify.com/album/") and focused["outline"] == "solid"


def test_without_javascript_every_tile_is_shown(browser: Any, site: Site) -> None:
    with opened(browser, site.gallery, 1280, javascript=False) as page:
        assert page.locator(TILES).count() == 42
        assert all(box and box["height"] > 100 for box in (tile.bounding_box() for tile in page.locator(TILES).all()))
        assert not page.locator("#filter").is_visible()  # a filter box that cannot work is not shown
        assert page.text_content("#count") == "42 albums"


def test_hostile_values_stay_text_and_load_nothing_from_elsewhere(browser: Any, site: Site) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    dialogs: list[str] = []
    requested: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(site.hostile.as_uri())
        page.hover(TILES)
        page.wait_for_timeout(200)  # time for an injected handler, were there one, to run
        titles = page.locator(f"{TILES} .title").all_inner_texts()
        artists = page.locator(f"{TILES} .artist").all_inner_texts()
        page.fill("#filter", "sigur ros")  # accents folded the same way in Python and in the page
        page.wait_for_function("() => document.getElementById('count').textContent === '1 of 3 albums'")
    finally:
        context.close()
    assert dialogs == []
    assert requested == [site.hostile.as_uri()]  # no image from evil.example, no javascript: URL followed
    assert "<script>alert(1)</script>" in titles and "Quote \" and ' and &amp;" in titles
    assert '=HYPERLINK("https://evil.example")' in artists and "<img src=x onerror=alert(3)>" in artists


# Long unbroken values (a genre of 200 characters, template-injection attempts) wrap inside their card.
UNBROKEN = "{{constructor.constructor('alert(13)')()}}" + "x" * 158
CONTAINED = """() => Array.from(document.querySelectorAll("#albums .card"), (card) => {
  const box = card.getBoundingClientRect();
  const parts = Array.from(card.querySelectorAll(".title, .artist, .meta, .note"), (part) => {
    const inner = part.getBoundingClientRect();
    return {
      text: part.className,
      inside: inner.left >= box.left - 0.5 && inner.right <= box.right + 0.5,
      clipped: part.scrollWidth > part.clientWidth + 1,
    };
  });
  return {
    parts,
    clipped: card.scrollWidth > card.clientWidth + 1 || card.scrollHeight > card.clientHeight + 1,
    width: box.width,
  };
})"""


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lotsdb_cli.albums.models import AlbumCard

    def card(number: int, **values: Any) -> AlbumCard:
        fields: dict[str, Any] = {
            "id": number,
            "spotify_id": album_id(1, number),
            "artist": "Sigur Rós",
            "title": "Ágætis byrjun",
            "genre": "Post-Rock",
            "year": 1999,
            "cover_url": None,
            "spotify_url": None,
            "not_found": False,
        }
        return AlbumCard(**{**fields, **values})

    cards = [
        card(1, genre=UNBROKEN),
        card(2, title=UNBROKEN, artist="src=javascript:alert(14)>" * 8),
        card(3, genre="src=javascript:alert(14)>" * 8, spotify_id=None),  # with its "No Spotify link" note
        card(4),
    ]
    page_file = tmp_path_factory.mktemp("unbroken") / "unbroken.html"
    with open(page_file, "w", encoding="utf-8") as stream:
        write_gallery(stream, cards, spotify_api_url="http://127.0.0.1:9")
    return page_file


@pytest.mark.parametrize("width", [390, 1280])
def test_a_long_unbroken_genre_or_title_stays_inside_its_card(browser: Any, unbroken: Path, width: int) -> None:
    with opened(browser, unbroken, width) as page:
        assert page.evaluate(LAYOUT)["overflow"] <= 0
        cards = page.evaluate(CONTAINED)
        assert len(cards) == 4
        widths = {round(card["width"]) for card in cards}
        assert len(widths) == 1  # a long value does not widen its column either
        for card in cards:
            assert not card["clipped"], card
            assert all(part["inside"] and not part["clipped"] for part in card["parts"]), card
        meta = page.locator(f"{TILES} .meta").first
        assert UNBROKEN in meta.inner_text().replace("\n", "")  # wrapped, not cut
