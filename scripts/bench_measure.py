"""The bench's instruments: a sandbox and a Redis server in child processes, one measured process
(or several at once) reaped with `os.wait4`, and the check of what a dump wrote.

Used by `scripts/bench.py`; nothing here knows about scenarios or targets.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from lotsdb_cli.sandbox import DEMO, sandbox_env

PYTHON = sys.executable
SCRIPTS = Path(__file__).resolve().parent
RUN_TIMEOUT = 900.0  # seconds; a measured process still running then is killed


# -- the sandbox, in its own process ---------------------------------------------------------
class SandboxProcess:
    """`lotsdb sandbox serve --port 0 ...` in a child process; `url` once it listens."""

    def __init__(self, **knobs: Any) -> None:
        self.args: list[str] = []
        for name, value in knobs.items():
            self.args += [f"--{name.replace('_', '-')}", str(value)]
        self.latency_s = float(knobs.get("latency_ms", 0)) / 1000
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._token: str | None = None

    def __enter__(self) -> SandboxProcess:
        command = [PYTHON, "-m", "lotsdb_cli", "sandbox", "serve", "--port", "0", *self.args]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._process = process
        lines: queue.SimpleQueue[str] = queue.SimpleQueue()

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.put(line)
            lines.put("")

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if line.startswith("sandbox listening on "):
                self.url = line.split("sandbox listening on ", 1)[1].strip()
                return self
            if not line:
                break
        self.__exit__(None, None, None)
        raise RuntimeError(f"sandbox did not start: {' '.join(command)}")

    def __exit__(self, *exc: object) -> None:
        process = self._process
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._process = None

    def reset(self) -> None:
        """Zero the counters and refill the rate-limit buckets (`POST /_sandbox/reset`)."""
        requests.post(f"{self.url}/_sandbox/reset", timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_sandbox/stats", timeout=10)
        response.raise_for_status()
        return response.json()

    def token(self) -> str:
        """A Catalog API access token (password grant with the demo credentials), fetched once."""
        if self._token is None:
            response = requests.post(f"{self.url}/connect/token", data=DEMO.password_form(), timeout=30)
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def _get(self, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}"}
        response = requests.get(f"{self.url}{path}", params=params, headers=headers, timeout=60)
        response.raise_for_status()
        return response.json()

    def event_ids(self) -> list[int]:
        return [int(item["id"]) for item in self._get("/api/Catalog", PageSize=500)["items"]]

    def lot_ids(self, event_id: int) -> list[int]:
        return [int(lot["id"]) for lot in self._get(f"/api/Catalog/{event_id}")["lots"]]


def count_status(stats: dict[str, Any], status: str) -> int:
    return sum(codes.get(status, 0) for codes in stats.get("routes", {}).values())


# -- a private Redis server ------------------------------------------------------------------
class RedisServer:
    """`redis-server` on a free loopback port, no persistence; `url` is `redis://127.0.0.1:PORT/0`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None
        self._dir = ""

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def __enter__(self) -> RedisServer:
        self._dir = tempfile.mkdtemp(prefix="bench-redis-")
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", self._dir]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return self
            except Exception:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("redis-server did not start")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def flush(self) -> None:
        self.client().flushall()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- one measured process --------------------------------------------------------------------
@dataclass
class Run:
    """One process of one design, as `os.wait4` and the sandbox saw it."""

    wall: float  # seconds from spawning to reaping
    rss_mb: float  # peak RSS of that process (ru_maxrss)
    cpu_s: float  # ru_utime + ru_stime
    switches: int  # ru_nvcsw + ru_nivcsw
    code: int
    requests: int | None = None  # counted by the sandbox since its reset
    throttled: int | None = None  # of which 429
    first_s: float | None = None  # spawn to the sandbox's first counted request (latency taken off)
    span_s: float | None = None  # the sandbox's first to last counted request
    items: int | None = None  # items the run was to fetch (lots, albums, rows)
    lost: int | None = None  # expected items missing from the output
    extra: int | None = None  # output items that are duplicates or not expected
    order: str | None = None  # "in order", "out of order", "unordered" (cannot order), "none"
    note: str = ""
    stderr: str = field(default="", repr=False)  # its end, for summary lines; not in the JSON

    def per_item(self, value: float | None) -> float | None:
        return value / self.items if value is not None and self.items else None


@dataclass
class Finished:
    started_at: float  # time.time() at spawn
    wall: float
    rss_mb: float
    cpu_s: float
    switches: int
    code: int
    stderr: str
    killed: bool = False


