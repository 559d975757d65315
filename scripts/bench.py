"""Benchmark lotsdb against the designs a user would pick instead, on this machine, in one run.

Run:   .venv/bin/python scripts/bench.py [--quick] [--runs N] [--only S1,S3] [--json FILE] [--no-peers]

Every scenario starts its own sandbox (`python -m lotsdb_cli sandbox serve --port 0 ...` with
that scenario's knobs) and measures every design against it, each as a separate process reaped
with `os.wait4`. lotsdb is only ever run through its CLI (`python -m lotsdb_cli ...`), so the
bench works whatever its HTTP core is. The peers are `pool(10)` and `pool(32)` (threads and
`requests`), `aiohttp(32)` (asyncio), `curl --parallel --parallel-max 32`, and `sequential` where
it is cheap: see scripts/bench_peers.py and docs/benchmarks.md, which says how every figure and
every limit is computed.

  S1  cold dump, 1,000 lots, 50 ms latency      lotsdb <= 1.0 x the fastest peer
  S2  cold dump, 500 lots, 200 ms latency       <= 1.0 x the fastest peer; <= 1.15 x the limit
  S3  cold dump, 1,000 lots, no latency         <= 1.0 x pool(10); CPU <= 1.2 ms/lot; <= 20 switches/lot
  S4  cold dump, 20,000 lots, no latency        the same, and peak RSS <= 100 MB
  S5  warm dump, 1,000 lots                     <= 0.30 s for the process, 0 requests
  S6  100 req/s, no rate headers, 1,000 lots    --workers 32 and 64: <= 1.05 x N/R, 429s <= 2 %, 0 lost
  S7  three hosts, one Redis, 3 x 400 lots      429s <= 2 % in all, <= 1.10 x N/R, 0 lost
  S8  lotsdb --version; lots dump start-up      --version <= 0.10 s; start-up reported
  S9  albums import, 10,000 rows                <= 1.5 s, 0 requests
  S10 albums refresh, 500 albums at 20 req/s    <= 1.05 x N/R, 0 failed, 429s <= 2 %
  S11 albums import + list, 300,000 rows        peak RSS <= 150 MB each
  S12 albums gallery, 10,000 albums             < 1 s; filter latency < 100 ms (when available)

`--quick`: one run and smaller sizes (a few minutes; the "met?" column is then only indicative).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_measure import (
    PYTHON,
    SCRIPTS,
    Design,
    Job,
    RedisServer,
    Run,
    SandboxProcess,
    as_run,
    check_output,
    close_launcher,
    lotsdb_env,
    measure,
    progress,
    spawn,
    spawn_together,
)
from bench_report import Scenario, Target, machine, report

from lotsdb_cli.sandbox.albumids import album_ids

PEERS = str(SCRIPTS / "bench_peers.py")
CURL_PEER = SCRIPTS / "bench_curl.sh"
PROBE = "probe: curl, lots only"  # not a peer: the bench logs in and reads the event for it
GALLERY_TIMING = SCRIPTS / "gallery_filter_timing.py"
IN_FLIGHT = 32  # lotsdb's default --workers, and the peers' concurrency
RETRIES = 2  # every peer retries a 429 or 503 twice, after 1 s and 2 s
HEAVY_MODULES = ("requests", "requests_cache", "tenacity", "tqdm", "urllib3", "aiohttp")


def catalog_size(lots: int, events: int = 1) -> dict[str, int]:
    return {"sellers": 1, "events_per_seller": events, "lots_per_event": lots}


def lotsdb(*args: str) -> list[str]:
    return [PYTHON, "-m", "lotsdb_cli", *args]


class Bench:
    def __init__(self, runs: int, quick: bool, work: Path, *, peers: bool = True) -> None:
        self.runs = runs
        self.quick = quick
        self.work = work
        self.peers = peers

    def home(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="home-", dir=self.work))

    def out(self, name: str) -> Path:
        return self.work / name

    # -- the dump designs --------------------------------------------------------------------
    def dump_job(self, design: str, sandbox: SandboxProcess, event: int, lot_ids: list[int], output: Path) -> Job:
        """The process of `design` dumping `event` into `output`: "lotsdb [ARGS]", "pool(N)",
        "aiohttp(N)", "curl", "sequential" or the probe."""
        if design.startswith("lotsdb"):
            extra = design.removeprefix("lotsdb").split()
            env = lotsdb_env(sandbox.url, self.home())
            return Job(lotsdb("lots", "dump", str(event), *extra, "-o", str(output)), env)
        env = lotsdb_env(sandbox.url, self.home())  # the peers read the sandbox's address from it too
        if design == "curl":
            work = Path(tempfile.mkdtemp(prefix="curl-", dir=self.work))
            command = ["sh", str(CURL_PEER), str(work), str(event), str(IN_FLIGHT), str(RETRIES)]
            return Job(command, env, stdout=output)
        if design == PROBE:
            config = self.out(f"probe-{event}.config")
            write_curl_config(config, sandbox, lot_ids)
            command = ["curl", "--parallel", "--parallel-max", str(IN_FLIGHT), "--silent", "--show-error",
                       "--no-progress-meter", "--fail", "--retry", str(RETRIES), "--write-out", r"\n",
                       "--config", str(config)]  # fmt: skip
            return Job(command, env, stdout=output)
        match = re.fullmatch(r"(pool|aiohttp)\((\d+)\)|(sequential)", design)
        if match is None:
            raise ValueError(f"unknown design {design}")
        kind = match.group(1) or match.group(3)
        workers = match.group(2) or "1"
        return Job([PYTHON, PEERS, kind, "--workers", workers, "--event", str(event)], env, stdout=output)

    def dump_designs(
        self,
        s: Scenario,
        sandbox: SandboxProcess,
        designs: list[str],
        *,
        runs: int,
        peer_runs: int | None = None,
    ) -> None:
        """Every design, `runs` times, interleaved (so that drift in the machine's load hits all
        alike); the peers only `peer_runs` times."""
        event = sandbox.event_ids()[0]
        expected = sandbox.lot_ids(event)
        s.items = len(expected)
        chosen = [d for d in designs if d.startswith("lotsdb") or d == PROBE or self.peers]
        for number in range(runs):
            for design in chosen:
                is_peer = not design.startswith("lotsdb")
                if is_peer and peer_runs is not None and number >= peer_runs:
                    continue
                output = self.out(f"{s.key}-{slug(design)}.jsonl")
                output.unlink(missing_ok=True)
                run = measure(sandbox, self.dump_job(design, sandbox, event, expected, output))
                check_output(run, output, expected, can_order=design not in ("curl", PROBE))
                s.design(design).runs.append(run)
                progress(s.key, design, run)

    # -- S1-S4: cold dumps -------------------------------------------------------------------
    def cold_latency(self, key: str, lots: int, latency_ms: int) -> Scenario:
        s = Scenario(key, f"cold dump, {lots:,} lots, {latency_ms} ms latency")
        designs = ["lotsdb", "pool(10)", f"pool({IN_FLIGHT})", "curl", f"aiohttp({IN_FLIGHT})"]
        with SandboxProcess(**catalog_size(lots), latency_ms=latency_ms) as sandbox:
            self.dump_designs(s, sandbox, designs, runs=self.runs)
        latency = latency_ms / 1000
        rounds = math.ceil(s.items / IN_FLIGHT)
        s.limit = (2 + rounds) * latency
        s.limit_note = f"(2 + ceil(N/{IN_FLIGHT})) x latency"
        s.details["classic limit ceil(N/32) x latency (s)"] = round(rounds * latency, 3)
        return s

    def s1(self) -> Scenario:
        s = self.cold_latency("S1", 300 if self.quick else 1000, 50)
        s.targets += [s.versus_fastest_peer("lotsdb", 1.0), s.complete("lotsdb")]
        return s

    def s2(self) -> Scenario:
        s = self.cold_latency("S2", 200 if self.quick else 500, 200)
        s.targets += [s.versus_fastest_peer("lotsdb", 1.0), s.versus_limit("lotsdb", 1.15), s.complete("lotsdb")]
        return s

    def cold_no_latency(self, key: str, lots: int, *, runs: int, sequential: bool) -> Scenario:
        s = Scenario(key, f"cold dump, {lots:,} lots, no latency")
        designs = ["lotsdb", "pool(10)", f"pool({IN_FLIGHT})", "curl", f"aiohttp({IN_FLIGHT})"]
        if sequential:
            designs.append("sequential")
        designs.append(PROBE)
        with SandboxProcess(**catalog_size(lots)) as sandbox:
            self.dump_designs(s, sandbox, designs, runs=runs)
        # The sandbox's own ceiling: the best rate it answered at, over every run of every design
        # and of the probe (first to last counted request, as the sandbox stamped them), applied
        # to the N + 2 requests of a dump.
        best_name, best_rate = "", 0.0
        for design in s.designs:
            for run in design.runs:
                if run.requests and run.span_s and run.requests > 10:
                    rate = (run.requests - 1) / run.span_s
                    if rate > best_rate:
                        best_name, best_rate = design.name, rate
        if best_rate:
            s.limit = (s.items + 2) / best_rate
            s.limit_note = f"(N + 2) / {best_rate:,.0f} req/s, the sandbox's best rate (seen with {best_name})"
            s.details["sandbox ceiling (req/s)"] = round(best_rate)
        ours = s.design("lotsdb").summary()
        s.targets += [
            s.versus_peer("lotsdb", "pool(10)", 1.0),
            Target.at_most("lotsdb client CPU per lot (ms)", ours["cpu_ms_per_item"], 1.2, short="CPU ≤ 1.2 ms/lot"),
            Target.at_most("lotsdb context switches per lot", ours["switches_per_item"], 20, short="≤ 20 switches/lot"),
            s.complete("lotsdb"),
        ]
        return s

    def s3(self) -> Scenario:
        return self.cold_no_latency("S3", 300 if self.quick else 1000, runs=self.runs, sequential=True)

    def s4(self) -> Scenario:
        s = self.cold_no_latency("S4", 2000 if self.quick else 20_000, runs=1, sequential=False)
        rss = s.design("lotsdb").median("rss_mb")
        s.targets.insert(3, Target.at_most("lotsdb peak RSS (MB)", rss, 100, short="RSS ≤ 100 MB"))
        return s

    # -- S5: warm dump -----------------------------------------------------------------------
    def s5(self) -> Scenario:
        lots = 1000
        s = Scenario("S5", f"warm dump, {lots:,} cached lots (second run, same LOTSDB_HOME)")
        with SandboxProcess(**catalog_size(lots)) as sandbox:
            event = sandbox.event_ids()[0]
            expected = sandbox.lot_ids(event)
            s.items = len(expected)
            output = self.out("S5.jsonl")
            job = self.dump_job("lotsdb", sandbox, event, expected, output)
            fill = measure(sandbox, job)
            s.details["cold fill (s)"] = round(fill.wall, 3)
            for _ in range(max(self.runs, 3)):
                output.unlink(missing_ok=True)
                run = measure(sandbox, job)
                check_output(run, output, expected)
                s.design("lotsdb").runs.append(run)
                progress(s.key, "lotsdb", run)
        s.targets += [
            Target.at_most("lotsdb whole process (s)", s.design("lotsdb").wall, 0.30, short="≤ 0.30 s"),
            no_requests(s.design("lotsdb")),
            s.complete("lotsdb"),
        ]
        return s

    # -- S6, S7: rate limits -----------------------------------------------------------------
    def s6(self) -> Scenario:
        rate = 100
        lots = 300 if self.quick else 1000
        s = Scenario("S6", f"cold dump, {lots:,} lots, {rate} req/s without rate headers, 50 ms")
        designs = ["lotsdb --workers 32", "lotsdb --workers 64", "pool(10)", f"pool({IN_FLIGHT})", "curl",
                   f"aiohttp({IN_FLIGHT})"]  # fmt: skip
        with SandboxProcess(**catalog_size(lots), latency_ms=50, rate_limit=rate) as sandbox:
            self.dump_designs(s, sandbox, designs, runs=self.runs, peer_runs=1)
        s.limit = s.items / rate
        s.limit_note = "N/R"
        for design in designs[:2]:
            s.targets += [
                s.versus_limit(design, 1.05),
                Target.at_most(
                    f"{design}: 429s (%)", percent(s.design(design).throttled_share()), 2, short="429s ≤ 2 %"
                ),
                s.complete(design, ordered=False),
            ]
        return s

    def s7(self) -> Scenario:
        rate, hosts = 100, 3
        lots = 100 if self.quick else 400
        s = Scenario("S7", f"{hosts} hosts sharing one Redis, {hosts} x {lots} lots, {rate} req/s in all")
        if not RedisServer.available():
            s.skipped = "redis-server is not installed"
            return s
        design = f"lotsdb x {hosts}, --cache redis://"
        with RedisServer() as redis_server, SandboxProcess(**catalog_size(lots, hosts), rate_limit=rate) as sandbox:
            events = sandbox.event_ids()[:hosts]
            expected = {event: sandbox.lot_ids(event) for event in events}
            s.items = sum(len(ids) for ids in expected.values())
            for _ in range(self.runs):
                redis_server.flush()
                outputs = {event: self.out(f"S7-{event}.jsonl") for event in events}
                jobs = []
                for event in events:
                    outputs[event].unlink(missing_ok=True)
                    env = lotsdb_env(sandbox.url, self.home())
                    command = lotsdb("--cache", redis_server.url, "lots", "dump", str(event), "-o", str(outputs[event]))
                    jobs.append(Job(command, env))
                sandbox.reset()
                finished = spawn_together(jobs)
                stats = sandbox.stats()
                runs = []
                for event, one in zip(events, finished, strict=True):
                    run = as_run(one, None)
                    check_output(run, outputs[event], expected[event])
                    runs.append(run)
                run = combined(finished, runs, as_run(finished[0], stats))
                s.design(design).runs.append(run)
                s.details.setdefault("per-host walls (s)", []).append([round(one.wall, 2) for one in finished])
                progress(s.key, design, run)
        s.limit = s.items / rate
        s.limit_note = "N/R (N: the three events' lots)"
        s.targets += [
            Target.at_most("429s in all (%)", percent(s.design(design).throttled_share()), 2, short="429s ≤ 2 %"),
            s.versus_limit(design, 1.10),
            s.complete(design, ordered=False),
        ]
        return s

    # -- S8: start-up ------------------------------------------------------------------------
    def s8(self) -> Scenario:
        s = Scenario("S8", "lotsdb --version; lots dump start-up (process start to first request)")
        env = lotsdb_env("http://127.0.0.1:9", self.home())
        spawn(Job(lotsdb("--version"), env))  # compile bytecode once, as any installed tool has
        for _ in range(max(self.runs, 5)):
            for design, args in (("lotsdb --version", ["--version"]), ("lotsdb --help", ["--help"])):
                s.design(design).runs.append(as_run(spawn(Job(lotsdb(*args), env)), None))
        for design in ("lotsdb --version", "lotsdb --help"):
            progress(s.key, design, s.design(design).runs[-1])
        s.details["heavy modules imported by --version"] = heavy_imports(env)
        with SandboxProcess(**catalog_size(100)) as sandbox:
            event = sandbox.event_ids()[0]
            expected = sandbox.lot_ids(event)
            for _ in range(max(self.runs, 5)):
                output = self.out("S8.jsonl")
                output.unlink(missing_ok=True)
                run = measure(sandbox, self.dump_job("lotsdb", sandbox, event, expected, output))
                check_output(run, output, expected)
                s.design("lotsdb lots dump (100 lots)").runs.append(run)
                progress(s.key, "lots dump", run)
        startup = s.design("lotsdb lots dump (100 lots)").median("first_s")
        s.targets += [
            Target.at_most("lotsdb --version (s)", s.design("lotsdb --version").wall, 0.10, short="--version ≤ 0.10 s")
        ]
        s.reported["lots dump start-up (s)"] = startup
        return s

    # -- S9-S12: albums ----------------------------------------------------------------------
    def s9(self) -> Scenario:
        rows = 2000 if self.quick else 10_000
        s = Scenario("S9", f"albums import, {rows:,} rows, --skip-spotify")
        source = self.out(f"albums-{rows}.csv")
        write_albums_csv(source, rows)
        s.items = rows
        with SandboxProcess() as sandbox:
            for _ in range(self.runs):
                env = lotsdb_env(sandbox.url, self.home())
                run = measure(sandbox, Job(lotsdb("albums", "import", str(source), "--skip-spotify"), env))
                run.items, run.lost = rows, rows_missing(run, rows, r"(\d+) inserted")
                s.design("lotsdb").runs.append(run)
                progress(s.key, "lotsdb", run)
        s.targets += [
            Target.at_most("lotsdb wall (s)", s.design("lotsdb").wall, 1.5, short="≤ 1.5 s"),
            no_requests(s.design("lotsdb")),
            Target.at_most("rows not inserted", s.design("lotsdb").max_lost(), 0, short="every row"),
        ]
        return s

    def s10(self) -> Scenario:
        rate = 20
        count = 100 if self.quick else 500
        s = Scenario("S10", f"albums refresh, {count} albums, Spotify limit {rate} req/s")
        source = self.out(f"albums-{count}.csv")
        write_albums_csv(source, count)
        expected = album_ids(1, count)
        ids_file = self.out(f"album-ids-{count}.txt")
        ids_file.write_text("\n".join(expected) + "\n")
        s.items = count
        with SandboxProcess(rate_limit=rate, albums=count) as sandbox:
            for number in range(self.runs):
                env = lotsdb_env(sandbox.url, self.home())
                imported = spawn(Job(lotsdb("albums", "import", str(source), "--skip-spotify"), env))
                if imported.code != 0:
                    raise RuntimeError(f"albums import failed: {imported.stderr}")
                run = measure(sandbox, Job(lotsdb("albums", "refresh"), env))
                run.items = count
                run.lost = rows_missing(run, 0, r"albums: \d+ refreshed, \d+ unchanged, (\d+) failed", count=True)
                s.design("lotsdb").runs.append(run)
                progress(s.key, "lotsdb", run)
                if number == 0 and self.peers:
                    output = self.out("S10-pool.jsonl")
                    command = [PYTHON, PEERS, "pool", "--workers", "10", "--albums", str(ids_file)]
                    run = measure(sandbox, Job(command, env, stdout=output))
                    check_output(run, output, expected)
                    s.design("pool(10)").runs.append(run)
                    progress(s.key, "pool(10)", run)
        s.limit = count / rate
        s.limit_note = "N/R"
        ours = s.design("lotsdb")
        needed = (ours.median("requests") or 0) - (ours.median("throttled") or 0)
        s.details["requests needed (answered, incl. tracks pages, token, batch probe)"] = needed
        s.details["limit counting every needed request (s)"] = round(needed / rate, 2)
        s.targets += [
            s.versus_limit("lotsdb", 1.05),
            Target.at_most("albums failed", ours.max_lost(), 0, short="0 failed"),
            Target.at_most("429s (%)", percent(ours.throttled_share()), 2, short="429s ≤ 2 %"),
        ]
        return s

    def s11(self) -> Scenario:
        rows = 30_000 if self.quick else 300_000
        s = Scenario("S11", f"albums import of a {rows:,}-row CSV, then albums list --format jsonl")
        source = self.out(f"albums-{rows}.csv")
        write_albums_csv(source, rows, padded=True)
        s.details["CSV size (MB)"] = round(source.stat().st_size / 1e6, 1)
        s.items = rows
        expected = album_ids(1, rows)
        with SandboxProcess() as sandbox:
            env = lotsdb_env(sandbox.url, self.home())
            run = measure(sandbox, Job(lotsdb("albums", "import", str(source), "--skip-spotify"), env))
            run.items, run.lost = rows, rows_missing(run, rows, r"(\d+) inserted")
            s.design("lotsdb albums import").runs.append(run)
            progress(s.key, "albums import", run)
            output = self.out("S11-list.jsonl")
            run = measure(sandbox, Job(lotsdb("albums", "list", "--format", "jsonl"), env, stdout=output))
            check_output(run, output, expected, key="spotify_id", can_order=False)
            s.design("lotsdb albums list").runs.append(run)
            progress(s.key, "albums list", run)
            output.unlink(missing_ok=True)
        for design in ("lotsdb albums import", "lotsdb albums list"):
            rss = s.design(design).median("rss_mb")
            s.targets.append(Target.at_most(f"{design}: peak RSS (MB)", rss, 150, short="RSS ≤ 150 MB"))
            s.targets.append(
                Target.at_most(f"{design}: rows missing", s.design(design).max_lost(), 0, short="every row")
            )
        return s

    def s12(self) -> Scenario:
        count = 2000 if self.quick else 10_000
        s = Scenario("S12", f"albums gallery --no-fetch, {count:,} stored albums")
        probe = spawn(Job(lotsdb("albums", "gallery", "--help"), lotsdb_env("http://127.0.0.1:9", self.home())))
        if probe.code != 0:
            s.skipped = "`lotsdb albums gallery` does not exist yet"
            return s
        s.items = count
        source = self.out(f"albums-{count}.csv")
        write_albums_csv(source, count)
        with SandboxProcess(albums=count) as sandbox:
            env = lotsdb_env(sandbox.url, self.home())
            for setup in (["albums", "import", str(source), "--skip-spotify"], ["albums", "refresh"]):
                done = spawn(Job(lotsdb(*setup), env))  # stored albums with their covers
                if done.code != 0:
                    s.skipped = f"setup `lotsdb {' '.join(setup[:2])}` failed (exit {done.code})"
                    return s
            page = self.out("S12-gallery.html")
            for _ in range(self.runs):
                page.unlink(missing_ok=True)
                run = measure(sandbox, Job(lotsdb("albums", "gallery", "--no-fetch", "-o", str(page)), env))
                run.items = count
                if not page.exists():
                    run.note = f"{run.note}; no page written".strip("; ")
                s.design("lotsdb").runs.append(run)
                progress(s.key, "lotsdb", run)
        if page.exists():
            s.details["page size (KB)"] = round(page.stat().st_size / 1024)
        s.targets.append(Target.below("lotsdb gallery wall (s)", s.design("lotsdb").wall, 1.0, short="< 1 s"))
        s.targets.append(no_requests(s.design("lotsdb")))
        if not GALLERY_TIMING.exists():
            s.notes.append(f"filter latency not measured: {GALLERY_TIMING.name} does not exist yet")
        elif page.exists():
            latency, raw = filter_latency(page)
            s.details["gallery_filter_timing.py"] = raw
            title = "filter latency in headless chromium (ms)"
            s.targets.append(Target.below(title, latency, 100, short="filter < 100 ms"))
        return s


# -- helpers -----------------------------------------------------------------------------------
def slug(design: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", design.lower()).strip("-")


def no_requests(design: Design) -> Target:
    sent = max((run.requests or 0 for run in design.runs), default=None)
    return Target.at_most(f"{design.name}: requests (most in a run)", sent, 0, short="0 requests")


def percent(share: float | None) -> float | None:
    return None if share is None else 100 * share


def write_curl_config(path: Path, sandbox: SandboxProcess, lot_ids: list[int]) -> None:
    """curl's config: the Bearer header (logged in by the bench beforehand) and one URL per lot."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f'header = "Authorization: Bearer {sandbox.token()}"\n')
        for lot_id in lot_ids:
            handle.write(f'url = "{sandbox.url}/api/Lot/{lot_id}"\n')


