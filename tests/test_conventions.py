"""The habits users bring from gh, httpie and sqlite-utils: global options anywhere, -v traffic,
progress bars that never tear the data on a shared terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from conftest import Cli, lot_requests

from lotsdb_cli.sandbox import Sandbox

EVENT = 1000
LOT = 100001


@pytest.mark.parametrize(
    "args",
    [
        ["lots", "dump", str(EVENT), "-q"],
        ["lots", "dump", str(EVENT), "--workers", "4", "--quiet"],
        ["events", "list", "--no-cache", "--all"],
        ["lots", "show", str(LOT), "--ttl", "5m", "--timeout", "20", "--retries", "1", "--max-wait", "30"],
        ["sellers", "list", "--refresh", "--limit", "2"],
    ],
)
def test_global_options_after_the_command(cli: Cli, sandbox: Sandbox, args: list[str]) -> None:
    result = cli(*args)
    assert result.code == 0, result.stderr
    if "-q" in args or "--quiet" in args:
        assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "rows"),
    [(["lots", "dump", str(EVENT), "-qf", "csv"], 61), (["sellers", "list", "-qn", "2", "-f", "csv"], 3)],
)
def test_a_global_flag_clustered_with_a_commands_option(cli: Cli, sandbox: Sandbox, args: list[str], rows: int) -> None:
    result = cli(*args)  # `-qf csv`: -q is global, -f is the command's
    assert result.code == 0, result.stderr
    assert result.stderr == "" and len(result.stdout.splitlines()) == rows


@pytest.mark.parametrize("option", ["--ttl", "--timeout", "--cache"])
def test_a_global_option_with_its_value_missing_at_the_end(cli: Cli, sandbox: Sandbox, option: str) -> None:
    result = cli("lots", "dump", str(EVENT), option)
    assert result.code == 2 and result.stdout == ""
    assert f"Error: Option '{option}' requires an argument." in result.stderr
    assert sandbox.stats()["requests"] == 0


def test_a_value_that_looks_like_a_global_option_stays_with_its_option(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "-q"
    result = cli("lots", "dump", str(EVENT), "-o", str(out))
    assert result.code == 0 and out.exists() and result.stderr  # -q was a file name, not --quiet


def test_offline_after_the_command_sends_nothing(cli: Cli, sandbox: Sandbox) -> None:
    assert cli("lots", "show", str(LOT)).code == 0
    sandbox.reset()
    result = cli("lots", "show", str(LOT), "--offline", "--format", "json")
    assert result.code == 0 and sandbox.stats()["requests"] == 0


LINE = re.compile(r"^(GET|POST|PUT) (http://\S+) (\d{3}|-) (\d+)ms (hit|miss|revalidated|stale)$")


def test_verbose_shows_one_line_per_request(cli: Cli, sandbox: Sandbox) -> None:
    cold = cli("lots", "dump", str(EVENT), "-v")
    traffic = [LINE.match(line) for line in cold.stderr.splitlines() if not line.startswith("event ")]
    assert all(traffic), cold.stderr
    assert [match.group(1) for match in traffic].count("POST") == 1  # the login
    lots = [match for match in traffic if "/api/Lot/" in match.group(2)]
    assert len(lots) == 60 and {match.group(3) for match in lots} == {"200"} and {m.group(5) for m in lots} == {"miss"}
    warm = cli("lots", "dump", str(EVENT), "-v")
    hits = [LINE.match(line) for line in warm.stderr.splitlines() if "/api/Lot/" in line]
    assert len(hits) == 60 and all(match and match.group(5) == "hit" and match.group(3) == "-" for match in hits)


def test_very_verbose_shows_headers_with_secrets_masked(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    result = cli("-vv", "lots", "show", str(LOT))
    assert result.code == 0
    assert "  > Authorization: ***" in result.stderr
    assert "  < Content-Type: application/json" in result.stderr
    token = next(iter(json.loads((isolated_home / "tokens.json").read_text()).values()))["access_token"]
    for secret in (token, sandbox.env()["LOTSDB_PASSWORD"], sandbox.env()["LOTSDB_CLIENT_SECRET"]):
        assert secret not in result.stderr and secret not in result.stdout


def test_very_verbose_masks_every_header_that_carries_a_credential() -> None:
    from lotsdb_cli.http.trace import mask_headers

    headers = {
        "X-Api-Token": "HDRTOKSECRET-e3r4",
        "X-Auth-Key": "k1",
        "X-Amz-Security-Token": "k2",
        "X-Session-Id": "k3",
        "Set-Cookie": "sid=k4",
        "Proxy-Authorization": "Basic k5",
        "X-Request-Id": "abc-123",
        "Content-Type": "application/json",
    }
    shown = mask_headers(headers)
    assert shown[-2:] == ["X-Request-Id: abc-123", "Content-Type: application/json"]
    assert all(line.endswith(": ***") for line in shown[:-2])


def test_verbose_lines_survive_quiet(cli: Cli, sandbox: Sandbox) -> None:
    result = cli("lots", "show", str(LOT), "-q", "-v")
    assert LINE.match(result.stderr.splitlines()[-1])  # -v asked for explicitly: shown even with -q


def on_a_terminal(cli: Cli, *args: str) -> bytes:
    """Run lotsdb with stdout and stderr on one pseudo-terminal, as a user at a shell would."""
    primary, replica = pty.openpty()
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))  # 40 rows, 100 columns
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lotsdb_cli", *args],
            env={**os.environ, **cli.env, "COLUMNS": "100"},
            stdout=replica,
            stderr=replica,
            stdin=subprocess.DEVNULL,
        )
        os.close(replica)
        replica = -1
        seen = b""
        deadline = time.monotonic() + 60
        while proc.poll() is None or seen[-1:] != b"":
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal closed: the process has ended
                break
            if not chunk:
                break
            seen += chunk
            assert time.monotonic() < deadline, "the command did not end"
        proc.wait(timeout=60)
        return seen
    finally:
        os.close(primary)
        if replica >= 0:
            os.close(replica)


def test_no_progress_bar_tears_data_on_a_shared_terminal(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.set(latency_ms=5)
    seen = on_a_terminal(cli, "lots", "dump", str(EVENT), "--format", "csv")
    text = seen.decode()
    assert "\r" not in text.replace("\r\n", "\n")  # no bar redrawn between the rows
    lines = text.replace("\r\n", "\n").splitlines()
    assert lines[0].startswith("id,lotNumber")
    assert len([line for line in lines if re.match(r"^\d{6},", line)]) == 60


def test_a_progress_bar_when_the_data_goes_to_a_file(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set(latency_ms=20)
    seen = on_a_terminal(cli, "lots", "dump", str(EVENT), "--workers", "4", "-o", str(tmp_path / "lots.jsonl"))
    assert re.search(rb"event 1000:\s+\d+%\|", seen), seen  # the bar was drawn on the terminal
    assert len((tmp_path / "lots.jsonl").read_text().splitlines()) == 60
    assert lot_requests(sandbox) == 60
