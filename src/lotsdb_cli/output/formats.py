"""The output formats, one place for every command: which exist, which one is meant, how records are written.

- `table`: aligned columns for people, fitted to the terminal (see `table`); flattened.
- `json`: an array of the API's own objects, streamed; indented on a terminal (as `gh` does), one compact
  object per line otherwise.
- `jsonl`: one compact object per line.
- `csv`: flattened (dotted names, lists as JSON text), a header row, cells safe to open in a spreadsheet.

The default is `table` when stdout is a terminal and `json` otherwise; an `-o` file's extension
(`.csv`, `.json`, `.jsonl`, `.ndjson`) picks its format unless `--format` is given.
"""

from __future__ import annotations

import csv
import os
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from lotsdb_cli.errors import UsageError
from lotsdb_cli.output.table import SAMPLE_ROWS, TableWriter
from lotsdb_cli.output.values import dumps, flatten, pretty, spreadsheet_safe

if TYPE_CHECKING:
    from lotsdb_cli.env import Environment

FORMATS = ("table", "json", "jsonl", "csv")
EXTENSION_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def resolve_format(requested: str | None, *, allowed: Sequence[str] = FORMATS, env: Environment | None = None) -> str:
    """The format to use: the one asked for, else `table` on a terminal and `json` otherwise.

    Raises `UsageError` for a format not in `allowed`.
    """
    if requested is None:
        requested = _default_format(allowed, _stdout_isatty(env))
    requested = requested.lower()
    if requested not in allowed:
        raise UsageError(f"unknown format {requested!r}; choose one of: {', '.join(allowed)}")
    return requested


def format_for(
    path: str | os.PathLike[str] | None,
    requested: str | None,
    default: str | None,
    *,
    allowed: Sequence[str] = FORMATS,
    env: Environment | None = None,
) -> str:
    """The format of an output: `--format` if given, else the file's extension, else `default`.

    A `default` of None means the usual choice (`table` on a terminal, `json` otherwise), judged
    by where the output goes: a file is not a terminal.
    """
    if requested is not None:
        return resolve_format(requested, allowed=allowed)
    by_name = format_from_name(path)
    if by_name is not None and by_name in allowed:
        return by_name
    if default is None and path is not None and os.fspath(path) != "-":
        return _default_format(allowed, isatty=False)
    return resolve_format(default, allowed=allowed, env=env)


def format_from_name(path: str | os.PathLike[str] | None) -> str | None:
    """The format a file name asks for (`lots.csv` -> csv), or None."""
    if path is None:
        return None
    return EXTENSION_FORMATS.get(os.path.splitext(os.fspath(path))[1].lower())


def _default_format(allowed: Sequence[str], isatty: bool) -> str:
    if isatty and "table" in allowed:
        return "table"
    return "json" if "json" in allowed else allowed[0]


def _stdout_isatty(env: Environment | None) -> bool:
    if env is not None:
        return env.stdout_isatty
    return _isatty(sys.stdout)


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class RecordWriter:
    """Writes records one at a time in a format, so long outputs stream.

    `columns` fixes the table/csv columns (records are then taken as they are); without it records
    are flattened and the columns are those of the first rows. `width` is what a table must fit
    (None: no limit). `pretty` indents JSON; None (the default) indents it when `stream` is a
    terminal, so every writer of a JSON array (lists, `lots dump`) is indented on a terminal and
    compact when piped or written to a file. A table too wide for its width shows its rows as
    records (see `table`): no column is left out.
    """

    def __init__(
        self,
        stream: IO[str],
        fmt: str,
        columns: Sequence[str] | None = None,
        *,
        width: int | None = None,
        pretty: bool | None = None,
    ) -> None:
        self.stream = stream
        self.fmt = fmt
        self.columns = list(columns) if columns else None
        self.pretty = _isatty(stream) if pretty is None else pretty
        self.count = 0
        self._table = TableWriter(stream, self.columns, width=width) if fmt == "table" else None
        self._csv: Any = None
        self._csv_quoted: Any = None
        self._csv_sample: list[Mapping[str, Any]] = []

    def write(self, record: Mapping[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.stream.write(dumps(record) + "\n")
        elif self.fmt == "json":
            self.stream.write("[\n" if self.count == 0 else ",\n")
            self.stream.write(textwrap.indent(pretty(record), "  ") if self.pretty else dumps(record))
        elif self.fmt == "csv":
            self._write_csv(flatten(record) if self.columns is None else record)
        elif self._table is not None:
            self._table.write(flatten(record) if self.columns is None else record)
        else:
            raise UsageError(f"unknown format {self.fmt!r}; choose one of: {', '.join(FORMATS)}")
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.fmt == "csv":
            self._start_csv()
        elif self._table is not None:
            self._table.close()
        self.stream.flush()

    def _write_csv(self, row: Mapping[str, Any]) -> None:
        if self._csv is not None:
            self._csv_row(row)
            return
        self._csv_sample.append(row)
        if self.columns is not None or len(self._csv_sample) >= SAMPLE_ROWS:
            self._start_csv()

    def _start_csv(self) -> None:
        if self._csv is not None:
            return
        if self.columns is None:
            self.columns = list(dict.fromkeys(key for row in self._csv_sample for key in row))
        self._csv = csv.writer(self.stream, lineterminator="\n")
        self._csv_quoted = csv.writer(self.stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
        if self.columns or self._csv_sample:
            self._csv.writerow(self.columns)
        for row in self._csv_sample:
            self._csv_row(row)
        self._csv_sample = []

    def _csv_row(self, row: Mapping[str, Any]) -> None:
        cells = [spreadsheet_safe(row.get(column)) for column in self.columns or ()]
        # The csv module quotes a cell holding "\n" but not one holding a lone "\r", which
        # every reader takes for the end of the row: such rows are written fully quoted.
        (self._csv_quoted if any("\r" in cell for cell in cells) else self._csv).writerow(cells)


def write_records(
    records: Iterable[Mapping[str, Any]],
    fmt: str,
    stream: IO[str] | None = None,
    columns: Sequence[str] | None = None,
    *,
    width: int | None = None,
    pretty: bool | None = None,
) -> int:
    """Write every record in `fmt`; returns how many."""
    writer = RecordWriter(stream or sys.stdout, fmt, columns, width=width, pretty=pretty)
    for record in records:
        writer.write(record)
    writer.close()
    return writer.count
