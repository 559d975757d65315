from __future__ import annotations

import codecs

import pytest

from lotsdb_cli.albums import parse_csv
from lotsdb_cli.albums.headers import match_columns
from lotsdb_cli.albums.rows import MAX_CELL_CHARACTERS, parse_year
from lotsdb_cli.errors import InvalidInput

from .helpers import HEADER, csv_bytes, spotify_id

ID0, ID1, ID2 = spotify_id(0), spotify_id(1), spotify_id(2)


def one_row(header: tuple[str, ...], row: tuple[str, ...]) -> dict[str, object]:
    result = parse_csv(csv_bytes([row], header), "sheet.csv")
    assert not result.rejects, result.rejects
    (parsed,) = result.rows
    return {
        "artist": parsed.artist,
        "title": parsed.title,
        "genre": parsed.genre,
        "year": parsed.year,
        "spotify_id": parsed.spotify_id,
    }


EXPECTED = {
    "artist": "Nadia Okafor",
    "title": "Copper Sun",
    "genre": "Afrobeat",
    "year": 2019,
    "spotify_id": ID0,
}
ROW = ("Nadia Okafor", "Copper Sun", "Afrobeat", "2019", f"spotify:album:{ID0}")


@pytest.mark.parametrize(
    "header",
    [
        ("Artist", "Album", "Genre", "Year", "Spotify URL"),
        ("artists", "title", "style", "release year", "spotify"),
        ("Band", "Album Title", "Genre", "Released", "Link"),
        ("Performer", "Record", "Style", "Release Date", "URL"),
        ("ARTIST ", " Name", "GENRE", "date", "URI"),
        ("Artist(s)", "Album-Title", "Genre:", "Year.", "Spotify_URL"),
        ("artist", "album name", "genres", "year released", "Spotify Link"),
        ("Album Artist", "Album", "Genre", "Year", "Spotify album URL (paste here)"),
    ],
)
def test_header_synonyms(header: tuple[str, ...]) -> None:
    assert one_row(header, ROW) == EXPECTED


def test_columns_in_any_order_and_extra_columns_ignored() -> None:
    header = ("Notes", "Spotify", "Year", "Album", "Rating", "Artist", "Genre")
    row = ("great", f"spotify:album:{ID0}", "2019", "Copper Sun", "5", "Nadia Okafor", "Afrobeat")
    assert one_row(header, row) == EXPECTED


def test_album_beats_name_when_both_present() -> None:
    columns = match_columns(["Name", "Album", "Artist"])
    assert columns.describe()["title"] == "Album"


def test_only_a_title_column_is_required() -> None:
    result = parse_csv(b"Title\nCopper Sun\n", "t.csv")
    assert [row.title for row in result.rows] == ["Copper Sun"]
    assert result.rows[0].spotify_id is None
    assert any("no Spotify column" in warning for warning in result.warnings)


def test_bom_crlf_quoted_comma_and_newline() -> None:
    data = csv_bytes(
        [
            ("Kestrel & Vine", "Hearts, Minds and Radios", "Pop", "2021", ID0),
            ("Blue Meridian Trio", "Live at the Blue Room\r\nVol. 2", "Jazz", "1998", ID1),
            ("Polar Static", "Frostbyte", "Electronic", "2016", ID2),
        ],
        bom=True,
    )
    result = parse_csv(data, "t.csv")
    assert result.encoding == "utf-8"
    assert [row.title for row in result.rows] == [
        "Hearts, Minds and Radios",
        "Live at the Blue Room\r\nVol. 2",
        "Frostbyte",
    ]
    assert [row.line for row in result.rows] == [2, 3, 5]
    assert result.rows[0].artist == "Kestrel & Vine"


def test_line_numbers_of_bad_rows_after_multiline_field_and_blank_lines() -> None:
    text = (
        "Artist,Album,Year,Spotify\r\n"  # 1
        "A,Fine,2001,\r\n"  # 2
        'B,"Three\r\nline\r\ntitle",2002,\r\n'  # 3-5
        "\r\n"  # 6 (blank)
        "C,,2003,\r\n"  # 7 no title
        ",,,\r\n"  # 8 empty cells: blank
        "D,Bad Year,19x5,\r\n"  # 9
        f"E,Track,2004,https://open.spotify.com/track/{ID0}\r\n"  # 10
    )
    result = parse_csv(text.encode(), "t.csv")
    assert [row.line for row in result.rows] == [2, 3]
    assert [(reject.line, reject.reason) for reject in result.rejects] == [
        (7, "no title (Album is empty)"),
        (9, "year '19x5' is not a 4-digit year or a date"),
        (10, f"'https://open.spotify.com/track/{ID0}' is a track link, not an album"),
    ]
    assert result.rejects[0].raw == {"Artist": "C", "Album": "", "Year": "2003", "Spotify": ""}


