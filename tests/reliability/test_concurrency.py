"""Two processes on one album database at once: both succeed, nothing is locked out or lost."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli

from lotsdb_cli.sandbox import Sandbox

from .support import albums_csv, assert_no_crash, finish, integrity_check, stored_albums


def run_together(cli: Cli, *commands: list[str]) -> list[str]:
    procs = [cli.popen(*command) for command in commands]
    errors = []
    for proc in procs:
        _, stderr = finish(proc, 60)
        assert proc.returncode == 0, stderr
        assert "locked" not in stderr and "busy" not in stderr
        assert_no_crash(stderr)
        errors.append(stderr)
    return errors


def album_count(db: Path) -> int:
    import sqlite3

    connection = sqlite3.connect(db)
    try:
        return int(connection.execute("SELECT count(*) FROM albums").fetchone()[0])
    finally:
        connection.close()


def test_two_imports_create_one_new_database_together(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    albums_csv(tmp_path / "a.csv", 30, prefix="A")
    albums_csv(tmp_path / "b.csv", 30, start=30, prefix="B")
    run_together(cli, ["albums", "import", str(tmp_path / "a.csv")], ["albums", "import", str(tmp_path / "b.csv")])
    db = isolated_home / "lotsdb.sqlite"
    integrity_check(db)
    assert album_count(db) == 60


def test_import_while_refreshing(cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path) -> None:
    albums_csv(tmp_path / "a.csv", 30, prefix="A")
    albums_csv(tmp_path / "b.csv", 30, start=30, prefix="B")
    assert cli.proc("albums", "import", str(tmp_path / "a.csv")).returncode == 0
    sandbox.set(latency_ms=5)
    run_together(cli, ["albums", "refresh", "--workers", "8"], ["albums", "import", str(tmp_path / "b.csv")])
    db = isolated_home / "lotsdb.sqlite"
    integrity_check(db)
    assert album_count(db) == 60
    assert len(stored_albums(db)) >= 30  # at least every album that existed when the refresh began


def test_two_refreshes_at_once(cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path) -> None:
    albums_csv(tmp_path / "a.csv", 40)
    assert cli.proc("albums", "import", str(tmp_path / "a.csv")).returncode == 0
    sandbox.set(latency_ms=5)
    run_together(cli, ["albums", "refresh", "--workers", "8"], ["albums", "refresh", "--force", "--workers", "8"])
    db = isolated_home / "lotsdb.sqlite"
    integrity_check(db)
    assert len(stored_albums(db)) == 40
