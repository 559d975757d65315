"""Tables fitted to the terminal without cutting anything: wrapped cells, whole headers, records when
the columns cannot fit; field/value views that wrap, never cut, a URL or an id."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import field_value
from hypothesis import given, settings
from hypothesis import strategies as st

from lotsdb_cli.output import SAMPLE_ROWS, TableWriter, display_width, render_table, terminal_safe, wrap, write_fields
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


def table(rows: list[dict[str, Any]], width: int | None, columns: list[str] | None = None) -> tuple[str, bool]:
    stream = io.StringIO()
    writer = TableWriter(stream, columns, width=width)
    for row in rows:
        writer.write(row)
    writer.close()
    return stream.getvalue(), writer.as_records


def squeezed(value: Any) -> str:
    """A cell as the table shows it, without its spaces: what a wrapped cell reads back as."""
    return "".join(terminal_safe(value).split())


def read_grid(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Headers and rows (cells without spaces) of a grid whose first column is never empty."""
    lines = text.splitlines()
    spans = [match.span() for match in re.finditer(r"-+", lines[1])]
    headers = [lines[0][start:end].strip() for start, end in spans]
    spans[-1] = (spans[-1][0], 10**6)  # the last column may run to the terminal's edge
    rows: list[dict[str, str]] = []
    for line in lines[2:]:
        cells = [line[start : end + 2] for start, end in spans]
        if cells[0].strip():
            rows.append(dict.fromkeys(headers, ""))
        for header, cell in zip(headers, cells, strict=True):
            rows[-1][header] += "".join(cell.split())
    return headers, rows


def read_records(text: str) -> list[dict[str, str]]:
    """The rows of a record layout (values without spaces); continuation lines start with spaces."""
    records: list[dict[str, str]] = []
    name = ""
    for line in text.splitlines():
        if line.startswith("-[ RECORD "):
            assert line.startswith(f"-[ RECORD {len(records) + 1} ]")
            records.append({})
        elif line.startswith(" "):
            records[-1][name] += "".join(line.split())
        else:
            name, _, value = line.partition(" ")
            records[-1][name] = "".join(value.split())
    return records


def expected(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, str]]:
    return [{name: squeezed(row.get(name)) for name in columns} for row in rows]


@pytest.mark.parametrize("width", [200, 150, 120, 100, 80, 60, 40, 24])
def test_a_table_fits_the_width_and_cuts_nothing(width: int) -> None:
    rows = [event(number) for number in range(5)]
    text, as_records = table(rows, width, EVENT_COLUMNS)
    assert all(display_width(line) <= width for line in text.splitlines()), text
    assert "…" not in text
    if as_records:
        assert read_records(text) == expected(rows, EVENT_COLUMNS)
    else:
        headers, shown = read_grid(text)
        assert headers == EVENT_COLUMNS  # every column, every header whole
        assert shown == expected(rows, EVENT_COLUMNS)
        for line in text.splitlines()[2:]:  # ids, dates and numbers are never wrapped
            assert not line.startswith("10") or all(part in line for part in ("2026-12-15T14:00:00Z", "EV-2026-"))


def test_free_text_wraps_on_words_before_anything_else_gives_way() -> None:
    text, as_records = table([event(1)], 130, EVENT_COLUMNS)
    assert not as_records
    lines = text.splitlines()
    assert lines[0].split() == EVENT_COLUMNS  # headers whole, though isCompleted's values are 5 wide
    assert "EV-2026-00001" in lines[2] and "2026-12-18T22:00:00Z" in lines[2]
    words = {word for line in lines[2:] for word in line.split()}
    assert {"Summer", "Design", "subtitle", "Natarajan", "Zoë's", "Gallery,"} <= words  # no word broken


def test_a_table_that_cannot_fit_shows_records_as_psql_does() -> None:
    text, as_records = table([event(1), event(2)], 80, EVENT_COLUMNS)
    assert as_records
    lines = text.splitlines()
    assert lines[0].startswith("-[ RECORD 1 ]-") and len(lines[0]) <= 80
    assert lines[1] == "id                 1001"
    assert "title              Summer Design & Décor Sale, with a long subtitle" in lines
    assert lines[len(EVENT_COLUMNS) + 1].startswith("-[ RECORD 2 ]")


