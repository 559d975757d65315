"""Output formats for records: table, json, jsonl, csv (one place for all commands)."""

from __future__ import annotations

import contextlib
import csv
import errno
import glob
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from lotsdb_cli.errors import OutputError, UsageError

FORMATS = ("table", "json", "jsonl", "csv")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def resolve_format(requested: str | None, *, allowed: Sequence[str] = FORMATS) -> str:
    """The format to use: the one asked for, else `table` on a terminal and `json` otherwise."""
    if requested is None:
        requested = "table" if sys.stdout.isatty() and "table" in allowed else "json"
    requested = requested.lower()
    if requested not in allowed:
        raise UsageError(f"unknown format {requested!r}; choose one of: {', '.join(allowed)}")
    return requested


def spreadsheet_safe(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings become dotted keys; lists become JSON text."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{name}."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            flat[name] = value
    return flat


def dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class RecordWriter:
    """Writes records one at a time in a format, so long outputs stream."""

    def __init__(self, stream: IO[str], fmt: str, columns: Sequence[str] | None = None) -> None:
        self.stream = stream
        self.fmt = fmt
        self.columns = list(columns) if columns else None
        self.count = 0
        self._csv: Any = None
        self._csv_quoted: Any = None
        self._table_rows: list[dict[str, Any]] = []

    def write(self, record: Mapping[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.stream.write(dumps(record) + "\n")
        elif self.fmt == "json":
            self.stream.write(("[\n" if self.count == 0 else ",\n") + json.dumps(record, ensure_ascii=False))
        elif self.fmt == "csv":
            row = flatten(record) if self.columns is None else dict(record)
            if self._csv is None:
                self.columns = self.columns or list(row)
                self._csv = csv.writer(self.stream, lineterminator="\n")
                self._csv_quoted = csv.writer(self.stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
                self._csv.writerow(self.columns)
            cells = [spreadsheet_safe(row.get(column)) for column in self.columns or ()]
            # The csv module quotes a cell holding "\n" but not one holding a lone "\r", which
            # every reader takes for the end of the row: such rows are written fully quoted.
            (self._csv_quoted if any("\r" in cell for cell in cells) else self._csv).writerow(cells)
        else:
            self._table_rows.append(flatten(record) if self.columns is None else dict(record))
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.fmt == "table":
            self.stream.write(render_table(self._table_rows, self.columns))
        self.stream.flush()


def write_records(
    records: Iterable[Mapping[str, Any]],
    fmt: str,
    stream: IO[str] | None = None,
    columns: Sequence[str] | None = None,
) -> int:
    writer = RecordWriter(stream or sys.stdout, fmt, columns)
    for record in records:
        writer.write(record)
    writer.close()
    return writer.count


# Control characters from API data must not reach a terminal: a line break would break the
# table, and an escape sequence could rewrite the screen or the window title.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _cell(value: Any, width: int = 48) -> str:
    text = "" if value is None else str(value)
    text = _CONTROL_CHARACTERS.sub(" ", text)
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Aligned plain-text columns; empty string for no rows."""
    if not rows:
        return "(none)\n"
    names = list(columns) if columns else list(_union_keys(rows))
    cells = [[_cell(row.get(name)) for name in names] for row in rows]
    widths = [max(len(name), *(len(line[i]) for line in cells)) for i, name in enumerate(names)]
    lines = ["  ".join(name.ljust(widths[i]) for i, name in enumerate(names)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend("  ".join(c.ljust(widths[i]) for i, c in enumerate(line)).rstrip() for line in cells)
    return "\n".join(lines) + "\n"


def _union_keys(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return iter(seen)


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """stdout, or a file written atomically: a temporary file renamed into place on success.

    If the block raises (an error, Ctrl-C), the temporary file is removed and nothing appears
    under `path`; an existing file there is left as it was. A process killed outright (kill -9,
    power loss) cannot remove its temporary file: the next run for the same `path` does.
    """
    if path is None or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        problem = "is not a directory" if directory.exists() else "does not exist"
        raise OutputError(f"cannot write {path}: {directory} {problem}")
    if target.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    _remove_abandoned_parts(directory, target.name)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=_part_prefix(target.name), suffix=PART_SUFFIX, dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.chmod(temp_name, 0o644 & ~_umask())
        os.replace(temp_name, target)
    except BaseException as exc:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


PART_SUFFIX = ".part"
# Errors writing the file itself (full disk, file size limit, quota, I/O, read-only, permissions).
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EACCES})


def _part_prefix(name: str, pid: int | None = None) -> str:
    """Temporary files are `.NAME.PID.RANDOM.part`: the pid tells whether their writer still runs."""
    return f".{name}.{os.getpid() if pid is None else pid}."


def _remove_abandoned_parts(directory: Path, name: str) -> None:
    """Delete temporary files for `name` left by runs whose process is gone."""
    prefix = f".{name}."
    for part in directory.glob(f"{glob.escape(prefix)}*{PART_SUFFIX}"):
        pid_text = part.name[len(prefix) :].split(".", 1)[0]
        if pid_text.isdigit() and not _process_alive(int(pid_text)):
            with contextlib.suppress(OSError):
                part.unlink()


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
