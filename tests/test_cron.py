"""Cron without bookkeeping: `cache warm --upcoming` and `lots dump --changes`, against the sandbox."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, lot_requests, route_count

from lotsdb_cli.sandbox import Sandbox

EVENT = 1000
LOTS = 60
EVENT_ROUTE = "GET /api/Catalog/{id}"


def rows(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def recorded(isolated_home: Path, event_id: int = EVENT, fmt: str = "jsonl") -> int:
    connection = sqlite3.connect(isolated_home / "lotsdb.sqlite")
    try:
        query = "SELECT count(*) FROM exports WHERE event_id = ? AND format = ?"
        return int(connection.execute(query, (event_id, fmt)).fetchone()[0])
    finally:
        connection.close()


def event_body(sandbox: Sandbox, event_id: int) -> dict[str, Any]:
    """The event as the API answers it (CatalogExpandedDto: with its sellers and lots)."""
    catalog = next(catalog for catalog in sandbox.data.catalogs if catalog.id == event_id)
    return sandbox.data.catalog_expanded(catalog)


# -- cache warm --upcoming -----------------------------------------------------------------


def starts(sandbox: Sandbox) -> dict[int, dt.datetime]:
    found = {}
    for catalog in sandbox.data.catalogs:
        text = catalog.dto()["startDate"]
        found[catalog.id] = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return found


def upcoming_ids(sandbox: Sandbox, within_days: float) -> set[int]:
    now = dt.datetime.now(dt.UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    horizon = now + dt.timedelta(days=within_days)
    return {event_id for event_id, start in starts(sandbox).items() if midnight <= start < horizon}


def warmed_events(sandbox: Sandbox) -> int:
    return route_count(sandbox, EVENT_ROUTE)


def test_warm_upcoming_warms_exactly_the_coming_events(cli: Cli, sandbox: Sandbox) -> None:
    expected = upcoming_ids(sandbox, 30)
    assert expected and len(expected) < len(sandbox.data.catalogs)  # some past, some later than 30 days
    result = cli("cache", "warm", "--upcoming")
    assert result.code == 0, result.stderr
    assert warmed_events(sandbox) == len(expected)  # no past event's lots, not even the event
    assert lot_requests(sandbox) == LOTS * len(expected)
    for event_id in expected:
        assert f"event {event_id}: lots: {LOTS} total, {LOTS} fetched" in result.stderr
    assert f"warmed {len(expected)} events: lots: {LOTS * len(expected)} total" in result.stderr  # (more than one)
    sandbox.reset()
    again = cli("cache", "warm", "--upcoming")
    assert again.code == 0 and lot_requests(sandbox) == 0  # warm: nothing but the event list


def test_warm_upcoming_within_and_seller(cli: Cli, sandbox: Sandbox) -> None:
    week = upcoming_ids(sandbox, 7)
    result = cli("cache", "warm", "--upcoming", "--within", "7d")
    assert result.code == 0 and warmed_events(sandbox) == len(week)
    seller = sandbox.data.sellers[0]
    mine = {
        catalog.id
        for catalog in sandbox.data.catalogs
        if seller.id in [entry["id"] for entry in sandbox.data.catalog_expanded(catalog)["sellers"]]
    }
    sandbox.reset()
    assert cli("--refresh", "cache", "warm", "--upcoming", "--seller", str(seller.id)).code == 0
    assert warmed_events(sandbox) == len(upcoming_ids(sandbox, 30) & mine)


def test_warm_upcoming_of_a_seller_that_does_not_exist(cli: Cli, sandbox: Sandbox) -> None:
    """A typo in a crontab's --seller: a warning and exit 3, not a silent warm of nothing for ever."""
    missing = max(seller.id for seller in sandbox.data.sellers) + 1000
    alone = cli("cache", "warm", "--upcoming", "--seller", str(missing))
    assert alone.code == 3, alone.stderr
    assert f"warning: seller {missing}: not found" in alone.stderr and lot_requests(sandbox) == 0
    assert f"error: seller {missing} could not be read" in alone.stderr
    assert "/api/Catalog" not in str(sandbox.stats())  # no listing of every seller's events instead
    seller = sandbox.data.sellers[0].id
    both = cli("cache", "warm", "--upcoming", "--seller", str(seller), "--seller", str(missing))
    assert both.code == 3 and lot_requests(sandbox) > 0  # the seller that exists is warmed
    assert f"warning: seller {missing}: not found" in both.stderr
    sandbox.reset()
    sandbox.add_fault(f"/api/Seller/{seller}$", "html")  # a lookup that fails: the same, not the end of the run
    garbled = cli("--refresh", "--retries", "0", "cache", "warm", "1000", "--upcoming", "--seller", str(seller))
    assert garbled.code == 3, garbled.stderr
    assert f"warning: seller {seller}: " in garbled.stderr and lot_requests(sandbox) == 60  # event 1000 warmed


