"""Write examples/albums.csv, the sample spreadsheet of the README demo and the album tests.

Run: .venv/bin/python scripts/make_sample_albums.py [OUTPUT]

The file is what a spreadsheet export looks like in practice: a UTF-8 byte-order mark, CRLF
line endings, and Spotify links pasted in every form seen in the wild. Album ids come from
`album_ids(1, 40)`, the albums a sandbox started with `--seed 1` serves. Odd rows on purpose:

- Spotify links cycle through all forms: bare id, `?si=` share link, `intl-de/`, `spotify:album:`,
  play.spotify.com, `embed/`, trailing slash, surrounding spaces, `http://`, no scheme.
- "Hearts, Minds and Radios": a quoted title containing a comma.
- "Live at the Blue Room / Vol. 2": a quoted title with an embedded line break, so every
  record after it starts one physical line later than its row count suggests.
- Invalid (rejected with line and reason): a row with no title; a track link instead of an
  album; a spotify.link short link (cannot be resolved offline); the year "19x5".
- In-file duplicate: "Saltwater Choir - Low Tide Hymns" again, with its id as a `spotify:` URI.
- "Glass Orchard - Paper Lanterns" has no Spotify link (imported, skipped by refresh).
- "Unmapped Signal - Not In The Sandbox" has a well-formed id the sandbox does not know (404).
- A line of empty cells (`,,,,`), as spreadsheets export, which is skipped silently.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from lotsdb_cli.sandbox.albumids import album_id, album_ids

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "examples" / "albums.csv"
HEADER = ("Artist", "Album", "Genre", "Year", "Spotify URL")

# Artist, album title, genre, year: one per sandbox album id, in id order.
ALBUMS = (
    ("The Velvet Harbors", "Midnight Cartography", "Indie Rock", "2014"),
    ("Saltwater Choir", "Low Tide Hymns", "Folk", "2009"),
    ("Nadia Okafor", "Copper Sun", "Afrobeat", "2019"),
    ("Kestrel & Vine", "Hearts, Minds and Radios", "Pop", "2021"),
    ("Blue Meridian Trio", "Live at the Blue Room\nVol. 2", "Jazz", "1998"),
    ("Polar Static", "Frostbyte", "Electronic", "2016"),
    ("Marisol Vega", "Canciones del Puerto", "Latin", "2011"),
    ("Ironwood Collective", "Timber & Tide", "Post-Rock", "2007"),
    ("The Lanternfish", "Bioluminescence", "Dream Pop", "2018"),
    ("Oskar Lindqvist", "Nordic Hours", "Ambient", "2015"),
    ("Ruby Thornton", "Dust Road Gospel", "Americana", "2004"),
    ("Neon Arcadia", "Pixel Hearts", "Synthwave", "2020"),
    ("Delta Crow", "Muddy Water Sermons", "Blues", "1996"),
    ("Aiko Tanabe", "Paper Cranes", "J-Pop", "2012"),
    ("The Sundowners", "Golden Hour Static", "Surf Rock", "2017"),
    ("Cassius Grey", "Velvet Ultimatum", "R&B", "2022"),
    ("Hollow Pines", "Where the Snow Forgets", "Folk", "2013"),
    ("Brasswork Union", "Second Line Saturday", "Jazz", "2010"),
    ("Mira Castellanos", "Lumbre", "Flamenco", "2008"),
    ("Static Gardens", "Overgrown Circuits", "Electronic", "2019"),
    ("Otis Marlowe", "Late Shift Lullabies", "Soul", "1972"),
    ("The Quiet Ferns", "Moss & Memory", "Indie Folk", "2016"),
    ("Volta Kings", "Overdrive Republic", "Hard Rock", "1988"),
    ("Lena Hoffmann", "Stille Wasser", "Classical", "2003"),
    ("Cobalt Parade", "Marching Through Glass", "Alternative", "2006"),
    ("Sable & Sparrow", "Twin Feathers", "Country", "2015"),
    ("Dub Atlas", "Echo Chamber Maps", "Dub", "1999"),
    ("Priya Raman", "Monsoon Letters", "World", "2018"),
    ("The Night Tram", "Last Stop Luminous", "Indie Pop", "2023"),
    ("Grayson Holt", "Rust Belt Psalms", "Rock", "1984"),
    ("Crimson Atlas", "Fault Lines", "Metal", "2011"),
    ("Juniper Falls", "Evergreen Static", "Shoegaze", "1993"),
    ("Tomasz Wilk", "Winter in Gdańsk", "Jazz", "2005"),
    ("Halcyon Drive", "Coastline Fever", "Synthpop", "1986"),
    ("Amara Diallo", "Harmattan", "Desert Blues", "2014"),
    ("The Paper Kites Club", "Origami Weather", "Indie", "2020"),
    ("Ghost Orchard", "Apparitions in Bloom", "Psychedelic", "1969"),
    ("Rosa Lindgren", "Midsommar Tapes", "Pop", "2019"),
    ("Echo Valley Band", "Canyon Reverb", "Bluegrass", "2002"),
    ("Luminous Decay", "Half-Life Serenades", "Darkwave", "2017"),
)


def spotify_link(index: int, spotify_id: str) -> str:
    """The album's link in one of the ten forms people paste, chosen by `index`."""
    forms = (
        "{id}",
        "https://open.spotify.com/album/{id}?si=Xq3vR8tLQ0a1b2c3d4e5fA",
        "https://open.spotify.com/intl-de/album/{id}",
        "spotify:album:{id}",
        "https://play.spotify.com/album/{id}",
        "https://open.spotify.com/embed/album/{id}?utm_source=generator",
        "https://open.spotify.com/album/{id}/",
        "  https://open.spotify.com/album/{id}  ",
        "http://open.spotify.com/album/{id}",
        "open.spotify.com/album/{id}",
    )
    return forms[index % len(forms)].format(id=spotify_id)


def sample_rows() -> list[tuple[str, ...]]:
    ids = album_ids(1, len(ALBUMS))
    rows = [
        (*album, spotify_link(index, spotify_id))
        for index, (album, spotify_id) in enumerate(zip(ALBUMS, ids, strict=True))
    ]
    odd_rows = {
        # Placed after the multi-line title (index 4) so their line numbers are off by one.
        7: ("Marla Quinn", "", "Folk", "2012", f"https://open.spotify.com/album/{album_id(1, 40)}"),
        11: ("Neon Arcadia", "Pixel Hearts (Single)", "Synthwave", "2020",
             f"https://open.spotify.com/track/{album_id(1, 41)}?si=0f9e8d7c6b5a4"),
        16: ("Hollow Pines", "Campfire Demos", "Folk", "2010", "https://spotify.link/aB3dE5fG7h"),
        22: ("Volta Kings", "Amplifier Gospel", "Hard Rock", "19x5",
             f"https://open.spotify.com/album/{album_id(1, 42)}"),
        27: ("Saltwater Choir", "Low Tide Hymns", "Folk", "2009", f"spotify:album:{ids[1]}"),
        31: ("Glass Orchard", "Paper Lanterns", "Indie Folk", "2016", ""),
        35: ("Unmapped Signal", "Not In The Sandbox", "Electronic", "2021",
             f"https://open.spotify.com/album/{album_id(99, 0)}"),
        38: ("", "", "", "", ""),
    }  # fmt: skip
    # Insert from the end so earlier positions stay where the comments say.
    for position in sorted(odd_rows, reverse=True):
        rows.insert(position, odd_rows[position])
    return rows


def render(rows: list[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return "\ufeff".encode() + buffer.getvalue().encode()


def main(argv: list[str]) -> None:
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(render(sample_rows()))
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
