"""The Redis deployment: one HTTP cache shared by several hosts (each with its own LOTSDB_HOME)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis
from conftest import Cli, lot_requests, route_count, start_redis_server

from lotsdb_cli.sandbox import Sandbox


def host(sandbox: Sandbox, home: Path, redis_url: str) -> Cli:
    return Cli({**sandbox.env(), "LOTSDB_HOME": str(home), "LOTSDB_CACHE": redis_url})


def test_a_second_host_dumps_from_a_warm_redis(sandbox: Sandbox, tmp_path: Path, redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    first = host(sandbox, tmp_path / "host-a", redis_url)("lots", "dump", "1000")
    assert first.code == 0, first.stderr
    sandbox.reset()
    second = host(sandbox, tmp_path / "host-b", redis_url)("lots", "dump", "1000")
    assert second.code == 0 and second.stdout == first.stdout
    assert lot_requests(sandbox) == 0 and sandbox.stats()["requests"] == 0
    assert not (tmp_path / "host-b" / "http_cache.sqlite").exists()


def test_other_keys_in_the_same_redis_are_untouched(sandbox: Sandbox, tmp_path: Path, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.set("someone-else:key", "keep me")
    cli = host(sandbox, tmp_path / "home", redis_url)
    assert cli("lots", "dump", "1000").code == 0
    assert all(key.startswith(b"lotsdb:") or key == b"someone-else:key" for key in client.keys("*"))
    assert cli("cache", "clear").code == 0
    assert client.get("someone-else:key") == b"keep me"


def test_stats_clear_offline_and_override_on_redis(sandbox: Sandbox, tmp_path: Path, redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    cli = host(sandbox, tmp_path / "home", redis_url)
    assert cli("lots", "dump", "1000").code == 0
    stats = json.loads(cli("cache", "stats", "--format", "json").stdout)
    assert stats["backend"] == "redis" and stats["entries"] == 61
    sandbox.reset()
    offline = cli("--offline", "lots", "show", "100001", "--format", "json")
    assert offline.code == 0 and sandbox.stats()["requests"] == 0
    assert cli("lots", "override", "100001", "--set", "Qty=3").code == 0
    shown = json.loads(cli("lots", "show", "100001", "--format", "json").stdout)
    assert shown["overridenData"][-1]["Qty"] == 3
    assert route_count(sandbox, "GET /api/Lot/{id}", "200") >= 2  # read again after the PUT
    removed = cli("cache", "clear", "--url-pattern", "*/api/Lot/*")
    assert removed.code == 0 and "removed 60" in removed.stderr
    assert cli("--refresh", "lots", "show", "100001").code == 0


def test_redis_unreachable_falls_back_to_the_local_cache(sandbox: Sandbox, tmp_path: Path) -> None:
    cli = host(sandbox, tmp_path / "home", "redis://127.0.0.1:1/0")
    result = cli("lots", "dump", "1000")
    assert result.code == 0 and len(result.stdout.splitlines()) == 60
    assert result.stderr.count("warning:") == 1 and "local cache" in result.stderr
    sandbox.reset()
    assert cli("lots", "dump", "1000").code == 0
    assert lot_requests(sandbox) == 0  # the local fallback cache kept them


@pytest.mark.parametrize(("args", "doing"), [(["cache", "clear"], "clear"), (["cache", "stats"], "read")])
def test_cache_admin_with_redis_unreachable_never_touches_the_local_fallback(
    sandbox: Sandbox, tmp_path: Path, args: list[str], doing: str
) -> None:
    """`cache clear` must clear the cache named, or nothing: the fallback a fetch would use is another cache."""
    home = tmp_path / "home"
    local = Cli({**sandbox.env(), "LOTSDB_HOME": str(home)})
    assert local("lots", "dump", "1000").code == 0
    result = host(sandbox, home, "redis://127.0.0.1:1/0")(*args)
    assert result.code == 75 and result.stdout == ""
    assert f"error: cannot {doing} the Redis cache at redis://127.0.0.1:1/0" in result.stderr
    sandbox.reset()
    assert local("lots", "dump", "1000").code == 0
    assert lot_requests(sandbox) == 0  # the local cache is whole


def test_a_wait_beyond_max_wait_holds_every_host_sharing_redis(tmp_path: Path, redis_url: str) -> None:
    """One host is told to wait an hour: the others sharing the Redis stop at once too, nothing sent."""
    redis.Redis.from_url(redis_url).flushdb()
    with Sandbox(sellers=1, events_per_seller=1, lots_per_event=20) as sandbox:
        sandbox.add_fault("/api/Lot/", "retry_after", value="3600")
        assert host(sandbox, tmp_path / "host-a", redis_url)("lots", "dump", "1000").code == 75
        sandbox.reset()
        other = host(sandbox, tmp_path / "host-b", redis_url)("lots", "dump", "1000")
        assert other.code == 75 and "run again after" in other.stderr
        assert lot_requests(sandbox) == 0


def test_three_hosts_share_one_rate_budget(tmp_path: Path, redis_url: str) -> None:
    """Three processes dumping different events against a 150 req/s server share one pace and lose nothing.

    The 2 % target for 429s is measured by scripts/bench.py on a quiet machine; here the bound is
    looser, because how many requests are in flight when a limit is first hit, and how late a
    paced request really leaves, depend on how loaded the machine running the tests is (up to
    11 % seen with the machine's two cores busy). Hosts that do not share also settle near the
    server's rate, each backing off on its own 429s, so the bound shows the pace holds, and the
    rate kept in Redis shows it is shared (a 429 pausing every host is tested below).
    """
    redis.Redis.from_url(redis_url).flushdb()
    with Sandbox(sellers=1, events_per_seller=3, lots_per_event=200, rate_limit=150, latency_ms=20) as sandbox:
        procs = [
            host(sandbox, tmp_path / f"host-{number}", redis_url).popen("lots", "dump", str(event), "--workers", "32")
            for number, event in enumerate((1000, 1001, 1002))
        ]
        outputs = [proc.communicate(timeout=120) for proc in procs]
        for proc, (stdout, stderr) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, stderr
            assert len(stdout.splitlines()) == 200  # nothing lost
        throttled = route_count(sandbox, "GET /api/Lot/{id}", "429")
        sent = route_count(sandbox, "GET /api/Lot/{id}")
        assert throttled <= 0.2 * sent, f"{throttled} 429s in {sent} lot requests"
        # A rate is learned from a 429: a machine so busy that the hosts never reached the server's
        # limit has none to share (seen once with the two cores running two other test suites).
        learned = redis.Redis.from_url(redis_url).exists("lotsdb:gate:" + sandbox.url.split("://")[1] + ":rate")
        assert learned or throttled == 0, (
            f"{throttled} 429s in {sent} lot requests, no rate in Redis",
            [err for _, err in outputs],
        )


def test_redis_going_away_mid_run_loses_nothing(tmp_path: Path) -> None:
    server, url = start_redis_server(tmp_path)
    try:
        with Sandbox(sellers=1, events_per_seller=1, lots_per_event=300, latency_ms=20) as sandbox:
            proc = host(sandbox, tmp_path / "home", url).popen("lots", "dump", "1000", "--workers", "8")
            deadline = time.monotonic() + 30
            while lot_requests(sandbox) < 50 and time.monotonic() < deadline:
                time.sleep(0.02)
            server.kill()
            stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert len(stdout.splitlines()) == 300
        assert stderr.count("warning:") == 1 and "continuing without the shared cache" in stderr
    finally:
        server.kill()
        server.wait(timeout=10)


def test_a_429_on_one_host_pauses_the_others(redis_url: str) -> None:
    from lotsdb_cli.http.shared import SharedBudget, SharedHostGate

    redis.Redis.from_url(redis_url).flushdb()
    host_a = SharedHostGate(8, SharedBudget(redis_url, "api.example:443"))
    host_b = SharedHostGate(8, SharedBudget(redis_url, "api.example:443"))
    host_a.record_throttle(60.0)
    wait = host_b._delay(time.monotonic())  # how long host B's next request must wait
    assert 30 < wait <= 60  # (a minute's pause, read from Redis; the bounds leave room for a slow machine)
    other_api = SharedHostGate(8, SharedBudget(redis_url, "other.example:443"))
    assert other_api._delay(time.monotonic()) == 0.0  # the pause is per API host


def test_a_shared_pause_longer_than_max_wait_stops_the_run(sandbox: Sandbox, tmp_path: Path, redis_url: str) -> None:
    """Another host, with a longer --max-wait, was asked to wait 5 minutes: this one stops (75), not hang."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    host_key = "lotsdb:gate:" + sandbox.url.split("://")[1]
    cli = host(sandbox, tmp_path / "home", redis_url)
    assert cli("events", "show", "1000").code == 0  # the token and the event, before the pause
    sandbox.reset()
    client.set(host_key + ":pause", repr(time.time() + 300), ex=300)
    result = cli("--max-wait", "5", "lots", "dump", "1000")
    assert result.code == 75, result.stderr
    assert "asked to be left alone for 5m more" in result.stderr and "run again after" in result.stderr
    assert lot_requests(sandbox) == 0


@pytest.mark.parametrize("value", ["garbage", "1e400", "nan", "-inf"])
def test_foreign_values_in_the_shared_keys_fail_nothing(
    sandbox: Sandbox, tmp_path: Path, redis_url: str, value: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    host_key = "lotsdb:gate:" + sandbox.url.split("://")[1]
    for suffix in (":pause", ":rate", ":next", ":news"):
        client.set(host_key + suffix, value)
    result = host(sandbox, tmp_path / "home", redis_url)("lots", "dump", "1000")
    assert result.code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 60
