"""Shared fixtures: an isolated data directory, a sandbox on a free port, and ways to run the CLI."""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lotsdb_cli.sandbox import Sandbox

# The settings lotsdb reads from the environment, the CA-bundle variables it honours and the
# terminal's size: a developer's shell must not change what the tests see.
LOTSDB_VARIABLES = [
    name
    for name in os.environ
    if name.startswith(("LOTSDB_", "SPOTIFY_", "SPOTIPY_"))
    or name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
]
TERMINAL_VARIABLES = ("COLUMNS", "LINES")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own LOTSDB_HOME and no credentials from the developer's shell."""
    for name in (*LOTSDB_VARIABLES, *TERMINAL_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("LOTSDB_HOME", str(home))
    # Back-offs are real in the product; tests scale them down (Retry-After: 1 sleeps 10 ms).
    monkeypatch.setenv("LOTSDB_BACKOFF_SCALE", "0.01")
    return home


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


class Cli:
    """Runs `lotsdb` in this process (fast) or as a subprocess (for signals and start-up)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, stdin: str | None = None) -> Result:
        from lotsdb_cli.cli.app import run

        out, err = io.StringIO(), io.StringIO()
        saved = {name: os.environ.get(name) for name in self.env}
        os.environ.update(self.env)
        old_stdin = sys.stdin
        try:
            if stdin is not None:
                sys.stdin = _BytesStdin(stdin.encode())
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run(list(args))
        finally:
            sys.stdin = old_stdin
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        return Result(code, out.getvalue(), err.getvalue())

    def proc(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """Run the CLI in a child process; `env` adds to (or overrides) this Cli's variables."""
        options: dict[str, object] = {"capture_output": True, "text": True, "timeout": timeout, **kwargs}
        if "stdout" in kwargs or "stderr" in kwargs:
            options.pop("capture_output")
        return subprocess.run(  # type: ignore[call-overload,no-any-return]
            [sys.executable, "-m", "lotsdb_cli", *args], env={**os.environ, **self.env, **(env or {})}, **options
        )

    def popen(self, *args: str, **kwargs: object) -> subprocess.Popen[str]:
        return subprocess.Popen(  # type: ignore[call-overload]
            [sys.executable, "-m", "lotsdb_cli", *args],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,
        )


class _BytesStdin(io.TextIOWrapper):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=1, sellers=4, events_per_seller=3, lots_per_event=60, albums=60) as sb:
        yield sb


@pytest.fixture
def cli(sandbox: Sandbox, isolated_home: Path) -> Cli:
    return Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})


def lot_requests(sandbox: Sandbox) -> int:
    """How many GET /api/Lot/{id} the sandbox has answered (any status)."""
    routes = sandbox.stats().get("routes", {})
    return sum(routes.get("GET /api/Lot/{id}", {}).values())


def route_count(sandbox: Sandbox, route: str, status: str | None = None) -> int:
    counts = sandbox.stats().get("routes", {}).get(route, {})
    return counts.get(status, 0) if status else sum(counts.values())


def start_redis_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server on a free port; skipped only outside CI when there is no binary."""
    import shutil
    import socket
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed; CI must run the Redis tests")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, f"redis://127.0.0.1:{port}/0"
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server shared by the session's Redis tests (never the machine's own)."""
    server, url = start_redis_server(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def field_value(lines: list[str], name: str) -> str:
    """A field's value read back from a field/value view: its first line and continuation lines, spaces removed."""
    start = next(index for index, line in enumerate(lines) if line.split(" ", 1)[0] == name)
    value = lines[start][len(name) :]
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        value += line
    return "".join(value.split())


@contextlib.contextmanager
def local_server(handler: type[http.server.BaseHTTPRequestHandler] | Any) -> Iterator[str]:
    """An HTTP server of a test's own on 127.0.0.1, answering with `handler`; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
