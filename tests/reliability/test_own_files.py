"""The tool's own small files: never an output, and never a reason for a command to fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.sandbox import Sandbox


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("cache_runs.jsonl", "the run log"),
        (".cache_runs.jsonl.lock", "the run log's lock file"),
        ("config.toml", "configuration"),
    ],
)
def test_the_run_log_and_the_config_file_are_no_output(
    cli: Cli, sandbox: Sandbox, isolated_home: Path, name: str, what: str
) -> None:
    target = isolated_home / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("")
    result = cli("lots", "dump", "1000", "-o", str(target))
    assert result.code == 2 and what in result.stderr
    assert target.read_text() == "" and sandbox.stats()["requests"] == 0


def test_a_damaged_run_log_fails_no_command(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    assert cli("events", "show", "1000").code == 0
    log = isolated_home / "cache_runs.jsonl"
    with log.open("ab") as file:
        file.write(b'\xff\xfe not json\n{"command": 5}\n[1, 2]\n' + b"[" * 100_000 + b"\n")
    shown = cli("events", "show", "1000", "--format", "json")
    assert shown.code == 0, shown.stderr
    stats = cli("cache", "stats", "--format", "json")
    assert stats.code == 0, stats.stderr
    runs = json.loads(stats.stdout)["recent_runs"]
    assert [run["command"] for run in runs] == ["events show", "events show"]  # the garbage is gone
    assert all(json.loads(line)["command"] for line in log.read_text().splitlines())


@pytest.mark.parametrize("args", [["-vv", "cache", "stats"], ["cache", "stats", "-vv"], ["-v", "-v", "cache", "stats"]])
def test_a_bug_shows_its_traceback_at_vv_only(cli: Cli, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    from lotsdb_cli.api import Lotsdb

    def broken(self: Lotsdb) -> None:
        raise RuntimeError("a bug in the code")

    monkeypatch.setattr(Lotsdb, "cache_stats", broken)
    quiet = cli("cache", "stats")
    assert quiet.code == 1 and "a bug in the code" in quiet.stderr and "Traceback" not in quiet.stderr
    assert "run again with -vv" in quiet.stderr
    loud = cli(*args)
    assert loud.code == 1 and "Traceback (most recent call last)" in loud.stderr and "RuntimeError" in loud.stderr


def test_bytes_that_are_not_utf8_in_a_setting_are_a_configuration_error(isolated_home: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "LOTSDB_HOME": str(isolated_home)}
    env_bytes = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
    env_bytes[b"LOTSDB_USERNAME"] = b"\xff\xfe"
    done = subprocess.run(
        [sys.executable, "-m", "lotsdb_cli", "config", "show"], env=env_bytes, capture_output=True, timeout=60
    )
    assert done.returncode == 4
    assert b"LOTSDB_USERNAME: not UTF-8 text" in done.stderr and b"Traceback" not in done.stderr


def test_a_reject_log_whose_reader_goes_away_does_not_stop_the_import(cli: Cli, tmp_path: Path) -> None:
    import subprocess

    sheet = tmp_path / "bad.csv"
    rows = [f"A{i},{'' if i % 2 else f'T{i}'},Pop,1999" for i in range(8000)]  # every other row invalid
    sheet.write_text("Artist,Album,Genre,Year\n" + "\n".join(rows) + "\n")
    with subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL) as head:
        assert head.stdin is not None
        result = cli.proc(
            "-q", "albums", "import", str(sheet), "--reject-log", "-", stdout=head.stdin, stderr=subprocess.PIPE
        )
        head.stdin.close()
    assert result.returncode == 3, result.stderr  # the invalid rows, not a reader that went away
    assert "reader went away" in result.stderr and "Traceback" not in result.stderr
    listed = cli("albums", "list", "--format", "json")
    assert len(json.loads(listed.stdout)) == 4000  # every valid row imported


def test_runs_that_end_together_each_keep_their_line(tmp_path: Path) -> None:
    import threading

    from lotsdb_cli.http.runlog import recent_runs, record_run

    threads = [
        threading.Thread(target=record_run, args=(tmp_path, f"run {number}", {"sent": number})) for number in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(run["command"] for run in recent_runs(tmp_path)) == sorted(f"run {n}" for n in range(12))


def test_a_full_disk_under_the_album_database_is_one_clear_error(
    cli: Cli, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from lotsdb_cli.albums.store import AlbumStore

    def full(self: AlbumStore, *args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(AlbumStore, "albums", full)  # a disk filling up cannot be made here; its error can
    result = cli("albums", "list", "--format", "json")
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "error: the album database failed: database or disk is full",
        "hint: check the free space and permissions where it is (`lotsdb config show` names the file)",
    ]


def test_the_data_directory_is_private_whatever_the_umask(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    """Under `umask 000` (a careless cron or container), another user must not be able to drop a
    config.toml that sends the credentials elsewhere, or read the run log."""
    import os
    import stat

    done = cli.proc(
        "lots", "dump", "1000", "-o", str(isolated_home.parent / "lots.jsonl"), preexec_fn=lambda: os.umask(0)
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(isolated_home.stat().st_mode) == 0o700
    for name in ("cache_runs.jsonl", ".cache_runs.jsonl.lock", "tokens.json"):
        assert stat.S_IMODE((isolated_home / name).stat().st_mode) == 0o600, name


@pytest.mark.parametrize("name", ["tokens.json", "cache_runs.jsonl", "pauses.json"])
def test_a_fifo_among_the_tools_own_files_blocks_nothing(
    cli: Cli, sandbox: Sandbox, isolated_home: Path, name: str
) -> None:
    """Opening a FIFO waits for a writer for ever: each of the tool's own files is read without blocking."""
    import os

    isolated_home.mkdir(parents=True, exist_ok=True)
    os.mkfifo(isolated_home / name)
    done = cli.proc("lots", "show", "100001", timeout=60)
    assert done.returncode == 0, done.stderr
    assert cli.proc("cache", "stats", timeout=60).returncode == 0


def test_a_fifo_as_the_config_file_is_a_configuration_error(cli: Cli, isolated_home: Path) -> None:
    import os

    isolated_home.mkdir(parents=True, exist_ok=True)
    os.mkfifo(isolated_home / "config.toml")
    done = cli.proc("config", "show", timeout=60)
    assert done.returncode == 4 and "config.toml: cannot read the config file: not a regular file" in done.stderr


def test_a_config_file_too_large_to_read_whole_is_refused(cli: Cli, isolated_home: Path) -> None:
    """Never read in part: a setting past the cut would be ignored without a word."""
    from lotsdb_cli.config import MAX_CONFIG_BYTES

    isolated_home.mkdir(parents=True, exist_ok=True)
    with (isolated_home / "config.toml").open("w") as file:
        file.write(("# " + "x" * 98 + "\n") * (MAX_CONFIG_BYTES // 100 + 1))
        file.write('ttl = "bogus"\n')
    done = cli.proc("config", "show", timeout=60)
    assert done.returncode == 4 and "the config file is too large" in done.stderr
