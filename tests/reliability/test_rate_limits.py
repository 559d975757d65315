"""Rate limits during a dump: long waits stop the run at once, short ones are honoured, and a
storm of 429s never turns into a tight retry loop."""

from __future__ import annotations

import email.utils
import json
import stat
import time
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.sandbox import Sandbox

from .support import EVENT, LOT_ROUTE, assert_no_crash, assert_one_error_line, jsonl_ids, leftovers, route_count

LOTS = 60


def test_retry_after_an_hour_stops_within_max_wait_and_says_when(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_fault("/api/Lot/", "retry_after", value="3600")
    out = tmp_path / "lots.jsonl"
    result = cli.proc("--max-wait", "60", "lots", "dump", str(EVENT), "-o", str(out), timeout=60)  # not an hour
    assert result.returncode == 75, result.stderr
    assert_one_error_line(result.stderr)
    assert "asks to wait 1h" in result.stderr and "run again after" in result.stderr
    assert not out.exists() and leftovers(tmp_path, out.name) == []
    assert route_count(sandbox, LOT_ROUTE, "429") <= 32  # the first answers stop every worker


def test_the_next_run_waits_as_the_server_asked_without_asking_again(
    cli: Cli, sandbox: Sandbox, isolated_home: Path
) -> None:
    """A quota that asks for an hour, and a cron job every ten minutes: the runs before the time stop at
    once (75) with nothing sent; another server, or the time passed, is asked as usual."""
    sandbox.add_fault("/api/Lot/", "retry_after", value="3600")
    assert cli.proc("lots", "dump", str(EVENT)).returncode == 75
    sandbox.reset()  # (the server would answer now: the wait it asked for is what holds the next run)
    again = cli.proc("lots", "dump", str(EVENT))
    assert again.returncode == 75 and "asked to be left alone for" in again.stderr
    assert "told an earlier run" in again.stderr
    assert "run again after" in again.stderr
    assert route_count(sandbox, LOT_ROUTE) == 0
    with Sandbox() as elsewhere:  # another host:port is not held
        other = Cli({**elsewhere.env(), "LOTSDB_HOME": str(isolated_home)})
        assert other.proc("lots", "show", "100001").returncode == 0
    waits = json.loads((isolated_home / "pauses.json").read_text())
    assert stat.S_IMODE((isolated_home / "pauses.json").stat().st_mode) == 0o600
    (isolated_home / "pauses.json").write_text(json.dumps({host: when - 7200 for host, when in waits.items()}))
    assert cli.proc("lots", "dump", str(EVENT)).returncode == 0  # the time has passed


@pytest.mark.parametrize("content", ["9" * 400, "1e400", "1e18", "99999999999", '"soon"', "[1, 2]", "{"])
def test_a_damaged_or_foreign_record_of_waits_is_ignored(
    cli: Cli, sandbox: Sandbox, isolated_home: Path, content: str
) -> None:
    host = sandbox.url.split("://")[1]
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "pauses.json").write_text(f'{{"{host}": {content}}}' if content[0] not in "[{" else content)
    result = cli.proc("lots", "show", "100001")
    assert result.returncode == 0, result.stderr


def middle_lots_pattern(sandbox: Sandbox, count: int) -> str:
    """A path regex for `count` lots near the end of the event (after the gate has seen successes)."""
    catalog = sandbox.data.catalog(EVENT)
    assert catalog is not None
    lot_ids = list(catalog.lot_ids)[50 : 50 + count]
    return "/api/Lot/(" + "|".join(map(str, lot_ids)) + ")$"


