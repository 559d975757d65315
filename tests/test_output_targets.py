"""The `-o` rules (SPEC §4) on real files, links, FIFOs, sockets and device nodes made in a temp dir."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lotsdb_cli.config import load_settings
from lotsdb_cli.errors import ExitStatus, OutputError, OutputRefused
from lotsdb_cli.output import (
    PART_SUFFIX,
    Kind,
    ProtectedFile,
    check_outputs,
    open_output,
    output_target,
    own_files,
)

MEMORY_MAJOR = 1  # Linux's memory devices: 1,3 is null, 1,7 is full
NULL_MINOR, FULL_MINOR = 3, 7


def leftovers(directory: Path) -> list[str]:
    """Temporary files an atomic write may have left."""
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(PART_SUFFIX))


def device(path: Path, minor: int, kind: int = stat.S_IFCHR, major: int = MEMORY_MAJOR) -> Path:
    """Our own device node (never one of /dev's); skipped where we may not make one."""
    try:
        os.mknod(path, 0o666 | kind, os.makedev(major, minor))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    return path


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write(target: object, text: str = "new\n") -> None:
    with open_output(target) as stream:  # type: ignore[arg-type]
        stream.write(text)


@contextlib.contextmanager
def tmpfs(directory: Path, size: str = "64k") -> Iterator[Path]:
    """A small file system of our own, to fill up or make read-only; skipped where mounting is not allowed."""
    directory.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(directory)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


# Regular and missing files: atomic, keeping mode and owner


def test_a_new_file_gets_the_mode_any_new_file_gets(tmp_path: Path) -> None:
    out = tmp_path / "lots.jsonl"
    write(out)
    assert out.read_text() == "new\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask()
    assert leftovers(tmp_path) == []


def test_an_existing_file_keeps_its_mode_and_owner(tmp_path: Path) -> None:
    out = tmp_path / "secret.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(out, 1234, 5678)
    inode = out.stat().st_ino
    write(out)
    info = out.stat()
    assert out.read_text() == "new\n"
    assert stat.S_IMODE(info.st_mode) == 0o600
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (1234, 5678)
    assert info.st_ino != inode  # replaced by a rename, not rewritten in place
    assert leftovers(tmp_path) == []


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "data" / "report.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "report.csv"
    link.symlink_to(target)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == [] and leftovers(target.parent) == []


def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path) -> None:
    link = tmp_path / "latest.jsonl"
    link.symlink_to("runs/1.jsonl")
    (tmp_path / "runs").mkdir()
    write(link)
    assert link.is_symlink() and (tmp_path / "runs" / "1.jsonl").read_text() == "new\n"


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError, SystemExit, GeneratorExit])
def test_an_interrupted_write_leaves_nothing_new(tmp_path: Path, interruption: type[BaseException]) -> None:
    new = tmp_path / "new.csv"
    old = tmp_path / "old.csv"
    old.write_text("old\n")
    for out in (new, old):
        with pytest.raises(interruption), open_output(out) as stream:
            stream.write("half" * 10_000)
            raise interruption()
    assert not new.exists()
    assert old.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_temporary_files_of_dead_runs_are_removed_by_the_next(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    abandoned = tmp_path / f".lots.csv.{dead_pid}.abcd1234{PART_SUFFIX}"
    abandoned.write_text("half")
    mine = tmp_path / f".lots.csv.{os.getpid()}.ffff0000{PART_SUFFIX}"  # this process is alive
    mine.write_text("in progress")
    other_file = tmp_path / f".lots.csv.2024.{dead_pid}.abcd1234{PART_SUFFIX}"  # -o lots.csv.2024's, not ours
    other_file.write_text("another output's")
    write(tmp_path / "lots.csv")
    assert not abandoned.exists() and mine.exists() and other_file.exists()


def test_a_name_as_long_as_the_file_system_allows_is_written(tmp_path: Path) -> None:
    name = "a" * 245 + ".jsonl"  # 251 bytes: its temporary file needs a shorter name
    write(tmp_path / name, "x\n")
    assert (tmp_path / name).read_text() == "x\n" and leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", ["a-file/", "new-dir/"])
def test_a_path_ending_in_a_slash_names_a_directory(tmp_path: Path, suffix: str) -> None:
    (tmp_path / "a-file").write_text("kept")
    with pytest.raises(OutputRefused, match="names a directory"):
        check_outputs([f"{tmp_path}/{suffix}"])
    assert (tmp_path / "a-file").read_text() == "kept" and not (tmp_path / "new-dir").exists()


# Streams: FIFOs, character devices, open descriptors


def test_a_fifo_is_written_directly_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "lots.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    assert output_target(fifo).kind is Kind.STREAM
    write(fifo, "".join(f"{number}\n" for number in range(10_000)))
    reader.join(timeout=30)
    assert received == ["".join(f"{number}\n" for number in range(10_000))]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert leftovers(tmp_path) == []


def test_a_character_device_is_written_directly_and_stays_one(tmp_path: Path) -> None:
    null = device(tmp_path / "null", NULL_MINOR)
    write(null, "x" * 100_000)
    assert stat.S_ISCHR(null.stat().st_mode) and null.stat().st_rdev == os.makedev(MEMORY_MAJOR, NULL_MINOR)
    assert leftovers(tmp_path) == []


def test_a_full_device_is_a_one_line_output_error(tmp_path: Path) -> None:
    full = device(tmp_path / "full", FULL_MINOR)
    with pytest.raises(OutputError) as raised:
        write(full, "x" * 100_000)
    assert str(raised.value) == f"cannot write {full}: No space left on device"
    assert raised.value.exit_status == ExitStatus.ERROR
    assert stat.S_ISCHR(full.stat().st_mode)


def test_dev_fd_paths_write_to_the_open_descriptor_where_it_stands(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("hello\n")
    inode = log.stat().st_ino
    descriptor = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        target = output_target(f"/dev/fd/{descriptor}")
        assert target.kind is Kind.DESCRIPTOR and not target.atomic
        write(target, "appended\n")
        write(f"/proc/self/fd/{descriptor}", "again\n")
    finally:
        os.close(descriptor)
    assert log.read_text() == "hello\nappended\nagain\n"
    assert log.stat().st_ino == inode


def test_dash_and_dev_stdout_are_stdout() -> None:
    stdout = io.StringIO()
    for name in ("-", None, "/dev/stdout"):
        with open_output(name, stdout=stdout) as stream:
            stream.write(f"{name}\n")
    assert stdout.getvalue() == "-\nNone\n/dev/stdout\n"
    assert output_target("-").is_stdout and output_target(None).kind is Kind.STDOUT


# Refused before anything is written (exit 2)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputRefused) as raised:
        check_outputs([tmp_path])
    assert raised.value.exit_status == ExitStatus.USAGE
    assert "is a directory" in str(raised.value)


def test_a_block_device_and_a_socket_are_refused(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(tmp_path / "sock"))
        with pytest.raises(OutputRefused, match="is a socket"):
            check_outputs([tmp_path / "sock"])
    block = device(tmp_path / "loop", 0, stat.S_IFBLK, major=7)  # classified by stat(), never opened
    with pytest.raises(OutputRefused, match="is a block device"):
        check_outputs([block])


def test_a_missing_directory_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        check_outputs([tmp_path / "no" / "such.csv"])
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="is not a directory"):
        check_outputs([blocker / "lots.csv"])


@pytest.fixture
def spreadsheet(tmp_path: Path) -> Path:
    source = tmp_path / "albums.csv"
    source.write_text("Artist,Album\nA,B\n")
    return source


def test_an_input_is_refused_by_name_symlink_and_hard_link(tmp_path: Path, spreadsheet: Path) -> None:
    symlink = tmp_path / "link.csv"
    symlink.symlink_to(spreadsheet)
    hard_link = tmp_path / "hard.csv"
    os.link(spreadsheet, hard_link)
    relative = os.path.relpath(spreadsheet)
    for output, source in [
        (spreadsheet, spreadsheet),
        (relative, spreadsheet),
        (symlink, spreadsheet),
        (spreadsheet, symlink),
        (hard_link, spreadsheet),
    ]:
        with pytest.raises(OutputRefused, match="it is the input"):
            check_outputs([output], inputs=[source])
    assert spreadsheet.read_text() == "Artist,Album\nA,B\n"


def test_other_inputs_do_not_get_in_the_way(tmp_path: Path, spreadsheet: Path) -> None:
    targets = check_outputs(
        [tmp_path / "rejects.csv", "-"],
        inputs=[spreadsheet, "https://docs.google.com/spreadsheets/d/x/edit", "-", None],
    )
    assert [target.kind for target in targets] == [Kind.FILE, Kind.STDOUT]


def test_two_outputs_cannot_be_the_same_file(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    link = tmp_path / "link.csv"
    link.symlink_to(out)
    with pytest.raises(OutputRefused, match="another output"):
        check_outputs([out, link])
    check_outputs(["-", "-"])  # stdout twice is no file


def test_the_tools_own_files_and_their_companions_are_refused(tmp_path: Path, isolated_home: Path) -> None:
    isolated_home.mkdir()
    settings = load_settings()
    settings.db_path.write_bytes(b"SQLite format 3\x00")
    os.link(settings.db_path, tmp_path / "hard.sqlite")
    (tmp_path / "db.link").symlink_to(settings.db_path)
    protected = own_files(settings)
    assert [file.label for file in protected] == [
        "the album database",
        "the HTTP cache",
        "the token file",
        "the configuration file",
        "the run log",
        "the run log's lock file",
        "the record of servers' waits",
    ]
    for output in [
        settings.db_path,
        f"{settings.db_path}-wal",  # missing until SQLite makes it: refused all the same
        f"{settings.db_path}-shm",
        tmp_path / "hard.sqlite",
        tmp_path / "db.link",
        f"{settings.cache_location}-journal",
        settings.token_path,
    ]:
        with pytest.raises(OutputRefused, match="refusing to write"):
            check_outputs([output], protected=protected)
    assert settings.db_path.read_bytes() == b"SQLite format 3\x00"


def test_a_symlinked_database_is_protected_under_both_names(tmp_path: Path) -> None:
    real = tmp_path / "data" / "albums.sqlite"
    real.parent.mkdir()
    real.write_bytes(b"")
    link = tmp_path / "lotsdb.sqlite"
    link.symlink_to(real)
    protected = [ProtectedFile("the album database", link)]
    for output in (real, f"{real}-wal", f"{link}-wal"):
        with pytest.raises(OutputRefused):
            check_outputs([output], protected=protected)


def test_a_redis_cache_protects_no_file(isolated_home: Path) -> None:
    settings = load_settings().with_options(cache="redis://127.0.0.1:6379/0")
    assert [file.label for file in own_files(settings)] == [
        "the album database",
        "the token file",
        "the configuration file",
        "the run log",
        "the run log's lock file",
        "the record of servers' waits",
    ]


# Write errors name the output (exit 1) and leave nothing behind


def test_a_full_disk_is_a_one_line_error_and_leaves_the_old_file(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small") as small:
        out = small / "lots.jsonl"
        out.write_text("old\n")
        with pytest.raises(OutputError) as raised:
            write(out, "x" * 200_000)
        assert str(raised.value) == f"cannot write {out}: No space left on device"
        assert out.read_text() == "old\n"
        assert leftovers(small) == []


def test_a_read_only_file_system_is_a_one_line_error(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro") as mount:
        out = mount / "lots.jsonl"
        out.write_text("old\n")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        with pytest.raises(OutputError) as raised:
            check_outputs([out])
            write(out)
        assert str(raised.value) == f"cannot write {out}: Read-only file system"
        assert out.read_text() == "old\n"


# As a user who is not root: what `>` would refuse is refused; what cannot be kept is dropped

NOBODY = 65534
WRITE_AS_USER = """
import sys
from lotsdb_cli.errors import LotsdbError
from lotsdb_cli.output import open_output
try:
    with open_output(sys.argv[1]) as stream:
        stream.write("new\\n")
except LotsdbError as exc:
    print(exc)
    sys.exit(1)
"""


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the user `nobody` can reach (pytest's own are private to root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a step as another user")
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="lotsdb-output-"))
    try:
        directory.chmod(0o755)
        yield directory
    finally:
        shutil.rmtree(directory)


def write_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
    setpriv = shutil.which("setpriv")  # util-linux; Python's own user= cannot reach a pyenv under /root
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    as_nobody = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run(
        [*as_nobody, sys.executable, "-c", WRITE_AS_USER, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


def test_as_a_user_a_read_only_file_or_directory_is_not_replaced(shared_dir: Path) -> None:
    theirs = shared_dir / "theirs"
    theirs.mkdir()
    os.chown(theirs, NOBODY, NOBODY)
    read_only = theirs / "read-only.csv"
    read_only.write_text("old\n")
    os.chown(read_only, NOBODY, NOBODY)
    read_only.chmod(0o444)
    refused = write_as_nobody(read_only)
    assert refused.returncode == 1 and refused.stdout == f"cannot write {read_only}: Permission denied\n"
    in_roots_directory = shared_dir / "mine.csv"  # nobody may write the file, not the directory
    in_roots_directory.write_text("old\n")
    os.chown(in_roots_directory, NOBODY, NOBODY)
    refused = write_as_nobody(in_roots_directory)
    assert refused.returncode == 1 and f"Permission denied in {shared_dir}" in refused.stdout
    assert read_only.read_text() == in_roots_directory.read_text() == "old\n"


def test_as_a_user_the_mode_is_kept_but_not_a_set_id_bit_with_another_owner(shared_dir: Path) -> None:
    theirs = shared_dir / "theirs"
    theirs.mkdir()
    os.chown(theirs, NOBODY, NOBODY)
    shared = theirs / "shared.csv"
    shared.write_text("old\n")
    shared.chmod(0o2666)  # root's, writable by all, set-group-id
    assert write_as_nobody(shared).returncode == 0
    info = shared.stat()
    assert shared.read_text() == "new\n"
    assert info.st_uid == NOBODY and stat.S_IMODE(info.st_mode) == 0o666
