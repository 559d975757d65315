"""Options and rendering shared by the command modules."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any

import typer

FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", help="table, json, jsonl or csv (default: table on a terminal, else json)."),
]
LimitOption = Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most this many items.")]


def emit_list(
    records: Iterable[Mapping[str, Any]],
    fmt: str | None,
    columns: Sequence[str] | None = None,
    row: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> int:
    """Write records to stdout. JSON keeps the API's objects; table/csv show `columns` of `row(record)`."""
    from lotsdb_cli.output import resolve_format, write_records

    chosen = resolve_format(fmt)
    if chosen in ("table", "csv") and columns is not None:
        flat = (_pick(row(record) if row else record, columns) for record in records)
        return write_records(flat, chosen, sys.stdout, columns)
    return write_records(records, chosen, sys.stdout)


def emit_object(record: Mapping[str, Any], fmt: str | None) -> None:
    """One object: JSON as is, or a field/value table (csv: one row)."""
    from lotsdb_cli.output import dumps, flatten, render_table, resolve_format, write_records

    chosen = resolve_format(fmt)
    if chosen == "json":
        import json

        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
    elif chosen == "jsonl":
        sys.stdout.write(dumps(record) + "\n")
    elif chosen == "csv":
        write_records([flatten(record)], "csv", sys.stdout)
    else:
        rows = [{"field": key, "value": value} for key, value in flatten(record).items()]
        sys.stdout.write(render_table(rows, ["field", "value"]))


def _pick(record: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    return {column: record.get(column) for column in columns}
