"""Catalog commands run through the CLI against the sandbox: sellers, events, lots, dump, override, warm."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from conftest import Cli, lot_requests, route_count

from lotsdb_cli.lots import CSV_COLUMNS, LOT_DATA_FIELDS, effective_data
from lotsdb_cli.sandbox import Sandbox

EVENT = 1000


def event_lot_ids(sandbox: Sandbox, event_id: int = EVENT) -> list[int]:
    catalog = sandbox.data.catalog(event_id)
    assert catalog is not None
    return list(catalog.lot_ids)


def test_sellers_list_all_pages_with_api_field_names(cli: Cli, sandbox: Sandbox) -> None:
    result = cli("sellers", "list", "--format", "json")
    assert result.code == 0 and result.stderr == ""
    sellers = json.loads(result.stdout)
    assert [seller["id"] for seller in sellers] == [seller.id for seller in sandbox.data.sellers]
    assert set(sellers[0]) == {"id", "name", "customerDisplayId", "isActive", "catalogs"}


def test_sellers_filters_and_limit(cli: Cli, sandbox: Sandbox) -> None:
    inactive = json.loads(cli("sellers", "list", "--inactive", "--format", "json").stdout)
    assert all(seller["isActive"] is False for seller in inactive)
    assert len(json.loads(cli("sellers", "list", "--limit", "2", "--format", "json").stdout)) == 2
    named = next(seller for seller in sandbox.data.sellers if seller.name)
    found = json.loads(cli("sellers", "list", "--name", named.name[:5].upper(), "--format", "json").stdout)
    assert named.id in [seller["id"] for seller in found]


def test_seller_show_and_table(cli: Cli) -> None:
    shown = cli("sellers", "show", "1", "--format", "json")
    assert shown.code == 0 and json.loads(shown.stdout)["id"] == 1
    table = cli("sellers", "list", "--format", "table")
    assert table.stdout.splitlines()[0].split() == ["id", "name", "customerDisplayId", "isActive", "events"]


def test_events_upcoming_soonest_first(cli: Cli, sandbox: Sandbox) -> None:
    events = json.loads(cli("events", "list", "--format", "json").stdout)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    starts = [event["startDate"] for event in events]
    assert starts and all(start[:10] >= today for start in starts)
    assert starts == sorted(starts)
    everything = json.loads(cli("events", "list", "--all", "--format", "json").stdout)
    assert len(everything) == len(sandbox.data.catalogs) > len(events)


def test_events_of_one_seller_and_limit(cli: Cli, sandbox: Sandbox) -> None:
    events = json.loads(cli("events", "list", "--seller", "2", "--all", "--format", "json").stdout)
    assert events and all(2 in [seller["id"] for seller in event["sellers"]] for event in events)
    assert len(json.loads(cli("events", "list", "--all", "--limit", "1", "--format", "json").stdout)) == 1


def test_event_show_has_lot_count(cli: Cli, sandbox: Sandbox) -> None:
    event = json.loads(cli("events", "show", str(EVENT), "--format", "json").stdout)
    assert event["lotCount"] == 60 and [lot["id"] for lot in event["lots"]] == event_lot_ids(sandbox)


def test_dump_jsonl_is_the_api_lots_in_event_order(cli: Cli, sandbox: Sandbox) -> None:
    result = cli("lots", "dump", str(EVENT))
    assert result.code == 0, result.stderr
    lots = [json.loads(line) for line in result.stdout.splitlines()]
    assert [lot["id"] for lot in lots] == event_lot_ids(sandbox)
    assert lots == [sandbox.data.lots[lot_id] for lot_id in event_lot_ids(sandbox)]
    assert "60 total, 60 fetched, 0 from cache, 0 served stale, 0 failed" in result.stderr


def test_dump_json_array(cli: Cli, sandbox: Sandbox) -> None:
    lots = json.loads(cli("lots", "dump", str(EVENT), "--format", "json").stdout)
    assert [lot["id"] for lot in lots] == event_lot_ids(sandbox)


def test_dump_csv_flattens_effective_data_safely(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "lots.csv"
    assert cli("lots", "dump", str(EVENT), "--format", "csv", "-o", str(out)).code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == CSV_COLUMNS
    catalog = sandbox.data.catalog(EVENT)
    assert catalog is not None
    numbers = dict(zip(catalog.lot_ids, catalog.lot_numbers, strict=True))
    for row in rows:
        lot = sandbox.data.lots[int(row["id"])]
        assert row["lotNumber"] == numbers[lot["id"]]
        data = effective_data(lot)
        for name, kind in LOT_DATA_FIELDS.items():
            value = data.get(name)
            if value is None:
                assert row[name] == ""
            elif kind is str:
                risky = value.startswith(("=", "+", "-", "@"))
                assert row[name] == ("'" + value if risky else value)
            elif kind is bool:
                assert row[name] == str(value).lower()
            else:
                assert float(row[name]) == value
    overridden = [row for row in rows if sandbox.data.lots[int(row["id"])].get("overridenData")]
    assert overridden, "the sandbox data should include overridden lots"
    assert any(row[name].startswith("'") for row in rows for name in ("description", "Notes"))


def test_warm_rerun_makes_no_lot_request(cli: Cli, sandbox: Sandbox) -> None:
    first = cli("lots", "dump", str(EVENT))
    sandbox.reset()
    second = cli("lots", "dump", str(EVENT))
    assert second.code == 0 and second.stdout == first.stdout
    assert lot_requests(sandbox) == 0
    assert "0 fetched, 60 from cache" in second.stderr


def test_rerun_fetches_only_what_is_missing(cli: Cli, sandbox: Sandbox) -> None:
    lot_ids = event_lot_ids(sandbox)
    for lot_id in lot_ids[:25]:
        assert cli("lots", "show", str(lot_id)).code == 0
    sandbox.reset()
    result = cli("lots", "dump", str(EVENT))
    assert result.code == 0
    assert lot_requests(sandbox) == 35
    assert "35 fetched, 25 from cache" in result.stderr


def test_partial_failure_exits_3_and_names_the_lot(cli: Cli, sandbox: Sandbox) -> None:
    bad = event_lot_ids(sandbox)[7]
    sandbox.add_fault(f"/api/Lot/{bad}$", "status", status=500)
    result = cli("--retries", "1", "lots", "dump", str(EVENT))
    assert result.code == 3
    assert str(bad) in result.stderr and "1 failed" in result.stderr
    assert len(result.stdout.splitlines()) == 59


def test_missing_lot_is_a_failed_lot(cli: Cli, sandbox: Sandbox) -> None:
    bad = event_lot_ids(sandbox)[3]
    sandbox.add_fault(f"/api/Lot/{bad}$", "status", status=404, body={"title": "Not Found", "status": 404})
    result = cli("lots", "dump", str(EVENT))
    assert result.code == 3 and f"failed lot {bad}" in result.stderr


def test_output_file_is_written_atomically(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "lots.jsonl"
    assert cli("lots", "dump", str(EVENT), "-o", str(out)).code == 0
    assert len(out.read_text().splitlines()) == 60
    assert [path.name for path in out_dir.iterdir()] == ["lots.jsonl"]  # no temporary file left


def test_rate_limited_server_loses_nothing(isolated_home: Path) -> None:
    with Sandbox(sellers=1, events_per_seller=1, lots_per_event=300, rate_limit=150) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})
        result = cli("lots", "dump", "1000", "--workers", "32")
        assert result.code == 0, result.stderr
        assert len(result.stdout.splitlines()) == 300
        throttled = route_count(sandbox, "GET /api/Lot/{id}", "429")
        assert throttled <= 30, f"{throttled} 429s for 300 lots"


def test_override_appends_entry_and_invalidates_cache(cli: Cli, sandbox: Sandbox) -> None:
    lot_id = event_lot_ids(sandbox)[0]
    before = json.loads(cli("lots", "show", str(lot_id), "--format", "json").stdout)
    dry = cli("lots", "override", str(lot_id), "--set", "Qty=7", "--dry-run")
    assert dry.code == 0 and json.loads(dry.stdout)["overridenData"][-1]["Qty"] == 7
    assert route_count(sandbox, "PUT /api/Lot/{id}") == 0
    done = cli("lots", "override", str(lot_id), "--set", "Qty=7", "--set", "notes=fragile", "--format", "json")
    assert done.code == 0, done.stderr
    after = json.loads(cli("lots", "show", str(lot_id), "--format", "json").stdout)
    assert len(after["overridenData"] or []) == len(before["overridenData"] or []) + 1
    assert effective_data(after)["Qty"] == 7 and effective_data(after)["Notes"] == "fragile"
    assert after == sandbox.data.lots[lot_id]
    # With --no-cache too: the cached copy is known to be out of date, and goes.
    unused = cli("--no-cache", "lots", "override", str(lot_id), "--set", "Qty=8")
    assert unused.code == 0 and "cached copy invalidated" in unused.stderr
    assert effective_data(json.loads(cli("lots", "show", str(lot_id), "--format", "json").stdout))["Qty"] == 8


def test_override_rejects_bad_fields_and_values(cli: Cli, sandbox: Sandbox) -> None:
    unknown = cli("lots", "override", "100000", "--set", "Colour=red")
    assert unknown.code == 2 and "Qty" in unknown.stderr  # the list of valid fields
    bad_value = cli("lots", "override", "100000", "--set", "Qty=many")
    assert bad_value.code == 2 and "integer" in bad_value.stderr
    twice = cli("lots", "override", "100000", "--set", "Qty=1", "--set", "qty=2")
    assert twice.code == 2 and "Qty twice" in twice.stderr
    for loose in ("Qty=\u0663", "Qty=1_000", "L=1_0.5", "W=\uff11", "L=nan", "Qty=0x10"):  # what int()/float() take
        assert cli("lots", "override", "100000", "--set", loose).code == 2, loose
    assert sandbox.stats()["requests"] == 0


def test_cache_warm_fills_the_cache_quietly(cli: Cli, sandbox: Sandbox) -> None:
    result = cli("cache", "warm", "1000", "1001")
    assert result.code == 0 and result.stdout == ""
    assert lot_requests(sandbox) == 120
    sandbox.reset()
    assert cli("lots", "dump", "1001").code == 0
    assert lot_requests(sandbox) == 0


def test_input_errors_are_clear(cli: Cli) -> None:
    for args, code in [
        (("lots", "dump", "abc"), 2),
        (("lots", "dump", "-5"), 2),
        (("lots", "dump", "999999"), 1),
        (("events", "show", "424242"), 1),
        (("lots", "dump", "1000", "--format", "xml"), 2),
    ]:
        result = cli(*args)
        assert result.code == code, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_event_without_lots_and_seller_without_events(isolated_home: Path) -> None:
    with Sandbox(sellers=1, events_per_seller=1, lots_per_event=0) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})
        empty = cli("lots", "dump", "1000")
        assert empty.code == 0 and empty.stdout == "" and "0 total" in empty.stderr
    with Sandbox(sellers=1, events_per_seller=0) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})
        none = cli("events", "list", "--seller", "1", "--all", "--format", "json")
        assert none.code == 0 and json.loads(none.stdout) == []


def test_a_stop_mid_dump_names_its_cause_and_fails_no_lot(cli: Cli, sandbox: Sandbox) -> None:
    """Lots refused because the run was stopping are neither failures nor the reason shown."""
    # 32 workers queue at a gate that admits 8 at first, in no particular order: lots before the
    # stopper are still waiting when its 429 closes the gate.
    stopper = event_lot_ids(sandbox)[12]
    sandbox.set(latency_ms=50)
    sandbox.add_fault(f"/api/Lot/{stopper}$", "retry_after", value="3600")
    result = cli("lots", "dump", str(EVENT), "--workers", "32")
    assert result.code == 75
    assert "rate-limiting" in result.stderr and "run again after" in result.stderr
    assert "the run is stopping" not in result.stderr
    assert ", 0 failed" in result.stderr
    assert len(result.stdout.splitlines()) <= 12  # lots before the stop, in order
