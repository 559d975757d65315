"""The four formats: choosing one (flag, file extension, terminal), and nested objects in each."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from lotsdb_cli.cli.common import write_list, write_object
from lotsdb_cli.env import Environment
from lotsdb_cli.errors import UsageError
from lotsdb_cli.output import (
    FORMATS,
    RecordWriter,
    format_for,
    resolve_format,
    spreadsheet_safe,
    write_records,
)

EVENT = {
    "id": 1000,
    "title": "Spring Antiques Auction",
    "isCompleted": False,
    "agent": None,
    "sellers": [{"id": 1, "name": "Northern Lights Gallery"}, {"id": 2, "name": None}],
    "lots": [{"id": 100000, "lotNumber": "1"}],
    "initialData": {"Qty": 2, "Notes": "=1+1"},
    "imageLinks": ["https://img.example/1.jpg", "https://img.example/2.jpg"],
}


def terminal(columns: int | None = 80) -> Environment:
    return Environment(stdout=io.StringIO(), stdout_isatty=True, columns=columns)


def piped() -> Environment:
    return Environment(stdout=io.StringIO())


def output(env: Environment) -> str:
    assert isinstance(env.stdout, io.StringIO)
    return env.stdout.getvalue()


@pytest.mark.parametrize(
    ("path", "requested", "default", "expected"),
    [
        ("lots.csv", None, "jsonl", "csv"),
        ("LOTS.CSV", None, "jsonl", "csv"),
        ("lots.json", None, "jsonl", "json"),
        ("lots.jsonl", None, "json", "jsonl"),
        ("lots.ndjson", None, "json", "jsonl"),
        ("lots.csv", "jsonl", "jsonl", "jsonl"),  # --format wins
        ("lots.txt", None, "jsonl", "jsonl"),
        ("lots", None, "jsonl", "jsonl"),
        (None, None, "jsonl", "jsonl"),
        ("-", None, "jsonl", "jsonl"),
        ("dir.csv/lots", None, "jsonl", "jsonl"),
        ("report.txt", None, None, "json"),  # a file is not a terminal
    ],
)
def test_format_for(path: str | None, requested: str | None, default: str | None, expected: str) -> None:
    assert format_for(path, requested, default) == expected


def test_format_for_ignores_an_extension_the_command_cannot_write() -> None:
    assert format_for("gallery.csv", None, "jsonl", allowed=("jsonl", "json")) == "jsonl"
    with pytest.raises(UsageError, match="unknown format 'table'"):
        format_for("lots.csv", "table", "jsonl", allowed=("jsonl", "json", "csv"))


def test_resolve_format_defaults_by_terminal_and_validates() -> None:
    assert resolve_format(None, env=terminal()) == "table"
    assert resolve_format(None, env=piped()) == "json"
    assert resolve_format("CSV") == "csv"
    for bad in ("xml", "", "tsv"):
        with pytest.raises(UsageError, match="unknown format"):
            resolve_format(bad)


def test_json_is_indented_on_a_terminal_and_compact_when_piped() -> None:
    shown, sent = terminal(), piped()
    write_list([EVENT, EVENT], "json", env=shown)
    write_list([EVENT, EVENT], "json", env=sent)
    assert json.loads(output(shown)) == json.loads(output(sent)) == [EVENT, EVENT]
    assert '\n    "title": "Spring Antiques Auction",' in output(shown)
    assert output(sent).splitlines()[1] == json.dumps(EVENT, ensure_ascii=False, separators=(",", ":")) + ","
    one_shown, one_sent = terminal(), piped()
    write_object(EVENT, "json", env=one_shown)
    write_object(EVENT, "json", env=one_sent)
    assert json.loads(output(one_shown)) == json.loads(output(one_sent)) == EVENT
    assert output(one_shown).count("\n") > 10 and output(one_sent).count("\n") == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_takes_a_nested_object(fmt: str) -> None:
    env = piped()
    write_object(EVENT, fmt, env=env)
    text = output(env)
    if fmt in ("json", "jsonl"):
        assert json.loads(text) == EVENT
    elif fmt == "csv":
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert row["initialData.Qty"] == "2" and row["initialData.Notes"] == "'=1+1"
        assert json.loads(row["sellers"]) == EVENT["sellers"]
        assert row["isCompleted"] == "false" and row["agent"] == ""
    else:
        assert "initialData.Notes" in text and "sellers:" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_takes_a_list_of_nested_objects(fmt: str) -> None:
    env = piped()
    assert write_list([EVENT, {**EVENT, "id": 1001}], fmt, env=env) == 2
    text = output(env)
    if fmt == "json":
        assert [event["id"] for event in json.loads(text)] == [1000, 1001]
    elif fmt == "jsonl":
        assert [json.loads(line)["id"] for line in text.splitlines()] == [1000, 1001]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [row["id"] for row in rows] == ["1000", "1001"] and rows[0]["initialData.Qty"] == "2"
    else:
        assert text.splitlines()[0].split()[:3] == ["id", "title", "isCompleted"]


def test_picked_columns_of_nested_values_are_json_not_python() -> None:
    env = piped()
    write_list([EVENT], "csv", ["id", "sellers"], env=env)
    [row] = list(csv.DictReader(io.StringIO(output(env))))
    assert json.loads(row["sellers"]) == EVENT["sellers"]
    assert spreadsheet_safe([1, "a"]) == '[1,"a"]' and spreadsheet_safe(True) == "true"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (-5, "-5"),
        (-1.5, "-1.5"),
        ("-5", "-5"),
        ("+2e3", "+2e3"),
        ("-.5", "-.5"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("=1+1", "'=1+1"),
        ("-5 ", "'-5 "),
        ("+", "'+"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-inf", "'-inf"),
    ],
)
def test_a_plain_number_stays_a_number_and_a_formula_does_not_run(value: object, cell: str) -> None:
    assert spreadsheet_safe(value) == cell


def test_a_table_cell_cannot_reorder_the_terminal() -> None:
    """A bidirectional override (U+202E) would show the rest of the line reversed: it becomes a space."""
    from lotsdb_cli.output import terminal_safe

    assert terminal_safe("Invoice \u202efdp.exe\u2066x\u2069") == "Invoice  fdp.exe x "


def test_csv_columns_are_the_union_of_the_first_rows() -> None:
    stream = io.StringIO()
    write_records([{"id": 1}, {"id": 2, "name": "x"}], "csv", stream)
    assert stream.getvalue() == "id,name\n1,\n2,x\n"


def test_an_empty_csv_with_known_columns_still_has_its_header() -> None:
    stream = io.StringIO()
    assert write_records([], "csv", stream, ["id", "name"]) == 0
    assert stream.getvalue() == "id,name\n"


def test_record_writer_streams_json_rows_as_they_come() -> None:
    stream = io.StringIO()
    writer = RecordWriter(stream, "json")
    writer.write({"id": 1})
    assert stream.getvalue() == '[\n{"id":1}'
    writer.write({"id": 2})
    writer.close()
    assert json.loads(stream.getvalue()) == [{"id": 1}, {"id": 2}]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_json_array_is_indented_on_a_terminal_and_still_streams() -> None:
    screen = Terminal()
    writer = RecordWriter(screen, "json")  # no `pretty`: the stream says whether it is a terminal
    writer.write({"id": 1, "tags": ["a"]})
    assert screen.getvalue() == '[\n  {\n    "id": 1,\n    "tags": [\n      "a"\n    ]\n  }'  # out before the next
    writer.write({"id": 2})
    writer.close()
    assert json.loads(screen.getvalue()) == [{"id": 1, "tags": ["a"]}, {"id": 2}]
    piped = io.StringIO()
    write_records([{"id": 1}, {"id": 2}], "json", piped)
    assert piped.getvalue() == '[\n{"id":1},\n{"id":2}\n]\n'
    forced = io.StringIO()
    write_records([{"id": 1}], "json", forced, pretty=True)
    assert forced.getvalue() == '[\n  {\n    "id": 1\n  }\n]\n'


def test_empty_lists_in_every_format() -> None:
    expected: dict[str, Any] = {"json": [], "jsonl": "", "csv": "", "table": "(none)\n"}
    for fmt in FORMATS:
        env = piped()
        write_list([], fmt, env=env)
        assert (json.loads(output(env)) if fmt == "json" else output(env)) == expected[fmt]
