"""Several threads and processes writing one album database: nobody sees "database is locked"."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from lotsdb_cli.albums import AlbumStore, ImportRow
from lotsdb_cli.albums.migrations import MIGRATIONS
from lotsdb_cli.sandbox.albumids import album_id

WRITER_SCRIPT = """
import sys, time
from lotsdb_cli.albums import AlbumStore, ImportRow
from lotsdb_cli.sandbox.albumids import album_id

path, name, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
while time.time() < start_at:
    time.sleep(0.001)
store = AlbumStore(path)  # both processes may create the file and migrate at once
for index in range(40):
    shared_id = album_id(5, index % 10)
    store.upsert_imported([
        ImportRow(line=2, title=f"{name} {index}", artist=name),
        ImportRow(line=3, title=f"shared {index % 10}", artist="both", spotify_id=shared_id),
    ])
    store.store_metadata(shared_id, {"name": f"shared {index % 10}", "by": name}, None)
    store.store_error(shared_id, f"error from {name}")
    store.list(artist=name)
store.close()
"""


def run_in_threads(count: int, work: object) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(number: int) -> None:
        try:
            work(number)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_threads_sharing_one_store(store: AlbumStore) -> None:
    ids = [album_id(5, index) for index in range(8)]
    store.upsert_imported(ImportRow(line=2, title=f"t{i}", spotify_id=sid) for i, sid in enumerate(ids))

    def work(number: int) -> None:
        for round_number in range(30):
            spotify_id = ids[(number + round_number) % len(ids)]
            store.store_metadata(spotify_id, {"round": round_number}, f"https://img/{number}")
            store.upsert_imported([ImportRow(line=2, title=f"thread {number}", artist=f"a{number}")])
            store.store_error(spotify_id, "503")
            assert store.get(spotify_id) is not None
            store.select_for_refresh(stale_after=0)

    assert run_in_threads(8, work) == []
    assert store.count() == len(ids) + 8


def test_threads_with_their_own_connections(db_path: Path) -> None:
    AlbumStore(db_path).close()

    def work(number: int) -> None:
        with AlbumStore(db_path) as own_store:
            for round_number in range(25):
                own_store.upsert_imported(
                    [
                        ImportRow(line=2, title=f"{number}-{round_number}"),
                        ImportRow(line=3, title="everyone", genre=str(round_number)),
                    ]
                )

    assert run_in_threads(6, work) == []
    with AlbumStore(db_path) as check:
        assert check.count() == 6 * 25 + 1


def test_processes_creating_and_writing_one_database_at_once(tmp_path: Path) -> None:
    db_path = tmp_path / "new" / "albums.sqlite"
    start_at = time.time() + 1.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(db_path), name, str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second", "third", "fourth")
    ]
    outcomes = [process.communicate(timeout=60) for process in processes]
    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert "locked" not in stderr
        assert process.returncode == 0, stderr
    with AlbumStore(db_path) as store:
        assert store.count() == 4 * 40 + 10
        assert store.applied_migrations() == [migration.__name__ for migration in MIGRATIONS]


def test_a_writer_waits_for_a_lock_held_elsewhere(db_path: Path) -> None:
    AlbumStore(db_path).close()
    blocker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO albums (title) VALUES ('held')")
    committed = threading.Event()

    def release() -> None:
        blocker.execute("COMMIT")
        committed.set()

    released = threading.Timer(0.5, release)
    released.start()
    try:
        with AlbumStore(db_path) as store:
            summary = store.upsert_imported([ImportRow(line=2, title="after the wait")])
            waited_for_the_commit = committed.is_set()
            titles = [album.title for album in store.list()]
    finally:
        released.join()
        blocker.close()
    assert summary.inserted == 1
    assert waited_for_the_commit  # the upsert could only finish once the other writer was done
    assert titles == ["after the wait", "held"]
