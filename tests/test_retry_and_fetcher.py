"""Pure logic of the retry policy (Retry-After, back-off, give-up) and of the ordered fetcher."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Iterable

import pytest

from lotsdb_cli.errors import BadResponse, LotsdbError, NotFound, RateLimited, RunStopping, TemporarilyUnavailable
from lotsdb_cli.fetcher import Outcome, ordered_batches
from lotsdb_cli.http.retry import (
    BACKOFF_CAP,
    RETRY_AFTER_CAP,
    Retryable,
    RetryPolicy,
    full_jitter,
    host_pause,
    parse_retry_after,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("-5", None),  # not delta-seconds: as if no Retry-After came
        ("1_0", None),
        ("1e5", None),
        ("1.5", 1.5),
        (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
        (email.utils.formatdate(NOW - 90, usegmt=True), 0.0),  # a date in the past: go now
        ("99999999999999999999", RETRY_AFTER_CAP),  # "very long": it stops the run either way
        ("Fri, 31 Dec 9999 23:59:59 GMT", RETRY_AFTER_CAP),
    ],
)
def test_retry_after_values(header: str, seconds: float) -> None:
    assert parse_retry_after(header, now=NOW) == pytest.approx(seconds, abs=1.0)


@pytest.mark.parametrize("header", [None, "", "soon", "inf", "nan", "1e400", "²", "Monday"])
def test_unusable_retry_after_values_are_no_answer(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


def test_full_jitter_stays_within_the_exponential_bound() -> None:
    assert full_jitter(1, rng=lambda: 1.0) == pytest.approx(1.0)
    assert full_jitter(3, rng=lambda: 1.0) == pytest.approx(4.0)
    assert full_jitter(30, rng=lambda: 1.0) == BACKOFF_CAP
    assert full_jitter(5, rng=lambda: 0.0) == 0.0


def test_which_failures_pause_the_host() -> None:
    assert host_pause(Retryable("x", status=429, retry_after=30.0)) == 30.0
    assert host_pause(Retryable("x", status=429)) == 1.0  # a 429 without Retry-After still pauses a moment
    assert host_pause(Retryable("x", status=503, retry_after=12.0)) == 12.0
    assert host_pause(Retryable("x", status=503)) is None  # a plain 503 only backs off that request
    assert host_pause(Retryable("x", status=500, retry_after=5.0)) is None


def policy(**changes: float) -> tuple[RetryPolicy, list[str]]:
    stopped: list[str] = []
    options = {"retries": 3, "max_wait": 60.0, "backoff_scale": 0.0, **changes}
    made = RetryPolicy(
        retries=int(options["retries"]),
        max_wait=options["max_wait"],
        backoff_scale=options["backoff_scale"],
        on_stop=lambda error: stopped.append("stop"),
        wall_clock=lambda: NOW,
    )
    return made, stopped


def test_a_wait_beyond_max_wait_stops_the_run_and_says_when() -> None:
    made, stopped = policy()
    with pytest.raises(RateLimited) as raised:
        made.wait(Retryable("x", status=429, retry_after=3600.0, url="https://api.example/v1/albums/x"), 1)
    assert stopped == ["stop"]
    assert raised.value.retry_at == NOW + 3600
    assert "asks to wait 1h, longer than --max-wait 1m" in raised.value.message


def test_retries_then_gives_up_with_the_right_error() -> None:
    made, stopped = policy(retries=2)
    tries: list[int] = []

    async def always(status: int) -> str:
        tries.append(status)
        raise Retryable(f"{status} failing", status=status, url="https://api.example/api/Lot/1")

    for status, error in ((503, TemporarilyUnavailable), (200, BadResponse), (429, RateLimited)):
        tries.clear()
        with pytest.raises(error):
            asyncio.run(made.run(lambda status=status: always(status), "https://api.example/api/Lot/1", lambda: None))
        assert len(tries) == 3  # the first try and two retries
    assert stopped == ["stop"]  # only the 429 that outlasted every retry stops the run


def test_a_success_after_a_failure_is_returned() -> None:
    made, _ = policy()
    answers = iter([Retryable("502", status=502), "lot"])
    retried: list[int] = []

    async def attempt() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert asyncio.run(made.run(attempt, "https://api.example/", lambda: retried.append(1))) == "lot"
    assert retried == [1]


def run_batches(
    work: object, items: Iterable[int], *, workers: int = 4, **options: object
) -> tuple[list[Outcome[int, int]], BaseException | None]:
    outcomes: list[Outcome[int, int]] = []

    async def collect() -> None:
        async for batch in ordered_batches(work, items, workers=workers, **options):  # type: ignore[arg-type]
            outcomes.extend(batch)

    try:
        asyncio.run(collect())
    except BaseException as exc:
        return outcomes, exc
    return outcomes, None


def test_results_come_back_in_input_order_whatever_finishes_first() -> None:
    async def work(item: int) -> int:
        await asyncio.sleep((10 - item % 10) / 1000)  # later items finish first
        return item * 2

    outcomes, error = run_batches(work, range(50), workers=8)
    assert error is None
    assert [outcome.item for outcome in outcomes] == list(range(50))
    assert [outcome.result for outcome in outcomes] == [item * 2 for item in range(50)]


def test_an_item_error_is_its_outcome_and_the_rest_go_on() -> None:
    async def work(item: int) -> int:
        if item == 3:
            raise NotFound("lot 3 is gone")
        return item

    outcomes, error = run_batches(work, range(6))
    assert error is None
    assert [outcome.error.message if outcome.error else outcome.result for outcome in outcomes] == [
        0,
        1,
        2,
        "lot 3 is gone",
        4,
        5,
    ]


def test_a_fatal_error_stops_new_work_and_is_raised_in_its_place() -> None:
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        if item == 5:
            raise RateLimited("stop", retry_at=0.0)
        await asyncio.sleep(0)
        return item

    outcomes, error = run_batches(work, range(100), workers=2, is_fatal=lambda exc: isinstance(exc, RateLimited))
    assert isinstance(error, RateLimited)
    assert [outcome.item for outcome in outcomes] == [0, 1, 2, 3, 4]  # everything before it, in order
    assert max(started) < 10  # nothing new started once the run had to stop


def test_a_refused_request_reports_the_cause_of_the_stop() -> None:
    async def work(item: int) -> int:
        if item == 0:
            await asyncio.sleep(0.01)
            raise RunStopping("gate closed")  # first in order, but only a symptom
        if item == 1:
            raise RateLimited("the real cause", retry_at=0.0)
        return item

    fatal = (RateLimited, RunStopping)
    _, error = run_batches(work, range(4), workers=2, is_fatal=lambda exc: isinstance(exc, fatal))
    assert isinstance(error, RateLimited) and error.message == "the real cause"


def test_probed_items_cost_no_work_and_memory_stays_within_the_window() -> None:
    in_progress: list[int] = []
    most = 0

    async def work(item: int) -> int:
        nonlocal most
        in_progress.append(item)
        most = max(most, len(in_progress))
        await asyncio.sleep(0)
        in_progress.remove(item)
        return item

    def probe(item: int) -> int | None:
        return -item if item % 2 else None  # odd items answered by the cache

    outcomes, error = run_batches(work, range(1000), workers=4, probe=probe, window=16)
    assert error is None
    assert [outcome.result for outcome in outcomes] == [-i if i % 2 else i for i in range(1000)]
    assert most <= 4


def test_an_unexpected_exception_reaches_the_caller_intact() -> None:
    async def work(item: int) -> int:
        raise ZeroDivisionError("a bug")

    _, error = run_batches(work, range(3))
    assert isinstance(error, ZeroDivisionError) and not isinstance(error, LotsdbError)
