"""Conversions between events and the rows that hold them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic_core import to_json

from evtui.events import RESOURCE_ID, ReceivedEvent

EVENT_COLUMNS = (
    "seq, id, occurred, event, resource_id, resource, related, payload, received, follows"
)
"""The columns `event_from_row` reads, in its order."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """Exact integer microseconds since the epoch (no float rounding)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with its position in the store; `seq` grows with every insert."""

    seq: int
    event: ReceivedEvent


ROW_COLUMNS = (
    "id, occurred, event, resource_id, received, follows,"
    " resource, related_resource_ids, related, payload"
)
"""The columns of `event_row`, in its order: the short ones first, the JSON texts last."""


def event_row(event: ReceivedEvent) -> tuple:
    """The `events` row but `seq` and `recorded` (known only at commit)."""
    return (
        str(event.id),
        to_micros(event.occurred),
        event.event,
        event.resource[RESOURCE_ID],
        to_micros(event.received),
        str(event.follows) if event.follows else None,
        to_json(event.resource).decode(),
        to_json([r[RESOURCE_ID] for r in event.related]).decode(),
        to_json(event.related).decode(),
        to_json(event.payload).decode(),
    )


def event_from_row(row: tuple) -> StoredEvent:
    seq, id_, occurred, name, _resource_id, resource, related, payload, received, follows = row
    event = ReceivedEvent.model_construct(
        id=uuid.UUID(id_),
        occurred=from_micros(occurred),
        event=name,
        resource=json.loads(resource),
        related=json.loads(related),
        payload=json.loads(payload),
        received=from_micros(received),
        follows=uuid.UUID(follows) if follows else None,
    )
    return StoredEvent(seq=seq, event=event)