def test_warm_ids_and_upcoming_together_once_each(cli: Cli, sandbox: Sandbox) -> None:
    coming = sorted(upcoming_ids(sandbox, 30))
    past = min(starts(sandbox), key=lambda event_id: starts(sandbox)[event_id])
    result = cli("cache", "warm", str(past), str(coming[0]), "--upcoming")
    assert result.code == 0, result.stderr
    assert warmed_events(sandbox) == len(coming) + 1  # the explicit past event, and each upcoming once


def test_warm_needs_ids_or_upcoming(cli: Cli, sandbox: Sandbox) -> None:
    for args in ([], ["--within", "7d", "1000"], ["--seller", "1", "1000"]):
        result = cli("cache", "warm", *args)
        assert result.code == 2, result.stderr
    assert sandbox.stats()["requests"] == 0


def test_warm_upcoming_exit_codes_follow_the_dump(cli: Cli, sandbox: Sandbox) -> None:
    coming = sorted(upcoming_ids(sandbox, 30), key=lambda event_id: starts(sandbox)[event_id])
    broken = event_body(sandbox, coming[0])["lots"][3]["id"]
    sandbox.add_fault(f"/api/Lot/{broken}$", "status", status=404)
    result = cli("cache", "warm", "--upcoming")
    assert result.code == 3 and str(broken) in result.stderr
    sandbox.clear_faults()
    stopper = event_body(sandbox, coming[-1])["lots"][0]["id"]
    sandbox.add_fault(f"/api/Lot/{stopper}$", "retry_after", value="3600")
    stopped = cli("--refresh", "cache", "warm", "--upcoming")
    assert stopped.code == 75 and "run again after" in stopped.stderr


