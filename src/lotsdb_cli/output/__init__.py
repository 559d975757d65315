"""Everything a command writes as data, in one place.

- `formats`: the formats (table, json, jsonl, csv), choosing one, and writing records in it.
- `table`: list tables that stream and fit the terminal (wrapped, or as records), and field/value views.
- `text`: how wide text is on a terminal, and wrapping it to a width without cutting anything.
- `values`: how a single value becomes JSON, a CSV cell or a table cell.
- `targets`: where an output goes (`-o` rules), checked before anything is read or written.
- `writing`: writing it, atomically to a file or straight to a FIFO, a device or stdout.
"""

from __future__ import annotations

from lotsdb_cli.output.formats import (
    EXTENSION_FORMATS,
    FORMATS,
    RecordWriter,
    format_for,
    format_from_name,
    resolve_format,
    write_records,
)
from lotsdb_cli.output.table import SAMPLE_ROWS, TableWriter, render_table, write_fields
from lotsdb_cli.output.targets import (
    SQLITE_COMPANIONS,
    Kind,
    OutputTarget,
    ProtectedFile,
    check_outputs,
    open_output,
    output_target,
    own_files,
)
from lotsdb_cli.output.text import display_width, wrap
from lotsdb_cli.output.values import cell_text, dumps, flatten, pretty, spreadsheet_safe, terminal_safe
from lotsdb_cli.output.writing import PART_SUFFIX

__all__ = [
    "EXTENSION_FORMATS",
    "FORMATS",
    "PART_SUFFIX",
    "SAMPLE_ROWS",
    "SQLITE_COMPANIONS",
    "Kind",
    "OutputTarget",
    "ProtectedFile",
    "RecordWriter",
    "TableWriter",
    "cell_text",
    "check_outputs",
    "display_width",
    "dumps",
    "flatten",
    "format_for",
    "format_from_name",
    "open_output",
    "output_target",
    "own_files",
    "pretty",
    "render_table",
    "resolve_format",
    "spreadsheet_safe",
    "terminal_safe",
    "wrap",
    "write_fields",
    "write_records",
]
