"""The album library: Spotify id extraction, the SQLite album store and the CSV importer.

No HTTP here: enrichment from Spotify stores its results through `AlbumStore`.
"""

from lotsdb_cli.albums.csvparse import ParseResult, SpreadsheetReader, parse_csv
from lotsdb_cli.albums.ids import SpotifyIdError, extract_album_id, is_album_id
from lotsdb_cli.albums.importer import (
    AlbumImporter,
    ImportReport,
    RejectLog,
    google_sheets_csv_url,
    import_albums,
)
from lotsdb_cli.albums.models import Album, ImportRow, ImportSummary, RefreshSelection
from lotsdb_cli.albums.rows import Duplicate, Reject
from lotsdb_cli.albums.store import DEFAULT_STALE_AFTER, AlbumStore, AlbumStoreError

__all__ = [
    "DEFAULT_STALE_AFTER",
    "Album",
    "AlbumImporter",
    "AlbumStore",
    "AlbumStoreError",
    "Duplicate",
    "ImportReport",
    "ImportRow",
    "ImportSummary",
    "ParseResult",
    "RefreshSelection",
    "Reject",
    "RejectLog",
    "SpotifyIdError",
    "SpreadsheetReader",
    "extract_album_id",
    "google_sheets_csv_url",
    "import_albums",
    "is_album_id",
    "parse_csv",
]