def test_similar_headers_stay_whole_and_distinct() -> None:
    runs = [
        {"at": "2026-11-29T13:25:24Z", "command": "lots dump", "sent": 121, "cache_hits": 0, "cache_misses": 121}
        | {"stale": 0, "revalidated": 0, "retries": 0, "throttled": 0}
    ]
    for width in (200, 100, 80, 60):
        text, as_records = table(runs, width)
        assert all(len(line) <= width for line in text.splitlines())
        names = [line.split()[0] for line in text.splitlines()[1:]] if as_records else text.splitlines()[0].split()
        assert names == list(runs[0])


def test_an_identifying_value_wraps_whole_words_first_then_breaks_after_separators() -> None:
    rows = [
        {"setting": "spotify_accounts_url", "value": "http://127.0.0.1:8765", "source": "default"},
        {
            "setting": "cache",
            "value": "/home/someone/.local/share/lotsdb/http_cache.sqlite",
            "source": "environment (LOTSDB_SPOTIFY_ACCOUNTS_URL)",
        },
    ]
    text, as_records = table(rows, 80)
    assert not as_records and all(len(line) <= 80 for line in text.splitlines())
    lines = text.splitlines()
    assert any(line.rstrip().endswith("(LOTSDB_SPOTIFY_ACCOUNTS_URL)") for line in lines)  # the name whole
    assert read_grid(text)[1] == expected(rows, ["setting", "value", "source"])
    assert "/home/someone/.local/share/  " in lines[3] and "lotsdb/http_cache.sqlite" in lines[4]  # after a /


def test_without_a_width_nothing_is_wrapped() -> None:
    long_title = "A" * 300
    text, as_records = table([event(1, long_title)], None, EVENT_COLUMNS)
    assert not as_records and long_title in text and len(text.splitlines()) == 3


def test_rows_after_the_sample_stream_and_wrap_in_the_sample_widths() -> None:
    written = io.StringIO()
    writer = TableWriter(written, ["id", "title"], width=40)

    def rows() -> Iterator[dict[str, Any]]:
        for number in range(SAMPLE_ROWS + 50):
            if number > SAMPLE_ROWS:
                # every row after the sample is on its way out before the next one is made
                assert written.getvalue().count("\n") >= 2 + number  # header, rule, rows 0 to number - 1
            yield {"id": number, "title": "short" if number < SAMPLE_ROWS else "x" * 100}

    for row in rows():
        writer.write(row)
    writer.close()
    lines = written.getvalue().splitlines()
    assert len(lines) == 2 + SAMPLE_ROWS + 50 * 3  # a later, longer title takes more lines of its row
    assert all(display_width(line) <= 40 for line in lines)
    assert read_grid(written.getvalue())[1][-1] == {"id": str(SAMPLE_ROWS + 49), "title": "x" * 100}


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
    narrow = render_table([{"name": "東京オークション" * 4, "n": 1}], width=24)
    assert all(display_width(line) <= 24 for line in narrow.splitlines())


def test_empty_table() -> None:
    assert render_table([]) == "(none)\n"
    assert table([], 80, ["id"]) == ("(none)\n", False)


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


# Wrapping


def test_wrap_breaks_a_url_after_a_slash_and_a_word_without_separators_at_the_width() -> None:
    assert wrap("https://open.spotify.com/album/JbOxBrphU2Sqm0bKBGcpXd", 32) == [
        "https://open.spotify.com/album/",
        "JbOxBrphU2Sqm0bKBGcpXd",
    ]
    assert wrap("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert wrap("environment (LOTSDB_SPOTIFY_ACCOUNTS_URL)", 30) == ["environment", "(LOTSDB_SPOTIFY_ACCOUNTS_URL)"]
    assert wrap("short", None) == ["short"] and wrap("", 5) == [""]


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.sampled_from([*"ab /._-東é", "\u0301"]), max_size=80), width=st.integers(1, 30))
def test_wrap_never_loses_a_character_nor_exceeds_the_width(text: str, width: int) -> None:
    lines = wrap(text, width)
    assert "".join("".join(lines).split()) == "".join(text.split())
    assert all(display_width(line) <= max(width, 2) for line in lines)