def combined(finished: list[Any], runs: list[Run], counters: Run) -> Run:
    """Several processes at once as one run: the wall from the first start to the last end, the
    largest peak RSS, CPU and switches added up, lost/extra added up; the sandbox's counters."""
    start = min(one.started_at for one in finished)
    end = max(one.started_at + one.wall for one in finished)
    run = Run(
        wall=end - start,
        rss_mb=max(one.rss_mb for one in finished),
        cpu_s=sum(one.cpu_s for one in finished),
        switches=sum(one.switches for one in finished),
        code=max(one.code for one in finished),
        requests=counters.requests,
        throttled=counters.throttled,
        span_s=counters.span_s,
        items=sum(run.items or 0 for run in runs),
        lost=sum(run.lost or 0 for run in runs),
        extra=sum(run.extra or 0 for run in runs),
    )
    orders = {run.order for run in runs}
    run.order = orders.pop() if len(orders) == 1 else "out of order"
    run.note = "; ".join(run.note for run in runs if run.note)
    return run


def rows_missing(run: Run, expected: int, pattern: str, *, count: bool = False) -> int | None:
    """From a summary line on stderr: `expected` minus the number it reports (or the number
    itself with `count`); None when the line is not there (the run failed)."""
    match = re.search(pattern, run.stderr)
    return None if match is None else (int(match.group(1)) if count else expected - int(match.group(1)))


