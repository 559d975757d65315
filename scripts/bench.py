"""Benchmark lotsdb against two seed designs, on this machine, against a local sandbox.

Run:   .venv/bin/python scripts/bench.py [--quick] [--runs N] [--json FILE] [--only S1,S2]

Every scenario starts its own sandbox in its own process (`python -m lotsdb_cli sandbox serve
--port 0 ...` with that scenario's knobs; the URL is read from its `sandbox listening on URL`
line on stderr) and measures, one after another, as separate processes:

- lotsdb: `python -m lotsdb_cli ...`, with a fresh LOTSDB_HOME (so a cold cache) and the
  environment of `lotsdb_cli.sandbox.sandbox_env(url)`;
- sequential: one `GET /api/Lot/{id}` after another with plain `requests` (one password-grant
  login first, then a Bearer header);
- pool(10): a ThreadPoolExecutor(10) with one `requests.Session` per thread.
Both baselines are this very script (`bench.py baseline ...`) run as a subprocess, so that every
design pays the same interpreter start-up and is measured the same way. Both retry a 429 or a 503
twice, after 1 s and then 2 s; a lot (or album) still failing after that is "lost". For the
albums scenario they fetch `/v1/albums/{id}` with a client-credentials token and follow every
`tracks.next` page, as lotsdb does.

What is measured, per run:
- wall: from spawning the process to reaping it (interpreter start-up included);
- peak RSS: `ru_maxrss` of that one process, from `os.wait4` (not RUSAGE_CHILDREN, which would be
  the largest of every child so far);
- requests and 429s: the sandbox's `/_sandbox/stats`, reset (`POST /_sandbox/reset`, which also
  refills the rate-limit bucket) right before the run;
- lost: the expected lot ids (read from the sandbox's event) missing from the output; for albums,
  the failures in lotsdb's summary or the albums missing from the baseline's output.

Figures are medians over `--runs` runs (default 3) of lotsdb, and of pool(10) in S1 and S2 (the
scenarios whose targets compare with it). To keep the whole comparison within ~9 minutes on two
cores, the other baseline figures come from one run: sequential takes latency x N (about 50 s for
1,000 lots) and does not vary, and pool(10) under a rate limit or for memory varies little. The
memory scenario (S8) runs once per size. `--quick` makes one run of everything with smaller sizes
(300 lots, 200 albums, 5,000/1,250 lots for the memory scenario), in about 3 minutes.

The "limit" column is the physical limit: N/R for a rate-limited scenario (N items at R requests a
second), latency x N / workers for a latency-bound one (32 workers, lotsdb's default).
Results: a table on stdout, the raw figures as JSON with `--json FILE`.

The scenarios and their targets:
  S1 cold dump, 1,000 lots, 50 ms latency, no limit         lotsdb <= 0.60 x pool(10)'s time
  S2 cold dump, 1,000 lots, 50 ms, 100 req/s (no headers)   <= 1.05 x N/R, 0 lost, 429s <= 2 %
  S3 cold dump, 1,000 lots, 50 ms, 5 % of requests 503      0 lost
  S4 warm dump, 1,000 cached lots, to a file                <= 0.5 s for the process, 0 requests
  S5 lotsdb --version; lotsdb --help                        <= 0.15 s; <= 0.30 s
  S6 albums import, 10,000 rows, --skip-spotify             <= 1.5 s, 0 requests
  S7 albums refresh, 500 albums, Spotify limit 20 req/s     <= 1.05 x N/R, 0 failed, 429s <= 2 %
  S8 cold dump, 20,000 lots, no latency                     peak RSS <= 150 MB, flat vs 5,000 lots
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import platform
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from lotsdb_cli.sandbox import DEMO, sandbox_env
from lotsdb_cli.sandbox.albumids import album_ids

PYTHON = sys.executable
SCRIPT = str(Path(__file__).resolve())
LATENCY_MS = 50
WORKERS = 32  # lotsdb's default --workers
POOL = 10
BASELINE_RETRY_DELAYS = (1.0, 2.0)
HEAVY_MODULES = ("requests", "requests_cache", "tenacity", "tqdm", "urllib3")


# -- the sandbox, in its own process ---------------------------------------------------------
class SandboxProcess:
    """`lotsdb sandbox serve --port 0 ...` in a child process; `url` once it listens."""

    def __init__(self, **knobs: Any) -> None:
        self.args: list[str] = []
        for name, value in knobs.items():
            self.args += [f"--{name.replace('_', '-')}", str(value)]
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._catalog_token: str | None = None

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
        deadline = time.monotonic() + 60
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
        requests.post(f"{self.url}/_sandbox/reset", timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_sandbox/stats", timeout=10)
        response.raise_for_status()
        return response.json()

    def lot_ids(self, event_id: int) -> list[int]:
        token = catalog_token(requests.Session(), self.url)
        response = requests.get(
            f"{self.url}/api/Catalog/{event_id}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        response.raise_for_status()
        return [lot["id"] for lot in response.json()["lots"]]

    def event_id(self) -> int:
        token = catalog_token(requests.Session(), self.url)
        response = requests.get(
            f"{self.url}/api/Catalog",
            params={"PageSize": 500},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        response.raise_for_status()
        return int(response.json()["items"][0]["id"])


def count_status(stats: dict[str, Any], status: str) -> int:
    return sum(codes.get(status, 0) for codes in stats.get("routes", {}).values())


# -- running one measured process ------------------------------------------------------------
@dataclass
class Run:
    wall: float
    rss_mb: float
    code: int
    requests: int | None = None
    throttled: int | None = None
    lost: int | None = None
    note: str = ""


@dataclass
class Row:
    """One design in one scenario: every run and the medians."""

    design: str
    runs: list[Run] = field(default_factory=list)

    def median(self, name: str) -> float | None:
        values = [getattr(run, name) for run in self.runs if getattr(run, name) is not None]
        return statistics.median(values) if values else None

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {"design": self.design, "runs": [asdict(run) for run in self.runs]}
        for name in ("wall", "rss_mb", "requests", "throttled", "lost"):
            result[name] = self.median(name)
        result["max_lost"] = max((run.lost or 0 for run in self.runs), default=None)
        result["codes"] = sorted({run.code for run in self.runs})
        requests_sent = result["requests"]
        result["throttled_share"] = (
            (result["throttled"] or 0) / requests_sent if requests_sent else (0.0 if requests_sent == 0 else None)
        )
        return result


def spawn(
    command: list[str], env: dict[str, str], *, stdout: Path | None = None, stdin: Path | None = None
) -> tuple[float, float, int, str]:
    """Run `command` to completion: wall seconds, peak RSS (MB) of that process, exit code, stderr."""
    with tempfile.TemporaryFile() as errors, contextlib_open(stdout, "wb") as out, contextlib_open(stdin, "rb") as inp:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            env=env,
            stdout=out if out is not None else subprocess.DEVNULL,
            stdin=inp if inp is not None else subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        text = errors.read().decode(errors="replace")
    return wall, usage.ru_maxrss / 1024.0, process.returncode, text


@contextmanager
def contextlib_open(path: Path | None, mode: str) -> Iterator[Any]:
    if path is None:
        yield None
        return
    with open(path, mode) as handle:
        yield handle


def lotsdb_env(url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSDB_", "SPOTIFY_", "SPOTIPY_"))}
    env.update(sandbox_env(url))
    env["LOTSDB_HOME"] = str(home)
    return env


def lotsdb(*args: str) -> list[str]:
    return [PYTHON, "-m", "lotsdb_cli", *args]


def baseline(design: str, url: str, *, event: int | None = None, albums: int | None = None) -> list[str]:
    command = [PYTHON, SCRIPT, "baseline", design, url]
    if event is not None:
        command += ["--event", str(event)]
    if albums is not None:
        command += ["--albums", str(albums)]
    return command


def ids_in(path: Path, key: str = "id") -> list[Any]:
    found = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                found.append(json.loads(line).get(key))
    return found


def measured(
    sandbox: SandboxProcess,
    command: list[str],
    env: dict[str, str],
    *,
    output: Path | None = None,
    stdout: Path | None = None,
    expected: list[Any] | None = None,
    lost_from: Callable[[str], int | None] | None = None,
) -> Run:
    """One run: reset the sandbox's counters, run the process, read the counters, count losses."""
    sandbox.reset()
    wall, rss, code, errors = spawn(command, env, stdout=stdout)
    stats = sandbox.stats()
    run = Run(wall, rss, code, stats["requests"], count_status(stats, "429"))
    if expected is not None and (output or stdout) is not None:
        path = output or stdout
        assert path is not None
        got = ids_in(path) if path.exists() else []
        run.lost = len(set(expected) - set(got))
        if got != expected and run.lost == 0:
            run.note = "out of order"
    if lost_from is not None:
        run.lost = lost_from(errors)
    if code != 0 and errors.strip():
        lines = errors.strip().splitlines()
        failures = [line.strip() for line in lines if "failed lot" in line or line.startswith("error:")]
        run.note = f"{run.note} {'; '.join(failures[:3]) or lines[-1]}"[:300].strip()
    return run


