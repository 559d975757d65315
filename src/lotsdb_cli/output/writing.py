"""Writing an output: straight to a stream (stdout, a FIFO, a device), or atomically to a file.

An atomic write goes to `.NAME.PID.RANDOM.part` beside the file, fsynced, then renamed over the
name, keeping the existing file's mode (and owner, where allowed); an exception removes the
temporary file. Write errors become an `OutputError` naming the output; a reader that went away
(`| head`) is `ReaderGone`, which the command-line tool ends quietly.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from lotsdb_cli.errors import OutputError

if TYPE_CHECKING:
    from lotsdb_cli.output.targets import OutputTarget

PART_SUFFIX = ".part"


class ReaderGone(BrokenPipeError):
    """The reader of an output went away (`| head`, a FIFO's reader): the command ends quietly, exit 0.

    A BrokenPipeError without an errno, because Typer turns an OSError whose errno is EPIPE into
    exit 1, where SPEC §6 wants a closed stdout to end the command with 0.
    """


class _NamedStream:
    """A text stream whose write errors name the output (`cannot write lots.csv: No space left on device`)."""

    def __init__(self, stream: IO[str], name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise self._error(exc) from exc

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise self._error(exc) from exc

    def _error(self, exc: OSError) -> BaseException:
        if isinstance(exc, BrokenPipeError):
            return exc if isinstance(exc, ReaderGone) else ReaderGone(f"the reader of {self._name} went away")
        return write_error(self._name, exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def named_stream(stream: IO[str], name: str) -> IO[str]:
    return cast(IO[str], _NamedStream(stream, name))


def write_error(name: str, exc: OSError) -> OutputError:
    """The one-line error for a failed write to an output."""
    return OutputError(f"cannot write {name}: {exc.strerror or exc}")


@contextlib.contextmanager
def direct_stream(target: OutputTarget) -> Iterator[IO[str]]:
    """A FIFO, a device or an open descriptor: no temporary file; what is written is gone."""
    try:
        if target.descriptor is not None:  # /dev/stdout, /dev/fd/N: the descriptor already open
            stream = os.fdopen(os.dup(target.descriptor), "w", encoding="utf-8", newline="")
        else:
            stream = open(str(target.real_path), "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise write_error(target.path, exc) from exc
    named = named_stream(stream, target.path)
    try:
        yield named
        named.flush()
    finally:
        with contextlib.suppress(OSError):  # a failed flush was reported already (or an error is on its way)
            stream.close()


@contextlib.contextmanager
def atomic_file(target: OutputTarget) -> Iterator[IO[str]]:
    assert target.real_path is not None
    final = target.real_path
    _remove_abandoned_parts(final.parent, final.name)
    existing = _stat_or_none(final)
    descriptor, temp_name = _create_part(target.path, final, existing)
    stream = os.fdopen(descriptor, "w", encoding="utf-8", newline="")
    try:
        if existing is not None:
            try:
                _copy_owner_and_mode(descriptor, existing)
            except OSError as exc:
                raise write_error(target.path, exc) from exc
        yield named_stream(stream, target.path)
        try:
            stream.flush()
            _fsync(descriptor)
            stream.close()
            os.replace(temp_name, final)
        except OSError as exc:
            raise write_error(target.path, exc) from exc
        _sync_directory(final.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            stream.close()
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _create_part(given: str, final: Path, existing: os.stat_result | None) -> tuple[int, str]:
    """A new temporary file beside `final`. A new output gets the mode any program's new file gets
    (0666 less the umask, applied by the kernel); a replaced one starts private and is given the
    existing file's mode before anything is written."""
    mode = 0o600 if existing is not None else 0o666
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temp_name = str(final.parent / f"{_part_prefix(final.name)}{secrets.token_hex(4)}{PART_SUFFIX}")
        try:
            return os.open(temp_name, flags, mode), temp_name
        except FileExistsError:
            continue
        except OSError as exc:
            raise write_error(given, exc) from exc
    raise OutputError(f"cannot write {given}: no free temporary file name in {final.parent}")


def _copy_owner_and_mode(descriptor: int, existing: os.stat_result) -> None:
    """The replacement keeps the replaced file's owner and group where allowed (root; a group of
    ours), and its mode; set-id bits only when the owner could be kept."""
    mode = stat.S_IMODE(existing.st_mode)
    mine = os.fstat(descriptor)
    if (mine.st_uid, mine.st_gid) != (existing.st_uid, existing.st_gid):
        for uid in (existing.st_uid, -1):
            with contextlib.suppress(PermissionError):
                os.fchown(descriptor, uid, existing.st_gid)
                break
        mine = os.fstat(descriptor)
        if (mine.st_uid, mine.st_gid) != (existing.st_uid, existing.st_gid):
            mode &= ~(stat.S_ISUID | stat.S_ISGID)
    os.fchmod(descriptor, mode)


def _fsync(descriptor: int) -> None:
    """The data on disk before the rename, so a crash leaves the old file or the new one, not an empty one.
    A file system that cannot sync (EINVAL, ENOTSUP) is written all the same; a failing one (EIO) is an error."""
    try:
        os.fsync(descriptor)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; best effort (not every file system lets a directory be synced)."""
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _part_stem(name: str) -> str:
    """`name` as temporary files show it: a name near the file system's limit (255 bytes) is cut,
    with a hash of the whole, so `.NAME.PID.RANDOM.part` still fits."""
    if len(name.encode("utf-8", "surrogateescape")) <= _LONGEST_STEM:
        return name
    cut = name.encode("utf-8", "surrogateescape")[: _LONGEST_STEM - 9].decode("utf-8", "ignore")
    return f"{cut}~{hashlib.sha1(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


_LONGEST_STEM = 200  # bytes; the rest of a temporary file's name takes at most 34


def _part_prefix(name: str, pid: int | None = None) -> str:
    """Temporary files are `.NAME.PID.RANDOM.part`: the pid tells whether their writer still runs."""
    return f".{_part_stem(name)}.{os.getpid() if pid is None else pid}."


def _remove_abandoned_parts(directory: Path, name: str) -> None:
    """Delete temporary files for `name` left by runs whose process is gone (exactly
    `.NAME.PID.RANDOM.part`: `.out.2024.PID.RANDOM.part` belongs to `out.2024`, not to `out`)."""
    prefix = f".{_part_stem(name)}."
    exact = re.compile(re.escape(prefix) + r"(\d+)\.[0-9a-f]{8}" + re.escape(PART_SUFFIX))
    for part in directory.glob(f"{glob.escape(prefix)}*{PART_SUFFIX}"):
        match = exact.fullmatch(part.name)
        if match is not None and not _process_alive(int(match[1])):
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
