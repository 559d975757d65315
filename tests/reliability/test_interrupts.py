"""Crash and resume, Ctrl-C: nothing half-written, nothing fetched twice, databases consistent."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.sandbox import Sandbox

from .support import (
    ALBUM_ROUTE,
    EVENT,
    LOT_ROUTE,
    albums_csv,
    assert_no_crash,
    assert_one_error_line,
    cached_lot_count,
    finish,
    integrity_check,
    leftovers,
    route_count,
    settle,
    stored_albums,
    wait_for_answers,
)

LOTS = 60  # lots of EVENT in the shared sandbox fixture
ALBUMS = 40
SLOW_MS = 80  # sandbox latency that keeps a run going long enough to be interrupted


def test_kill_9_mid_dump_leaves_no_file_and_the_rerun_fetches_only_the_rest(
    cli: Cli, sandbox: Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "lots.jsonl"
    sandbox.set(latency_ms=SLOW_MS)
    proc = cli.popen("lots", "dump", str(EVENT), "--workers", "4", "-o", str(out))
    try:
        wait_for_answers(sandbox, LOT_ROUTE, 12, proc)
    finally:
        proc.kill()
        finish(proc)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    # A killed process cannot remove its temporary file; the next run for the same name does.
    assert leftovers(tmp_path, out.name)
    cached = cached_lot_count(cli.proc("cache", "stats", "--format", "json").stdout)
    assert 0 < cached < LOTS

    settle(sandbox)  # requests the killed process had in flight are answered before the count restarts
    sandbox.set(latency_ms=0)
    sandbox.reset()
    resumed = cli.proc("lots", "dump", str(EVENT), "-o", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert route_count(sandbox, LOT_ROUTE) == LOTS - cached  # only what the killed run had not cached
    assert f"{cached} from cache" in resumed.stderr
    assert leftovers(tmp_path, out.name) == []

    clean = tmp_path / "clean.jsonl"
    assert cli.proc("--no-cache", "lots", "dump", str(EVENT), "-o", str(clean)).returncode == 0
    assert out.read_bytes() == clean.read_bytes()


def test_kill_9_mid_refresh_then_the_rerun_fetches_only_the_rest(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path
) -> None:
    spreadsheet = tmp_path / "albums.csv"
    albums_csv(spreadsheet, ALBUMS)
    assert cli.proc("albums", "import", str(spreadsheet)).returncode == 0
    sandbox.set(latency_ms=SLOW_MS)
    proc = cli.popen("albums", "refresh", "--workers", "4")
    try:
        wait_for_answers(sandbox, ALBUM_ROUTE, 10, proc)
    finally:
        proc.kill()
        finish(proc)
    db = isolated_home / "lotsdb.sqlite"
    integrity_check(db)
    stored = stored_albums(db)
    assert 0 < len(stored) < ALBUMS

    settle(sandbox)  # requests the killed process had in flight are answered before the count restarts
    sandbox.set(latency_ms=0)
    sandbox.reset()
    resumed = cli.proc("albums", "refresh")
    assert resumed.returncode == 0, resumed.stderr
    # Albums stored before the kill are not asked for again (a few more may come from the HTTP cache).
    assert route_count(sandbox, ALBUM_ROUTE) <= ALBUMS - len(stored)
    assert len(stored_albums(db)) == ALBUMS

    clean = Cli({**cli.env, "LOTSDB_HOME": str(tmp_path / "clean")})
    assert clean.proc("albums", "import", str(spreadsheet)).returncode == 0
    assert clean.proc("albums", "refresh").returncode == 0
    assert stored_albums(tmp_path / "clean" / "lotsdb.sqlite") == stored_albums(db)


def test_ctrl_c_mid_dump_exits_130_with_no_output_file(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path
) -> None:
    out = tmp_path / "lots.csv"
    sandbox.set(latency_ms=SLOW_MS)
    proc = cli.popen("lots", "dump", str(EVENT), "--workers", "4", "--format", "csv", "-o", str(out))
    wait_for_answers(sandbox, LOT_ROUTE, 10, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = finish(proc)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert_no_crash(stderr)
    assert stdout == ""
    assert not out.exists() and leftovers(tmp_path, out.name) == []
    integrity_check(isolated_home / "http_cache.sqlite")


def test_ctrl_c_mid_dump_to_stdout_exits_130(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.set(latency_ms=SLOW_MS)
    proc = cli.popen("lots", "dump", str(EVENT), "--workers", "4")
    wait_for_answers(sandbox, LOT_ROUTE, 10, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = finish(proc)
    assert proc.returncode == 130, stderr
    assert_no_crash(stderr)
    for line in stdout.splitlines():  # whatever was written is whole lots
        assert json.loads(line)["id"]


def test_ctrl_c_mid_refresh_exits_130_and_keeps_the_database_consistent(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path
) -> None:
    spreadsheet = tmp_path / "albums.csv"
    albums_csv(spreadsheet, ALBUMS)
    assert cli.proc("albums", "import", str(spreadsheet)).returncode == 0
    sandbox.set(latency_ms=SLOW_MS)
    proc = cli.popen("albums", "refresh", "--workers", "4")
    wait_for_answers(sandbox, ALBUM_ROUTE, 8, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = finish(proc)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert_no_crash(stderr)
    integrity_check(isolated_home / "lotsdb.sqlite")
    integrity_check(isolated_home / "http_cache.sqlite")
    stored = stored_albums(isolated_home / "lotsdb.sqlite")
    assert 0 < len(stored) < ALBUMS
    assert int(stderr.split(" refreshed")[0].rsplit(" ", 1)[1]) == len(stored)  # the summary counts what was stored
    assert all(json.loads(metadata)["id"] == spotify_id for spotify_id, (metadata, _) in stored.items())

    sandbox.set(latency_ms=0)
    resumed = cli.proc("albums", "refresh")
    assert resumed.returncode == 0, resumed.stderr
    assert len(stored_albums(isolated_home / "lotsdb.sqlite")) == ALBUMS


@pytest.mark.parametrize(("signum", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")])
def test_sigterm_and_sighup_stop_like_ctrl_c(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path, signum: int, code: int, name: str
) -> None:
    """What `timeout`, systemd and a closed terminal send: the same guarantees as Ctrl-C."""
    out = tmp_path / "lots.jsonl"
    sandbox.set(latency_ms=SLOW_MS)
    # The signal as a terminal would deliver it, whatever the test runner inherited (`nohup` ignores SIGHUP).
    as_a_terminal = lambda: signal.signal(signum, signal.SIG_DFL)  # noqa: E731
    proc = cli.popen("lots", "dump", str(EVENT), "--workers", "4", "-o", str(out), preexec_fn=as_a_terminal)
    wait_for_answers(sandbox, LOT_ROUTE, 10, proc)
    proc.send_signal(signum)
    stdout, stderr = finish(proc)
    assert proc.returncode == code, stderr
    assert f"stopped by {name}" in stderr
    assert_no_crash(stderr)
    assert stdout == ""
    assert not out.exists() and leftovers(tmp_path, out.name) == []  # no temporary file either
    integrity_check(isolated_home / "http_cache.sqlite")
    fetched = int(stderr.split(" fetched")[0].rsplit(" ", 1)[1])
    cached = cached_lot_count(cli.proc("cache", "stats", "--format", "json").stdout)
    assert fetched == cached  # the summary counts what was stored
    sandbox.set(latency_ms=0)
    settle(sandbox)  # requests the stopped process had in flight are answered before the count restarts
    sandbox.reset()
    resumed = cli.proc("lots", "dump", str(EVENT), "-o", str(out))
    assert resumed.returncode == 0 and route_count(sandbox, LOT_ROUTE) == LOTS - cached


def test_a_reader_that_goes_away_ends_the_command_quietly(cli: Cli, sandbox: Sandbox) -> None:
    """`set -o pipefail; lotsdb lots dump 1000 | head -1` succeeds."""
    import sys

    sandbox.set(latency_ms=5)
    command = [sys.executable, "-m", "lotsdb_cli", "lots", "dump", str(EVENT), "--workers", "2"]
    with subprocess.Popen(
        command, env={**os.environ, **cli.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # what `head -1` does after its line
        stderr = proc.stderr.read().decode()
        proc.wait(timeout=60)
    assert json.loads(first)["id"] == EVENT * 100
    assert proc.returncode == 0, stderr
    assert "error" not in stderr and "Broken pipe" not in stderr
    assert_no_crash(stderr)


def test_a_full_stdout_is_one_error_line(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    """`lotsdb ... > /dev/full`: a device of our own with /dev/full's numbers (never the system's)."""
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    with open(full, "w") as stdout:
        result = cli.proc("lots", "dump", str(EVENT), stdout=stdout, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert_one_error_line(result.stderr)
    assert "cannot write standard output: No space left on device" in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["lots", "show", "100240", "--format", "xml"], 2),  # Click's usage error
        (["cache", "warm", "--upcoming", "--within", "10x"], 2),
        (["lots", "dump", "1000", "--ttl"], 2),  # found before Click parses the line
        (["lots", "show", "not-an-id"], 2),
    ],
)
def test_an_unwritable_stderr_keeps_the_exit_status(cli: Cli, args: list[str], code: int) -> None:
    """`2>&1 | true`: a message that cannot be written is lost, and the status a script acts on stays."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away before the first word
    try:
        result = cli.proc(*args, stderr=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == code


def test_an_unwritable_stderr_keeps_a_configuration_error_status(cli: Cli, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    with open(full, "w") as stderr:
        result = cli.proc("lots", "show", "4", stderr=stderr, env={"LOTSDB_TTL": "ten"})
    assert result.returncode == 4


def test_two_quick_interrupts_stop_without_a_traceback(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    """A second Ctrl-C (or SIGTERM) while the first one's clean-up runs: still one line and 130/143."""
    import time

    sandbox.set(latency_ms=SLOW_MS)
    for second in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):
        out = tmp_path / "lots.jsonl"
        # The previous run's requests still in flight are answered first: they must not count for this one
        # (else the signal could reach a process still starting up, before any code of ours runs).
        settle(sandbox, quiet=0.3)
        sandbox.reset()
        proc = cli.popen("--no-cache", "lots", "dump", str(EVENT), "--workers", "8", "-o", str(out))
        wait_for_answers(sandbox, LOT_ROUTE, 4, proc)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(second)
        _, stderr = finish(proc)
        # A SIGTERM after the clean-up (its handler gone) ends the process by the signal, as shells expect.
        assert proc.returncode in (130, 143, -signal.SIGTERM), (proc.returncode, stderr)
        assert_no_crash(stderr)
        assert "Exception ignored" not in stderr and "never awaited" not in stderr
        assert not out.exists() and leftovers(tmp_path, out.name) == []


# The entry point, with a Ctrl-C delivered while a given module is being imported (what a user's
# Ctrl-C in the first tenth of a second meets), deterministically rather than by timing.
INTERRUPTED_WHILE_IMPORTING = """
import builtins, os, signal, sys
import lotsdb_cli.cli as entry
real_import, target, signum = builtins.__import__, sys.argv[1], getattr(signal, sys.argv[2])
def importing(name, *args, **kwargs):
    if name == target:
        builtins.__import__ = real_import
        os.kill(os.getpid(), signum)
    return real_import(name, *args, **kwargs)
builtins.__import__ = importing
sys.argv = ["lotsdb", "cache", "stats"]
entry.main()
"""


@pytest.mark.parametrize("module", ["typer", "lotsdb_cli.cli.console", "dataclasses", "lotsdb_cli.api"])
@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        ("SIGINT", 130, "interrupted\n"),
        ("SIGTERM", 143, "stopped by SIGTERM\n"),
        ("SIGHUP", 129, "stopped by SIGHUP\n"),
    ],
)
def test_a_stop_while_the_tool_starts_is_one_line(
    cli: Cli, isolated_home: Path, module: str, signum: str, code: int, line: str
) -> None:
    """`systemctl stop` (SIGTERM) or Ctrl-C in the first tenth of a second: one line and the signal's code."""
    import os
    import sys

    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_WHILE_IMPORTING, module, signum],
        env={**os.environ, **cli.env},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(getattr(signal, signum), signal.SIG_DFL),  # as a terminal has it
    )
    assert (done.returncode, done.stderr) == (code, line)


