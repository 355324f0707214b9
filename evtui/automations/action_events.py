"""The events an automation emits about itself: firings, actions and pauses.

They follow Prefect's shapes (reference §2.10 and §3.2) with evtui's prefix:

- `evtui.automation.triggered|resolved` on resource `evtui.automation.<id>`, related to the
  triggering event (role `triggering-event`) and to the trigger that fired (role `trigger`);
  payload `triggering_labels`, `triggering_event` (Prefect's fields) plus `bucket_key`, `count`,
  `trigger_id`, `firing_id`. Its id is derived from the firing id, so announcing a redelivered
  firing again is a duplicate the store drops rather than a second announcement.
- `evtui.action.triggered`, then `evtui.action.executed` or `evtui.action.failed`, on the same
  resource. The chain is kept by `follows`: the firing's event follows the triggering event,
  each `action.triggered` follows the firing's event, and each outcome follows its
  `action.triggered`. Walking `follows` back from any action outcome therefore reaches the
  event that started it all.
- `evtui.automation.paused` when the rate cap pauses a runaway automation, with the reason.

A resource an action produced (the flow run it started, the automation it paused) is related
with role `target`, never `flow-run`: that role means "emitted by this run" to lineage.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from evtui.automations.store import automation_resource_id
from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event, ReceivedEvent

if TYPE_CHECKING:
    from evtui.automations.firing import Firing
    from evtui.automations.models import Automation

TRIGGERING_EVENT_ROLE = "triggering-event"
AUTOMATION_EVENT_ROLE = "automation-triggered-event"
TARGET_ROLE = "target"


def event_resource_id(event_id: object) -> str:
    return f"prefect.event.{event_id}"


def automation_resource(automation: Automation) -> dict[str, str]:
    """The automation as an event's resource: id, name, trigger type and (event) posture."""
    trigger = automation.trigger
    labels = {
        RESOURCE_ID: automation_resource_id(automation.id),
        RESOURCE_NAME: automation.name,
        "prefect.trigger-type": trigger.type,
    }
    posture = getattr(trigger, "posture", None)
    if posture is not None:
        labels["prefect.posture"] = str(getattr(posture, "value", posture))
    return labels


def automation_related(automation: Automation, role: str = "automation") -> dict[str, str]:
    return {
        RESOURCE_ID: automation_resource_id(automation.id),
        RESOURCE_ROLE: role,
        RESOURCE_NAME: automation.name,
    }


def triggering_related(event: Event | None) -> list[dict[str, str]]:
    if event is None:
        return []
    return [{RESOURCE_ID: event_resource_id(event.id), RESOURCE_ROLE: TRIGGERING_EVENT_ROLE}]


def firing_event_id(firing: Firing) -> uuid.UUID:
    """The same firing always gets the same announcement id (see the module docstring)."""
    return uuid.uuid5(firing.id, firing.state)


def firing_event(firing: Firing) -> ReceivedEvent:
    """`evtui.automation.triggered|resolved`: the firing, as the events feed shows it."""
    automation = firing.automation
    event = firing.triggering_event
    trigger_type = next(
        (t.type for t in automation.trigger.all_triggers() if t.id == firing.trigger_id),
        automation.trigger.type,
    )
    trigger = {
        RESOURCE_ID: f"evtui.trigger.{firing.trigger_id}",
        RESOURCE_ROLE: "trigger",
        "prefect.trigger-type": trigger_type,
    }
    return Event(
        id=firing_event_id(firing),
        occurred=firing.occurred,
        event=f"evtui.automation.{firing.state.lower()}",
        resource=automation_resource(automation),
        related=[*triggering_related(event), trigger],
        payload={
            "firing_id": str(firing.id),
            "trigger_id": str(firing.trigger_id),
            "triggering_labels": firing.triggering_labels,
            "bucket_key": firing.bucket_key,
            "count": firing.count,
            "replay": firing.replay,
            "triggering_event": event.model_dump(mode="json") if event is not None else None,
        },
        follows=event.id if event is not None else None,
    ).receive()


def action_event(
    name: str,
    firing: Firing,
    announced: Event,
    action_index: int,
    action_type: str,
    follows: uuid.UUID,
    details: dict[str, Any] | None = None,
    targets: list[dict[str, str]] | None = None,
    occurred: datetime | None = None,
) -> Event:
    """`evtui.action.<name>` (triggered, executed or failed) for one action of a firing."""
    related = [
        *(targets or []),
        {RESOURCE_ID: event_resource_id(announced.id), RESOURCE_ROLE: AUTOMATION_EVENT_ROLE},
        *triggering_related(firing.triggering_event),
    ]
    fields: dict[str, Any] = {"occurred": occurred} if occurred is not None else {}
    return Event(
        **fields,
        event=f"evtui.action.{name}",
        resource=automation_resource(firing.automation),
        related=related,
        payload={
            "action_index": action_index,
            "action_type": action_type,
            "firing_id": str(firing.id),
            **(details or {}),
        },
        follows=follows,
    )


def paused_event(automation: Automation, reason: str, firing: Firing) -> Event:
    """`evtui.automation.paused`: the rate cap stopped this automation; `reason` says why."""
    return Event(
        event="evtui.automation.paused",
        resource=automation_resource(automation),
        related=triggering_related(firing.triggering_event),
        payload={"reason": reason, "firing_id": str(firing.id)},
    )