def test_retry_after_as_an_http_date(cli: Cli, sandbox: Sandbox) -> None:
    soon = email.utils.formatdate(time.time() + 3, usegmt=True)
    sandbox.add_fault(middle_lots_pattern(sandbox, 3), "retry_after", count=3, value=soon)
    result = cli.proc("lots", "dump", str(EVENT))
    assert result.returncode == 0, result.stderr
    assert len(jsonl_ids(result.stdout)) == LOTS
    assert route_count(sandbox, LOT_ROUTE, "429") == 3

    sandbox.reset()
    far = email.utils.formatdate(time.time() + 7200, usegmt=True)
    sandbox.add_fault("/api/Lot/", "retry_after", value=far)
    stopped = cli.proc("--refresh", "--max-wait", "60", "lots", "dump", str(EVENT))
    assert stopped.returncode == 75 and "run again after" in stopped.stderr


def test_429_without_retry_after_is_retried(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(middle_lots_pattern(sandbox, 4), "retry_after", count=4, value=None)
    result = cli.proc("lots", "dump", str(EVENT))
    assert result.returncode == 0, result.stderr
    assert len(jsonl_ids(result.stdout)) == LOTS
    assert route_count(sandbox, LOT_ROUTE, "429") == 4


def test_429s_at_the_start_do_not_slow_the_whole_run(cli: Cli, sandbox: Sandbox) -> None:
    # Before any lot has succeeded there is no rate to learn: the pace must not be pinned at
    # what a second of login and event requests suggests (~2 requests/s, once ~30 s for 60 lots).
    sandbox.add_fault("/api/Lot/", "retry_after", count=3, value="1")
    # (pinned at that pace, the dump would take ~30 s and fail on the subprocess's own timeout)
    result = cli.proc("lots", "dump", str(EVENT), timeout=25)
    assert result.returncode == 0, result.stderr
    assert len(jsonl_ids(result.stdout)) == LOTS


@pytest.mark.parametrize("retry_after", ["1", None])
def test_a_storm_of_429s_is_not_a_tight_loop(cli: Cli, sandbox: Sandbox, retry_after: str | None) -> None:
    sandbox.add_fault("/api/Lot/", "retry_after", value=retry_after)  # every lot, for ever
    workers, retries = 2, 2
    result = cli.proc("--retries", str(retries), "lots", "dump", str(EVENT), "--workers", str(workers), timeout=30)
    assert result.returncode == 75, result.stderr
    assert_one_error_line(result.stderr)
    assert "still rate-limiting" in result.stderr
    requests = route_count(sandbox, LOT_ROUTE)
    assert requests <= LOTS * (retries + 1)  # the bound the issue asks for
    assert requests <= workers * (retries + 1) + workers  # in fact: the run stops at the first lot out of tries


def test_a_tight_rate_limit_loses_no_lot(cli: Cli, sandbox: Sandbox) -> None:
    # 20 ms of latency, as any real server has: with none, the 429s sent before the first one
    # comes back measure how loaded the test machine is, not the policy.
    sandbox.set(rate_limit=30, latency_ms=20)
    result = cli.proc("lots", "dump", str(EVENT))  # 32 workers against 30 requests a second
    assert result.returncode == 0, result.stderr
    assert len(jsonl_ids(result.stdout)) == LOTS
    # A client that does not learn the rate keeps 32 requests in flight against 30 a second and is
    # refused more often than served; this one is refused a few times while it learns (about 10 on
    # a quiet machine, more when the machine is loaded and requests leave late, in bunches).
    assert route_count(sandbox, LOT_ROUTE, "429") <= LOTS // 2


@pytest.mark.parametrize("value", ["99999999999999999999", "inf", "1e400", "Fri, 31 Dec 9999 23:59:59 GMT", "²"])
def test_absurd_retry_after_values_never_crash(cli: Cli, sandbox: Sandbox, value: str) -> None:
    lot_id = EVENT * 100 + 1
    sandbox.add_fault(f"/api/Lot/{lot_id}$", "retry_after", count=1, value=value)
    result = cli("--max-wait", "60", "lots", "show", str(lot_id), "--format", "json")
    assert result.code in (0, 75), result.stderr
    assert_no_crash(result.stderr)
