"""Tables: fitted to the terminal, streamed, and field/value views that never cut a URL or an id."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from lotsdb_cli.output import SAMPLE_ROWS, TableWriter, display_width, render_table, write_fields
from lotsdb_cli.output.table import Shrink, shrink_class

EVENT_COLUMNS = ["id", "title", "startDate", "endDate", "isCompleted", "agent", "customerCatalogId", "sellers", "lots"]


def event(number: int, title: str = "Summer Design & Décor Sale, with a long subtitle") -> dict[str, Any]:
    return {
        "id": 1000 + number,
        "title": title,
        "startDate": "2026-12-15T14:00:00Z",
        "endDate": "2026-12-18T22:00:00Z",
        "isCompleted": False,
        "agent": "Priya Natarajan",
        "customerCatalogId": f"EV-2026-{number:05d}",
        "sellers": "Northern Lights Gallery, Zoë's Vintage Finds",
        "lots": 400,
    }


def table(rows: list[dict[str, Any]], width: int | None, columns: list[str] | None = None) -> tuple[str, list[str]]:
    stream = io.StringIO()
    writer = TableWriter(stream, columns, width=width)
    for row in rows:
        writer.write(row)
    writer.close()
    return stream.getvalue(), writer.hidden


@pytest.mark.parametrize("width", [150, 120, 100, 80, 60])
def test_a_table_fits_the_width_and_never_cuts_ids_dates_or_numbers(width: int) -> None:
    rows = [event(number) for number in range(5)]
    text, hidden = table(rows, width, EVENT_COLUMNS)
    lines = text.splitlines()
    assert all(display_width(line) <= width for line in lines), text
    shown = [name for name in EVENT_COLUMNS if name not in hidden]
    assert hidden == EVENT_COLUMNS[len(shown) :]  # only the rightmost columns are ever left out
    for line, row in zip(lines[2:], rows, strict=True):
        for name in ("id", "startDate", "endDate", "customerCatalogId", "lots"):
            if name in shown:
                assert str(row[name]) in line.split("  ")
        if "isCompleted" in shown:
            assert " false" in line


def test_long_headers_of_fixed_columns_then_free_text_give_up_width() -> None:
    text, hidden = table([event(1)], 130, EVENT_COLUMNS)
    header, _, row = text.splitlines()
    assert hidden == []
    assert header.split()[4:7] == ["isCompl…", "agent", "customerCata…"]
    assert "EV-2026-00001" in row.split()
    assert "Summer Design" in row and "…" in row and "Northern Light" in row


def test_a_narrow_terminal_leaves_columns_out_and_says_which() -> None:
    text, hidden = table([event(1)], 80, EVENT_COLUMNS)
    assert hidden == ["customerCatalogId", "sellers", "lots"]
    assert text.splitlines()[0].split()[0] == "id"
    text, hidden = table([event(1)], 10, EVENT_COLUMNS)
    assert hidden == EVENT_COLUMNS[1:] and text.splitlines()[2] == "1001"  # never the first column


def test_without_a_width_nothing_is_cut() -> None:
    long_title = "A" * 300
    text, hidden = table([event(1, long_title)], None, EVENT_COLUMNS)
    assert hidden == [] and long_title in text and "…" not in text


def test_rows_after_the_sample_stream_and_keep_the_sample_widths() -> None:
    written = io.StringIO()
    writer = TableWriter(written, ["id", "title"], width=40)

    def rows() -> Iterator[dict[str, Any]]:
        for number in range(SAMPLE_ROWS + 50):
            if number > SAMPLE_ROWS:
                # every row after the sample is on its way out before the next one is made
                assert written.getvalue().count("\n") == 2 + number  # header, rule, rows 0 to number - 1
            yield {"id": number, "title": "short" if number < SAMPLE_ROWS else "x" * 100}

    for row in rows():
        writer.write(row)
    writer.close()
    lines = written.getvalue().splitlines()
    assert len(lines) == SAMPLE_ROWS + 52
    assert all(display_width(line) <= 40 for line in lines)
    assert lines[-1].endswith("…")


def test_piped_rows_wider_than_the_sample_are_whole() -> None:
    text, _ = table([{"id": 1, "name": "a"}] * SAMPLE_ROWS + [{"id": 2, "name": "b" * 50}], None)
    assert text.splitlines()[-1] == "2   " + "b" * 50


def test_control_characters_are_stripped_and_wide_characters_aligned() -> None:
    rows = [{"name": "bad\x1b]0;pwned\x07\nline", "n": 1}, {"name": "東京オークション", "n": 2}]
    text = render_table(rows, width=80)
    assert "\x1b" not in text and "\x07" not in text and text.count("\n") == 4
    _, _, first, second = text.splitlines()
    assert display_width(first.rstrip("0123456789")) == display_width(second.rstrip("0123456789"))
    assert display_width("東京") == 4


def test_empty_table() -> None:
    assert render_table([]) == "(none)\n"
    assert table([], 80, ["id"]) == ("(none)\n", [])


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("id", ["a b"], Shrink.NEVER),
        ("spotify_id", ["JbOxBrphU2Sqm0bKBGcpXd"], Shrink.NEVER),
        ("customerCatalogId", ["EV-2026-01000"], Shrink.NEVER),
        ("ItemID", ["ITM-1"], Shrink.NEVER),
        ("value", [1.5, -2, None], Shrink.NEVER),
        ("startDate", ["2026-12-15T14:00:00Z", "2026-12-15"], Shrink.NEVER),
        ("duration", ["8:08"], Shrink.NEVER),
        ("isActive", [True, False], Shrink.NEVER),
        ("title", ["Paper Cranes", "Harmattan"], Shrink.FREE_TEXT),
        ("cover_url", ["https://i.scdn.co/image/ab67616d0000b273"], Shrink.OTHER_TEXT),
        ("paid", [None, ""], Shrink.OTHER_TEXT),
    ],
)
def test_which_columns_shrink(name: str, values: list[Any], expected: Shrink) -> None:
    assert shrink_class(name, values) is expected


# Field/value views

URL = "https://open.spotify.com/album/JbOxBrphU2Sqm0bKBGcpXd?si=0123456789abcdef0123456789abcdef"


def fields(record: dict[str, Any], width: int | None = 60) -> list[str]:
    stream = io.StringIO()
    write_fields(stream, record, width=width)
    return stream.getvalue().splitlines()


def test_a_show_view_never_cuts_a_url_or_an_id() -> None:
    spotify_id = "JbOxBrphU2Sqm0bKBGcpXd" * 4
    lines = fields({"id": 1, "notes": "short", "spotify_url": URL, "spotify_id": spotify_id}, width=40)
    assert any(line.endswith(URL) for line in lines)
    assert any(line.endswith(spotify_id) for line in lines)
    assert not any("…" in line for line in lines)


def test_a_show_view_wraps_long_text_onto_continuation_lines() -> None:
    description = " ".join(f"word{number}" for number in range(40))
    lines = fields({"id": 1, "description": description}, width=50)
    start = lines.index(next(line for line in lines if line.startswith("description")))
    continuation = lines[start + 1 :]
    assert len(continuation) >= 3 and all(line.startswith(" " * len("description  ")) for line in continuation)
    assert all(len(line) <= 50 for line in lines)
    assert (
        " ".join(line.split(None, 1)[-1] if i == 0 else line.strip() for i, line in enumerate(lines[start:]))
        == description
    )


def test_a_show_view_lists_scalars_one_per_line_and_objects_as_tables() -> None:
    record = {
        "id": 100001,
        "initialData": {"Qty": 9, "description": "Victorian writing desk"},
        "imageLinks": ["https://img.example/1.jpg", "https://img.example/2.jpg"],
        "overridenData": [],
        "catalogs": [{"catalogId": 1000, "lotNumber": "2"}, {"catalogId": 1001, "lotNumber": "7"}],
    }
    lines = fields(record)
    assert lines[0].split() == ["field", "value"]
    assert "initialData.description  Victorian writing desk" in lines
    links = lines.index("imageLinks               https://img.example/1.jpg")
    assert lines[links + 1] == " " * len("imageLinks               ") + "https://img.example/2.jpg"
    assert "overridenData" in lines
    catalogs = lines.index("catalogs:")
    assert lines[catalogs + 1].split() == ["catalogId", "lotNumber"]
    assert lines[catalogs + 3].split() == ["1000", "2"] and lines[catalogs + 4].split() == ["1001", "7"]


def test_a_show_view_without_a_width_keeps_values_on_one_line() -> None:
    long_text = "word " * 100
    lines = fields({"id": 1, "notes": long_text}, width=None)
    assert len(lines) == 4 and lines[3].endswith(long_text.strip())


def test_the_tables_of_a_show_view_cut_only_free_text() -> None:
    links = [{"id": 1002401, "link": URL, "caption": "A rather long caption about the front of the vase " * 2}]
    lines = fields({"id": 100240, "imageLinks": links}, width=60)
    header = lines[lines.index("imageLinks:") + 1]
    assert header.split()[:3] == ["id", "link", "caption"]  # no column left out
    row = lines[-1]
    assert URL in row and "1002401" in row and row.endswith("…")
