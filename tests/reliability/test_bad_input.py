"""Bad input from the user: a clear one-line message, the right exit code, nothing written and,
where the input is refused up front, no request sent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.sandbox import Sandbox

from .support import EVENT, albums_csv, assert_no_crash, assert_one_error_line, leftovers


def album_rows(db: Path) -> int:
    if not db.exists():
        return 0
    connection = sqlite3.connect(db)
    try:
        return int(connection.execute("SELECT count(*) FROM albums").fetchone()[0])
    finally:
        connection.close()


@pytest.mark.parametrize(
    "args",
    [
        ["lots", "show", "abc"],
        ["lots", "show", "--", "-5"],
        ["lots", "dump", "0"],
        ["lots", "dump", "1e3"],
        ["events", "show", "--", "-1"],
        ["sellers", "show", "twelve"],
        ["cache", "warm", "1000", "x"],
        ["lots", "dump", str(EVENT), "--workers", "0"],
        ["--timeout", "0", "lots", "show", "1"],
        ["--retries", "-1", "lots", "show", "1"],
        ["albums", "list", "--limit", "abc"],
        ["lots", "dump", str(EVENT), "--no-such-option"],
        ["--ttl", "soon", "lots", "show", "1"],
        ["--ttl", "99999999999999999999d", "lots", "show", "1"],
        ["--offline", "--refresh", "lots", "show", "1"],
        ["--cache", "ftp://cache.example/x", "lots", "show", "1"],
        ["lots", "show", "1", "--offline", "--no-cache"],
        ["albums", "refresh", "--stale-after", "-1d"],
        ["lots", "dump", str(EVENT), "--format", "xml"],
        ["sellers", "list", "--format", "yaml"],
        ["events", "list", "--format", "xml"],
        ["sellers", "show", "1", "--format", "xml"],
        ["albums", "show", "1", "--max-age", "soon"],
        ["lots", "override", "1", "--set", "Qty"],
        ["lots", "override", "100002", "--set", "Nope=1"],
        ["lots", "override", "100002", "--set", "Qty=abc"],
        ["lots", "override", "100002", "--set", "Qty=99999999999"],
        ["lots", "override", "100002", "--set", "forceCrate=maybe"],
        ["lots", "override", "100002", "--set", "L=nan"],
        ["lots", "override", "100002", "--set", "L=1e400"],
        ["sellers", "show", "99999999999999"],
        ["events", "show", "2147483648"],
        ["lots", "show", "2147483648"],
        ["lots", "dump", "99999999999"],
        ["cache", "warm", "1000", "2147483648"],
        ["events", "list", "--seller-id", "2147483648"],
        ["--timeout", "nan", "lots", "show", "1"],
        ["--timeout", "inf", "lots", "show", "1"],
        ["--max-wait", "nan", "lots", "show", "1"],
        ["--max-wait", "inf", "lots", "show", "1"],
        ["--retries", "99999999999", "lots", "show", "1"],
        ["albums", "refresh", "--album-id", "badid"],
        ["albums", "show", "badid"],
        ["albums", "cover", "0"],
    ],
)
def test_usage_errors_exit_2_before_any_request(cli: Cli, sandbox: Sandbox, args: list[str]) -> None:
    result = cli(*args)  # in-process: Click's parsing is the same, and this list is long
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    assert_no_crash(result.stderr)
    assert result.stderr.rstrip().splitlines()[-1].startswith("Error:")  # Click's usage message
    assert sandbox.stats()["requests"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["albums", "show", "99999"], "no album '99999' in the library"),
        (["albums", "refresh", "--album-id", "99999"], "no album '99999' in the library"),
    ],
)
def test_bad_values_are_one_line_errors(cli: Cli, sandbox: Sandbox, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.code == 1, result.stderr
    assert result.stdout == ""
    assert_one_error_line(result.stderr)
    assert message in result.stderr
    assert sandbox.stats()["requests"] == 0


def test_output_in_a_missing_directory(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    result = cli.proc("lots", "dump", str(EVENT), "-o", str(tmp_path / "no" / "such" / "lots.jsonl"))
    assert result.returncode == 1
    assert_one_error_line(result.stderr)
    assert "does not exist" in result.stderr
    assert sandbox.stats()["requests"] == 0  # refused before fetching anything


def test_output_under_a_regular_file(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    # We run as root, so a chmod-ed directory would not stop us: a path whose parent is a
    # regular file is the unwritable location every user has.
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = cli.proc("lots", "dump", str(EVENT), "-o", str(blocker / "lots.jsonl"))
    assert result.returncode == 1
    assert_one_error_line(result.stderr)
    assert "is not a directory" in result.stderr
    assert blocker.read_text() == "x" and sandbox.stats()["requests"] == 0


def test_output_that_is_a_directory(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    result = cli.proc("lots", "dump", str(EVENT), "-o", str(tmp_path))
    assert result.returncode == 2  # refused, as a usage error (SPEC §4 -o rules)
    assert_one_error_line(result.stderr)
    assert "is a directory" in result.stderr
    assert sandbox.stats()["requests"] == 0  # not after fetching 60 lots
    assert leftovers(tmp_path.parent, tmp_path.name) == []


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04" + bytes(range(256)) * 8, "workbook"),
        (bytes(range(256)) * 8, "binary data"),
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (b"Artist|Album|Year\nMiles Davis|Kind of Blue|1959\n", "no album title column"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "HTML page"),
    ],
    ids=["xlsx", "binary", "empty", "blank", "pipe-delimited", "html"],
)
def test_unusable_spreadsheets_write_nothing(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path, content: bytes, message: str
) -> None:
    source = write_bytes(tmp_path / "albums.csv", content)
    result = cli.proc("albums", "import", str(source))
    assert result.returncode == 1, result.stderr
    assert_one_error_line(result.stderr)
    assert message in result.stderr
    assert album_rows(isolated_home / "lotsdb.sqlite") == 0
    assert sandbox.stats()["requests"] == 0


def test_spreadsheet_with_a_one_megabyte_cell(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    huge = "x" * 1_000_000
    source = tmp_path / "albums.csv"
    source.write_text(f"Artist,Album,Year\nA,{huge},2000\nMiles Davis,Kind of Blue,1959\n", encoding="utf-8")
    result = cli.proc("albums", "import", str(source))
    assert result.returncode == 3, result.stderr  # that row is rejected, the other imported
    assert_one_error_line(result.stderr)
    assert ":2: invalid:" in result.stderr and "too long" in result.stderr
    assert len(result.stderr) < 2000  # the cell is not echoed back
    assert album_rows(isolated_home / "lotsdb.sqlite") == 1


def test_spreadsheet_with_an_unbalanced_quote(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    source = tmp_path / "albums.csv"
    source.write_text('Artist,Album,Year\nMiles Davis,Kind of Blue,1959\nA,"Never closed,2000\nB,C,2001\n')
    result = cli.proc("albums", "import", str(source))
    # Not "some rows failed, the rest were written" (3): the lines after the quote were never read as rows.
    assert result.returncode == 1, result.stderr
    assert ":3: invalid:" in result.stderr and "line 3: a quoted cell opened there is never closed" in result.stderr
    assert "lines 3-4 (2 lines) were read as one cell and not imported" in result.stderr
    assert_one_error_line(result.stderr)
    assert album_rows(isolated_home / "lotsdb.sqlite") == 1


@pytest.mark.parametrize("source", ["missing.csv", "."])
def test_unreadable_sources(cli: Cli, tmp_path: Path, source: str) -> None:
    result = cli.proc("albums", "import", str(tmp_path / source))
    assert result.returncode == 1
    assert_one_error_line(result.stderr)
    assert "cannot read" in result.stderr


SQL_NEEDLES = ["'; DROP TABLE albums; --", '" OR 1=1 --', "%", "_", "\\", "*", "[a-z]", "\x00", "' OR ''='"]


def test_sql_metacharacters_in_filters_are_plain_text(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    albums_csv(tmp_path / "albums.csv", 5)
    assert cli.proc("albums", "import", str(tmp_path / "albums.csv")).returncode == 0
    injected = cli.proc("albums", "list", "--artist", SQL_NEEDLES[0], "--format", "json")  # one through a process
    assert injected.returncode == 0 and injected.stdout.strip() == "[]"
    for needle in SQL_NEEDLES:
        for option in ("--artist", "--genre"):
            result = cli("albums", "list", option, needle, "--format", "json")
            assert result.code == 0, result.stderr
            assert result.stdout.strip() == "[]", needle  # nothing matches, nothing is dropped
    assert album_rows(isolated_home / "lotsdb.sqlite") == 5


def test_quotes_in_a_filter_still_match(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "albums.csv"
    source.write_text("Artist,Album,Genre\nSinéad O'Connor,I Do Not Want,Rock 'n' Roll\nOther,Album,Jazz\n")
    assert cli.proc("albums", "import", str(source)).returncode == 0
    result = cli.proc("albums", "list", "--artist", "o'connor", "--genre", "'n'", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert '"Sinéad O\'Connor"' in result.stdout and "Other" not in result.stdout


def test_a_servers_error_text_cannot_drive_the_terminal(cli: Cli, sandbox: Sandbox) -> None:
    """An escape sequence or a CR in a ProblemDetails `detail` is shown escaped, never sent to the terminal."""
    problem = {"title": "Not Found", "status": 404, "detail": "\x1b[31mRED\x1b[0m \u202eevil\rgone\x07"}
    sandbox.add_fault("/api/Lot/100241$", "status", count=1, status=404, body=problem)
    result = cli.proc("lots", "show", "100241")
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\r" not in result.stderr and "\x07" not in result.stderr
    assert "(\\x1b[31mRED\\x1b[0m \\u202eevil)" in result.stderr  # the first line of the detail, escaped
