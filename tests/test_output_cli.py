"""Outputs through the CLI against the sandbox: refusals before any work, `-o` onto files, links, FIFOs and
devices, the format from the file name, and what a terminal sees (tables fitted to it, indented JSON)."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import shutil
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest
from conftest import Cli, field_value

from lotsdb_cli.lots import CSV_COLUMNS
from lotsdb_cli.output import display_width
from lotsdb_cli.sandbox import Sandbox

EVENT = 1000  # 60 lots in the shared sandbox fixture
LOTS = 60
SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "albums.csv"


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".part"))


def on_terminal(cli: Cli, *args: str, columns: int = 80) -> tuple[int, str, str]:
    """Run lotsdb with stdout on a pseudo-terminal of `columns` columns (stderr piped)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, **cli.env}
    env.pop("COLUMNS", None)
    proc = subprocess.Popen([sys.executable, "-m", "lotsdb_cli", *args], stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the program ended and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    return proc.returncode, b"".join(chunks).decode().replace("\r\n", "\n"), stderr


# An output onto an input, or onto the tool's own files: exit 2 before anything is read or written


@pytest.mark.parametrize("alias", ["same", "hard link", "symlink", "stdin"])
def test_a_reject_log_over_its_spreadsheet_is_refused(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path, alias: str
) -> None:
    spreadsheet = tmp_path / "a.csv"
    shutil.copy(SAMPLE, spreadsheet)
    before = spreadsheet.read_bytes()
    reject_log = tmp_path / "rejects.csv"
    if alias in ("same", "stdin"):
        reject_log = spreadsheet
    elif alias == "hard link":
        os.link(spreadsheet, reject_log)
    elif alias == "symlink":
        reject_log.symlink_to(spreadsheet)
    if alias == "stdin":  # `< a.csv`: a subprocess, whose descriptor 0 is that file
        with spreadsheet.open("rb") as stdin:
            ran = cli.proc("albums", "import", "-", "--reject-log", str(reject_log), stdin=stdin)
        code, stderr = ran.returncode, ran.stderr
    else:
        result = cli("albums", "import", str(spreadsheet), "--reject-log", str(reject_log))
        code, stderr = result.code, result.stderr
    assert code == 2, stderr
    assert stderr.startswith(f"error: refusing to write {reject_log}: it is the input ")
    assert spreadsheet.read_bytes() == before and len(before.splitlines()) == 50
    assert not (isolated_home / "lotsdb.sqlite").exists()
    assert sandbox.stats()["requests"] == 0


def test_a_dump_over_the_album_database_or_the_tokens_is_refused(
    cli: Cli, sandbox: Sandbox, isolated_home: Path
) -> None:
    assert cli("albums", "import", str(SAMPLE)).code == 3  # the sample has invalid rows on purpose
    database = isolated_home / "lotsdb.sqlite"
    before = database.read_bytes()
    for output in (database, f"{database}-wal", isolated_home / "http_cache.sqlite", isolated_home / "tokens.json"):
        result = cli("lots", "dump", str(EVENT), "-o", str(output))
        assert result.code == 2, result.stderr
        assert "refusing to write" in result.stderr
    assert database.read_bytes() == before
    assert sandbox.stats()["requests"] == 0


def test_a_directory_is_refused_before_any_request(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    result = cli("lots", "dump", str(EVENT), "-o", str(tmp_path))
    assert result.code == 2 and "it is a directory" in result.stderr
    assert sandbox.stats()["requests"] == 0


# -o onto what is there


def test_the_format_follows_the_file_name(cli: Cli, tmp_path: Path) -> None:
    assert cli("lots", "dump", str(EVENT), "-o", str(tmp_path / "lots.csv")).code == 0
    rows = list(csv.DictReader((tmp_path / "lots.csv").open(encoding="utf-8")))
    assert list(rows[0]) == CSV_COLUMNS and len(rows) == LOTS
    assert cli("lots", "dump", str(EVENT), "-o", str(tmp_path / "lots.json")).code == 0
    assert len(json.loads((tmp_path / "lots.json").read_text())) == LOTS
    assert cli("lots", "dump", str(EVENT), "-o", str(tmp_path / "lots.ndjson")).code == 0
    assert len((tmp_path / "lots.ndjson").read_text().splitlines()) == LOTS
    assert cli("lots", "dump", str(EVENT), "--format", "jsonl", "-o", str(tmp_path / "forced.csv")).code == 0
    assert json.loads((tmp_path / "forced.csv").read_text().splitlines()[0])["id"]
    assert cli("lots", "dump", str(EVENT), "-o", str(tmp_path / "lots.out")).code == 0
    assert len((tmp_path / "lots.out").read_text().splitlines()) == LOTS  # jsonl, the dump's default


def test_a_dump_keeps_the_mode_and_the_link(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "exports" / "event.jsonl"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o600)
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target)
    assert cli("lots", "dump", str(EVENT), "-o", str(link)).code == 0
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(target.read_text().splitlines()) == LOTS
    assert leftovers(tmp_path) == [] and leftovers(target.parent) == []


def test_a_dump_streams_into_a_fifo(cli: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "lots.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = cli("lots", "dump", str(EVENT), "-o", str(fifo))
    reader.join(timeout=60)
    assert result.code == 0, result.stderr
    assert len(received[0].splitlines()) == LOTS
    assert stat.S_ISFIFO(fifo.stat().st_mode) and leftovers(tmp_path) == []


def test_a_full_device_is_one_error_line_and_stays_a_device(cli: Cli, tmp_path: Path) -> None:
    full = tmp_path / "full"
    try:
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # our own copy of /dev/full
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    result = cli("lots", "dump", str(EVENT), "-o", str(full))
    assert result.code == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        f"error: cannot write {full}: No space left on device"
    ]
    assert "Traceback" not in result.stderr
    assert stat.S_ISCHR(full.stat().st_mode)


def test_dev_stdout_appends_where_the_shell_said(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("earlier run\n")
    with log.open("a") as append:
        result = subprocess.run(
            [sys.executable, "-m", "lotsdb_cli", "-q", "lots", "dump", str(EVENT), "-o", "/dev/stdout"],
            env={**os.environ, **cli.env},
            stdout=append,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == "earlier run" and len(lines) == 1 + LOTS


# Every list/show command, every format

COMMANDS = [
    ["sellers", "list"],
    ["sellers", "show", "1"],
    ["events", "list", "--all"],
    ["events", "show", str(EVENT)],
    ["lots", "show", "100000"],
    ["albums", "list"],
    ["albums", "show", "1"],
    ["cache", "stats"],
    ["auth", "status"],
]


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_every_list_and_show_command_takes_every_format(cli: Cli, fmt: str) -> None:
    assert cli("albums", "import", str(SAMPLE)).code == 3
    for command in COMMANDS:
        result = cli(*command, "--format", fmt)
        assert result.code == 0, (command, result.stderr)
        if fmt == "json":
            json.loads(result.stdout)
        elif fmt == "jsonl":
            [json.loads(line) for line in result.stdout.splitlines()]
        elif fmt == "csv":
            assert list(csv.reader(io.StringIO(result.stdout)))[1:], command
        elif command != ["cache", "stats"]:  # whose table view is a summary of its own
            assert result.stdout.splitlines()[1].startswith("--"), command


def test_a_seller_without_a_name_is_an_empty_cell(cli: Cli) -> None:
    events = json.loads(cli("events", "list", "--all", "--format", "json").stdout)
    rows = {
        row["id"]: row for row in csv.DictReader(io.StringIO(cli("events", "list", "--all", "--format", "csv").stdout))
    }
    nameless = [event for event in events if event["sellers"] and not any(s.get("name") for s in event["sellers"])]
    assert nameless, "the seed-1 sandbox has sellers without a name"
    for event in nameless:
        assert rows[str(event["id"])]["sellers"] == ""


@pytest.mark.parametrize("logged_in", [False, True])
def test_auth_status_has_the_same_fields_in_every_format(cli: Cli, logged_in: bool) -> None:
    if logged_in:
        assert cli("lots", "show", "100000").code == 0  # a token is stored, with its expiry
    statuses = json.loads(cli("auth", "status", "--format", "json").stdout)
    assert {"identity_url", "username", "token_url", "client_id"} <= {name for row in statuses for name in row}
    assert ("expires_at" in statuses[0]) is logged_in
    lines = [json.loads(line) for line in cli("auth", "status", "--format", "jsonl").stdout.splitlines()]
    csv_rows = list(csv.DictReader(io.StringIO(cli("auth", "status", "--format", "csv").stdout)))
    table = Cli({**cli.env, "COLUMNS": "400"})("auth", "status", "--format", "table").stdout.splitlines()
    assert lines == statuses and len(csv_rows) == len(statuses)
    for status, csv_row, table_row in zip(statuses, csv_rows, table[2:], strict=True):
        for name, value in status.items():
            shown = "" if value is None else str(value)
            assert csv_row[name] == shown, name
            assert shown in table_row, name
        assert set(table[0].split()) == set(csv_row)  # every field has a column, none of them cut
        assert all(csv_row[name] == "" for name in csv_row if name not in status)


# What a terminal sees


def fitted(stdout: str, columns: int) -> list[str]:
    """The lines of a terminal's output, checked: none wider than the terminal, nothing cut with an ellipsis."""
    lines = stdout.splitlines()
    assert lines and all(display_width(line) <= columns for line in lines), stdout
    assert "…" not in stdout, stdout
    return lines


def test_on_a_terminal_tables_fit_its_width(cli: Cli) -> None:
    events = json.loads(cli("events", "list", "--all", "--format", "json").stdout)
    code, stdout, stderr = on_terminal(cli, "events", "list", "--all", columns=80)
    assert code == 0, stderr
    lines = fitted(stdout, 80)
    assert "warning" not in stderr  # no column left out
    # Nine columns with their headers whole do not fit in 80: one record per event, as psql's \x auto.
    ids = [line.split() for line in lines if line.startswith("id ")]
    assert ids == [["id", str(event["id"])] for event in events]
    assert lines[0].startswith("-[ RECORD 1 ]")
    wide = Cli({**cli.env, "COLUMNS": "200"})("events", "list", "--all", "--format", "table")
    assert wide.code == 0 and "warning" not in wide.stderr
    assert wide.stdout.splitlines()[0].split() == [
        "id", "title", "startDate", "endDate", "isCompleted", "agent", "customerCatalogId", "sellers", "lots"
    ]  # fmt: skip
    assert max(len(line) for line in fitted(wide.stdout, 200)) > 80


def test_on_a_terminal_a_show_view_wraps_urls_without_cutting_them(cli: Cli) -> None:
    assert cli("albums", "import", str(SAMPLE)).code == 3
    assert cli("albums", "refresh", "--album-id", "1").code == 0
    shown = json.loads(cli("albums", "show", "1", "--format", "json").stdout)
    code, stdout, stderr = on_terminal(cli, "albums", "show", "1", columns=60)
    assert code == 0, stderr
    lines = fitted(stdout, 60)
    for name in ("cover_url", "spotify_url", "spotify_id"):
        assert shown[name] and field_value(lines, name) == shown[name]
    assert "spotify_url   https://open.spotify.com/album/" in lines  # broken after a slash


@pytest.mark.parametrize("columns", [80, 40])
def test_on_a_terminal_a_lot_and_its_overrides_fit_with_every_header_whole(cli: Cli, columns: int) -> None:
    lot = json.loads(cli("lots", "show", "100004", "--format", "json").stdout)
    assert len(lot["overridenData"]) == 2
    code, stdout, stderr = on_terminal(cli, "lots", "show", "100004", columns=columns)
    assert code == 0, stderr
    lines = fitted(stdout, columns)
    overrides = lines[lines.index("overridenData:") + 1 : lines.index("catalogs:")]
    # Fourteen columns do not fit in 80 with their headers whole: each override is a record.
    rules = [line.split("]")[0] for line in overrides if line.startswith("-[ RECORD")]
    assert rules == ["-[ RECORD 1 ", "-[ RECORD 2 "]
    names = [line.split(" ", 1)[0] for line in overrides if line and not line.startswith((" ", "-["))]
    assert names == list(lot["overridenData"][0]) * 2
    for entry in lot["overridenData"]:
        assert entry["notedConditions"] in stdout


def test_on_a_terminal_cache_stats_keep_their_headers_whole(cli: Cli) -> None:
    for command in (["sellers", "list"], ["events", "list", "--all"], ["lots", "show", "100004"]):
        assert cli(*command, "--format", "json").code == 0
    code, stdout, stderr = on_terminal(cli, "cache", "stats", columns=80)
    assert code == 0, stderr
    lines = fitted(stdout, 80)
    runs = lines[lines.index("recent_runs:") + 1 :]
    names = {line.split()[0] for line in runs if line and not line.startswith("-[")} or set(runs[0].split())
    fields = {"at", "command", "sent", "cache_hits", "cache_misses", "stale", "revalidated", "retries", "throttled"}
    assert names == fields


def test_on_a_terminal_config_show_names_every_variable_whole(cli: Cli) -> None:
    settings = json.loads(cli("config", "show", "--format", "json").stdout)
    code, stdout, stderr = on_terminal(cli, "config", "show", columns=80)
    assert code == 0, stderr
    lines = fitted(stdout, 80)
    assert lines[0].split() == ["setting", "value", "source"]
    words = {word for line in lines for word in line.split()}
    variables = {item["source"].split()[-1] for item in settings if item["source"].startswith("environment")}
    assert "(LOTSDB_SPOTIFY_ACCOUNTS_URL)" in variables and variables <= words  # each name whole on a line
    assert {item["setting"] for item in settings} <= {line.split()[0] for line in lines[2:] if line[:1] != " "}


def test_json_is_indented_on_a_terminal_and_compact_in_a_pipe(cli: Cli) -> None:
    code, on_screen, stderr = on_terminal(cli, "sellers", "show", "1", "--format", "json")
    assert code == 0, stderr
    piped = cli("sellers", "show", "1", "--format", "json")
    assert json.loads(on_screen) == json.loads(piped.stdout)
    assert on_screen.startswith('{\n  "id": 1,')
    assert piped.stdout.count("\n") == 1


def test_a_dump_as_json_is_indented_on_a_terminal_like_every_json_output(cli: Cli, tmp_path: Path) -> None:
    code, on_screen, stderr = on_terminal(cli, "lots", "dump", str(EVENT), "--format", "json")
    assert code == 0, stderr
    piped = cli("lots", "dump", str(EVENT), "--format", "json")
    assert json.loads(on_screen) == json.loads(piped.stdout) and len(json.loads(on_screen)) == LOTS
    assert on_screen.startswith('[\n  {\n    "id": 100000,\n    "customerItemId": ')
    assert on_screen.endswith("\n  }\n]\n")
    assert piped.stdout.count("\n") == LOTS + 2  # piped: one compact object per line
    # A file is no terminal, even when the command runs on one.
    code, _, stderr = on_terminal(cli, "lots", "dump", str(EVENT), "-o", str(tmp_path / "lots.json"))
    assert code == 0, stderr
    assert (tmp_path / "lots.json").read_text() == piped.stdout


# Interrupted, or the reader went away


def test_ctrl_c_mid_dump_leaves_the_existing_file_as_it_was(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    from reliability.support import LOT_ROUTE, finish, wait_for_answers

    out = tmp_path / "lots.csv"
    out.write_text("yesterday's export\n")
    out.chmod(0o600)
    sandbox.set(latency_ms=80)
    proc = cli.popen("lots", "dump", str(EVENT), "--workers", "4", "-o", str(out))
    wait_for_answers(sandbox, LOT_ROUTE, 8, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = finish(proc)
    assert proc.returncode == 130, stderr
    assert out.read_text() == "yesterday's export\n" and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_a_reader_that_goes_away_ends_the_command_quietly(cli: Cli) -> None:
    lotsdb = subprocess.Popen(
        [sys.executable, "-m", "lotsdb_cli", "events", "list", "--all", "--format", "jsonl"],
        env={**os.environ, **cli.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert lotsdb.stdout is not None
    first = lotsdb.stdout.readline()
    lotsdb.stdout.close()  # as `| head -1` does
    _, stderr = lotsdb.communicate(timeout=60)
    assert json.loads(first)["id"]
    assert lotsdb.returncode == 0, stderr
    assert b"error" not in stderr and b"Traceback" not in stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_output_is_utf8_whatever_the_locale(cli: Cli, fmt: str) -> None:
    """`LC_ALL=C` without Python's UTF-8 mode, or PYTHONIOENCODING=ascii: the data is written as UTF-8."""
    assert cli("albums", "import", str(SAMPLE)).code == 3
    env = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "ascii"}
    result = cli.proc("albums", "list", "--format", fmt, env=env, text=False)
    assert result.returncode == 0, result.stderr
    assert "Gdańsk" in result.stdout.decode("utf-8")
