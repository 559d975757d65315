"""The event loop the HTTP layer runs on, on a thread of its own, and the bridge to synchronous callers.

The caller's thread (the CLI's main thread, or a Python user's) submits coroutines with `run()`
and consumes async streams with `stream()`; the loop keeps sending and receiving while the caller
writes output, so a slow reader never stalls requests in flight (their deadlines keep running).

Interrupts: signals are delivered to the main thread, which is waiting in `run()` or `stream()`
(or writing). The exception (KeyboardInterrupt, or `errors.Stopped` for SIGTERM/SIGHUP) propagates there;
on its way out the work on the loop is cancelled and given a moment to finish its `finally`
blocks (a cache flush), then the caller's own clean-up runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
CANCEL_WAIT = 5.0  # seconds cancelled work may take to clean up
STREAM_AHEAD = 4  # batches the loop may produce before the reader takes them


class IoThread:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def check_open(self) -> None:
        if self._closed:
            from lotsdb_cli.errors import Closed

            raise Closed("this Lotsdb is closed; open a new one (`with Lotsdb() as db:`)")

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            self.check_open()
            if self._loop is None:
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=serve, name="lotsdb-io", daemon=True)
                self._thread.start()
                started.wait()
                self._loop = loop
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the loop and wait for its result (an interrupt cancels it)."""
        try:
            loop = self.loop
        except BaseException:
            coroutine.close()  # never to run (closed, or interrupted while the loop started): no warning
            raise
        job = _Job(loop, coroutine)  # (once handed over, the loop owns it: only cancelling it is safe)
        try:
            return job.result()
        except BaseException:
            job.cancel_and_wait()
            raise

    def stream(self, batches: Callable[[], AsyncIterator[list[T]]]) -> Iterator[T]:
        """The items of an async stream of batches, on the caller's thread, as they come."""
        handoff: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        room: asyncio.Semaphore | None = None
        loop = self.loop

        async def produce() -> None:
            nonlocal room
            room = asyncio.Semaphore(STREAM_AHEAD)
            try:
                source = batches()
                try:
                    async for batch in source:
                        await room.acquire()
                        handoff.put(("items", batch))
                finally:
                    aclose = getattr(source, "aclose", None)  # an async generator's workers end with it
                    if aclose is not None:
                        await aclose()
            except BaseException as exc:
                handoff.put(("error", exc))
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                handoff.put(("done", None))

        job = _Job(loop, produce())
        try:
            while True:
                kind, value = handoff.get()
                if kind == "done":
                    return
                if kind == "error":
                    if isinstance(value, asyncio.CancelledError):
                        # Not our cancel (that comes after this loop): the loop was closed under
                        # the stream. What came so far is not the whole stream.
                        from lotsdb_cli.errors import Closed

                        raise Closed("the stream was cut short: its Lotsdb was closed") from None
                    raise value
                if room is not None:
                    loop.call_soon_threadsafe(room.release)
                yield from value
        finally:
            job.cancel_and_wait()

    def close(self, finish: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run `finish()` on the loop (closing sessions, flushing the cache), then stop the loop;
        nothing can run on it afterwards (`Closed`)."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def cancel_the_rest() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), CANCEL_WAIT)

        async def wind_down() -> None:
            try:
                if finish is not None:
                    await finish()
            except GeneratorExit:
                raise  # discarded with the loop (a second Ctrl-C): there is no loop left to clean up on
            except BaseException:
                await cancel_the_rest()
                raise
            await cancel_the_rest()

        closing = wind_down()
        future = asyncio.run_coroutine_threadsafe(closing, loop)
        try:
            future.result(timeout=CANCEL_WAIT * 2)
        except concurrent.futures.TimeoutError:
            pass
        except BaseException:  # a second interrupt while winding down: stop now
            future.cancel()
            raise
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CANCEL_WAIT)
            if not thread.is_alive():
                closing.close()  # not started, or stopped half-way: ended here, without a warning
                loop.close()


class _Job:
    """A coroutine running as a task on the loop, seen from another thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, Any]) -> None:
        self._loop = loop
        self._outcome: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._task: asyncio.Task[Any] | None = None
        self.finished = threading.Event()  # set once the task has ended, its clean-up included
        loop.call_soon_threadsafe(self._start, coroutine)

    def _start(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        self._task = self._loop.create_task(coroutine)
        self._task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            self._outcome.set_exception(asyncio.CancelledError())
        elif task.exception() is not None:
            self._outcome.set_exception(task.exception())
        else:
            self._outcome.set_result(task.result())
        self.finished.set()

    def result(self) -> Any:
        return self._outcome.result()

    def cancel_and_wait(self) -> None:
        """Cancel the task (if still running) and give it `CANCEL_WAIT` seconds to clean up."""
        if self.finished.is_set():
            return

        def cancel() -> None:
            if self._task is not None:
                self._task.cancel()
            else:  # not started yet: it will start and end at once
                self._loop.call_soon(cancel)

        self._loop.call_soon_threadsafe(cancel)
        self.finished.wait(CANCEL_WAIT)