# -- scenarios -------------------------------------------------------------------------------
@dataclass
class Scenario:
    key: str
    title: str
    target: str
    rows: list[Row] = field(default_factory=list)
    limit: float | None = None  # seconds (the physical limit), where one applies
    limit_note: str = ""
    checks: dict[str, bool] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def row(self, design: str) -> Row:
        for row in self.rows:
            if row.design == design:
                return row
        row = Row(design)
        self.rows.append(row)
        return row

    @property
    def met(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    def summary(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "target": self.target,
            "limit_s": self.limit,
            "limit_note": self.limit_note,
            "rows": [row.summary() for row in self.rows],
            "checks": self.checks,
            "met": self.met,
            "details": self.details,
        }


class Bench:
    def __init__(self, runs: int, quick: bool, work: Path, *, baselines: bool = True) -> None:
        self.baselines = baselines
        self.runs = runs
        self.quick = quick
        self.work = work
        self.lots = 300 if quick else 1000
        self.albums = 200 if quick else 500

    def home(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="home-", dir=self.work))

    def out(self, name: str) -> Path:
        return self.work / name

    def dump_designs(
        self,
        scenario: Scenario,
        sandbox: SandboxProcess,
        event: int,
        expected: list[int],
        variants: list[tuple[str, list[str]]],
        *,
        sequential: bool = True,
        pool_every_run: bool = False,
    ) -> None:
        """lotsdb variants, pool(10) and sequential, runs interleaved so drift hits all alike."""
        for number in range(self.runs):
            for design, extra in variants:
                output = self.out(f"{scenario.key}-{design}.jsonl")
                env = lotsdb_env(sandbox.url, self.home())
                command = lotsdb("lots", "dump", str(event), *extra)
                scenario.row(design).runs.append(measured(sandbox, command, env, stdout=output, expected=expected))
                progress(scenario, design, scenario.row(design).runs[-1])
            if self.baselines and (pool_every_run or number == 0):
                output = self.out(f"{scenario.key}-pool.jsonl")
                run = measured(
                    sandbox, baseline("pool", sandbox.url, event=event), dict(os.environ), stdout=output,
                    expected=expected,
                )  # fmt: skip
                scenario.row(f"pool({POOL})").runs.append(run)
                progress(scenario, f"pool({POOL})", run)
            if sequential and number == 0 and self.baselines:
                output = self.out(f"{scenario.key}-sequential.jsonl")
                run = measured(
                    sandbox, baseline("sequential", sandbox.url, event=event), dict(os.environ), stdout=output,
                    expected=expected,
                )  # fmt: skip
                scenario.row("sequential").runs.append(run)
                progress(scenario, "sequential", run)

    def s1(self) -> Scenario:
        s = Scenario("S1", f"cold dump, {self.lots:,} lots, 50 ms latency, no limit", "<= 0.60 x pool(10)")
        with SandboxProcess(**catalog_size(self.lots), latency_ms=LATENCY_MS) as sandbox:
            event = sandbox.event_id()
            expected = sandbox.lot_ids(event)
            self.dump_designs(s, sandbox, event, expected, [("lotsdb", [])], pool_every_run=True)
        s.limit = LATENCY_MS / 1000 * self.lots / WORKERS
        s.limit_note = f"latency x N / {WORKERS} workers"
        ours, pool = s.row("lotsdb"), s.row(f"pool({POOL})")
        s.details["ratio_to_pool"] = ratio(ours.median("wall"), pool.median("wall"))
        s.details["ratio_to_limit"] = ratio(ours.median("wall"), s.limit)
        s.checks["time <= 0.60 x pool(10)"] = (s.details["ratio_to_pool"] or 9) <= 0.60
        s.checks["0 lost"] = no_loss(ours)
        return s

    def s2(self) -> Scenario:
        rate = 100
        s = Scenario(
            "S2", f"cold dump, {self.lots:,} lots, 50 ms, limit {rate} req/s", "<= 1.05 x N/R, 0 lost, 429s <= 2 %"
        )
        with SandboxProcess(**catalog_size(self.lots), latency_ms=LATENCY_MS, rate_limit=rate) as sandbox:
            event = sandbox.event_id()
            expected = sandbox.lot_ids(event)
            variants = [("lotsdb --workers 32", ["--workers", "32"]), ("lotsdb (defaults)", [])]
            self.dump_designs(s, sandbox, event, expected, variants, pool_every_run=True)
        s.limit = self.lots / rate
        s.limit_note = "N/R"
        for design, _ in variants:
            row = s.row(design)
            s.details[f"{design}: ratio_to_limit"] = ratio(row.median("wall"), s.limit)
            s.details[f"{design}: ratio_to_pool"] = ratio(row.median("wall"), s.row(f"pool({POOL})").median("wall"))
            s.checks[f"{design}: time <= 1.05 x N/R"] = (s.details[f"{design}: ratio_to_limit"] or 9) <= 1.05
            s.checks[f"{design}: 0 lost"] = no_loss(row)
            s.checks[f"{design}: 429s <= 2 %"] = (row.summary()["throttled_share"] or 0) <= 0.02
        return s

    def s3(self) -> Scenario:
        s = Scenario("S3", f"cold dump, {self.lots:,} lots, 50 ms, 5 % answer 503", "0 lost")
        with SandboxProcess(**catalog_size(self.lots), latency_ms=LATENCY_MS, fail_rate=0.05) as sandbox:
            event = sandbox.event_id()
            expected = sandbox.lot_ids(event)
            self.dump_designs(s, sandbox, event, expected, [("lotsdb", [])])
        s.limit = LATENCY_MS / 1000 * self.lots / WORKERS
        s.limit_note = f"latency x N / {WORKERS} workers"
        ours = s.row("lotsdb")
        s.details["ratio_to_pool"] = ratio(ours.median("wall"), s.row(f"pool({POOL})").median("wall"))
        s.checks["0 lost"] = no_loss(ours)
        s.checks["exit 0"] = all(run.code == 0 for run in ours.runs)
        return s

    def s4(self) -> Scenario:
        lots = 1000
        s = Scenario("S4", f"warm dump, {lots:,} cached lots, to a file", "<= 0.5 s, 0 requests")
        with SandboxProcess(**catalog_size(lots)) as sandbox:
            event = sandbox.event_id()
            expected = sandbox.lot_ids(event)
            home = self.home()
            env = lotsdb_env(sandbox.url, home)
            output = self.out("S4.jsonl")
            fill = measured(sandbox, lotsdb("lots", "dump", str(event), "-o", str(output)), env, output=output)
            s.details["cold fill (s)"] = round(fill.wall, 3)
            for _ in range(max(self.runs, 3)):
                output.unlink(missing_ok=True)
                command = lotsdb("lots", "dump", str(event), "-o", str(output))
                run = measured(sandbox, command, env, output=output, expected=expected)
                s.row("lotsdb").runs.append(run)
                progress(s, "lotsdb", run)
        ours = s.row("lotsdb")
        s.limit = None
        s.checks["time <= 0.5 s"] = (ours.median("wall") or 9) <= 0.5
        s.checks["0 requests"] = all(run.requests == 0 for run in ours.runs)
        s.checks["0 lost"] = no_loss(ours)
        return s

    def s5(self) -> Scenario:
        s = Scenario("S5", "lotsdb --version; lotsdb --help", "<= 0.15 s; <= 0.30 s")
        env = lotsdb_env("http://127.0.0.1:9", self.home())
        spawn(lotsdb("--version"), env)  # compile bytecode once, as any installed tool has
        for _ in range(max(self.runs, 5)):
            for design, args in (("lotsdb --version", ["--version"]), ("lotsdb --help", ["--help"])):
                wall, rss, code, _ = spawn(lotsdb(*args), env)
                s.row(design).runs.append(Run(wall, rss, code))
        version, help_ = s.row("lotsdb --version"), s.row("lotsdb --help")
        imported = heavy_imports(env)
        s.details["heavy modules imported by --version"] = imported
        s.checks["--version <= 0.15 s"] = (version.median("wall") or 9) <= 0.15
        s.checks["--help <= 0.30 s"] = (help_.median("wall") or 9) <= 0.30
        s.checks["--version imports no requests/requests_cache/tenacity/tqdm"] = not imported
        for row in (version, help_):
            progress(s, row.design, row.runs[-1])
        return s

    def s6(self) -> Scenario:
        rows = 10_000
        s = Scenario("S6", f"albums import, {rows:,} rows, --skip-spotify", "<= 1.5 s, 0 requests")
        source = self.out("albums-10000.csv")
        write_albums_csv(source, rows)
        with SandboxProcess() as sandbox:

            def inserted(errors: str) -> int | None:
                match = re.search(r"(\d+) inserted", errors)
                return rows - int(match.group(1)) if match else None

            for _ in range(self.runs):
                env = lotsdb_env(sandbox.url, self.home())
                command = lotsdb("albums", "import", str(source), "--skip-spotify")
                run = measured(sandbox, command, env, lost_from=inserted)
                s.row("lotsdb").runs.append(run)
                progress(s, "lotsdb", run)
        ours = s.row("lotsdb")
        s.checks["time <= 1.5 s"] = (ours.median("wall") or 9) <= 1.5
        s.checks["0 requests"] = all(run.requests == 0 for run in ours.runs)
        s.checks["every row inserted"] = no_loss(ours)
        return s

    def s7(self) -> Scenario:
        rate = 20
        count = self.albums
        s = Scenario(
            "S7", f"albums refresh, {count} albums, Spotify limit {rate} req/s", "<= 1.05 x N/R, 0 failed, 429s <= 2 %"
        )
        source = self.out(f"albums-{count}.csv")
        write_albums_csv(source, count)
        expected = album_ids(1, count)

        def failed(errors: str) -> int | None:
            match = re.search(r"albums: \d+ refreshed, \d+ unchanged, (\d+) failed", errors)
            return int(match.group(1)) if match else None

        with SandboxProcess(rate_limit=rate, albums=count) as sandbox:
            for number in range(self.runs):
                home = self.home()
                env = lotsdb_env(sandbox.url, home)
                _, _, code, errors = spawn(lotsdb("albums", "import", str(source), "--skip-spotify"), env)
                if code != 0:
                    raise RuntimeError(f"albums import failed: {errors}")
                run = measured(sandbox, lotsdb("albums", "refresh"), env, lost_from=failed)
                s.row("lotsdb").runs.append(run)
                progress(s, "lotsdb", run)
                if not self.baselines or number > 0:
                    continue
                output = self.out("S7-pool.jsonl")
                run = measured(
                    sandbox, baseline("pool", sandbox.url, albums=count), dict(os.environ), stdout=output,
                    expected=expected,
                )  # fmt: skip
                s.row(f"pool({POOL})").runs.append(run)
                progress(s, f"pool({POOL})", run)
                if number == 0:  # (always true here: the baselines run once)
                    output = self.out("S7-sequential.jsonl")
                    run = measured(
                        sandbox, baseline("sequential", sandbox.url, albums=count), dict(os.environ),
                        stdout=output, expected=expected,
                    )  # fmt: skip
                    s.row("sequential").runs.append(run)
                    progress(s, "sequential", run)
        s.limit = count / rate
        s.limit_note = "N/R"
        ours = s.row("lotsdb")
        needed = (ours.median("requests") or 0) - (ours.median("throttled") or 0)
        s.details["requests needed (200/403 answers, incl. tracks pages, token, batch probe)"] = needed
        s.details["limit counting every needed request (s)"] = round(needed / rate, 2)
        s.details["ratio_to_limit"] = ratio(ours.median("wall"), s.limit)
        s.details["ratio_to_pool"] = ratio(ours.median("wall"), s.row(f"pool({POOL})").median("wall"))
        s.checks["time <= 1.05 x N/R"] = (s.details["ratio_to_limit"] or 9) <= 1.05
        s.checks["0 failed"] = no_loss(ours)
        s.checks["429s <= 2 %"] = (ours.summary()["throttled_share"] or 0) <= 0.02
        return s

    def s8(self) -> Scenario:
        big, small = (5000, 1250) if self.quick else (20_000, 5000)
        s = Scenario("S8", f"cold dump, {big:,} lots, no latency", "peak RSS <= 150 MB, flat in the lot count")
        s.row(f"lotsdb ({big:,} lots)")  # first in the table, beside pool(10), which dumps as many
        for lots in (small, big):
            with SandboxProcess(**catalog_size(lots)) as sandbox:
                event = sandbox.event_id()
                expected = sandbox.lot_ids(event)
                output = self.out(f"S8-{lots}.jsonl")
                design = f"lotsdb ({lots:,} lots)"
                env = lotsdb_env(sandbox.url, self.home())
                command = lotsdb("lots", "dump", str(event), "-o", str(output))
                run = measured(sandbox, command, env, output=output, expected=expected)
                s.row(design).runs.append(run)
                progress(s, design, run)
                if lots == big and self.baselines:
                    output = self.out("S8-pool.jsonl")
                    run = measured(
                        sandbox, baseline("pool", sandbox.url, event=event), dict(os.environ), stdout=output,
                        expected=expected,
                    )  # fmt: skip
                    s.row(f"pool({POOL})").runs.append(run)
                    progress(s, f"pool({POOL})", run)
        small_rss = s.row(f"lotsdb ({small:,} lots)").median("rss_mb") or 0
        big_rss = s.row(f"lotsdb ({big:,} lots)").median("rss_mb") or 0
        s.details["rss growth from 4x the lots (MB)"] = round(big_rss - small_rss, 1)
        s.checks["peak RSS <= 150 MB"] = big_rss <= 150
        s.checks["flat: RSS grows < 10 % (or 10 MB) with 4x the lots"] = big_rss - small_rss <= max(10, 0.1 * small_rss)
        s.checks["0 lost"] = no_loss(s.row(f"lotsdb ({big:,} lots)"))
        return s


