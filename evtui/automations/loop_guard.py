"""Loop protection at fire time (reference §2.11), the half Prefect lacks.

Prefect's save-time rule (an enabled Reactive trigger on every run being Scheduled, Pending or
Running must not start runs) is the model's validator (`models._AutomationCore`). It cannot see
a trigger narrowed by a label all of the automation's own runs carry, so at fire time a
`run-flow` action is also refused when the triggering event is a non-final state of a run this
same automation started (the run's events name it as `creator`). Terminal states are allowed,
as in Prefect; loops through them, or through events a flow emits, are left to the rate cap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evtui.automations.store import automation_resource_id
from evtui.events import RESOURCE_ID, RESOURCE_ROLE
from evtui.flows.records import FINAL_STATES

if TYPE_CHECKING:
    from evtui.automations.firing import Firing

FLOW_RUN_EVENT_PREFIXES = ("evtui.flow-run.", "prefect.flow-run.")


def run_flow_loop(firing: Firing, flow: str) -> str | None:
    """Why starting `flow` for this firing would feed the automation its own runs, or None."""
    event = firing.triggering_event
    if event is None:
        return None
    prefix = next((p for p in FLOW_RUN_EVENT_PREFIXES if event.event.startswith(p)), None)
    if prefix is None or event.event.removeprefix(prefix) in FINAL_STATES:
        return None
    creator = automation_resource_id(firing.automation.id)
    started_here = any(
        related[RESOURCE_ID] == creator and related.get(RESOURCE_ROLE) == "creator"
        for related in event.related
    )
    if not started_here:
        return None
    return (
        f"loop protection: {event.event} is from a run this automation started; running"
        f" {flow!r} again would fire the automation again, without end"
    )
