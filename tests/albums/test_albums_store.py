from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lotsdb_cli.albums import (
    AlbumStore,
    AlbumStoreError,
    ImportRow,
    SpotifyIdError,
)
from lotsdb_cli.albums.migrations import MIGRATIONS

from .helpers import spotify_id

ID0, ID1, ID2, ID3 = (spotify_id(index) for index in range(4))
DAY = 86400.0


def row(line: int, title: str, artist: str | None = "Artist", **values: object) -> ImportRow:
    return ImportRow(line=line, title=title, artist=artist, **values)  # type: ignore[arg-type]


METADATA = {
    "id": ID0,
    "name": "Copper Sun (Remastered)",
    "artists": [{"name": "Nadia Okafor"}, {"name": "Guest"}],
    "release_date": "2019-03-01",
    "images": [{"url": "https://i.scdn.co/image/abc", "width": 640}],
    "tracks": {"items": [{"name": "Intro"}]},
}


def table_dump(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM albums ORDER BY id").fetchall()


# -- opening and migrations ----------------------------------------------------------------


def test_creates_parent_dir_wal_and_records_migrations(db_path: Path) -> None:
    assert not db_path.parent.exists()
    with AlbumStore(db_path) as store:
        assert store.applied_migrations() == [function.__name__ for function in MIGRATIONS]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names[:2] == ["m001_create_albums", "m002_index_norm_key"]  # in the order they were written


def test_reopening_applies_nothing_twice(db_path: Path) -> None:
    AlbumStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        before = conn.execute("SELECT name, applied_at FROM _migrations").fetchall()
    with AlbumStore(db_path) as store:
        store.upsert_imported([row(2, "Kept")])
    with AlbumStore(db_path) as store:
        assert store.count() == 1
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT name, applied_at FROM _migrations").fetchall() == before


def test_a_new_migration_is_applied_on_open(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    AlbumStore(db_path).close()

    def m999_add_rating(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE albums ADD COLUMN rating INTEGER")

    monkeypatch.setattr("lotsdb_cli.albums.migrations.MIGRATIONS", [*MIGRATIONS, m999_add_rating])
    with AlbumStore(db_path) as store:
        assert store.applied_migrations()[-1] == "m999_add_rating"


def test_unusable_database_file_raises_album_store_error(tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.sqlite"
    not_a_db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AlbumStoreError, match="cannot use album database"):
        AlbumStore(not_a_db)
    with pytest.raises(AlbumStoreError, match="cannot open album database"):
        AlbumStore(tmp_path)  # a directory


# -- import upsert ---------------------------------------------------------------------------


def test_upsert_inserts_then_is_idempotent(store: AlbumStore) -> None:
    rows = [
        row(2, "Copper Sun", "Nadia Okafor", genre="Afrobeat", year=2019, spotify_id=ID0),
        row(3, "Frostbyte", "Polar Static"),
    ]
    first = store.upsert_imported(rows)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    second = store.upsert_imported(rows)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 2)
    assert store.count() == 2


def test_update_changes_only_spreadsheet_columns_and_keeps_enrichment(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "Copper Sun", "Nadia Okafor", genre="Afro", spotify_id=ID0)])
    store.store_metadata(ID0, METADATA, "https://i.scdn.co/image/abc", fetched_at=1000.0)
    store.store_error(ID0, "503 from Spotify", at=2000.0)
    before = store.get(ID0)
    assert before is not None
    changed = row(
        5,
        "Copper Sun",
        "Nadia Okafor",
        genre="Afrobeat",
        year=2019,
        source_url=f"spotify:album:{ID0}",
        spotify_id=ID0,
    )
    summary = store.upsert_imported([changed])
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 0)
    after = store.get(ID0)
    assert after is not None
    assert (after.genre, after.year, after.source_url) == ("Afrobeat", 2019, f"spotify:album:{ID0}")
    assert after.metadata == METADATA
    assert (after.metadata_fetched_at, after.cover_url) == (1000.0, "https://i.scdn.co/image/abc")
    assert (after.fetch_error, after.fetch_error_at) == ("503 from Spotify", 2000.0)
    assert after.imported_at == before.imported_at
    assert after.id == before.id


def test_rows_without_id_match_by_normalized_artist_and_title(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "Lemonade", "Beyoncé", genre="Pop")])
    summary = store.upsert_imported([row(2, "LEMONADE!", "beyonce", genre="Pop")])
    assert (summary.inserted, summary.updated) == (0, 1)
    (album,) = store.list()
    assert (album.artist, album.title) == ("beyonce", "LEMONADE!")


def test_a_link_added_later_attaches_to_the_album_imported_without_one(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "Frostbyte", "Polar Static")])
    summary = store.upsert_imported([row(2, "Frostbyte", "Polar Static", spotify_id=ID1)])
    assert (summary.inserted, summary.updated) == (0, 1)
    (album,) = store.list()
    assert album.spotify_id == ID1
    again = store.upsert_imported([row(2, "Frostbyte", "Polar Static", spotify_id=ID1)])
    assert again.unchanged == 1


