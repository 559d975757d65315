"""Where an output goes: the `-o` rules of SPEC §4, checked before a command reads or writes anything.

- `-` (or no `-o`) is stdout.
- A regular file, or a missing one, is written atomically: a temporary file in the same directory,
  renamed over the name on success, with the existing file's mode (and owner, where allowed).
- A symlink is followed: its target is replaced that way and the link stays.
- A FIFO or a character device, and `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, are written to
  directly, streaming, with no temporary file.
- A directory, a block device, a socket, an input of the same command and the tool's own files
  (album database, HTTP cache, token file, with their SQLite companions) are refused: `OutputRefused`,
  exit 2.

Write errors (full disk, I/O error, read-only file system...) become an `OutputError` naming the
output; an interrupted write leaves nothing under the name and no temporary file.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

from lotsdb_cli.errors import OutputError, OutputRefused
from lotsdb_cli.output.writing import atomic_file, direct_stream, named_stream

if TYPE_CHECKING:
    from lotsdb_cli.config import Settings

STDOUT = "-"
# Files SQLite keeps beside a database: writing over one corrupts the database as surely as the file itself.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")

PathArg = str | os.PathLike[str]


class Kind(enum.Enum):
    """How an output is written."""

    STDOUT = "stdout"  # `-`: the process's standard output
    DESCRIPTOR = "descriptor"  # /dev/stdout, /dev/fd/N: a file the process already has open, written where it stands
    STREAM = "stream"  # a FIFO or a character device, opened and written directly
    FILE = "file"  # a regular or missing file, replaced atomically


@dataclass(frozen=True)
class OutputTarget:
    """One output of a command, classified by `output_target` (or `check_outputs`)."""

    path: str  # as the user gave it; "-" for stdout
    kind: Kind
    real_path: Path | None = None  # the file written, symlinks followed (FILE and STREAM)
    descriptor: int | None = None  # DESCRIPTOR only
    identity: tuple[int, int] | None = None  # (st_dev, st_ino) of a regular file already there

    @property
    def atomic(self) -> bool:
        """Written to a temporary file renamed into place (else streamed as it is written)."""
        return self.kind is Kind.FILE

    @property
    def is_stdout(self) -> bool:
        return self.kind is Kind.STDOUT or (self.kind is Kind.DESCRIPTOR and self.descriptor == 1)

    def __str__(self) -> str:
        return "standard output" if self.kind is Kind.STDOUT else self.path


class ProtectedFile(NamedTuple):
    """A file no output may be written over, and what to call it in the refusal."""

    label: str
    path: PathArg


RUN_LOG_NAME = "cache_runs.jsonl"  # http/runlog.py's file (not imported: the HTTP layer is not loaded for -o)
PAUSES_NAME = "pauses.json"  # http/pauses.py's


def own_files(settings: Settings) -> list[ProtectedFile]:
    """The tool's own files, which no `-o` may name (their SQLite companions are implied)."""
    files = [ProtectedFile("the album database", settings.db_path)]
    if "://" not in settings.cache_location:  # a Redis URL is no file
        files.append(ProtectedFile("the HTTP cache", settings.cache_location))
    files.append(ProtectedFile("the token file", settings.token_path))
    files.append(ProtectedFile("the configuration file", settings.config_path))
    files.append(ProtectedFile("the run log", settings.home / RUN_LOG_NAME))
    files.append(ProtectedFile("the run log's lock file", settings.home / f".{RUN_LOG_NAME}.lock"))
    files.append(ProtectedFile("the record of servers' waits", settings.home / PAUSES_NAME))
    return files


