"""Reading the tool's own small files (config.toml, tokens.json, the run log, pauses.json).

Whatever stands at such a path is read without blocking: a FIFO or a device put there by mistake or
malice would otherwise hang every command before its first request, beyond the reach of --timeout.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_regular(path: Path, limit: int) -> bytes:
    """The first `limit` bytes of the regular file at `path`.

    Raises FileNotFoundError (and NotADirectoryError) when there is none, and OSError(EINVAL) when
    what is there is not a regular file (a FIFO, a device, a socket, a directory).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return file.read(limit)