def heavy_imports(env: dict[str, str]) -> list[str]:
    """Which of the heavy modules `lotsdb --version` imports (from `python -X importtime`)."""
    result = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "lotsdb_cli", "--version"], env=env, capture_output=True, text=True
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    return sorted(name for name in names if name.split(".")[0] in HEAVY_MODULES and "." not in name)


def filter_latency(page: Path) -> tuple[float | None, Any]:
    """Run scripts/gallery_filter_timing.py on the page; its latency in ms and all it printed."""
    result = subprocess.run([PYTHON, str(GALLERY_TIMING), str(page)], capture_output=True, text=True, timeout=300)
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None, {"exit": result.returncode, "stdout": result.stdout[-500:], "stderr": result.stderr[-500:]}
    if isinstance(document, dict):
        for key in ("filter_ms", "filter_latency_ms", "latency_ms", "median_ms", "p50_ms", "ms"):
            if isinstance(document.get(key), int | float):
                return float(document[key]), document
        for key, value in document.items():
            if key.endswith("_ms") and isinstance(value, int | float):
                return float(value), document
    return None, document


def write_albums_csv(path: Path, rows: int, *, padded: bool = False) -> None:
    """A spreadsheet export of the sandbox's first `rows` albums; `padded` gives the rows the
    length of a real export (~106 bytes: 300,000 rows make ~32 MB)."""
    genres = ("Rock", "Jazz", "Folk", "Pop", "Electronic")
    edition = " (Deluxe)" if padded else ""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Artist", "Album", "Genre", "Year", "Spotify URL"])
        for index, album in enumerate(album_ids(1, rows)):
            writer.writerow(
                [
                    f"Artist {index % 997}",
                    f"Album number {index}{edition}",
                    genres[index % len(genres)],
                    1960 + index % 60,
                    f"https://open.spotify.com/album/{album}",
                ]
            )