# Field/value views

URL = "https://open.spotify.com/album/JbOxBrphU2Sqm0bKBGcpXd?si=0123456789abcdef0123456789abcdef"


def fields(record: dict[str, Any], width: int | None = 60) -> list[str]:
    stream = io.StringIO()
    write_fields(stream, record, width=width)
    return stream.getvalue().splitlines()


def test_a_show_view_fits_the_width_and_wraps_a_url_or_an_id_without_cutting_it() -> None:
    spotify_id = "JbOxBrphU2Sqm0bKBGcpXd" * 4
    lines = fields({"id": 1, "notes": "short", "spotify_url": URL, "spotify_id": spotify_id}, width=40)
    assert all(len(line) <= 40 for line in lines)
    assert field_value(lines, "spotify_url") == URL and field_value(lines, "spotify_id") == spotify_id
    assert "spotify_url  https://open.spotify.com/" in lines  # broken after a slash
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


def test_a_narrow_show_view_puts_each_value_under_its_name() -> None:
    record = {"id": 100365, "initialData": {"notedConditions": "Fair", "description": "Restored Eames-style chair"}}
    lines = fields(record, width=34)
    assert all(len(line) <= 34 for line in lines)
    assert lines[:3] == ["id", "  100365", "initialData.notedConditions"]
    assert lines[3:] == ["  Fair", "initialData.description", "  Restored Eames-style chair"]


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


LOT_DATA = {
    "Qty": 9,
    "L": None,
    "W": None,
    "H": 45.6,
    "Wgt": 141.74,
    "value": 12273.19,
    "Cpack": "1",
    "description": "Restored Eames-style chair",
    "forceCrate": False,
    "ItemID": "ITM-100365",
    "Notes": None,
    "notedConditions": "Fair",
    "doNotTip": False,
    "commodityId": "2210",
}


@pytest.mark.parametrize("width", [140, 100, 80, 40])
def test_the_tables_of_a_show_view_fit_too_with_every_header_whole(width: int) -> None:
    """`lots show`'s overridenData: fourteen columns, as a grid when they fit, else as records."""
    record = {"id": 100365, "overridenData": [LOT_DATA, {**LOT_DATA, "Qty": 3, "notedConditions": None}]}
    lines = fields(record, width=width)
    assert all(len(line) <= width for line in lines), "\n".join(lines)
    sub_table = "\n".join(lines[lines.index("overridenData:") + 1 :]) + "\n"
    rows = expected(record["overridenData"], list(LOT_DATA))
    if sub_table.startswith("-[ RECORD 1 ]"):
        assert width < 140 and read_records(sub_table) == rows
    else:
        headers, shown = read_grid(sub_table)
        assert headers == list(LOT_DATA) and shown == rows


@pytest.mark.parametrize("width", [100, 60])
def test_the_tables_of_a_show_view_wrap_urls_and_keep_ids_whole(width: int) -> None:
    links = [{"id": 1002401, "link": URL, "caption": "A rather long caption about the front of the vase " * 2}] * 3
    lines = fields({"id": 100240, "imageLinks": links}, width=width)
    assert all(len(line) <= width for line in lines)
    sub_table = "\n".join(lines[lines.index("imageLinks:") + 1 :]) + "\n"
    if width == 100:
        headers, shown = read_grid(sub_table)
        assert headers == ["id", "link", "caption"] and sub_table.splitlines()[2].startswith("1002401  ")
    else:  # a grid would take more lines than records: the URL and the caption wrap narrower there
        shown = read_records(sub_table)
        assert "id       1002401" in lines
    assert shown == expected(links, ["id", "link", "caption"])


def test_a_grid_whose_cells_would_take_more_lines_than_records_shows_records() -> None:
    prose = {"id": 1, "code": "X" * 30, "description": "lorem ipsum dolor " * 60}
    text, as_records = table([prose] * 3, 80)
    assert as_records and len(text.splitlines()) < 3 * 30
    assert read_records(text) == expected([prose] * 3, list(prose))
    text, as_records = table([{**prose, "description": "lorem ipsum dolor " * 3}] * 3, 80)
    assert not as_records  # a line or two more per row is still a grid
