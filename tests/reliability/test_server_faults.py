"""A misbehaving server during a dump: 503s, a lot that always fails, bad bodies, a server that
goes away or stalls. Nothing is lost, failures are named, and nothing hangs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.sandbox import Sandbox

from .support import (
    EVENT,
    LOT_ROUTE,
    assert_no_crash,
    assert_one_error_line,
    finish,
    jsonl_ids,
    leftovers,
    route_count,
    wait_for_answers,
)

SIZES = {"seed": 1, "sellers": 4, "events_per_seller": 3, "lots_per_event": 60, "albums": 60}


def event_lot_ids(sandbox: Sandbox, event_id: int = EVENT) -> list[int]:
    catalog = sandbox.data.catalog(event_id)
    assert catalog is not None
    return list(catalog.lot_ids)


def test_five_percent_503s_lose_nothing(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.set(fail_rate=0.05)
    events = [EVENT, EVENT + 1, EVENT + 2]
    outputs = [cli.proc("lots", "dump", str(event_id), "--workers", "8") for event_id in events]
    for event_id, result in zip(events, outputs, strict=True):
        assert result.returncode == 0, result.stderr
        assert jsonl_ids(result.stdout) == event_lot_ids(sandbox, event_id)
    assert route_count(sandbox, LOT_ROUTE, "503") > 0  # the faults really happened


def test_a_lot_that_always_fails_is_named_and_the_rest_are_written(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    lot_ids = event_lot_ids(sandbox)
    bad = lot_ids[7]
    sandbox.add_fault(f"/api/Lot/{bad}$", "status", status=500)
    out = tmp_path / "lots.jsonl"
    result = cli.proc("--retries", "2", "lots", "dump", str(EVENT), "-o", str(out))
    assert result.returncode == 3, result.stderr
    assert f"failed lot {bad}: " in result.stderr and "500" in result.stderr
    assert_one_error_line(result.stderr)
    assert jsonl_ids(out.read_text()) == [lot_id for lot_id in lot_ids if lot_id != bad]
    assert route_count(sandbox, LOT_ROUTE, "500") == 3  # retried, then given up


def test_when_every_lot_fails_an_existing_output_is_kept(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "lots.jsonl"
    out.write_text("yesterday's export\n")
    sandbox.add_fault("/api/Lot/", "status", status=503)
    result = cli.proc("--retries", "0", "lots", "dump", str(EVENT), "-o", str(out))
    assert result.returncode == 75, result.stderr  # the API kept failing: try again later
    assert "requests in a row failed after every retry" in result.stderr
    assert out.read_text() == "yesterday's export\n"
    assert leftovers(tmp_path, out.name) == []


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("html", "HTML page"), ("truncated", "invalid or truncated JSON"), ("empty", "empty body")],
)
def test_a_bad_body_for_one_lot_is_a_failed_lot_with_a_reason(
    cli: Cli, sandbox: Sandbox, kind: str, reason: str
) -> None:
    lot_ids = event_lot_ids(sandbox)
    bad = lot_ids[3]
    sandbox.add_fault(f"/api/Lot/{bad}$", kind)
    result = cli.proc("--retries", "1", "lots", "dump", str(EVENT))
    assert result.returncode == 3, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.strip().startswith(f"failed lot {bad}:")]
    assert len(failed) == 1 and reason in failed[0], result.stderr
    assert_one_error_line(result.stderr)
    assert jsonl_ids(result.stdout) == [lot_id for lot_id in lot_ids if lot_id != bad]
    sandbox.clear_faults()
    again = cli.proc("lots", "show", str(bad), "--format", "json")  # the bad body was not cached
    assert again.returncode == 0 and json.loads(again.stdout)["id"] == bad


def test_a_response_that_never_finishes_is_cut_by_the_timeout(cli: Cli, sandbox: Sandbox) -> None:
    lot_ids = event_lot_ids(sandbox)
    stalled = lot_ids[5]
    sandbox.add_fault(f"/api/Lot/{stalled}$", "slow", seconds=30)
    # (a process that waited out the 30 s stall would fail here, on the subprocess's own timeout)
    result = cli.proc("--timeout", "0.5", "--retries", "1", "lots", "dump", str(EVENT), timeout=25)
    assert result.returncode == 3, result.stderr  # one failed lot, not an unreachable server
    assert f"failed lot {stalled}: " in result.stderr and "timeout" in result.stderr
    assert jsonl_ids(result.stdout) == [lot_id for lot_id in lot_ids if lot_id != stalled]


def test_a_dropped_connection_fails_one_lot_not_the_run(cli: Cli, sandbox: Sandbox) -> None:
    lot_ids = event_lot_ids(sandbox)
    dropped = lot_ids[9]
    sandbox.add_fault(f"/api/Lot/{dropped}$", "close")
    result = cli.proc("--retries", "1", "lots", "dump", str(EVENT))
    assert result.returncode == 3, result.stderr
    assert f"failed lot {dropped}: " in result.stderr and "closed the connection" in result.stderr
    assert len(jsonl_ids(result.stdout)) == len(lot_ids) - 1


def test_server_gone_mid_run_exits_75_and_the_rerun_completes(tmp_path: Path, isolated_home: Path) -> None:
    first = Sandbox(**SIZES, latency_ms=50).start()
    port = first.port
    cli = Cli({**first.env(), "LOTSDB_HOME": str(isolated_home)})
    out = tmp_path / "lots.jsonl"
    try:
        proc = cli.popen("lots", "dump", str(EVENT), "--workers", "4", "-o", str(out))
        wait_for_answers(first, LOT_ROUTE, 10, proc)
        first.stop()
        _, stderr = finish(proc, 60)
    finally:
        first.stop()
    assert proc.returncode == 75, stderr
    assert_one_error_line(stderr)
    assert "cannot connect (connection refused)" in stderr and "hint:" in stderr
    assert not out.exists() and leftovers(tmp_path, out.name) == []

    with Sandbox(**SIZES, port=port) as second:
        rerun = cli.proc("lots", "dump", str(EVENT), "-o", str(out))
        assert rerun.returncode == 0, rerun.stderr
        assert route_count(second, LOT_ROUTE, "200") < 60 - 5  # the lots cached before the outage were kept
        assert jsonl_ids(out.read_text()) == event_lot_ids(second)


def test_nothing_listening_at_all_exits_75_quickly(isolated_home: Path) -> None:
    with Sandbox(**SIZES) as sandbox:
        env = sandbox.env()
    cli = Cli({**env, "LOTSDB_HOME": str(isolated_home)})  # the port is closed now
    result = cli.proc("lots", "dump", str(EVENT), timeout=60)
    assert result.returncode == 75
    assert_one_error_line(result.stderr)
    assert "connection refused" in result.stderr


def test_lone_surrogates_in_a_response_do_not_break_the_output(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    lot_ids = event_lot_ids(sandbox)
    odd = lot_ids[0]
    body = json.dumps(
        {"id": odd, "customerItemId": "A\ud800B", "initialData": {"description": "x\udc80y", "Notes": "\ud83d\ude00"}},
        ensure_ascii=True,  # JSON escapes of lone UTF-16 halves, as a .NET or JS server may send
    )
    sandbox.add_fault(f"/api/Lot/{odd}$", "status", status=200, body=body, headers={"Content-Type": "application/json"})
    for fmt in ("jsonl", "json", "csv"):
        out = tmp_path / f"lots.{fmt}"
        result = cli.proc("--no-cache", "lots", "dump", str(EVENT), "--format", fmt, "-o", str(out))
        assert result.returncode == 0, result.stderr
        text = out.read_text(encoding="utf-8")
        assert "A\ufffdB" in text and "x\ufffdy" in text and "\U0001f600" in text
    shown = cli.proc("--no-cache", "lots", "show", str(odd), "--format", "table")
    assert shown.returncode == 0 and "A\ufffdB" in shown.stdout


def test_numbers_beyond_json_are_a_failed_lot_not_invalid_output(cli: Cli, sandbox: Sandbox) -> None:
    lot_ids = event_lot_ids(sandbox)
    odd = lot_ids[1]
    body = f'{{"id": {odd}, "initialData": {{"Qty": 1, "value": 1e400}}}}'
    sandbox.add_fault(f"/api/Lot/{odd}$", "status", status=200, body=body, headers={"Content-Type": "application/json"})
    result = cli.proc("--retries", "0", "lots", "dump", str(EVENT), "--format", "json")
    assert result.returncode == 3, result.stderr
    assert f"failed lot {odd}: " in result.stderr and "out of range" in result.stderr
    assert len(json.loads(result.stdout)) == len(lot_ids) - 1  # strict JSON: no Infinity
    assert_no_crash(result.stderr)


def test_a_server_that_repeats_a_page_for_ever_is_not_followed_for_ever(cli: Cli, sandbox: Sandbox) -> None:
    page = {"items": [{"id": 1, "name": "Same"}], "pageNumber": 1, "totalPages": 2**31 - 1, "hasNextPage": True}
    sandbox.add_fault(r"^/api/Seller$", "status", status=200, body=page)  # whatever PageNumber is asked for
    result = cli.proc("sellers", "list", "--format", "jsonl", timeout=30)
    assert result.returncode == 1
    assert_one_error_line(result.stderr)
    assert "repeats page 1" in result.stderr
    assert route_count(sandbox, "GET /api/Seller") == 2


def test_control_characters_from_the_api_never_reach_the_terminal(cli: Cli, sandbox: Sandbox) -> None:
    lot_id = event_lot_ids(sandbox)[2]
    hostile = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\rover\nwritten"
    lot = {"id": lot_id, "customerItemId": hostile, "initialData": {"description": hostile}}
    sandbox.add_fault(f"/api/Lot/{lot_id}$", "status", status=200, body=lot)
    result = cli.proc("--no-cache", "lots", "show", str(lot_id), "--format", "table")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\r" not in result.stdout
    assert "red over written" in result.stdout  # the text itself is kept