def test_every_problem_of_a_row_is_in_its_reason() -> None:
    result = parse_csv(csv_bytes([("X", "", "", "20O1", "https://spotify.link/abc")]), "t.csv")
    (reject,) = result.rejects
    assert "no title" in reject.reason
    assert "year '20O1'" in reject.reason
    assert "short links cannot be resolved offline" in reject.reason


def test_unparseable_spotify_cells_are_rejected_with_the_extractor_reason() -> None:
    rows = [
        ("A", "One", "", "", "https://spotify.link/aB3dE5fG7h"),
        ("A", "Two", "", "", ID0[:-1]),
        ("A", "Three", "", "", f"https://open.spotify.com/playlist/{ID0}"),
        ("A", "Four", "", "", "https://example.com/album/1"),
    ]
    result = parse_csv(csv_bytes(rows), "t.csv")
    reasons = [reject.reason for reject in result.rejects]
    assert "short links cannot be resolved offline; open it and paste the album URL" in reasons[0]
    assert "this has 21 characters" in reasons[1]
    assert "is a playlist link, not an album" in reasons[2]
    assert "not a Spotify link (host example.com)" in reasons[3]
    assert [reject.line for reject in result.rejects] == [2, 3, 4, 5]


def test_cells_are_trimmed_and_empty_cells_become_none() -> None:
    result = parse_csv(csv_bytes([("  ", "  Copper Sun ", " ", "", f"  {ID0}  ")]), "t.csv")
    (row,) = result.rows
    assert (row.artist, row.title, row.genre, row.year) == (None, "Copper Sun", None, None)
    assert row.spotify_id == ID0
    assert row.source_url == ID0


@pytest.mark.parametrize(
    ("cell", "year"),
    [
        ("1997", 1997),
        (" 1997 ", None),  # cells are trimmed before; parse_year itself is strict
        ("1997.0", 1997),
        ("1997-05-21", 1997),
        ("21/05/1997", 1997),
        ("5/21/1997", 1997),
        ("21.05.1997", 1997),
        ("May 21, 1997", 1997),
        ("21 September 1997", 1997),
        ("", None),
    ],
)
def test_parse_year_accepts_years_and_dates(cell: str, year: int | None) -> None:
    if cell == " 1997 ":
        assert parse_year(cell.strip()) == 1997
    else:
        assert parse_year(cell) == year


@pytest.mark.parametrize(
    "cell", ["19x5", "97", "199", "19975", "0999", "2101", "1997/1998", "circa 1997", "1997?", "n/a"]
)
def test_parse_year_rejects(cell: str) -> None:
    with pytest.raises(ValueError, match="year"):
        parse_year(cell)


def test_semicolon_and_tab_separated_files_work() -> None:
    for delimiter in (";", "\t"):
        data = csv_bytes([("Kestrel & Vine", "Hearts, Minds", "Pop", "2021", ID0)], delimiter=delimiter)
        result = parse_csv(data, "t.csv")
        assert result.delimiter == delimiter
        assert [(row.artist, row.title, row.spotify_id) for row in result.rows] == [
            ("Kestrel & Vine", "Hearts, Minds", ID0)
        ]


def test_rows_delimited_differently_from_the_header_are_rejected_clearly() -> None:
    data = b"Artist,Album,Year\nNadia Okafor;Copper Sun;2019\n"
    (reject,) = parse_csv(data, "t.csv").rejects
    assert "only 1 column where the header has 3" in reject.reason


