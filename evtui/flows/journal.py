"""One run's writes (states, task states, emitted events), done one after another.

A run's events must reach the store in the order they happened: Scheduled before Pending
before Running before what the flow emits. The runner does not wait for these writes before
moving on (a child must not wait for a commit to start), so each run queues them here and a
single task performs them in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Journal:
    """An ordered queue of async writes with one worker task."""

    def __init__(self, name: str) -> None:
        self._queue: asyncio.Queue[tuple[Callable[[], Awaitable[Any]], asyncio.Future[Any]] | None]
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._work(), name=f"evtui-journal-{name}")

    def put(self, write: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """Queue `write()`; the future resolves (or fails) once it has been done."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((write, done))
        return done

    async def close(self) -> None:
        """Finish what is queued, then stop the worker."""
        self._queue.put_nowait(None)
        await self._task

    async def _work(self) -> None:
        while (item := await self._queue.get()) is not None:
            write, done = item
            try:
                result = await write()
            except Exception as error:
                log.exception("a run's write failed")
                if not done.done():
                    done.set_exception(error)
                    done.exception()  # the failure is logged here; nobody need await it
            else:
                if not done.done():
                    done.set_result(result)