def output_target(path: PathArg | None) -> OutputTarget:
    """Classify one output path by what is there now; refuse what must not be written.

    Raises `OutputRefused` (exit 2) for a directory, a block device or a socket, and `OutputError`
    (exit 1) when the path cannot be written at all (its directory is missing, a symlink loop).
    """
    if path is None or os.fspath(path) == STDOUT:
        return OutputTarget(STDOUT, Kind.STDOUT)
    given = os.fspath(path)
    if not given:
        raise OutputRefused("an output path cannot be empty", hint="use - for standard output")
    descriptor = _descriptor_path(given)
    if descriptor is not None:
        with contextlib.suppress(OSError):
            info = os.fstat(descriptor)
            return OutputTarget(given, Kind.DESCRIPTOR, descriptor=descriptor, identity=_regular_identity(info))
    if given.endswith(("/", os.sep)) and descriptor is None:
        # `out/` names a directory, as a shell's `>` reads it: never a file called `out`.
        raise OutputRefused(f"cannot write {given}: it names a directory", hint="give a file name, or -")
    real = Path(os.path.realpath(given))
    try:
        info = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):
        _check_directory(given, real.parent)
        _check_writable(given, None, real.parent)
        return OutputTarget(given, Kind.FILE, real_path=real)
    except OSError as exc:
        raise OutputError(f"cannot write {given}: {exc.strerror or exc}") from None
    if stat.S_ISREG(info.st_mode):
        _check_writable(given, real, real.parent)
        return OutputTarget(given, Kind.FILE, real_path=real, identity=_regular_identity(info))
    if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
        return OutputTarget(given, Kind.STREAM, real_path=real)
    what = "a directory" if stat.S_ISDIR(info.st_mode) else _kind_name(info.st_mode)
    raise OutputRefused(f"cannot write {given}: it is {what}", hint="give a file name, or - for standard output")


def check_outputs(
    outputs: Iterable[PathArg | OutputTarget | None],
    *,
    inputs: Iterable[PathArg | None] = (),
    protected: Iterable[ProtectedFile | PathArg] = (),
) -> list[OutputTarget]:
    """Classify a command's outputs and refuse, before anything is read or written, any output that is:

    a directory (see `output_target`), one of `inputs` (`-` is stdin; URLs are skipped), one of
    `protected` or the SQLite companions of one, or the same file as another output. Paths are
    compared after following symlinks and by (st_dev, st_ino), so links of either kind are caught.
    Returns the targets in order (None and `-` are stdout), for `open_output`.
    """
    targets = [item if isinstance(item, OutputTarget) else output_target(item) for item in outputs]
    claimed: list[tuple[_File, str]] = []  # files already spoken for, and what they are
    for source in inputs:
        input_file = _input_file(source)
        if input_file is not None:
            name = os.fspath(source or STDOUT)
            claimed.append((input_file, f"the input {name}" + (" (standard input)" if name == STDOUT else "")))
    for item in protected:
        label, path = item if isinstance(item, ProtectedFile) else ("a file lotsdb uses", item)
        claimed.append((_file(os.fspath(path)), f"{label} ({os.fspath(path)})"))
        for suffix in SQLITE_COMPANIONS:
            # SQLite names its companions after the path it opened, which may be a symlink's target.
            for name in {os.fspath(path) + suffix, os.path.realpath(path) + suffix}:
                claimed.append((_file(name), f"the {suffix} file of {label} ({os.fspath(path)})"))
    for target in targets:
        written = _written_file(target)
        if written is None:
            continue
        for other, what in claimed:
            if written.same_as(other):
                what = what.replace(f" ({target.path})", "")  # no need to name it twice
                raise OutputRefused(
                    f"refusing to write {target.path}: it is {what}", hint="choose another file name for the output"
                )
        claimed.append((written, f"another output ({target.path})"))
    return targets