def test_warm_goes_on_past_an_event_it_cannot_read(cli: Cli, sandbox: Sandbox) -> None:
    """`cache warm 1000 7 1001`: 7 is reported in one line, 1001 is still warmed, exit 3."""
    quiet = cli("-q", "cache", "warm", str(EVENT), "7", str(EVENT + 1))
    assert quiet.code == 3, quiet.stderr
    assert warmed_events(sandbox) == 3 and lot_requests(sandbox) == 2 * LOTS  # 1001 was tried and warmed
    warnings = [line for line in quiet.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: event 7: not found")  # shown even with -q
    assert "error: 1 of 3 events could not be read: 7" in quiet.stderr
    assert "warmed 2 of 3 events" not in quiet.stderr  # -q: no summary
    loud = cli("cache", "warm", str(EVENT), "7", str(EVENT + 1))
    assert loud.code == 3
    assert f"warmed 2 of 3 events (1 failed): lots: {2 * LOTS} total, 0 fetched, {2 * LOTS} from cache" in loud.stderr


def test_warm_upcoming_goes_on_past_events_that_fail(cli: Cli, sandbox: Sandbox) -> None:
    """An event whose request keeps failing (503 after the retries) or answers garbage is one failed event."""
    coming = sorted(upcoming_ids(sandbox, 30))
    assert len(coming) >= 3
    flaky, garbled = coming[0], coming[-1]
    sandbox.add_fault(f"/api/Catalog/{flaky}$", "status", status=503)
    sandbox.add_fault(f"/api/Catalog/{garbled}$", "html")
    result = cli("--retries", "1", "cache", "warm", "--upcoming")
    assert result.code == 3, result.stderr
    assert lot_requests(sandbox) == LOTS * (len(coming) - 2)  # every other event was warmed
    for event_id in coming:
        if event_id in (flaky, garbled):
            assert f"warning: event {event_id}: " in result.stderr
        else:
            assert f"event {event_id}: lots: {LOTS} total, {LOTS} fetched" in result.stderr
    failed = ", ".join(map(str, [flaky, garbled]))
    assert f"warmed {len(coming) - 2} of {len(coming)} events (2 failed)" in result.stderr
    assert f"error: 2 of {len(coming)} events could not be read: {failed}" in result.stderr


@pytest.mark.parametrize(
    ("kind", "params", "code"),
    [("retry_after", {"value": "3600"}, 75), ("status", {"status": 401}, 4)],
    ids=["rate-limited", "credentials-refused"],
)
def test_a_stop_reading_an_event_ends_the_warm_at_once(
    cli: Cli, sandbox: Sandbox, kind: str, params: dict[str, Any], code: int
) -> None:
    sandbox.add_fault(f"/api/Catalog/{EVENT + 1}$", kind, **params)
    result = cli("cache", "warm", str(EVENT), str(EVENT + 1), str(EVENT + 2))
    assert result.code == code, result.stderr
    assert lot_requests(sandbox) == LOTS  # the first event's lots, kept; the third never tried
    assert f"/api/Catalog/{EVENT + 2}" not in str(sandbox.stats())
    assert route_count(sandbox, EVENT_ROUTE, "200") == 1
    assert "warmed 1 event" not in result.stderr and "warning: event" not in result.stderr
    again = cli("cache", "warm", str(EVENT))
    assert again.code == 0 and f"{LOTS} from cache" in again.stderr


# -- lots dump --changes ---------------------------------------------------------------------


def test_changes_first_all_then_nothing_then_the_override(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    first = cli("lots", "dump", str(EVENT), "--changes")
    assert first.code == 0 and len(rows(first.stdout)) == LOTS
    assert f"changes: {LOTS} new, 0 changed, 0 unchanged, 0 removed" in first.stderr
    assert recorded(isolated_home) == LOTS
    second = cli("lots", "dump", str(EVENT), "--changes")
    assert second.code == 0 and second.stdout == ""
    assert f"changes: 0 new, 0 changed, {LOTS} unchanged, 0 removed" in second.stderr
    lot = EVENT * 100 + 5
    assert cli("lots", "override", str(lot), "--set", "Qty=4242").code == 0
    third = cli("lots", "dump", str(EVENT), "--changes")
    assert [row["id"] for row in rows(third.stdout)] == [lot]
    assert f"changes: 0 new, 1 changed, {LOTS - 1} unchanged, 0 removed" in third.stderr


def test_changes_are_per_catalog(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    """One home used against the sandbox, then against another Catalog API: its event 1000 is another event."""
    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    with Sandbox(sellers=1, events_per_seller=1, lots_per_event=100) as other:
        elsewhere = Cli({**other.env(), "LOTSDB_HOME": str(isolated_home)})
        first = elsewhere("lots", "dump", str(EVENT), "--changes")
        assert first.code == 0 and len(rows(first.stdout)) == 100
        assert not any(row.get("removed") for row in rows(first.stdout))
        assert "changes: 100 new, 0 changed, 0 unchanged, 0 removed" in first.stderr
    back = cli("lots", "dump", str(EVENT), "--changes")  # the first catalog's record is intact
    assert back.code == 0 and back.stdout == ""
    assert f"changes: 0 new, 0 changed, {LOTS} unchanged, 0 removed" in back.stderr


@pytest.mark.parametrize(
    ("one", "same"),
    [
        ("http://127.0.0.1:8765", "HTTP://127.0.0.1:08765/"),
        ("https://api.example.com/catalog", "https://API.example.com.:443/catalog//"),
        ("http://[::1]:8765", "http://[::1]:8765/."),
    ],
)
def test_one_catalog_however_its_url_is_written_has_one_record(one: str, same: str) -> None:
    from lotsdb_cli.export import catalog_key

    assert catalog_key(one) == catalog_key(same)
    assert catalog_key(one) != catalog_key(one.replace("8765", "8766").replace("/catalog", "/other"))


def test_a_record_from_before_catalogs_were_told_apart_is_dropped(cli: Cli, isolated_home: Path) -> None:
    """A database whose `exports` table has no catalog column: migrated, and the event exported whole again."""
    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    connection = sqlite3.connect(isolated_home / "lotsdb.sqlite")
    with connection:
        connection.execute("DROP TABLE exports")
        connection.execute(
            "CREATE TABLE exports (event_id INTEGER NOT NULL, format TEXT NOT NULL, lot_id INTEGER NOT NULL,"
            " fingerprint TEXT NOT NULL, exported_at REAL NOT NULL, PRIMARY KEY (event_id, format, lot_id))"
            " WITHOUT ROWID"
        )
        connection.execute("INSERT INTO exports VALUES (?, 'jsonl', ?, 'x', 0)", (EVENT, EVENT * 100 + 1))
        connection.execute("DELETE FROM _migrations WHERE name = 'm004_exports_per_catalog'")
    connection.close()
    again = cli("lots", "dump", str(EVENT), "--changes")
    assert again.code == 0 and len(rows(again.stdout)) == LOTS
    assert f"changes: {LOTS} new, 0 changed, 0 unchanged, 0 removed" in again.stderr


def test_changes_are_per_format(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    csv = cli("lots", "dump", str(EVENT), "--changes", "-o", str(tmp_path / "delta.csv"))
    assert csv.code == 0 and len((tmp_path / "delta.csv").read_text().splitlines()) == LOTS + 1  # header + all


def test_reordered_lots_are_not_changes(cli: Cli, sandbox: Sandbox) -> None:
    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    body = event_body(sandbox, EVENT)
    body["lots"] = list(reversed(body["lots"]))
    sandbox.add_fault(f"/api/Catalog/{EVENT}$", "status", status=200, body=body)
    again = cli("--refresh", "lots", "dump", str(EVENT), "--changes")
    assert again.code == 0 and again.stdout == ""
    assert f"0 new, 0 changed, {LOTS} unchanged, 0 removed" in again.stderr


def test_a_lot_moved_between_events(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    other = EVENT + 1
    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    assert cli("lots", "dump", str(EVENT), "--changes", "-o", str(tmp_path / "d.csv")).code == 0
    assert cli("lots", "dump", str(other), "--changes").code == 0
    source, target = event_body(sandbox, EVENT), event_body(sandbox, other)
    moved = source["lots"].pop(7)
    target["lots"].append(moved)
    sandbox.add_fault(f"/api/Catalog/{EVENT}$", "status", status=200, body=source)
    sandbox.add_fault(f"/api/Catalog/{other}$", "status", status=200, body=target)
    left = cli("--refresh", "lots", "dump", str(EVENT), "--changes")
    assert rows(left.stdout) == [{"id": moved["id"], "removed": True}]
    arrived = cli("--refresh", "lots", "dump", str(other), "--changes")
    assert [row["id"] for row in rows(arrived.stdout)] == [moved["id"]]
    assert "1 new, 0 changed" in arrived.stderr
    as_csv = cli("--refresh", "lots", "dump", str(EVENT), "--changes", "-o", str(tmp_path / "d.csv"))
    assert f"removed lots: {moved['id']}" in as_csv.stderr  # CSV: removed ids on stderr


def test_changes_reset_exports_everything_again(cli: Cli, sandbox: Sandbox) -> None:
    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    reset = cli("lots", "dump", str(EVENT), "--changes", "--changes-reset")
    assert reset.code == 0 and len(rows(reset.stdout)) == LOTS


def test_an_unchanged_event_costs_no_lot_bodies(cli: Cli, sandbox: Sandbox) -> None:
    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    sandbox.reset()
    again = cli("--ttl", "0", "lots", "dump", str(EVENT), "--changes")  # every entry expired: revalidated
    assert again.code == 0 and again.stdout == ""
    assert route_count(sandbox, "GET /api/Lot/{id}", "304") == LOTS
    assert route_count(sandbox, "GET /api/Lot/{id}", "200") == 0


def test_an_export_into_a_failing_reader_records_nothing(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    """`lotsdb lots dump 1000 --changes | false`: the next run repeats the same delta."""
    sandbox.set(latency_ms=5)
    command = [sys.executable, "-m", "lotsdb_cli", "lots", "dump", str(EVENT), "--changes", "--workers", "2"]
    env = {**os.environ, **cli.env}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        proc.stdout.readline()
        proc.stdout.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert recorded(isolated_home) == 0
    repeat = cli("lots", "dump", str(EVENT), "--changes")
    assert len(rows(repeat.stdout)) == LOTS  # the whole first delta again


def test_an_interrupted_export_records_nothing(cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path) -> None:
    from reliability.support import LOT_ROUTE, finish, wait_for_answers

    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    lot = EVENT * 100 + 2
    assert cli("lots", "override", str(lot), "--set", "Qty=4141").code == 0
    sandbox.set(latency_ms=80)
    sandbox.reset()
    proc = cli.popen(
        "--refresh", "lots", "dump", str(EVENT), "--changes", "--workers", "2", "-o", str(tmp_path / "d.jsonl")
    )
    wait_for_answers(sandbox, LOT_ROUTE, 3, proc)
    proc.send_signal(signal.SIGTERM)
    finish(proc)
    assert proc.returncode == 143
    sandbox.set(latency_ms=0)
    again = cli("lots", "dump", str(EVENT), "--changes")
    assert [row["id"] for row in rows(again.stdout)] == [lot]  # the change was not lost


def test_two_exports_of_one_event_at_once(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    assert cli("lots", "dump", str(EVENT), "--changes").code == 0
    for lot in (EVENT * 100 + 1, EVENT * 100 + 9):
        assert cli("lots", "override", str(lot), "--set", "Notes=again").code == 0
    sandbox.set(latency_ms=10)
    procs = [cli.popen("--refresh", "lots", "dump", str(EVENT), "--changes", "--workers", "4") for _ in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
        assert sorted(row["id"] for row in rows(stdout)) == [EVENT * 100 + 1, EVENT * 100 + 9]
    assert recorded(isolated_home) == LOTS  # one fingerprint per lot, not two
    assert cli("lots", "dump", str(EVENT), "--changes").stdout == ""


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_changes_in_json_and_csv(cli: Cli, sandbox: Sandbox, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"delta.{fmt}"
    assert cli("lots", "dump", str(EVENT), "--changes", "-o", str(out)).code == 0
    lot = EVENT * 100 + 11
    assert cli("lots", "override", str(lot), "--set", "Qty=4242").code == 0
    assert cli("lots", "dump", str(EVENT), "--changes", "-o", str(out)).code == 0
    if fmt == "json":
        assert [row["id"] for row in json.loads(out.read_text())] == [lot]
    else:
        lines = out.read_text().splitlines()
        assert len(lines) == 2 and lines[1].startswith(f"{lot},")


def test_csv_removed_ids_are_shown_even_with_quiet(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path
) -> None:
    """The removed ids are the CSV export's data: -q silences the summary, not them."""
    out = tmp_path / "delta.csv"
    assert cli("-q", "lots", "dump", str(EVENT), "--changes", "-o", str(out)).code == 0
    body = event_body(sandbox, EVENT)
    gone = [body["lots"].pop(4)["id"], body["lots"].pop(4)["id"]]
    sandbox.add_fault(f"/api/Catalog/{EVENT}$", "status", status=200, body=body)
    result = cli("-q", "--refresh", "lots", "dump", str(EVENT), "--changes", "-o", str(out))
    assert result.code == 0, result.stderr
    assert result.stderr.splitlines() == [f"event {EVENT}: removed lots: {gone[0]}, {gone[1]}"]
    assert recorded(isolated_home, fmt="csv") == LOTS - 2


def test_changes_with_a_failed_lot_record_nothing(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    """Exit 3 may make cron discard the file: the same delta must come again next time."""
    broken = EVENT * 100 + 3
    sandbox.add_fault(f"/api/Lot/{broken}$", "status", status=404)
    first = cli("lots", "dump", str(EVENT), "--changes")
    assert first.code == 3 and len(rows(first.stdout)) == LOTS - 1
    assert recorded(isolated_home) == 0
    assert f"not recorded, as 1 of {LOTS} lots failed: the next --changes export repeats this delta" in first.stderr
    sandbox.clear_faults()
    whole = cli("lots", "dump", str(EVENT), "--changes")  # the whole first delta again, with the lot that failed
    assert whole.code == 0 and len(rows(whole.stdout)) == LOTS and recorded(isolated_home) == LOTS

    changed = EVENT * 100 + 8
    assert cli("lots", "override", str(changed), "--set", "Qty=4343").code == 0
    sandbox.add_fault(f"/api/Lot/{broken}$", "status", status=404)
    failed = cli("-q", "--refresh", "lots", "dump", str(EVENT), "--changes")
    assert failed.code == 3 and [row["id"] for row in rows(failed.stdout)] == [changed]
    assert "not recorded" in failed.stderr  # with -q, in the error's hint
    sandbox.clear_faults()
    again = cli("lots", "dump", str(EVENT), "--changes")
    assert again.code == 0 and [row["id"] for row in rows(again.stdout)] == [changed]  # the change was not lost
    assert cli("lots", "dump", str(EVENT), "--changes").stdout == ""