def catalog_size(lots: int) -> dict[str, int]:
    return {"sellers": 1, "events_per_seller": 1, "lots_per_event": lots}


def ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return round(value / reference, 3)


def no_loss(row: Row) -> bool:
    return bool(row.runs) and all(run.lost == 0 for run in row.runs)


def progress(scenario: Scenario, design: str, run: Run) -> None:
    parts = [f"{scenario.key} {design}: {run.wall:.2f} s", f"{run.rss_mb:.0f} MB", f"exit {run.code}"]
    if run.requests is not None:
        parts.append(f"{run.requests} requests, {run.throttled} x 429")
    if run.lost is not None:
        parts.append(f"{run.lost} lost")
    if run.note:
        parts.append(run.note)
    print("  " + ", ".join(parts), file=sys.stderr, flush=True)


def heavy_imports(env: dict[str, str]) -> list[str]:
    """Which of the heavy modules `lotsdb --version` imports (from `python -X importtime`)."""
    result = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "lotsdb_cli", "--version"], env=env, capture_output=True, text=True
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    return sorted(name for name in names if name.split(".")[0] in HEAVY_MODULES and "." not in name)


def write_albums_csv(path: Path, rows: int) -> None:
    genres = ("Rock", "Jazz", "Folk", "Pop", "Electronic")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Artist", "Album", "Genre", "Year", "Spotify URL"])
        for index, album in enumerate(album_ids(1, rows)):
            writer.writerow(
                [
                    f"Artist {index % 997}",
                    f"Album number {index}",
                    genres[index % len(genres)],
                    1960 + index % 60,
                    f"https://open.spotify.com/album/{album}",
                ]
            )


