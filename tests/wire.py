"""Shared by the wire-format test and `scripts/record_cassettes.py`: the calls and the vcrpy setup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import vcr

CASSETTES = Path(__file__).resolve().parent / "cassettes"
RECORD_PORT = 8765  # cassettes are recorded against a sandbox on this port
ORIGIN = f"http://127.0.0.1:{RECORD_PORT}"
LOT_ID = 100001
EVENT_ID = 1000
SECRET_FIELDS = ("password", "client_secret", "refresh_token", "access_token")


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Tokens in token-endpoint answers are replaced before they reach a cassette."""
    body = response.get("body", {}).get("string")
    if not body:
        return response
    try:
        data = json.loads(body)
    except ValueError:
        return response
    if isinstance(data, dict) and any(field in data for field in SECRET_FIELDS):
        for field in SECRET_FIELDS:
            if field in data:
                data[field] = f"<{field}>"
        response["body"]["string"] = json.dumps(data).encode()
    return response


def recorder(record_mode: str) -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=record_mode,
        filter_headers=["Authorization"],
        filter_post_data_parameters=[(field, f"<{field}>") for field in SECRET_FIELDS],
        before_record_response=_scrub_response,
        match_on=["method", "scheme", "host", "port", "path", "query", "body"],
        decode_compressed_response=True,
    )


def environment() -> dict[str, str]:
    """Settings pointing at the recording sandbox, with its demo credentials."""
    from lotsdb_cli.sandbox import sandbox_env

    return {**sandbox_env(ORIGIN), "LOTSDB_SPOTIFY_MARKET": "US"}


def run_catalog_calls(home: Path) -> dict[str, Any]:
    """Token (password grant), an event, a lot, a page of sellers, through the real clients."""
    from lotsdb_cli import Lotsdb
    from lotsdb_cli.config import load_settings

    settings = load_settings({**environment(), "LOTSDB_HOME": str(home)}).with_options(no_cache=True)
    with Lotsdb(settings) as db:
        return {"event": db.event(EVENT_ID), "lot": db.lot(LOT_ID), "sellers": list(db.sellers(limit=3))}


def run_spotify_calls(home: Path, album_id: str) -> dict[str, Any]:
    """Token (client credentials) and one album through the real client."""
    from lotsdb_cli import Lotsdb
    from lotsdb_cli.config import load_settings

    settings = load_settings({**environment(), "LOTSDB_HOME": str(home)}).with_options(no_cache=True)
    with Lotsdb(settings) as db:
        return {"album": db.run(db.spotify.album(album_id))}
