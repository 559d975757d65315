"""Run a function over many items on worker threads and hand the results back in input order.

Results leave as soon as every earlier item is done, and at most `window` items are in progress
or waiting to be handed back, so memory stays flat however many items there are. Workers are
daemon threads: Ctrl-C in the main thread ends the run at once, without waiting for requests
in flight (each of which has a timeout anyway).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from lotsdb_cli.errors import LotsdbError, RunStopping

CAUSE_WAIT = 5.0  # seconds to wait for the reason a run stopped, once a refused request shows it

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class Outcome(Generic[Item, Result]):
    item: Item
    result: Result | None = None
    error: LotsdbError | None = None


def ordered_map(
    work: Callable[[Item], Result],
    items: Iterable[Item],
    *,
    workers: int,
    is_fatal: Callable[[LotsdbError], bool] = lambda error: False,
    probe: Callable[[Item], Result | None] | None = None,
    window: int | None = None,
) -> Iterator[Outcome[Item, Result]]:
    """Yield an `Outcome` per item, in the order of `items`.

    `probe(item)` is tried first on the calling thread (a cache lookup); only items it cannot
    answer go to the workers. A `LotsdbError` from `work` becomes the item's `error`, unless
    `is_fatal(error)`: then no new work starts, and the error is raised where that item's
    outcome would have been yielded (every earlier item is yielded first).
    """
    workers = max(1, workers)
    window = window or workers * 8
    tasks: queue.SimpleQueue[tuple[int, Item] | None] = queue.SimpleQueue()
    done: dict[int, Outcome[Item, Result]] = {}
    ready = threading.Condition()
    stopping: list[LotsdbError] = []  # set once: no new work starts
    threads: list[threading.Thread] = []

    def run() -> None:
        while True:
            task = tasks.get()
            if task is None:
                return
            index, item = task
            outcome: Outcome[Item, Result] = Outcome(item)
            if stopping:
                outcome.error = stopping[0]
            else:
                try:
                    outcome.result = work(item)
                except LotsdbError as error:
                    outcome.error = error
                except BaseException as error:  # handed to the caller intact
                    outcome.error = _Unexpected(error)
                if outcome.error is not None and _ends_run(outcome.error):
                    stopping.append(outcome.error)
            with ready:
                done[index] = outcome
                ready.notify_all()

    def _ends_run(error: LotsdbError) -> bool:
        return isinstance(error, _Unexpected) or is_fatal(error)

    def the_cause(error: LotsdbError) -> LotsdbError:
        """The error that stopped the run, rather than a request refused because of it.

        An item waiting at the gate when another item hit a stop condition (a rate limit beyond
        --max-wait) is refused with `RunStopping`; if it comes first in order, the run must still
        end with the reason, which its worker is reporting at about the same moment.
        """
        deadline = time.monotonic() + CAUSE_WAIT
        with ready:
            while isinstance(error, RunStopping):
                cause = next((found for found in stopping if not isinstance(found, RunStopping)), None)
                remaining = deadline - time.monotonic()
                if cause is not None or remaining <= 0:
                    return cause or error
                ready.wait(min(0.1, remaining))
        return error

    def ensure_threads() -> None:
        if not threads:
            for number in range(workers):
                thread = threading.Thread(target=run, name=f"lotsdb-worker-{number}", daemon=True)
                thread.start()
                threads.append(thread)

    source = iter(enumerate(items))
    submitted = 0
    next_index = 0
    exhausted = False
    try:
        while True:
            while not exhausted and submitted - next_index < window and not stopping:
                try:
                    index, item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                submitted += 1
                answer = probe(item) if probe is not None else None
                if answer is not None:
                    done[index] = Outcome(item, result=answer)
                else:
                    ensure_threads()
                    tasks.put((index, item))
            if next_index >= submitted:
                return
            with ready:
                while next_index not in done:
                    ready.wait(0.5)
                outcome = done.pop(next_index)
            next_index += 1
            if outcome.error is not None and _ends_run(outcome.error):
                raise _reraise(the_cause(outcome.error))
            yield outcome
    finally:
        stopping.append(LotsdbError("run stopped"))
        for _ in threads:
            tasks.put(None)


class _Unexpected(LotsdbError):
    """Wraps a non-LotsdbError raised by a worker so it reaches the caller intact."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _reraise(error: LotsdbError) -> BaseException:
    return error.error if isinstance(error, _Unexpected) else error