def test_a_row_without_link_never_removes_a_stored_spotify_id(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "Frostbyte", "Polar Static", spotify_id=ID1, source_url=ID1)])
    store.upsert_imported([row(2, "Frostbyte", "Polar Static")])
    (album,) = store.list()
    assert (album.spotify_id, album.source_url) == (ID1, None)


def test_two_editions_with_the_same_title_stay_two_albums(store: AlbumStore) -> None:
    rows = [row(2, "Abbey Road", "Beatles", spotify_id=ID0), row(3, "Abbey Road", "Beatles", spotify_id=ID1)]
    assert store.upsert_imported(rows).inserted == 2
    assert store.upsert_imported(rows).unchanged == 2


def test_dry_run_upsert_counts_and_rolls_back(store: AlbumStore, db_path: Path) -> None:
    store.upsert_imported([row(2, "Frostbyte")])
    before = table_dump(db_path)
    summary = store.upsert_imported([row(2, "Frostbyte", genre="x"), row(3, "New")], dry_run=True)
    assert (summary.inserted, summary.updated) == (1, 1)
    assert table_dump(db_path) == before


def test_failed_import_leaves_nothing_behind(store: AlbumStore) -> None:
    def rows() -> object:
        yield row(2, "First")
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError):
        store.upsert_imported(rows())  # type: ignore[arg-type]
    assert store.count() == 0


# -- lookups and lists -------------------------------------------------------------------------


def test_get_by_local_id_spotify_id_or_url(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "Copper Sun", spotify_id=ID0), row(3, "Frostbyte")])
    album = store.get(ID0)
    assert album is not None
    for ref in (album.id, str(album.id), f" {album.id} ", f"https://open.spotify.com/album/{ID0}?si=x"):
        found = store.get(ref)
        assert found is not None and found.id == album.id
    assert store.get(f"spotify:album:{ID0}") == album
    assert store.get(ID3) is None
    assert store.get(999) is None
    with pytest.raises(SpotifyIdError, match="track link"):
        store.get(f"https://open.spotify.com/track/{ID0}")


def test_list_filters_are_case_insensitive_substrings(store: AlbumStore) -> None:
    store.upsert_imported(
        [
            row(2, "Lemonade", "Beyoncé", genre="R&B"),
            row(3, "Frostbyte", "Polar Static", genre="Electronic"),
            row(4, "Copper Sun", "Nadia Okafor", genre="Afrobeat"),
            row(5, "Second", "Polar Static", genre="Ambient Electronic", year=1999),
        ]
    )
    # By artist, then year (unknown first), then title.
    assert [a.title for a in store.list(artist="polar")] == ["Frostbyte", "Second"]
    assert [a.title for a in store.list(artist="BEYONCÉ")] == ["Lemonade"]
    both = store.list(genre="electronic", artist="STATIC")
    assert [a.title for a in both] == ["Frostbyte", "Second"]
    assert [a.title for a in store.list(limit=2)] == ["Lemonade", "Copper Sun"]
    assert store.list(artist="nobody") == []


@pytest.mark.parametrize("needle", ["%", "_", "'", '"; DROP TABLE albums; --', "\\", "[a]"])
def test_sql_metacharacters_in_filters_match_literally(store: AlbumStore, needle: str) -> None:
    store.upsert_imported(
        [
            row(2, "Plain", "Plain Artist", genre="Rock"),
            row(3, "Odd", f"Odd {needle} Artist", genre=f"Genre {needle}"),
        ]
    )
    assert [a.title for a in store.list(artist=needle)] == ["Odd"]
    assert [a.title for a in store.list(genre=needle)] == ["Odd"]
    assert store.count() == 2


def test_list_missing_cover(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "With", spotify_id=ID0), row(3, "Without", spotify_id=ID1)])
    store.store_metadata(ID0, METADATA, "https://i.scdn.co/image/abc")
    assert [a.title for a in store.list(missing_cover=True)] == ["Without"]


# -- enrichment ----------------------------------------------------------------------------


def test_store_metadata_clears_errors_and_fills_only_blank_names(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "Copper Sun", "Nadia Okafor", spotify_id=ID0)])
    assert store.store_error(ID0, "404 Not Found", not_found=True, at=5.0)
    album = store.get(ID0)
    assert album is not None and album.not_found and album.fetch_error == "404 Not Found"
    stored = store.store_metadata(ID0, METADATA, "https://i.scdn.co/image/abc", fetched_at=10.0)
    assert (stored.fetch_error, stored.fetch_error_at, stored.not_found) == (None, None, False)
    assert (stored.artist, stored.title, stored.year) == ("Nadia Okafor", "Copper Sun", 2019)
    assert stored.metadata == METADATA
    assert (stored.metadata_fetched_at, stored.cover_fetched_at) == (10.0, 10.0)