def test_a_hangup_that_nohup_ignores_is_ignored(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "lots.jsonl"
    sandbox.set(latency_ms=SLOW_MS)
    as_nohup = lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)  # noqa: E731 - what `nohup` does
    proc = cli.popen("lots", "dump", str(EVENT), "--workers", "4", "-o", str(out), preexec_fn=as_nohup)
    wait_for_answers(sandbox, LOT_ROUTE, 10, proc)
    proc.send_signal(signal.SIGHUP)
    _, stderr = finish(proc)
    assert proc.returncode == 0, stderr
    assert len(out.read_text().splitlines()) == LOTS


# The entry point, with a signal delivered at a given step of the end of a command (deterministic).
SIGNALLED_AT = """
import os, signal, sys
import lotsdb_cli.cli.signals as signals
step, signum = sys.argv[1], getattr(signal, sys.argv[2])
real = getattr(signals, step)
def then_signal(*args):
    real(*args)
    os.kill(os.getpid(), signum)
setattr(signals, step, then_signal)
from lotsdb_cli.cli.app import main
main(sys.argv[3:])
"""


def signalled_at(cli: Cli, step: str, signum: str, *args: str) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run(
        [sys.executable, "-c", SIGNALLED_AT, step, signum, *args],
        env={**os.environ, **cli.env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_signal_once_the_export_is_complete_does_not_undo_it(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path, signum: str
) -> None:
    """`timeout` firing just as the file is put in place: the run succeeded, and says so (exit 0)."""
    out = tmp_path / "delta.jsonl"
    done = signalled_at(cli, "finishing", signum, "lots", "dump", str(EVENT), "--changes", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "stopped" not in done.stderr and "interrupted" not in done.stderr
    assert f"changes: {LOTS} new" in done.stderr
    assert len(out.read_text().splitlines()) == LOTS
    again = cli.proc("lots", "dump", str(EVENT), "--changes")  # recorded, as the exit status says
    assert again.returncode == 0 and again.stdout == "" and f"{LOTS} unchanged" in again.stderr


def test_a_signal_while_the_process_exits_keeps_the_commands_status(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "lots.jsonl"
    done = signalled_at(cli, "ended", "SIGTERM", "lots", "dump", str(EVENT), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == LOTS
