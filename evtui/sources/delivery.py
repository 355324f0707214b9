"""How a database source hands events over and stops: shared by the PostgreSQL outbox and the
polled SQL sources (and fit for any source that must not lose a batch it has read).

A source reads a batch, stores it, and only then records its progress (a cursor, an outbox
delete). Two things follow: storing is retried until the store takes the batch (an overloaded
store asks to retry later, and dropping the batch would lose it), and stopping must not cancel
a task between storing a batch and recording that it did, or the batch is read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from evtui.events import Event

log = logging.getLogger(__name__)

Ingest = Callable[[list[Event]], Awaitable[object]]


async def ingest_until_stored(
    ingest: Ingest, events: list[Event], who: str, first_retry: float, max_retry: float
) -> None:
    """Ingest until it succeeds, waiting as long as a failure asks (`retry_after`)."""
    while True:
        try:
            await ingest(events)
            return
        except Exception as error:
            delay = getattr(error, "retry_after", None) or first_retry
            log.warning("%s: events not stored (%s); retrying", who, error)
            await asyncio.sleep(min(float(delay), max_retry))


async def stop_task(task: asyncio.Task[None], storing: bool, grace: float, who: str) -> None:
    """Cancel `task` at once, or, while it is `storing`, give that batch `grace` seconds."""
    if not storing:
        task.cancel()
    try:
        await asyncio.wait_for(asyncio.shield(task), grace)
    except TimeoutError:
        log.warning("%s: stopped before a batch was stored; it comes again next time", who)
        task.cancel()
    except asyncio.CancelledError:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