def test_store_metadata_adds_an_album_not_in_the_library(store: AlbumStore) -> None:
    stored = store.store_metadata(ID2, METADATA, None, fetched_at=10.0)
    assert (stored.artist, stored.title, stored.year) == (
        "Nadia Okafor, Guest",
        "Copper Sun (Remastered)",
        2019,
    )
    assert stored.cover_url is None and stored.cover_fetched_at == 10.0
    assert stored.imported_at is None
    # A spreadsheet row naming it by artist+title later finds this album.
    summary = store.upsert_imported([row(2, "Copper Sun (Remastered)", "Nadia Okafor, Guest")])
    assert summary.updated + summary.unchanged == 1
    assert store.count() == 1
    imported = store.get(ID2)
    assert imported is not None and imported.imported_at is not None


def test_store_error_keeps_metadata_and_a_transient_error_keeps_not_found(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "Copper Sun", spotify_id=ID0)])
    store.store_metadata(ID0, METADATA, "https://i.scdn.co/image/abc")
    store.store_error(ID0, "400 invalid id", not_found=True)
    store.store_error(ID0, "503 Service Unavailable")
    album = store.get(ID0)
    assert album is not None
    assert album.metadata == METADATA and album.not_found
    assert album.fetch_error == "503 Service Unavailable"
    assert store.store_error(ID3, "404") is False


def test_needs_fetch(store: AlbumStore) -> None:
    store.upsert_imported([row(2, "A", spotify_id=ID0), row(3, "B")])
    fresh = store.get(ID0)
    assert fresh is not None
    assert store.needs_fetch(fresh, 30 * DAY)
    fetched = store.store_metadata(ID0, METADATA, None, fetched_at=1000.0)
    assert not store.needs_fetch(fetched, 30 * DAY, now=1000.0 + 29 * DAY)
    assert store.needs_fetch(fetched, 30 * DAY, now=1000.0 + 31 * DAY)
    (no_link,) = [album for album in store.list() if album.title == "B"]
    assert no_link.spotify_id is None and not store.needs_fetch(no_link, 0)


# -- refresh selection -----------------------------------------------------------------------


@pytest.fixture
def library(store: AlbumStore) -> AlbumStore:
    """never: no metadata; old: 40 days old; recent: 1 day old; gone: 404; plain: no id."""
    now = 100 * DAY
    store.upsert_imported(
        [
            row(2, "Never", "Polar Static", genre="Electronic", spotify_id=ID0),
            row(3, "Old", "Polar Static", genre="Ambient", spotify_id=ID1),
            row(4, "Recent", "Nadia Okafor", genre="Afrobeat", spotify_id=ID2),
            row(5, "Gone", "Nadia Okafor", genre="Afrobeat", spotify_id=ID3),
            row(6, "Plain", "Polar Static", genre="Electronic"),
        ]
    )
    store.store_metadata(ID1, METADATA, None, fetched_at=now - 40 * DAY)
    store.store_metadata(ID2, METADATA, None, fetched_at=now - 1 * DAY)
    store.store_error(ID3, "404 Not Found", not_found=True)
    return store


def titles(albums: list) -> list[str]:  # type: ignore[type-arg]
    return [album.title for album in albums]


def test_default_refresh_selection(library: AlbumStore) -> None:
    selection = library.select_for_refresh(stale_after=30 * DAY, now=100 * DAY)
    assert titles(selection.to_fetch) == ["Never", "Old"]
    assert titles(selection.fresh) == ["Recent"]
    assert titles(selection.not_found) == ["Gone"]
    assert titles(selection.no_spotify_id) == ["Plain"]
    assert selection.skipped == 2


def test_refresh_stale_after_and_force(library: AlbumStore) -> None:
    short = library.select_for_refresh(stale_after=0.5 * DAY, now=100 * DAY)
    assert titles(short.to_fetch) == ["Never", "Old", "Recent"]
    forced = library.select_for_refresh(force=True, now=100 * DAY)
    assert titles(forced.to_fetch) == ["Never", "Old", "Recent", "Gone"]
    assert titles(forced.no_spotify_id) == ["Plain"]


def test_refresh_filters_and_album_refs(library: AlbumStore) -> None:
    by_artist = library.select_for_refresh(artist="polar", now=100 * DAY)
    assert titles(by_artist.to_fetch) == ["Never", "Old"]
    assert titles(by_artist.no_spotify_id) == ["Plain"]
    by_genre = library.select_for_refresh(genre="AFRO", force=True, now=100 * DAY)
    assert titles(by_genre.to_fetch) == ["Recent", "Gone"]
    (plain,) = [album for album in library.list() if album.title == "Plain"]
    refs = [f"https://open.spotify.com/album/{ID2}", str(plain.id), ID0, ID0, "4242", spotify_id(9)]
    by_ref = library.select_for_refresh(refs, now=100 * DAY)
    assert titles(by_ref.to_fetch) == ["Never"]
    assert titles(by_ref.fresh) == ["Recent"]
    assert titles(by_ref.no_spotify_id) == ["Plain"]
    assert by_ref.unknown_refs == ["4242", spotify_id(9)]
    with pytest.raises(SpotifyIdError):
        library.select_for_refresh(["https://spotify.link/abc"])
