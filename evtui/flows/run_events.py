"""The events a run's states become: `evtui.flow-run.<State>` and `evtui.task-run.<State>`.

They follow Prefect's flow-run state events (reference §6.1): the event id is the state's id,
`follows` chains each state to the one before (the first to the event that caused the run),
and related resources name the flow and whatever caused the run, so automations and lineage
can follow a chain of runs through events alone.
"""

from __future__ import annotations

import uuid
from typing import Any

from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event
from evtui.flows.records import STATE_TYPES, FlowRun, StateRecord, TaskRun

MAX_STATE_MESSAGE = 100_000
"""Longest state message put in a label, as Prefect caps `prefect.state-message`."""


def flow_run_resource_id(run_id: str) -> str:
    return f"evtui.flow-run.{run_id}"


def flow_resource(flow: str) -> dict[str, str]:
    return {RESOURCE_ID: f"evtui.flow.{flow}", RESOURCE_ROLE: "flow", RESOURCE_NAME: flow}


def _state_labels(state: str, message: str | None, ts_iso: str) -> dict[str, str]:
    return {
        "prefect.state-name": state,
        "prefect.state-type": STATE_TYPES[state],
        "prefect.state-message": (message or "")[:MAX_STATE_MESSAGE],
        "prefect.state-timestamp": ts_iso,
    }


def _payload(state: StateRecord, previous: str | None) -> dict[str, Any]:
    return {
        "intended": {
            "from": STATE_TYPES[previous] if previous else None,
            "to": STATE_TYPES[state.state],
        },
        "validated_state": {
            "type": STATE_TYPES[state.state],
            "name": state.state,
            "message": state.message,
        },
    }


def flow_run_state_event(
    run: FlowRun, state: StateRecord, previous: str | None, follows: str | None
) -> Event:
    """The event of `run` entering `state` (`previous`: the state it left, if any)."""
    related = [flow_resource(run.flow)]
    if run.cause.event_id:
        related.append({RESOURCE_ID: f"prefect.event.{run.cause.event_id}", RESOURCE_ROLE: "cause"})
    if run.cause.automation_id:
        related.append(
            {RESOURCE_ID: f"evtui.automation.{run.cause.automation_id}", RESOURCE_ROLE: "creator"}
        )
    return Event(
        id=uuid.UUID(state.id),
        occurred=state.ts,
        event=f"evtui.flow-run.{state.state}",
        resource={
            RESOURCE_ID: flow_run_resource_id(run.id),
            RESOURCE_NAME: run.name,
            "evtui.flow.name": run.flow,
            **_state_labels(state.state, state.message, state.ts.isoformat()),
            "prefect.run-count": str(run.attempt),
        },
        related=related,
        payload=_payload(state, previous),
        follows=uuid.UUID(follows) if follows else None,
    )


def task_run_state_event(
    task: TaskRun, run: FlowRun, state: StateRecord, previous: str | None, follows: str | None
) -> Event:
    """The event of a task run (inside `run`) entering `state`."""
    return Event(
        id=uuid.UUID(state.id),
        occurred=state.ts,
        event=f"evtui.task-run.{state.state}",
        resource={
            RESOURCE_ID: f"evtui.task-run.{task.id}",
            RESOURCE_NAME: task.task,
            **_state_labels(state.state, state.message, state.ts.isoformat()),
        },
        related=[
            {
                RESOURCE_ID: flow_run_resource_id(run.id),
                RESOURCE_ROLE: "flow-run",
                RESOURCE_NAME: run.name,
            },
            flow_resource(run.flow),
        ],
        payload=_payload(state, previous),
        follows=uuid.UUID(follows) if follows else None,
    )