def test_utf16_with_bom_and_cp1252_fallback() -> None:
    text = "Artist,Album\r\nBeyoncé,Lemonade\r\n"
    utf16 = parse_csv(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "t.csv")
    assert [row.artist for row in utf16.rows] == ["Beyoncé"]
    assert utf16.warnings == [] or all("Windows-1252" not in w for w in utf16.warnings)
    legacy = parse_csv(text.encode("cp1252"), "legacy.csv")
    assert [row.artist for row in legacy.rows] == ["Beyoncé"]
    assert legacy.encoding == "cp1252"
    assert any("Windows-1252" in warning for warning in legacy.warnings)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf \r\n\r\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"PK\x03\x04\x14\x00\x06\x00", "is a spreadsheet workbook"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "is an HTML page"),
        (b"Foo,Bar,Baz\n1,2,3\n", "no album title column in the header (found: 'Foo', 'Bar', 'Baz')"),
        (b"Nadia Okafor;Copper Sun;2019\n", "found: 'Nadia Okafor', 'Copper Sun', '2019'"),
    ],
)
def test_unusable_input_raises_invalid_input(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_csv(data, "in.csv")
    assert message in str(caught.value)
    assert str(caught.value).startswith("in.csv")
    assert "\n" not in str(caught.value)


def test_a_headerless_file_is_not_read_with_its_first_row_as_header() -> None:
    data = csv_bytes(
        [("Saltwater Choir", "Low Tide Hymns Album", "Folk", "2009", f"https://open.spotify.com/album/{ID1}")],
        header=("Nadia Okafor", "Copper Sun Album", "Afrobeat", "2019", f"https://open.spotify.com/album/{ID0}"),
    )
    with pytest.raises(InvalidInput, match="no album title column"):
        parse_csv(data, "headerless.csv")


def test_header_below_a_title_row_is_found() -> None:
    data = b"My record collection,,\n\nArtist,Album,Year\nNadia Okafor,Copper Sun,2019\n"
    result = parse_csv(data, "t.csv")
    assert result.header_line == 3
    assert [(row.line, row.title) for row in result.rows] == [(4, "Copper Sun")]
    assert any("above the header" in warning for warning in result.warnings)


def test_short_and_long_rows() -> None:
    data = b"Artist,Album,Year\nNadia Okafor,Copper Sun\nA,B,2000,extra,cells\n"
    result = parse_csv(data, "t.csv")
    assert [(row.title, row.year) for row in result.rows] == [("Copper Sun", None), ("B", 2000)]


def test_a_one_megabyte_cell_does_not_crash() -> None:
    huge = "x" * 1_048_576
    data = csv_bytes(
        [("Big", huge, "", "", ""), ("Fine", "Album", "", "", ""), ("Notes ok", "T", huge[:10], "", "")],
        header=HEADER,
    )
    result = parse_csv(data, "t.csv")
    (reject,) = result.rejects
    assert reject.line == 2
    assert f"Album cell is too long (1048576 characters, at most {MAX_CELL_CHARACTERS})" in (reject.reason)
    assert [row.title for row in result.rows] == ["Album", "T"]
    unmapped = csv_bytes([("A", "T", "", "", "", huge)], header=(*HEADER, "Notes"))
    assert [row.title for row in parse_csv(unmapped, "t.csv").rows] == ["T"]


def test_unterminated_quote_is_reported_not_swallowed_silently() -> None:
    data = b'Artist,Album\nA,"Open quote\nB,Second\nC,Third\n'
    result = parse_csv(data, "t.csv")
    assert result.rows == []
    (reject,) = result.rejects
    assert reject.line == 2
    assert "never closed" in reject.reason


def test_sample_spreadsheet(sample_bytes: bytes) -> None:
    result = parse_csv(sample_bytes, "examples/albums.csv")
    assert result.encoding == "utf-8"
    assert result.columns == {
        "title": "Album",
        "artist": "Artist",
        "genre": "Genre",
        "year": "Year",
        "spotify": "Spotify URL",
    }
    assert len(result.rows) == 43  # one of them repeats line 3: the import counts it as a duplicate
    expected_rejects = [
        (10, "no title"),
        (15, "is a track link, not an album"),
        (21, "short links cannot be resolved offline"),
        (28, "year '19x5' is not a 4-digit year"),
    ]
    assert [reject.line for reject in result.rejects] == [line for line, _ in expected_rejects]
    for reject, (_, reason) in zip(result.rejects, expected_rejects, strict=True):
        assert reason in reject.reason
    titles = {row.title for row in result.rows}
    assert {"Hearts, Minds and Radios", "Live at the Blue Room\nVol. 2"} <= titles
    assert sum(row.spotify_id is None for row in result.rows) == 1
    repeated = [row for row in result.rows if row.spotify_id == result.rows[1].spotify_id]
    assert [row.line for row in repeated] == [3, 34]
