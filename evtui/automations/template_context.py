"""What action templates see: the event, the automation, the firing (reference §3.3).

Prefect's names, so its templates work: `event` (null for a proactive firing that saw no
event), `automation`, `firing`, `labels` (the firing's `for_each` values), `events` (every
triggering event) and `flow_run` (the first flow run among the event's resources, with its
state as the event recorded it, as Prefect pins it). Resources offer Prefect's `.id`, `.name`
and `.role` shortcuts besides their labels by key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event

if TYPE_CHECKING:
    from evtui.automations.firing import Firing
    from evtui.automations.models import Automation


class TemplateResource(dict[str, str]):
    """A resource's labels, with Prefect's `.id`, `.name` and `.role` shortcuts."""

    @property
    def id(self) -> str | None:
        return self.get(RESOURCE_ID)

    @property
    def name(self) -> str | None:
        return self.get(RESOURCE_NAME)

    @property
    def role(self) -> str | None:
        return self.get(RESOURCE_ROLE)


def event_context(event: Event) -> dict[str, Any]:
    """An event as templates see it: its JSON fields, resources with shortcuts, times as
    datetimes (so `event.occurred.year` works; rendered, they are ISO 8601 text)."""
    context = {name: getattr(event, name) for name in type(event).model_fields}
    context["id"] = str(event.id)
    context["follows"] = str(event.follows) if event.follows else None
    context["resource"] = TemplateResource(event.resource)
    context["related"] = [TemplateResource(related) for related in event.related]
    return context


_FLOW_RUN_PREFIXES = ("evtui.flow-run.", "prefect.flow-run.")


def _flow_run(event: Event | None) -> dict[str, Any] | None:
    """The first flow run among the event's resources, as of the event (§3.3: Prefect pins
    `flow_run.state` to the state the event's labels record)."""
    if event is None:
        return None
    for resource in [event.resource, *event.related]:
        resource_id = resource.get(RESOURCE_ID, "")
        prefix = next((p for p in _FLOW_RUN_PREFIXES if resource_id.startswith(p)), None)
        if prefix:
            return {
                "id": resource_id.removeprefix(prefix),
                "name": resource.get(RESOURCE_NAME),
                "flow": resource.get("evtui.flow.name"),
                "state": {
                    "name": resource.get("prefect.state-name"),
                    "type": resource.get("prefect.state-type"),
                    "message": resource.get("prefect.state-message"),
                },
            }
    return None


def context_for(
    automation: Automation, firing: Firing | None, event: Event | None
) -> dict[str, Any]:
    """What an action's templates see when `firing` of `automation` acts on `event`."""
    firing_context = None
    if firing is not None:
        firing_context = {
            "id": str(firing.id),
            "trigger_id": str(firing.trigger_id),
            "state": firing.state,
            "occurred": firing.occurred,
            "triggering_labels": dict(firing.triggering_labels),
            "bucket_key": firing.bucket_key,
            "count": firing.count,
            "replay": firing.replay,
        }
    return {
        "event": event_context(event) if event is not None else None,
        "automation": automation.model_dump(mode="json"),
        "firing": firing_context,
        "labels": dict(firing.triggering_labels) if firing else {},
        "events": [event_context(e) for e in firing.triggering_events] if firing else [],
        "flow_run": _flow_run(event),
    }