# -- the baselines (run as `bench.py baseline DESIGN URL ...`) -------------------------------
def catalog_token(session: requests.Session, url: str) -> str:
    response = session.post(
        f"{url}/connect/token",
        data=DEMO.password_form(),
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def spotify_token(session: requests.Session, url: str) -> str:
    response = session.post(
        f"{url}/api/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO.spotify_client_id, DEMO.spotify_client_secret),
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def baseline_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.py baseline")
    parser.add_argument("design", choices=("sequential", "pool"))
    parser.add_argument("url")
    parser.add_argument("--event", type=int)
    parser.add_argument("--albums", type=int)
    args = parser.parse_args(argv)
    url = args.url
    login = requests.Session()
    if args.albums:
        headers = {"Authorization": f"Bearer {spotify_token(login, url)}"}
        urls = [f"{url}/v1/albums/{album}?market=US" for album in album_ids(1, args.albums)]
    else:
        headers = {"Authorization": f"Bearer {catalog_token(login, url)}"}
        event = get_with_retries(login, f"{url}/api/Catalog/{args.event}", headers)
        if event is None:
            print("the event could not be read", file=sys.stderr)
            return 1
        urls = [f"{url}/api/Lot/{lot['id']}" for lot in event["lots"]]
    local = threading.local()

    def fetch(item_url: str) -> Any:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        document = get_with_retries(session, item_url, headers)
        if args.albums and isinstance(document, dict):
            tracks = document.get("tracks") or {}
            next_url = tracks.get("next")
            items = list(tracks.get("items") or [])
            while next_url:
                page = get_with_retries(session, next_url, headers)
                if page is None:
                    return None  # a page lost: the album is lost
                items += page.get("items") or []
                next_url = page.get("next")
            document["tracks"] = {**tracks, "items": items, "next": None}
        return document

    lost = 0
    out = sys.stdout
    if args.design == "sequential":
        results: Iterator[Any] = map(fetch, urls)
        lost = write_all(results, out)
    else:
        with concurrent.futures.ThreadPoolExecutor(POOL) as pool:
            lost = write_all(pool.map(fetch, urls), out)
    print(f"{len(urls) - lost} fetched, {lost} lost", file=sys.stderr)
    return 0 if lost == 0 else 3


def write_all(documents: Iterator[Any], out: Any) -> int:
    lost = 0
    for document in documents:
        if document is None:
            lost += 1
        else:
            out.write(json.dumps(document) + "\n")
    out.flush()
    return lost


def get_with_retries(session: requests.Session, url: str, headers: dict[str, str]) -> Any:
    """GET, retrying 429/503 after 1 s and 2 s; None when it still fails (the item is lost)."""
    for delay in (*BASELINE_RETRY_DELAYS, None):
        try:
            response = session.get(url, headers=headers, timeout=30)
        except requests.RequestException:
            response = None
        if response is not None and response.status_code == 200:
            return response.json()
        if delay is None or (response is not None and response.status_code not in (429, 503)):
            return None
        time.sleep(delay)
    return None


# -- report ----------------------------------------------------------------------------------
def table(scenarios: list[Scenario]) -> str:
    lines = [
        "| scenario | lotsdb | sequential | pool(10) | limit | ratio | target | met? |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in scenarios:
        ours = [row for row in s.rows if row.design.startswith("lotsdb")]
        seq = s.row("sequential") if has(s, "sequential") else None
        pool = s.row(f"pool({POOL})") if has(s, f"pool({POOL})") else None
        for row in ours:
            lines.append(
                "| "
                + " | ".join(
                    [
                        f"{s.key} {s.title}"
                        + ("" if row.design == "lotsdb" else f" — {row.design.removeprefix('lotsdb ')}"),
                        cell(row, s),
                        cell(seq, s) if seq and row is ours[0] else "",
                        cell(pool, s) if pool and row is ours[0] else "",
                        f"{s.limit:.2f} s ({s.limit_note})" if s.limit else "—",
                        ratio_cell(row, s, pool),
                        s.target if row is ours[0] else "",
                        ("yes" if s.met else "**no**") if row is ours[0] else "",
                    ]
                )
                + " |"
            )
    return "\n".join(lines)


def label(s: Scenario, row: Row) -> str:
    if row.design == "lotsdb":
        return f"{s.key} {s.title}"
    return f"{s.key} {s.title} — {row.design.removeprefix('lotsdb ')}"


def has(s: Scenario, design: str) -> bool:
    return any(row.design == design for row in s.rows)


def cell(row: Row | None, s: Scenario) -> str:
    if row is None or not row.runs:
        return "—"
    summary = row.summary()
    parts = [f"{summary['wall']:.2f} s"]
    if summary["requests"] is not None:
        parts.append(f"{summary['requests']:.0f} req")
        parts.append(f"{summary['throttled']:.0f}x429 ({100 * (summary['throttled_share'] or 0):.1f} %)")
    if summary["lost"] is not None:
        parts.append(f"{summary['max_lost']} lost")
    parts.append(f"{summary['rss_mb']:.0f} MB")
    return ", ".join(parts)


def ratio_cell(row: Row, s: Scenario, pool: Row | None) -> str:
    wall = row.median("wall")
    parts = []
    if pool is not None and pool.runs and row is next(r for r in s.rows if r.design.startswith("lotsdb")):
        parts.append(f"{wall / (pool.median('wall') or 1):.2f}x pool")
    if s.limit:
        parts.append(f"{wall / s.limit:.2f}x limit")
    return ", ".join(parts) or "—"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def main(argv: list[str]) -> int:
    if argv[:1] == ["baseline"]:
        return baseline_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run, smaller sizes")
    parser.add_argument("--runs", type=int, default=None, help="runs per design (default 3; --quick: 1)")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--only", help="comma-separated scenarios, e.g. S1,S4")
    parser.add_argument("--no-baselines", action="store_true", help="measure lotsdb only (while tuning)")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    chosen = [key.strip().upper() for key in args.only.split(",")] if args.only else None
    work = Path(tempfile.mkdtemp(prefix="lotsdb-bench-"))
    bench = Bench(runs, args.quick, work, baselines=not args.no_baselines)
    scenarios: list[Scenario] = []
    started = time.monotonic()
    try:
        for key in ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"):
            if chosen and key not in chosen:
                continue
            print(f"{key} ...", file=sys.stderr, flush=True)
            scenarios.append(getattr(bench, key.lower())())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(table(scenarios))
    print(f"\n{sum(s.met for s in scenarios)} of {len(scenarios)} targets met; bench took {elapsed:.0f} s")
    if args.json:
        document = {
            "machine": machine(),
            "runs": runs,
            "quick": args.quick,
            "took_s": round(elapsed, 1),
            "scenarios": [s.summary() for s in scenarios],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
