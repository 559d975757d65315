"""The bench's launcher: starts the measured processes and reaps them with `os.wait4`.

Run by scripts/bench_measure.py as `python -S -I bench_launch.py`, once per bench. Why a separate
process: a child's `ru_maxrss` starts from the peak RSS of the process that spawned it (Linux
keeps the old address space's high-water mark across exec), so processes spawned by the bench
itself would all report at least the bench's own peak, which grows as it checks large outputs.
This launcher stays small (~10 MB with only the standard library), so that floor stays small too.

Protocol, one JSON line each way per batch: in, `{"timeout": seconds, "jobs": [...]}`, each job
`{"command": [...], "env": {...}, "stdin": path|null, "stdout": path|null, "stderr": path}`;
out, one result per job, in the same order: `{"started_at", "wall", "maxrss_kb", "utime", "stime",
"nvcsw", "nivcsw", "code", "killed"}` or `{"error": message}`. Every job of a batch starts at
once; each is reaped as it ends, so each wall time is its own. A job still running `timeout`
seconds after the batch started is killed (SIGKILL; "killed": true), so that no run hangs the bench.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def start(job: dict) -> tuple[int, float, float]:
    """Spawn one job with its standard streams redirected; (pid, wall-clock start, perf start)."""
    write = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, job.get("stdin") or os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, job.get("stdout") or os.devnull, write, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, job["stderr"], write, 0o644),
    ]
    started_at, started = time.time(), time.perf_counter()
    pid = os.posix_spawnp(job["command"][0], job["command"], job["env"], file_actions=actions)
    return pid, started_at, started


def run_batch(jobs: list[dict], timeout: float) -> list[dict | None]:
    results: list[dict | None] = [None] * len(jobs)
    running: dict[int, tuple[int, float, float]] = {}
    killed: set[int] = set()

    def kill_all(signum: int, frame: object) -> None:
        for pid in running:
            killed.add(pid)
            os.kill(pid, signal.SIGKILL)

    signal.signal(signal.SIGALRM, kill_all)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    for index, job in enumerate(jobs):
        try:
            pid, started_at, started = start(job)
        except OSError as exc:
            results[index] = {"error": f"{job['command'][0]}: {exc.strerror or exc}"}
            continue
        running[pid] = (index, started_at, started)
    while running:
        pid, status, usage = os.wait4(-1, 0)
        ended = time.perf_counter()
        if pid not in running:
            continue
        index, started_at, started = running.pop(pid)
        results[index] = {
            "started_at": started_at,
            "wall": ended - started,
            "maxrss_kb": usage.ru_maxrss,
            "utime": usage.ru_utime,
            "stime": usage.ru_stime,
            "nvcsw": usage.ru_nvcsw,
            "nivcsw": usage.ru_nivcsw,
            "code": os.waitstatus_to_exitcode(status),
            "killed": pid in killed,
        }
    signal.setitimer(signal.ITIMER_REAL, 0)
    return results


def main() -> int:
    for line in sys.stdin:
        if line.strip():
            batch = json.loads(line)
            sys.stdout.write(json.dumps(run_batch(batch["jobs"], batch["timeout"])) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
