"""Options and rendering shared by the command modules."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lotsdb_cli.cli.params import TextOption

if TYPE_CHECKING:
    from lotsdb_cli.env import Environment
    from lotsdb_cli.output import OutputTarget


MAX_ID = 2**31 - 1  # the contracts' ids are int32: a larger one is a usage error, never a request


class Format(enum.StrEnum):
    """The formats every list/show command writes (SPEC §4); a choice the parser checks."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


class DumpFormat(enum.StrEnum):
    """The formats of `lots dump` (a table of every lot would be no use)."""

    jsonl = "jsonl"
    json = "json"
    csv = "csv"


def help_with_examples(summary: str, *examples: str) -> str:
    """A group's help: its summary, then example command lines that Click must not re-wrap (`\\b`)."""
    lines = "\n".join(f"    {example}" for example in examples)
    return f"{summary}\n\nExamples:\n\n\b\n{lines}"


FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format", "-f", case_sensitive=False, help="Output format [default: table on a terminal, else json]."
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers", "-w", min=1, max=256, metavar="N", help="Most requests in flight (the tool adapts below this)."
    ),
]
ArtistOption = Annotated[str | None, TextOption(help="Only albums whose artist contains this text (any case).")]
GenreOption = Annotated[str | None, TextOption(help="Only albums whose genre (the spreadsheet's) contains this text.")]
LimitOption = Annotated[int | None, typer.Option("--limit", "-n", min=1, metavar="N", help="At most this many items.")]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE instead of stdout (- is stdout): a file is replaced atomically, keeping its mode;"
        " a FIFO or device is written directly.",
    ),
]


def output_targets(ctx: typer.Context, *outputs: str | None, inputs: Iterable[str | None] = ()) -> list[OutputTarget]:
    """Check a command's outputs before it reads or writes anything; exit 2 for one that is a
    directory, one of `inputs`, another output, or one of the tool's own files (database, HTTP
    cache, token file). Pass the targets to `open_output`."""
    from lotsdb_cli.cli.state import get_state
    from lotsdb_cli.output import check_outputs, own_files

    return check_outputs(outputs, inputs=inputs, protected=own_files(get_state(ctx).settings))


def emit_list(
    ctx: typer.Context,
    records: Iterable[Mapping[str, Any]],
    fmt: str | None,
    columns: Sequence[str] | None = None,
    row: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> int:
    """Write records to the command's stdout (see `write_list`)."""
    from lotsdb_cli.cli.state import get_state

    state = get_state(ctx)
    return write_list(records, fmt, columns, row, env=state.env)


def emit_object(ctx: typer.Context, record: Mapping[str, Any], fmt: str | None) -> None:
    """Write one object to the command's stdout (see `write_object`)."""
    from lotsdb_cli.cli.state import get_state

    write_object(record, fmt, env=get_state(ctx).env)


def write_list(
    records: Iterable[Mapping[str, Any]],
    fmt: str | None,
    columns: Sequence[str] | None = None,
    row: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
    *,
    env: Environment,
) -> int:
    """Write records to `env.stdout` as they come. JSON keeps the API's objects (indented on a
    terminal); table/csv show `columns` of `row(record)`, or every flattened field without
    `columns`; a table fits the terminal's width (as records when a grid cannot)."""
    from lotsdb_cli.output import RecordWriter, open_output, resolve_format

    chosen = resolve_format(fmt, env=env)
    if chosen in ("table", "csv") and columns is not None:
        records = (_pick(row(record) if row else record, columns) for record in records)
    else:
        columns = None
    width = env.columns if chosen == "table" else None
    with open_output(None, stdout=env.stdout) as stream:
        writer = RecordWriter(stream, chosen, columns, width=width, pretty=env.stdout_isatty)
        for record in records:
            writer.write(record)
        writer.close()
    return writer.count


def write_object(record: Mapping[str, Any], fmt: str | None, *, env: Environment) -> None:
    """One object: JSON as is (indented on a terminal), one JSONL line, one flattened CSV row, or a
    field/value view whose lists of objects follow as tables."""
    from lotsdb_cli.output import dumps, flatten, open_output, pretty, resolve_format, write_fields, write_records

    chosen = resolve_format(fmt, env=env)
    with open_output(None, stdout=env.stdout) as stream:
        if chosen == "json":
            stream.write((pretty(record) if env.stdout_isatty else dumps(record)) + "\n")
        elif chosen == "jsonl":
            stream.write(dumps(record) + "\n")
        elif chosen == "csv":
            write_records([flatten(record)], "csv", stream)
        else:
            write_fields(stream, record, width=env.columns)
        stream.flush()


def _pick(record: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    return {column: record.get(column) for column in columns}
