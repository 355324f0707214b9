"""Events built the way senders build them, for the store tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from evtui.events import Event, ReceivedEvent, now_utc


def make_event(
    name: str = "test.thing.happened",
    resource: dict[str, str] | str = "test.resource.1",
    *,
    related: list[dict[str, str]] | None = None,
    payload: dict[str, Any] | None = None,
    occurred: datetime | None = None,
    ago: timedelta | None = None,
    id: uuid.UUID | None = None,
) -> ReceivedEvent:
    """An event as received: `resource` may be just the id; `ago` back-dates `occurred`."""
    labels = {"prefect.resource.id": resource} if isinstance(resource, str) else resource
    event = Event(
        event=name,
        resource=labels,
        related=related or [],
        payload=payload or {},
        occurred=occurred or now_utc() - (ago or timedelta()),
        id=id or uuid.uuid4(),
    )
    return event.receive()


def related(resource_id: str, role: str, labels: dict[str, str] | None = None) -> dict[str, str]:
    """A related resource in `role`, with any further labels."""
    return {"prefect.resource.id": resource_id, "prefect.resource.role": role, **(labels or {})}
