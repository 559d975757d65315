"""The designs a user would pick instead of lotsdb, each run by the bench as its own process.

    python scripts/bench_peers.py sequential|pool|aiohttp [--workers N] --event ID
    python scripts/bench_peers.py pool --workers 10 --albums IDS_FILE

Like lotsdb, each reads the sandbox's address and the demo credentials from the environment
(`LOTSDB_IDENTITY_URL`, `LOTSDB_CATALOG_URL`, `LOTSDB_USERNAME`...: `sandbox_env`), logs in once
(password grant, or Spotify client credentials for albums), reads the event, fetches every lot
with a Bearer header and writes one JSON line per lot to stdout, in the event's order. A 429 or a
503 is retried twice, after 1 s and then 2 s (a connection error too); an item still failing then
is left out (the bench counts it as lost) and the exit code is 3.

- sequential: one `requests.Session`, one GET after another;
- pool: a `ThreadPoolExecutor(workers)`, one `requests.Session` per thread, `executor.map`;
- aiohttp: one `aiohttp.ClientSession` with `TCPConnector(limit=workers)`, an
  `asyncio.Semaphore(workers)` around each request, one task per lot, written as they complete
  in order.
For albums (pool only), each album is `GET /v1/albums/{id}?market=US` and every `tracks.next`
page after it, as lotsdb's refresh does.

Only the standard library and the design's own HTTP client are imported, so start-up is what
such a script costs. (curl, the fourth peer, needs no code: the bench writes its config file.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

RETRY_DELAYS = (1.0, 2.0)  # after the first and the second failure; a third failure is final
RETRIED_STATUSES = (429, 503)
TIMEOUT = 30


def password_form() -> dict[str, str]:
    return {
        "grant_type": "password",
        "username": os.environ["LOTSDB_USERNAME"],
        "password": os.environ["LOTSDB_PASSWORD"],
        "client_id": os.environ["LOTSDB_CLIENT_ID"],
        "client_secret": os.environ["LOTSDB_CLIENT_SECRET"],
        "scope": "offline_access",
    }


def write_all(documents: Iterable[Any], out: Any) -> int:
    """Write each document as a JSON line; the number of items that failed (None)."""
    lost = 0
    for document in documents:
        if document is None:
            lost += 1
        else:
            out.write(json.dumps(document) + "\n")
    out.flush()
    return lost


# -- requests: sequential and pool -----------------------------------------------------------
def requests_get(session: Any, url: str, headers: dict[str, str]) -> Any:
    """GET with the retry policy above; the JSON document, or None when it still fails."""
    import requests

    for delay in (*RETRY_DELAYS, None):
        try:
            response = session.get(url, headers=headers, timeout=TIMEOUT)
            status = response.status_code
        except requests.RequestException:
            status = None
        if status == 200:
            return response.json()
        if delay is None or (status is not None and status not in RETRIED_STATUSES):
            return None
        time.sleep(delay)
    return None


def run_requests(args: argparse.Namespace) -> int:
    import concurrent.futures

    import requests

    login = requests.Session()
    if args.albums:
        response = login.post(
            os.environ["LOTSDB_SPOTIFY_ACCOUNTS_URL"] + "/api/token",
            data={"grant_type": "client_credentials"},
            auth=(os.environ["SPOTIFY_CLIENT_ID"], os.environ["SPOTIFY_CLIENT_SECRET"]),
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        api = os.environ["LOTSDB_SPOTIFY_API_URL"]
        with open(args.albums, encoding="utf-8") as handle:
            urls = [f"{api}/v1/albums/{line.strip()}?market=US" for line in handle if line.strip()]
    else:
        response = login.post(os.environ["LOTSDB_IDENTITY_URL"], data=password_form(), timeout=TIMEOUT)
        response.raise_for_status()
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        catalog = os.environ["LOTSDB_CATALOG_URL"]
        event = requests_get(login, f"{catalog}/api/Catalog/{args.event}", headers)
        if event is None:
            print("error: the event could not be read", file=sys.stderr)
            return 1
        urls = [f"{catalog}/api/Lot/{lot['id']}" for lot in event["lots"]]
    local = threading.local()
    local.session = login

    def fetch(url: str) -> Any:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        document = requests_get(session, url, headers)
        if args.albums and isinstance(document, dict):
            return with_all_tracks(document, lambda page: requests_get(session, page, headers))
        return document

    if args.design == "sequential":
        lost = write_all(map(fetch, urls), sys.stdout)
    else:
        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            lost = write_all(pool.map(fetch, urls), sys.stdout)
    print(f"{len(urls) - lost} fetched, {lost} failed", file=sys.stderr)
    return 0 if lost == 0 else 3


def with_all_tracks(album: dict[str, Any], get: Any) -> dict[str, Any] | None:
    """The album with every page of its tracks; None when a page could not be fetched."""
    tracks = album.get("tracks") or {}
    items = list(tracks.get("items") or [])
    next_url = tracks.get("next")
    while next_url:
        page = get(next_url)
        if page is None:
            return None
        items += page.get("items") or []
        next_url = page.get("next")
    album["tracks"] = {**tracks, "items": items, "next": None}
    return album


# -- asyncio + aiohttp -----------------------------------------------------------------------
def run_aiohttp(args: argparse.Namespace) -> int:
    import asyncio
    import collections

    import aiohttp

    async def get(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> Any:
        for delay in (*RETRY_DELAYS, None):
            try:
                async with session.get(url, headers=headers) as response:
                    status = response.status
                    if status == 200:
                        return await response.json()
            except (aiohttp.ClientError, TimeoutError):
                status = None
            if delay is None or (status is not None and status not in RETRIED_STATUSES):
                return None
            await asyncio.sleep(delay)
        return None

    async def dump() -> int:
        connector = aiohttp.TCPConnector(limit=args.workers)
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            async with session.post(os.environ["LOTSDB_IDENTITY_URL"], data=password_form()) as response:
                response.raise_for_status()
                token = (await response.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            catalog = os.environ["LOTSDB_CATALOG_URL"]
            event = await get(session, f"{catalog}/api/Catalog/{args.event}", headers)
            if event is None:
                print("error: the event could not be read", file=sys.stderr)
                return 1
            in_flight = asyncio.Semaphore(args.workers)

            async def fetch(url: str) -> Any:
                async with in_flight:
                    return await get(session, url, headers)

            pending = collections.deque(
                asyncio.create_task(fetch(f"{catalog}/api/Lot/{lot['id']}")) for lot in event["lots"]
            )
            total, lost = len(pending), 0
            out = sys.stdout
            while pending:
                document = await pending.popleft()  # in the event's order; a result goes once written
                if document is None:
                    lost += 1
                else:
                    out.write(json.dumps(document) + "\n")
            out.flush()
        print(f"{total - lost} fetched, {lost} failed", file=sys.stderr)
        return 0 if lost == 0 else 3

    return asyncio.run(dump())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_peers.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("design", choices=("sequential", "pool", "aiohttp"))
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--event", type=int)
    parser.add_argument("--albums", help="a file of Spotify album ids, one a line")
    args = parser.parse_args(argv)
    if (args.event is None) == (args.albums is None):
        parser.error("give --event or --albums")
    if args.design == "aiohttp":
        if args.albums:
            parser.error("the aiohttp peer dumps lots only")
        return run_aiohttp(args)
    return run_requests(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
