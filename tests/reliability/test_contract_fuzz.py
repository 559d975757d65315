"""Everything the contracts allow never crashes a command: responses generated from the published
schemas (nulls wherever allowed, optional fields missing, empty lists, numbers at their limits,
long and non-ASCII strings), fed to the pure functions and, through the sandbox, to the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotsdb_cli.albums.details import album_details
from lotsdb_cli.albums.store import AlbumStore
from lotsdb_cli.errors import BadResponse
from lotsdb_cli.lots import CSV_COLUMNS, csv_row, effective_data, event_lots, override_body
from lotsdb_cli.output import FORMATS, RecordWriter, flatten, render_table
from lotsdb_cli.sandbox import Sandbox
from lotsdb_cli.spotify import cover_url

from . import schemas
from .support import EVENT, assert_no_crash

PURE = settings(max_examples=60, deadline=None)
THROUGH_CLI = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
FORMULA_STARTS = ("=", "+", "-", "@")
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def written(records: list[dict[str, Any]], fmt: str, columns: list[str] | None = None) -> str:
    stream = io.StringIO()
    writer = RecordWriter(stream, fmt, columns)
    for record in records:
        writer.write(record)
    writer.close()
    text = stream.getvalue()
    text.encode("utf-8")  # what a file or a UTF-8 stdout will do: no lone surrogate, nothing unencodable
    return text


# Pure functions


@PURE
@given(lot=schemas.catalog("LotDto"), lot_number=st.none() | schemas.TEXT)
def test_any_lot_flattens_to_a_safe_csv_row(lot: dict[str, Any], lot_number: str | None) -> None:
    row = csv_row(lot, lot_number)
    assert list(row) == CSV_COLUMNS
    text = written([row], "csv", CSV_COLUMNS)
    header, cells = list(csv.reader(io.StringIO(text, newline="")))
    assert header == CSV_COLUMNS
    # Only a plain number may start with `-` or `+` (it is that number in a spreadsheet, never a formula).
    assert not any(cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(cell) for cell in cells)
    assert isinstance(effective_data(lot), dict)


def test_a_lone_carriage_return_stays_in_its_cell() -> None:
    lot = {"id": 1, "initialData": {"Notes": "old Mac\rline", "description": "\r"}}
    rows = list(csv.reader(io.StringIO(written([csv_row(lot, "1")], "csv", CSV_COLUMNS), newline="")))
    assert len(rows) == 2
    assert rows[1][CSV_COLUMNS.index("Notes")] == "old Mac\rline"


@PURE
@given(lots=st.lists(schemas.catalog("LotDto"), max_size=3))
def test_any_lots_round_trip_through_json_and_jsonl(lots: list[dict[str, Any]]) -> None:
    assert json.loads(written(lots, "json")) == lots
    assert [json.loads(line) for line in written(lots, "jsonl").split("\n") if line] == lots  # JSONL: "\n" only
    written(lots, "table")
    for lot in lots:
        json.dumps(override_body(lot, {"Qty": 1}), allow_nan=False)


@PURE
@given(event=schemas.catalog("CatalogExpandedDto"))
def test_any_event_lists_its_lots(event: dict[str, Any]) -> None:
    try:
        listed = event_lots(event)
    except BadResponse as exc:  # entries without a usable id are named, never skipped silently
        assert "no integer id" in str(exc)
        listed = []
    for lot_id, lot_number in listed:
        assert isinstance(lot_id, int) and lot_id > 0 and (lot_number is None or isinstance(lot_number, str))
    for fmt in FORMATS:
        written([flatten(event)], fmt)


@pytest.fixture(scope="module")
def album_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlbumStore]:
    store = AlbumStore(tmp_path_factory.mktemp("fuzz") / "lotsdb.sqlite")
    yield store
    store.close()


@PURE
@given(album=schemas.spotify("AlbumObject"))
def test_any_spotify_album_is_stored_and_shown(album_store: AlbumStore, album: dict[str, Any]) -> None:
    cover = cover_url(album, "https://api.spotify.com")
    assert cover is None or isinstance(cover, str)
    stored = album_store.store_metadata("4aawyAB9vmqN3uQ7FjRGTy", album, cover)
    details = album_details(stored)
    json.dumps(details, allow_nan=False).encode("utf-8")
    render_table(details.pop("tracks"), ["track_number", "name", "duration", "artists"]).encode("utf-8")
    render_table([{"field": key, "value": value} for key, value in flatten(details).items()]).encode("utf-8")


# Through the CLI: the sandbox answers with a generated body


def answer_with(sandbox: Sandbox, path_regex: str, body: Any) -> None:
    sandbox.clear_faults()
    sandbox.add_fault(path_regex, "status", status=200, body=body)


@pytest.fixture(scope="module")
def fuzz_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=1, sellers=1, events_per_seller=1, lots_per_event=3, albums=3) as sandbox:
        yield sandbox


@pytest.fixture
def fuzz_cli(fuzz_sandbox: Sandbox, isolated_home: Path) -> Cli:
    return Cli({**fuzz_sandbox.env(), "LOTSDB_HOME": str(isolated_home)})


@THROUGH_CLI
@given(lot=schemas.catalog("LotDto"), fmt=st.sampled_from(FORMATS))
def test_lots_show_any_lot(fuzz_cli: Cli, fuzz_sandbox: Sandbox, lot: dict[str, Any], fmt: str) -> None:
    lot["id"] = EVENT * 100  # the lot asked for: an id is required, and one of another lot is refused
    answer_with(fuzz_sandbox, r"^/api/Lot/\d+$", lot)
    result = fuzz_cli("--no-cache", "lots", "show", str(EVENT * 100), "--format", fmt)
    assert result.code == 0, result.stderr
    assert_no_crash(result.stderr)


@THROUGH_CLI
@given(event=schemas.catalog("CatalogExpandedDto"), fmt=st.sampled_from(["jsonl", "csv"]))
def test_lots_dump_any_event(fuzz_cli: Cli, fuzz_sandbox: Sandbox, event: dict[str, Any], fmt: str) -> None:
    if "id" in event:
        event["id"] = EVENT
    answer_with(fuzz_sandbox, r"^/api/Catalog/\d+$", event)
    result = fuzz_cli("--no-cache", "--retries", "0", "lots", "dump", str(EVENT), "--format", fmt)
    # 3: lots the sandbox does not know fail, one by one; 1: entries without a usable id are named
    assert result.code in (0, 3) or (result.code == 1 and "no integer id" in result.stderr), result.stderr
    assert_no_crash(result.stderr)


@THROUGH_CLI
@given(page=schemas.catalog("SellerExpandedDtoPaginatedList"), fmt=st.sampled_from(FORMATS))
def test_sellers_list_any_page(fuzz_cli: Cli, fuzz_sandbox: Sandbox, page: dict[str, Any], fmt: str) -> None:
    answer_with(fuzz_sandbox, r"^/api/Seller$", page)  # every page: the same answer, for ever
    result = fuzz_cli("--no-cache", "sellers", "list", "--format", fmt)
    assert result.code in (0, 1), result.stderr  # 1: the API repeated a page (a lying server)
    assert_no_crash(result.stderr)


@THROUGH_CLI
@given(page=schemas.catalog("CatalogExpandedDtoPaginatedList"), fmt=st.sampled_from(FORMATS))
def test_events_list_any_page(fuzz_cli: Cli, fuzz_sandbox: Sandbox, page: dict[str, Any], fmt: str) -> None:
    answer_with(fuzz_sandbox, r"^/api/Catalog$", page)
    result = fuzz_cli("--no-cache", "events", "list", "--all", "--format", fmt)
    assert result.code in (0, 1), result.stderr
    assert_no_crash(result.stderr)


@THROUGH_CLI
@given(album=schemas.spotify("AlbumObject"), fmt=st.sampled_from(FORMATS))
def test_albums_show_any_album(fuzz_cli: Cli, fuzz_sandbox: Sandbox, album: dict[str, Any], fmt: str) -> None:
    if isinstance(album.get("tracks"), dict):
        album["tracks"]["next"] = None  # a link to follow is tested on its own (test_secrets)
    album_id = fuzz_sandbox.data.album_ids[0]
    answer_with(fuzz_sandbox, r"^/v1/albums/", album)
    result = fuzz_cli("--no-cache", "albums", "show", album_id, "--max-age", "0", "--format", fmt)
    assert result.code == 0, result.stderr
    assert_no_crash(result.stderr)