SCENARIOS: dict[str, Callable[[Bench], Scenario]] = {
    key: getattr(Bench, key.lower()) for key in [f"S{number}" for number in range(1, 13)]
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run, smaller sizes (a few minutes)")
    parser.add_argument("--runs", type=int, default=None, help="runs per design, medians reported (default 3)")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument("--only", help="comma-separated scenarios, e.g. S1,S6")
    parser.add_argument("--no-peers", action="store_true", help="measure lotsdb only (while tuning)")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    chosen = [key.strip().upper() for key in args.only.split(",")] if args.only else list(SCENARIOS)
    unknown = [key for key in chosen if key not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose among {', '.join(SCENARIOS)}")
    if shutil.which("curl") is None and not args.no_peers:
        parser.error("curl is not installed (one of the peers); install it or pass --no-peers")
    work = Path(tempfile.mkdtemp(prefix="lotsdb-bench-"))
    bench = Bench(runs, args.quick, work, peers=not args.no_peers)
    scenarios: list[Scenario] = []
    started = time.monotonic()
    try:
        for key in SCENARIOS:
            if key in chosen:
                print(f"{key} ...", file=sys.stderr, flush=True)
                scenarios.append(SCENARIOS[key](bench))
    finally:
        close_launcher()
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(report(scenarios, elapsed))
    if args.json:
        document = {
            "machine": machine(),
            "load_average": os.getloadavg(),
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
