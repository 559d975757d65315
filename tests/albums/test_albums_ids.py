from __future__ import annotations

import pytest

from lotsdb_cli.albums import SpotifyIdError, extract_album_id, is_album_id
from lotsdb_cli.errors import LotsdbError
from lotsdb_cli.sandbox.albumids import album_id

ID = album_id(1, 0)


@pytest.mark.parametrize(
    "text",
    [
        ID,
        f"https://open.spotify.com/album/{ID}",
        f"https://open.spotify.com/album/{ID}?si=a1B2c3D4e5F6g7H8",
        f"https://open.spotify.com/intl-de/album/{ID}",
        f"https://open.spotify.com/intl-pt-BR/album/{ID}?si=x",
        f"spotify:album:{ID}",
        f"SPOTIFY:ALBUM:{ID}",
        f"https://play.spotify.com/album/{ID}",
        f"https://open.spotify.com/embed/album/{ID}",
        f"https://open.spotify.com/embed/album/{ID}?utm_source=generator&theme=0",
        f"https://open.spotify.com/album/{ID}/",
        f"https://open.spotify.com/album/{ID}//",
        f"  https://open.spotify.com/album/{ID}  ",
        f"\t{ID}\n",
        f"http://open.spotify.com/album/{ID}",
        f"open.spotify.com/album/{ID}",
        f"open.spotify.com/album/{ID}?si=abc",
        f"https://OPEN.SPOTIFY.COM/album/{ID}",
        f"https://www.open.spotify.com/album/{ID}",
        f"https://open.spotify.com/album/{ID}#tracks",
    ],
)
def test_every_form_yields_the_id(text: str) -> None:
    assert extract_album_id(text) == ID


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"https://open.spotify.com/track/{ID}?si=1", "is a track link, not an album"),
        (f"https://open.spotify.com/artist/{ID}", "is an artist link, not an album"),
        (f"https://open.spotify.com/playlist/{ID}", "is a playlist link, not an album"),
        (f"https://open.spotify.com/user/someone/playlist/{ID}", "is a playlist link"),
        (f"https://open.spotify.com/show/{ID}", "is a show link, not an album"),
        (f"https://open.spotify.com/episode/{ID}", "is an episode link, not an album"),
        (f"https://open.spotify.com/intl-fr/track/{ID}", "is a track link"),
        (f"spotify:track:{ID}", "is a track link, not an album"),
        (f"spotify:user:someone:playlist:{ID}", "is a playlist link"),
        ("https://spotify.link/aB3dE5fG7h", "short links cannot be resolved offline"),
        ("spotify.link/aB3dE5fG7h", "short links cannot be resolved offline"),
        ("https://spotify.app.link/xyz", "short links cannot be resolved offline"),
        (ID[:-1], "this has 21 characters"),
        (ID + "Q", "this has 23 characters"),
        (ID[:-1] + "-", "only letters A-Z, a-z and digits"),
        (f"https://open.spotify.com/album/{ID[:-2]}", "this has 20 characters"),
        (f"spotify:album:{ID}x", "this has 23 characters"),
        (f"https://www.youtube.com/watch?v={ID}", "not a Spotify link (host youtube.com)"),
        (f"https://music.apple.com/album/{ID}", "not a Spotify link"),
        (f"ftp://open.spotify.com/album/{ID}", "not a web link"),
        ("https://open.spotify.com/album/", "expected /album/ID"),
        ("https://open.spotify.com/", "expected /album/ID"),
        ("spotify:album", "expected spotify:album:ID"),
        ("", "empty"),
        ("   ", "empty"),
        ("Abbey Road", "is not a Spotify album id or link"),
    ],
)
def test_rejections_say_why(text: str, reason: str) -> None:
    with pytest.raises(SpotifyIdError) as caught:
        extract_album_id(text)
    assert reason in str(caught.value)
    assert isinstance(caught.value, LotsdbError)
    assert "\n" not in str(caught.value)


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(SpotifyIdError) as caught:
        extract_album_id("x" * 5000)
    assert len(str(caught.value)) < 250


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ID, True),
        (ID[:-1], False),
        (f" {ID}", False),
        (f"spotify:album:{ID}", False),
        ("0" * 22, True),
        ("é" * 22, False),
        ("", False),
    ],
)
def test_is_album_id(text: str, expected: bool) -> None:
    assert is_album_id(text) is expected
