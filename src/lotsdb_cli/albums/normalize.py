"""The normalized artist+title key that identifies an album without a Spotify id."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
_KEY_SEPARATOR = "\x1f"


def normalize_text(text: str) -> str:
    """Lower-case words, no accents or punctuation: `Beyoncé: Lemonade!` -> `beyonce lemonade`."""
    if not text.isascii():  # ASCII has nothing to decompose (and this runs for every imported row)
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    folded = text.casefold().replace("&", " and ")
    words = _WORD.findall(folded)
    # A name made only of punctuation (the band `!!!`) keeps its characters rather than vanish.
    return " ".join(words) if words else " ".join(folded.split())


def norm_key(artist: str | None, title: str) -> str:
    """The key two spreadsheet rows share when they name the same album."""
    return f"{normalize_text(artist or '')}{_KEY_SEPARATOR}{normalize_text(title)}"
