"""Run a coroutine over many items, `workers` at a time, and hand the results back in input order.

Results leave in batches as soon as every earlier item is done, and at most `window` items are in
progress or waiting to be handed back, so memory stays flat however many items there are. An item
the `probe` can answer (a cache lookup) costs no worker time.

A `LotsdbError` from `work` becomes that item's `error`, unless `is_fatal(error)`: then no new
item starts, every earlier item is handed back, and the error is raised where that item would
have been. Any other exception ends the run the same way and is raised as is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from lotsdb_cli.errors import LotsdbError, RunStopping

Item = TypeVar("Item")
Result = TypeVar("Result")
WINDOW_PER_WORKER = 8


@dataclass
class Outcome(Generic[Item, Result]):
    item: Item
    result: Result | None = None
    error: LotsdbError | None = None


class _Unexpected(LotsdbError):
    """A non-LotsdbError raised by `work`, carried to the caller intact."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


async def ordered_batches(
    work: Callable[[Item], Awaitable[Result]],
    items: Iterable[Item],
    *,
    workers: int,
    is_fatal: Callable[[LotsdbError], bool] = lambda error: False,
    probe: Callable[[Item], Result | None] | None = None,
    window: int | None = None,
) -> AsyncIterator[list[Outcome[Item, Result]]]:
    """Batches of outcomes, in the order of `items`."""
    workers = max(1, workers)
    window = window or workers * WINDOW_PER_WORKER
    source = iter(enumerate(items))
    done: dict[int, Outcome[Item, Result]] = {}
    stopping: list[LotsdbError] = []
    state = {"next": 0, "taken": 0}
    changed = asyncio.Event()  # a result arrived, or a worker ended
    room = asyncio.Event()  # the window has room again
    room.set()

    async def run_worker() -> None:
        try:
            await take_items()
        finally:
            changed.set()

    async def take_items() -> None:
        while not stopping:
            while state["taken"] - state["next"] >= window:
                room.clear()
                await room.wait()
                if stopping:
                    return
            try:
                index, item = next(source)
            except StopIteration:
                return
            state["taken"] += 1
            outcome: Outcome[Item, Result] = Outcome(item)
            answer = probe(item) if probe is not None else None
            if answer is not None:
                outcome.result = answer
            else:
                try:
                    outcome.result = await work(item)
                except LotsdbError as error:
                    outcome.error = error
                except Exception as error:
                    outcome.error = _Unexpected(error)
                if outcome.error is not None and _ends_run(outcome.error):
                    stopping.append(outcome.error)
                    room.set()
            done[index] = outcome
            changed.set()

    def _ends_run(error: LotsdbError) -> bool:
        return isinstance(error, _Unexpected) or is_fatal(error)

    def the_cause(error: LotsdbError) -> LotsdbError:
        """The error that stopped the run, rather than a request refused at a closing gate because of it."""
        if isinstance(error, RunStopping):
            return next((found for found in stopping if not isinstance(found, RunStopping)), error)
        return error

    tasks = [asyncio.ensure_future(run_worker()) for _ in range(workers)]
    try:
        while True:
            batch: list[Outcome[Item, Result]] = []
            while state["next"] in done:
                outcome = done.pop(state["next"])
                if outcome.error is not None and _ends_run(outcome.error):
                    if batch:
                        yield batch
                    if isinstance(outcome.error, RunStopping):
                        await _settle(tasks)
                    cause = the_cause(outcome.error)
                    raise cause.error if isinstance(cause, _Unexpected) else cause
                batch.append(outcome)
                state["next"] += 1
            if batch:
                room.set()
                yield batch
                continue
            if all(task.done() for task in tasks):
                for task in tasks:
                    task.result()  # a worker that crashed outside `work`
                if state["next"] in done:
                    continue
                return
            changed.clear()
            await changed.wait()
    finally:
        stopping.append(LotsdbError("run stopped"))
        room.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _settle(tasks: list[asyncio.Task[None]]) -> None:
    """Let the other workers finish what they are doing (their errors may name the real cause)."""
    pending = [task for task in tasks if not task.done()]
    if pending:
        await asyncio.wait(pending, timeout=5.0)