@dataclass
class Job:
    """A command to run as a measured process; stdout to a file (or nowhere)."""

    command: list[str]
    env: dict[str, str]
    stdout: Path | None = None
    stdin: Path | None = None


class Launcher:
    """scripts/bench_launch.py in a small child process, which spawns and reaps the measured
    processes (so that their peak RSS does not start from the bench's own; see that file)."""

    def __init__(self) -> None:
        command = [PYTHON, "-S", "-I", str(SCRIPTS / "bench_launch.py")]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()

    def run(self, jobs: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        with self._lock:
            process.stdin.write(json.dumps({"timeout": timeout, "jobs": jobs}) + "\n")
            process.stdin.flush()
            answer = process.stdout.readline()
        if not answer:
            raise RuntimeError("the bench's launcher died")
        return list(json.loads(answer))

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(10)


_launcher: Launcher | None = None


def launcher() -> Launcher:
    global _launcher
    if _launcher is None:
        _launcher = Launcher()
    return _launcher


def close_launcher() -> None:
    global _launcher
    if _launcher is not None:
        _launcher.close()
        _launcher = None


def spawn(job: Job) -> Finished:
    """Run `job` to completion; its own rusage from `os.wait4` (not RUSAGE_CHILDREN)."""
    return spawn_together([job])[0]


def spawn_together(jobs: list[Job], timeout: float = RUN_TIMEOUT) -> list[Finished]:
    """Start every job at once; each is reaped as it ends, so each wall time is its own. A job
    still running after `timeout` seconds is killed, and its run says so."""
    with tempfile.TemporaryDirectory(prefix="bench-spawn-") as scratch:
        batch = [
            {
                "command": job.command,
                "env": job.env,
                "stdin": str(job.stdin) if job.stdin else None,
                "stdout": str(job.stdout) if job.stdout else None,
                "stderr": str(Path(scratch) / f"{index}.err"),
            }
            for index, job in enumerate(jobs)
        ]
        finished = []
        for job, result in zip(batch, launcher().run(batch, timeout), strict=True):
            if "error" in result:
                raise RuntimeError(f"could not start {job['command'][0]}: {result['error']}")
            errors = Path(job["stderr"]).read_text(encoding="utf-8", errors="replace")
            finished.append(
                Finished(
                    started_at=result["started_at"],
                    wall=result["wall"],
                    rss_mb=result["maxrss_kb"] / 1024.0,
                    cpu_s=result["utime"] + result["stime"],
                    switches=result["nvcsw"] + result["nivcsw"],
                    code=result["code"],
                    stderr=errors,
                    killed=result["killed"],
                )
            )
    return finished


def as_run(finished: Finished, stats: dict[str, Any] | None, latency_s: float = 0.0) -> Run:
    run = Run(finished.wall, finished.rss_mb, finished.cpu_s, finished.switches, finished.code)
    run.stderr = finished.stderr[-4000:]
    if stats is not None:
        run.requests = int(stats["requests"])
        run.throttled = count_status(stats, "429")
        if "first_at" in stats:
            # The sandbox stamps a request when it answers it, after its latency (a 429 has none;
            # the first request of every design here, a login, is never rate-limited).
            run.first_s = round(stats["first_at"] - latency_s - finished.started_at, 4)
            run.span_s = round(stats["last_at"] - stats["first_at"], 4)
    if finished.killed:
        run.note = f"killed after {finished.wall:.0f} s (it did not end)"
    elif finished.code != 0 and finished.stderr.strip():
        lines = finished.stderr.strip().splitlines()
        picked = list(
            dict.fromkeys(line.strip() for line in lines if "failed" in line or line.startswith(("error:", "curl:")))
        )
        run.note = "; ".join(picked[:3]) or lines[-1]
        run.note = run.note[:300]
    return run


def measure(sandbox: SandboxProcess, job: Job) -> Run:
    """One run: reset the sandbox's counters, run the process, read the counters."""
    sandbox.reset()
    finished = spawn(job)
    return as_run(finished, sandbox.stats(), sandbox.latency_s)


# -- what arrived ----------------------------------------------------------------------------
def json_values(path: Path) -> Iterator[Any]:
    """Every JSON value in the file, one after another, whatever separates them (newlines for
    JSONL; curl writes bodies back to back). Raises ValueError at the first byte that does not parse."""
    decoder = json.JSONDecoder()
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    position, end = 0, len(text)
    while True:
        while position < end and text[position] in " \t\r\n":
            position += 1
        if position >= end:
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ValueError(f"unparsable output at character {exc.pos}") from None
        yield value


def check_output(run: Run, path: Path, expected: list[Any], *, can_order: bool = True, key: str = "id") -> None:
    """Set `lost`, `extra` and `order` of `run` from the objects in `path`."""
    got: list[Any] = []
    try:
        for value in json_values(path):
            got.append(value.get(key) if isinstance(value, dict) else None)
    except ValueError as exc:
        run.note = f"{run.note}; {exc}".strip("; ")
    wanted = set(expected)
    seen: set[Any] = set()
    extra = 0
    for item in got:
        if item in wanted and item not in seen:
            seen.add(item)
        else:
            extra += 1
    run.items = len(expected)
    run.lost = len(wanted - seen)
    run.extra = extra
    position = {item: index for index, item in enumerate(expected)}
    indexes = [position[item] for item in got if item in position]
    if not got:
        run.order = "none"
    elif not can_order:
        run.order = "unordered"
    else:
        run.order = "in order" if all(a < b for a, b in itertools.pairwise(indexes)) else "out of order"


# -- medians ---------------------------------------------------------------------------------
@dataclass
class Design:
    """One design in one scenario: its runs, and their medians."""

    name: str
    runs: list[Run] = field(default_factory=list)

    def median(self, name: str) -> float | None:
        values = [getattr(run, name) for run in self.runs if getattr(run, name) is not None]
        return statistics.median(values) if values else None

    def per_item_median(self, name: str) -> float | None:
        values = [run.per_item(getattr(run, name)) for run in self.runs]
        present = [value for value in values if value is not None]
        return statistics.median(present) if present else None

    @property
    def wall(self) -> float | None:
        return self.median("wall")

    def throttled_share(self) -> float | None:
        """429s over requests, all runs together."""
        sent = sum(run.requests or 0 for run in self.runs)
        throttled = sum(run.throttled or 0 for run in self.runs)
        return throttled / sent if sent else None

    def max_lost(self) -> int | None:
        values = [run.lost for run in self.runs if run.lost is not None]
        return max(values) if values else None

    def orders(self) -> list[str]:
        return sorted({run.order for run in self.runs if run.order})

    def summary(self) -> dict[str, Any]:
        runs = [{k: v for k, v in asdict(run).items() if k != "stderr"} for run in self.runs]
        result: dict[str, Any] = {"design": self.name, "runs": runs}
        for name in ("wall", "rss_mb", "cpu_s", "switches", "requests", "throttled", "first_s", "span_s"):
            result[name] = self.median(name)
        result["cpu_ms_per_item"] = scaled(self.per_item_median("cpu_s"), 1000)
        result["switches_per_item"] = self.per_item_median("switches")
        result["throttled_share"] = self.throttled_share()
        result["max_lost"] = self.max_lost()
        result["max_extra"] = max((run.extra or 0 for run in self.runs), default=None)
        result["order"] = self.orders()
        result["codes"] = sorted({run.code for run in self.runs})
        return result


def scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def progress(scenario: str, design: str, run: Run) -> None:
    """One line on stderr per measured run."""
    parts = [f"{scenario} {design}: {run.wall:.2f} s", f"{run.rss_mb:.0f} MB", f"cpu {run.cpu_s:.2f} s"]
    if run.items:
        parts.append(f"{1000 * run.cpu_s / run.items:.2f} ms/item, {run.switches / run.items:.1f} cs/item")
    parts.append(f"exit {run.code}")
    if run.requests is not None:
        parts.append(f"{run.requests} req, {run.throttled} x 429")
    if run.first_s is not None:
        parts.append(f"first request at {run.first_s:.3f} s")
    if run.lost is not None:
        parts.append(f"{run.lost} lost, {run.extra} extra, {run.order}")
    if run.note:
        parts.append(run.note)
    print("  " + ", ".join(parts), file=sys.stderr, flush=True)


def lotsdb_env(url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a lotsdb run: ours less any LOTSDB_/SPOTIFY_ setting, plus the sandbox's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSDB_", "SPOTIFY_", "SPOTIPY_"))}
    # An installed tool runs from bytecode (pip compiles it); a machine that sets PYTHONDONTWRITEBYTECODE
    # would make every run compile lotsdb's sources again (about 70 ms), which no user's install does.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(sandbox_env(url))
    env["LOTSDB_HOME"] = str(home)
    env.update(extra)
    return env