@contextlib.contextmanager
def open_output(target: PathArg | OutputTarget | None, *, stdout: IO[str] | None = None) -> Iterator[IO[str]]:
    """A text stream for one output, written by the rules of `output_target`.

    A regular or missing file is written to a temporary file renamed into place when the block
    ends without an exception. If it raises (an error, Ctrl-C, any BaseException), the temporary
    file is removed, nothing appears under the name and an existing file is left as it was. A
    process killed outright (kill -9, power loss) cannot remove its temporary file: the next run
    for the same name does. Write errors on any output become an `OutputError` naming it.
    """
    given = target.path if isinstance(target, OutputTarget) else target
    current = output_target(given)  # what is there now, which may have changed since the check
    if current.kind is Kind.STDOUT or (current.kind is Kind.DESCRIPTOR and current.descriptor == 1):
        yield named_stream(stdout or sys.stdout, str(current))
        return
    if current.kind is Kind.DESCRIPTOR and current.descriptor == 2:
        yield named_stream(sys.stderr, current.path)
        return
    if current.kind is Kind.FILE:
        with atomic_file(current) as stream:
            yield stream
        return
    with direct_stream(current) as stream:
        yield stream


# Identities


@dataclass(frozen=True)
class _File:
    real: str | None  # the path with symlinks followed; None for an open descriptor
    identity: tuple[int, int] | None  # (st_dev, st_ino) when it exists

    def same_as(self, other: _File) -> bool:
        if self.real is not None and self.real == other.real:
            return True
        return self.identity is not None and self.identity == other.identity


def _file(path: str) -> _File:
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except OSError:
        return _File(real, None)
    return _File(real, (info.st_dev, info.st_ino))


def _written_file(target: OutputTarget) -> _File | None:
    """The file an output would overwrite: regular or missing files only (a FIFO or a device is not clobbered)."""
    if target.kind is Kind.FILE and target.real_path is not None:
        return _File(str(target.real_path), target.identity)
    if target.kind is Kind.DESCRIPTOR and target.identity is not None:
        return _File(None, target.identity)
    return None


def _input_file(source: PathArg | None) -> _File | None:
    if source is None:
        return None
    text = os.fspath(source)
    if text == STDOUT:  # stdin; redirected from a file (`< a.csv`), that file is the input
        with contextlib.suppress(AttributeError, ValueError, OSError):
            identity = _regular_identity(os.fstat(sys.stdin.fileno()))
            return _File(None, identity) if identity else None
        return None
    if _URL.match(text):
        return None
    return _file(text)


def _regular_identity(info: os.stat_result) -> tuple[int, int] | None:
    return (info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Names of descriptors the process already has open: written where they stand, so that
# `-o /dev/stdout >> log` appends to `log` instead of replacing it.
_DESCRIPTOR_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd|proc/(?P<pid>\d+)/fd)/(?P<fd>\d+)$")
_STANDARD_STREAMS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def _descriptor_path(given: str) -> int | None:
    path = os.path.normpath(os.path.abspath(given))
    if path in _STANDARD_STREAMS:
        return _STANDARD_STREAMS[path]
    match = _DESCRIPTOR_PATH.match(path)
    if match is None or (match["pid"] is not None and int(match["pid"]) != os.getpid()):
        return None
    return int(match["fd"])


def _check_directory(given: str, directory: Path) -> None:
    if directory.is_dir():
        return
    problem = "is not a directory" if directory.exists() else "does not exist"
    raise OutputError(f"cannot write {given}: {directory} {problem}")


def _check_writable(given: str, existing: Path | None, directory: Path) -> None:
    """As `>` would: a file we may not write is not replaced, though its directory would allow it;
    and the directory must take the temporary file that is renamed over the name."""
    with contextlib.suppress(OSError):
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            raise OutputError(f"cannot write {given}: {os.strerror(errno.EROFS)}")
    effective = os.access in os.supports_effective_ids
    if existing is not None and not os.access(existing, os.W_OK, effective_ids=effective):
        raise OutputError(f"cannot write {given}: Permission denied")
    if not os.access(directory, os.W_OK | os.X_OK, effective_ids=effective):
        raise OutputError(
            f"cannot write {given}: Permission denied in {directory}",
            hint="the file is written beside its name and renamed over it, so its directory must be writable",
        )


def _kind_name(mode: int) -> str:
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# Writing
