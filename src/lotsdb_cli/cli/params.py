"""Parameter types for the command line: a bad value is refused by the parser, as a usage error (exit 2).

Typer takes a custom type as `parser=` and shows `metavar=` in `--help`; the `*Option` factories set
both. The parser converts defaults too, so a duration option may default to its text:

    max_age: Annotated[float, DurationOption("--max-age", help="Refetch older metadata.")] = DurationDefault("30d")
    assignments: Annotated[list[str], FieldAssignmentOption("--set", "-s", help="FIELD=VALUE; repeatable.")]

A duration arrives in the command as seconds (a float); a field assignment as its `FIELD=VALUE` text,
checked against the lot's fields and their types.
"""

from __future__ import annotations

from typing import Any

import typer

from lotsdb_cli.config import InvalidValue, parse_value, redact_url
from lotsdb_cli.durations import DurationError, parse_duration


class Duration:
    """`600`, `90s`, `10m`, `2h`, `1d`, `1w` -> seconds (a float)."""

    metavar = "DURATION"

    def __call__(self, value: str | float) -> float:
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise typer.BadParameter(f"{exc.message}; {exc.hint}") from None


class Seconds:
    """A finite number of seconds in [low, high]: `nan` and `inf` would disable a deadline or a limit."""

    metavar = "SECONDS"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def __call__(self, value: str | float) -> float:
        try:
            seconds = float(value)
        except ValueError:
            raise typer.BadParameter(f"not a number of seconds: {value!r}") from None
        if not self.low <= seconds <= self.high:  # false for nan too
            raise typer.BadParameter(f"{value!r} is not a number of seconds from {self.low:g} to {self.high:g}")
        return seconds


class WholeNumber:
    """A whole number in [low, high], said in the help as words (Click's `0<=x<=100` reads as code)."""

    metavar = "N"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def __call__(self, value: str | int) -> int:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or not self.low <= int(text) <= self.high:
            raise typer.BadParameter(f"{value!r} is not a whole number from {self.low} to {self.high}")
        return int(text)


class DurationDefault(float):
    """A duration default: seconds that `--help` shows as written (`[default: 30d]`)."""

    text: str

    def __new__(cls, text: str) -> DurationDefault:
        seconds = super().__new__(cls, parse_duration(text))
        seconds.text = text
        return seconds

    def __str__(self) -> str:
        return self.text


def utf8_text(value: str) -> str:
    """`value` if it is text; bytes that are not UTF-8 (which Python keeps as lone surrogates) are refused."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise typer.BadParameter(f"not UTF-8 text: {value.encode('utf-8', 'surrogateescape')!r}") from None
    return value


class Text:
    """Any text, as long as it is text: a search word, a glob, a host name."""

    metavar = "TEXT"

    def __call__(self, value: str) -> str:
        return utf8_text(value)


class FieldAssignment:
    """`FIELD=VALUE` (the value may be empty or contain `=`), a lot field and a value of its type;
    returned unchanged (the command converts it again, with every assignment at hand)."""

    metavar = "FIELD=VALUE"

    def __call__(self, value: str) -> str:
        from lotsdb_cli.errors import UsageError
        from lotsdb_cli.lots import parse_assignment

        try:
            parse_assignment(utf8_text(value))
        except UsageError as exc:
            raise typer.BadParameter(f"{exc.message}" + (f"; {exc.hint}" if exc.hint else "")) from None
        return value


class AlbumRef:
    """A local album id, a Spotify album id, or a Spotify album link or URI; returned unchanged."""

    metavar = "ALBUM"

    def __call__(self, value: str) -> str:
        from lotsdb_cli.albums.ids import SpotifyIdError, extract_album_id
        from lotsdb_cli.albums.queries import local_album_id

        if local_album_id(value) is not None:
            if local_album_id(value) == 0:
                raise typer.BadParameter("local album ids start at 1")
            return value
        try:
            extract_album_id(value)
        except SpotifyIdError as exc:
            raise typer.BadParameter(f"{exc}; use a local id, a Spotify id or a Spotify album URL") from None
        return value


class CacheLocation:
    """A SQLite file path, or a redis://, rediss:// or unix:// URL (as `LOTSDB_CACHE` accepts)."""

    metavar = "PATH|URL"

    def __call__(self, value: str) -> str:
        try:
            return str(parse_value("cache", value))
        except InvalidValue as exc:
            raise typer.BadParameter(f"{exc.problem}: {redact_url(value)!r}; {exc.accepted}") from None


def DurationOption(*param_decls: str, **options: Any) -> Any:
    """`typer.Option(...)` taking a DURATION."""
    return typer.Option(*param_decls, parser=Duration(), metavar=Duration.metavar, **options)


def SecondsOption(*param_decls: str, low: float, high: float, **options: Any) -> Any:
    """`typer.Option(...)` taking a finite number of seconds from `low` to `high` (said in its help)."""
    options["help"] = f"{options.get('help', '').rstrip('.')} ({low:g} to {high:g} seconds)."
    return typer.Option(*param_decls, parser=Seconds(low, high), metavar=Seconds.metavar, **options)


def TextOption(*param_decls: str, metavar: str = Text.metavar, **options: Any) -> Any:
    """`typer.Option(...)` taking TEXT (UTF-8; shown as `metavar`)."""
    return typer.Option(*param_decls, parser=Text(), metavar=metavar, **options)


def AlbumArgument(**options: Any) -> Any:
    """`typer.Argument(...)` taking an ALBUM reference."""
    return typer.Argument(parser=AlbumRef(), metavar=AlbumRef.metavar, **options)


def AlbumOption(*param_decls: str, **options: Any) -> Any:
    """`typer.Option(...)` taking an ALBUM reference (repeatable when annotated as a list)."""
    return typer.Option(*param_decls, parser=AlbumRef(), metavar=AlbumRef.metavar, **options)


def WholeNumberOption(*param_decls: str, low: int, high: int, **options: Any) -> Any:
    """`typer.Option(...)` taking a whole number from `low` to `high` (said in its help)."""
    options["help"] = f"{options.get('help', '').rstrip('.')} ({low} to {high})."
    return typer.Option(*param_decls, parser=WholeNumber(low, high), metavar=WholeNumber.metavar, **options)


def FieldAssignmentOption(*param_decls: str, **options: Any) -> Any:
    """`typer.Option(...)` taking FIELD=VALUE (repeatable when annotated as a list)."""
    return typer.Option(*param_decls, parser=FieldAssignment(), metavar=FieldAssignment.metavar, **options)


class OptionConflict(typer.BadParameter):
    """Options that cannot be given together: a usage error (exit 2) that names them."""

    def format_message(self) -> str:
        return self.message


def exclusive(ctx: typer.Context, **flags: bool) -> None:
    """Refuse more than one of the given flags (`no_cache=True` is `--no-cache`) with an `OptionConflict`."""
    given = ["--" + name.replace("_", "-") for name, on in flags.items() if on]
    if len(given) > 1:
        named = " and ".join([", ".join(given[:-1]), given[-1]])
        raise OptionConflict(f"{named} cannot be combined", ctx=ctx)


def given_on_command_line(ctx: typer.Context) -> dict[str, Any]:
    """The parameters of `ctx`'s command that were given on the command line (not defaulted), by name."""
    return {
        name: value
        for name, value in ctx.params.items()
        if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"
    }
