"""Helpers for the TUI tests: events with fixed ids and times, polling with a deadline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from textual.pilot import Pilot

from evtui.engine import Engine
from evtui.events import Event
from evtui.tui.app import EvtuiApp
from evtui.tui.widgets.event_list import EventList

DEADLINE = 10.0
BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
WIDE = (200, 50)
"""A terminal where the Events pane is wide enough for whole resource ids."""
RETENTION_DAYS = 100 * 365
"""Test events are from 2024: keep the engine's retention from deleting them mid-test."""


def make_event(index: int, name: str = "file.created", **labels: str) -> Event:
    """An event whose id and time depend only on `index`, so screens are reproducible."""
    return Event(
        id=uuid.UUID(int=index + 1),
        occurred=BASE_TIME + timedelta(seconds=index, milliseconds=index),
        event=name,
        resource={
            "prefect.resource.id": f"file./data/in/report-{index}.csv",
            "prefect.resource.name": f"report-{index}.csv",
            **labels,
        },
        related=[
            {
                "prefect.resource.id": "prefect.flow.etl",
                "prefect.resource.role": "flow",
                "prefect.resource.name": "etl",
            },
            {"prefect.resource.id": "prefect.tag.nightly", "prefect.resource.role": "tag"},
        ],
        payload={"index": index},
    )


Condition = Callable[[], object]


async def until(pilot: Pilot, condition: Condition, what: str, deadline: float = DEADLINE) -> None:
    """Let the app run until `condition()` holds; fail naming `what` after the deadline."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def screen_lines(event_list: EventList) -> list[str]:
    """The text the event list shows right now, line by line."""
    height = event_list.scrollable_content_region.height
    return [event_list.render_line(y).text for y in range(height)]


def subscribed(engine: Engine) -> bool:
    """True once the engine is up and the app reads its bus."""
    return any(s.name == "tui" for s in engine.bus.stats())


@dataclass
class Running:
    app: EvtuiApp
    engine: Engine
    pilot: Pilot

    @property
    def events(self) -> EventList:
        return self.app.query_one(EventList)

    async def until(self, condition: Condition, what: str) -> None:
        await until(self.pilot, condition, what)

    async def ingest(self, events: list[Event]) -> None:
        """Store events through the engine and wait until the list has taken them."""
        await self.engine.ingest(events)
        last = self.engine.bus.head
        await self.until(lambda: self.events.buffer.last_seq >= last, "the list to take events")
