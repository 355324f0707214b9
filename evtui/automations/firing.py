"""A firing: the moment an automation's trigger decided to act, and why.

The evaluator produces firings; the action runner consumes them (stores them, emits
`evtui.automation.triggered`, runs the actions). Keeping the firing a plain record means the
evaluator never knows what acting involves, and a backtest can produce the very same objects
with no side effect at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from evtui.events import ReceivedEvent

if TYPE_CHECKING:
    from evtui.automations.models import Automation

FiringState = Literal["Triggered", "Resolved"]


@dataclass
class Firing:
    """One firing of an automation's root trigger.

    `trigger_id` is the root trigger's id. `triggering_event` is the event that tipped the
    trigger over (or, for a proactive firing, the last event its bucket saw); for a composite
    trigger, `triggering_events` holds its children's events in firing order. `bucket_key` is
    the JSON list of the `for_each` label values (`"[]"` without `for_each`, `""` for a
    composite trigger); `count` is how many events the bucket had counted (children that
    fired, for a composite). `replay` marks a firing caused by a replayed event.
    """

    id: UUID
    automation: Automation
    trigger_id: UUID
    state: FiringState
    occurred: datetime
    triggering_event: ReceivedEvent | None
    triggering_events: list[ReceivedEvent]
    triggering_labels: dict[str, str]
    bucket_key: str
    count: int
    replay: bool = False


def encode_key(key: tuple[str, ...]) -> str:
    """A bucket key as stored and shown: the JSON list of its label values."""
    return json.dumps(list(key), separators=(",", ":"))


def decode_key(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))
