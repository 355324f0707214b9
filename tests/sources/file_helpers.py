"""A list-collecting ingest for watcher tests, and a barrier to wait on instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from evtui.events import Event

WAIT_SECONDS = 10.0


class Collector:
    """An ingest that keeps every batch it is given."""

    def __init__(self) -> None:
        self.batches: list[list[Event]] = []

    async def __call__(self, events: list[Event]) -> None:
        self.batches.append(list(events))

    @property
    def events(self) -> list[Event]:
        return [event for batch in self.batches for event in batch]

    def about(self, name: str) -> list[tuple[str, str]]:
        """(kind, file name) of every event about files called `name`."""
        return [(e.event, e.resource["evtui.file.name"]) for e in self.events if _named(e, name)]

    async def wait_for(self, done: Callable[[list[Event]], bool]) -> list[Event]:
        deadline = time.monotonic() + WAIT_SECONDS
        while not done(self.events):
            assert time.monotonic() < deadline, f"gave up waiting; got {self.summary()}"
            await asyncio.sleep(0.02)
        return self.events

    async def wait_for_file(self, name: str, kind: str = "file.created") -> Event:
        """The first `kind` event about `name`, once it arrived."""
        await self.wait_for(lambda events: any(_is(e, kind, name) for e in events))
        return next(e for e in self.events if _is(e, kind, name))

    def summary(self) -> list[tuple[str, str]]:
        return [(e.event, e.resource["evtui.file.name"]) for e in self.events]


def _named(event: Event, name: str) -> bool:
    return event.resource["evtui.file.name"] == name


def _is(event: Event, kind: str, name: str) -> bool:
    return event.event == kind and _named(event, name)


async def barrier(collector: Collector, folder: Path, name: str = "zz-barrier.csv") -> None:
    """Drop a file and wait for its announcement: what came before it has been announced.

    Asserting that something did *not* happen needs a point in time after which it would
    have: a later file's event is that point, without a fixed sleep.
    """
    (folder / name).write_text("barrier\n")
    await collector.wait_for_file(name)
