"""Text on a terminal: how wide it is, and wrapping it to a width without losing a character."""

from __future__ import annotations

import functools
import unicodedata

# A long word (a URL, a path, a variable name) is broken after one of these where it can be, the
# first group preferred: a path's directories, then a query's parameters, then parts of a name.
_BREAK_AFTER = ("/", "?&=#", "_-.:;,)]}")

_WIDE = frozenset("WF")


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK) characters count two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@functools.lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.combining(char) or char == "\u200b":
        return 0
    return 2 if unicodedata.east_asian_width(char) in _WIDE else 1


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def wrap(text: str, width: int | None) -> list[str]:
    """`text` on lines of at most `width` columns, nothing lost: words wrapped, a word longer than
    the width broken (after a `/`, `_`, `.`, `-`... where it can be). None: one line."""
    if width is None or display_width(text) <= width:
        return [text]
    width = max(width, 1)
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and display_width(line) + 1 + display_width(word) <= width:
            line += " " + word
            continue
        if line:
            lines.append(line)
        pieces = _break_word(word, width)
        lines.extend(pieces[:-1])
        line = pieces[-1]
    lines.append(line)
    return lines


def _break_word(word: str, width: int) -> list[str]:
    pieces: list[str] = []
    while display_width(word) > width:
        cut = _cut(word, width)
        pieces.append(word[:cut])
        word = word[cut:]
    return [*pieces, word]


def _cut(word: str, width: int) -> int:
    """Where to break a word too long for `width`: after the last separator of the most preferred
    kind that leaves at least half the width on the line, else at the width."""
    end = _prefix_fitting(word, width)
    for separators in _BREAK_AFTER:
        cut = max((index + 1 for index in range(end) if word[index] in separators), default=0)
        if cut and display_width(word[:cut]) * 2 >= width:
            return cut
    return end


def _prefix_fitting(word: str, width: int) -> int:
    """How many characters of `word` fit in `width` columns (at least one, so that wrapping ends)."""
    if word.isascii():
        return max(width, 1)
    used = 0
    for index, char in enumerate(word):
        used += _char_width(char)
        if used > width:
            return max(index, 1)
    return len(word)
