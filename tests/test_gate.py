"""The host gate with a fake clock: admission, one waiter per free slot, pauses, the learned pace,
and the concurrency it settles on. Pure logic: no socket, no sleep."""

from __future__ import annotations

import asyncio

import pytest

from lotsdb_cli.http.gate import GateClosed, HostGate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_admits_up_to_the_limit_then_one_waiter_per_freed_slot() -> None:
    async def scenario() -> list[str]:
        gate = HostGate(2, clock=Clock())
        order: list[str] = []
        first = await gate.acquire()
        second = await gate.acquire()

        async def waiter(name: str) -> None:
            sent_at = await gate.acquire()
            order.append(name)
            gate.release(sent_at)

        waiters = [asyncio.ensure_future(waiter(name)) for name in ("a", "b", "c")]
        await asyncio.sleep(0)
        assert order == [] and gate.in_flight == 2
        gate.release(first)
        assert gate.in_flight == 2  # the freed slot went to one waiter at once, not to all of them
        assert [len(gate._waiters)] == [2]
        gate.release(second)
        await asyncio.gather(*waiters)
        assert order == ["a", "b", "c"]  # in the order they came
        assert gate.in_flight == 0
        return order

    assert asyncio.run(scenario()) == ["a", "b", "c"]


def test_a_cancelled_waiter_gives_its_slot_back() -> None:
    async def scenario() -> None:
        gate = HostGate(1, clock=Clock())
        held = await gate.acquire()
        stuck = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        stuck.cancel()
        await asyncio.gather(stuck, return_exceptions=True)
        gate.release(held)
        assert gate.in_flight == 0
        assert await gate.acquire() > 0  # the slot is free again

    asyncio.run(scenario())


def test_a_pause_holds_every_request_until_it_ends() -> None:
    clock = Clock()
    gate = HostGate(8, clock=clock)
    gate.pause(30.0)
    assert gate._delay(clock()) == pytest.approx(30.0)
    clock.now += 29.5
    assert gate._delay(clock()) == pytest.approx(0.5)
    clock.now += 1.0
    assert gate._delay(clock()) == 0.0


def test_closing_refuses_waiting_and_later_requests() -> None:
    async def scenario() -> None:
        gate = HostGate(1, clock=Clock())
        await gate.acquire()
        waiting = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        gate.close()
        with pytest.raises(GateClosed):
            await waiting
        with pytest.raises(GateClosed):
            await gate.acquire()

    asyncio.run(scenario())


def succeed(gate: HostGate, clock: Clock, count: int, latency: float, over: float | None = None) -> None:
    """`count` requests, sent evenly `over` seconds (default: `latency`), each answered `latency` after it left."""
    step = (latency if over is None else over) / count
    for _ in range(count):
        sent = gate._admit(clock())
        clock.now += step
        gate.release(sent)
        gate.record_success(latency)


def test_the_first_429_estimates_the_rate_and_the_second_measures_it() -> None:
    clock = Clock()
    gate = HostGate(32, clock=clock)
    # A server with a 100-request burst and 100 requests a second: 150 accepted over half a second.
    succeed(gate, clock, 150, latency=0.05, over=0.5)
    gate.record_throttle(1.0, clock())
    first = gate.rate
    assert first is not None and 80 <= first <= 120 and not gate.measured
    assert gate._delay(clock()) == pytest.approx(1.0, abs=0.01)  # paused for the Retry-After
    clock.now += 1.0
    for _ in range(500):  # 5 s at the server's rate (100 a second) until the allowance is empty again
        sent = gate._admit(clock())
        gate.release(sent)
        gate.record_success(0.0)
        clock.now += 0.01
    gate.record_throttle(1.0, clock())
    assert gate.measured and gate.rate == pytest.approx(min(first * 1.0, 100 * HostGate.MARGIN), rel=0.15)


def test_429s_already_in_flight_teach_nothing_more() -> None:
    clock = Clock()
    gate = HostGate(32, clock=clock)
    succeed(gate, clock, 50, latency=0.02)
    sent = [gate._admit(clock()) for _ in range(10)]  # in flight when the allowance runs out
    gate.record_throttle(1.0, sent[0])
    learned = gate.rate
    for moment in sent[1:]:
        gate.record_throttle(1.0, moment)  # the rest of the burst, sent before anyone knew
    assert gate.rate == learned and gate.throttled == 10


def test_the_pace_spaces_requests_evenly() -> None:
    clock = Clock()
    gate = HostGate(32, clock=clock)
    gate.rate = 10.0
    gate._last_growth = clock()
    assert gate._pace(clock()) == 0.0  # the first goes at once and books its slot
    # A late start may catch up half an interval, never more: the next slot is 0.05 s away...
    assert gate._pace(clock()) == pytest.approx(0.05)
    clock.now += 0.051
    assert gate._pace(clock()) == 0.0
    assert gate._pace(clock()) == pytest.approx(0.1, abs=0.002)  # ...and then one every 0.1 s, no burst


def test_a_steady_high_latency_keeps_every_worker() -> None:
    clock = Clock()
    gate = HostGate(32, clock=clock)
    for _ in range(20):
        succeed(gate, clock, 32, latency=0.2)
    assert gate.limit == 32


def test_rising_latency_shrinks_the_limit_and_its_fall_lets_it_grow_back() -> None:
    clock = Clock()
    gate = HostGate(32, clock=clock)
    for _ in range(5):
        succeed(gate, clock, 32, latency=0.05)
    for _ in range(10):
        succeed(gate, clock, 32, latency=0.5)  # requests queue at the server
    shrunk = gate.limit
    assert shrunk < 20
    for _ in range(40):
        succeed(gate, clock, 32, latency=0.05)
    assert gate.limit > shrunk
