"""The conformance table's vocabulary: event timelines, clock ticks and expected firings.

A case is one automation (its trigger as Prefect JSON), a timeline of events at offsets in
seconds, and the firings expected: when (the evaluator's clock) and which event triggered
each. `run_case` plays the timeline against the pure `Evaluator` with a fake clock, calling
`sweep` every second as the live service does (unless the case turns the ticks off).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from evtui.automations.buckets import BucketStore
from evtui.automations.evaluator import Evaluator
from evtui.automations.firing import Firing
from evtui.automations.models import Automation, AutomationCreate
from evtui.events import ReceivedEvent

T0 = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class E:
    """An event that occurred at `t` and is evaluated at `now` (default: when it occurred)."""

    t: float
    name: str
    resource: str = "r1"
    labels: dict[str, str] = field(default_factory=dict)
    related: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    now: float | None = None
    tag: str | None = None
    follows: str | None = None
    """The tag of the event this one follows (a tag not in the timeline: a leader that never
    comes)."""
    same_as: str | None = None
    """Reuse the id of the event with this tag (a redelivered copy)."""

    @property
    def evaluated_at(self) -> float:
        return self.t if self.now is None else self.now

    @property
    def key(self) -> str:
        return self.tag or f"{self.name}@{self.t:g}"


@dataclass
class Sweep:
    """One explicit `sweep(now)` (for cases without the every-second ticks)."""

    now: float


@dataclass
class F:
    """An expected firing: at clock time `t`, triggered by the event tagged `by`."""

    t: float
    by: str | None
    labels: dict[str, str] | None = None
    events: list[str] | None = None
    """Tags of `triggering_events`, when the case checks them (composites)."""
    count: int | None = None


@dataclass
class Case:
    name: str
    trigger: dict[str, Any]
    timeline: list[E | Sweep]
    expected: list[F]
    until: float | None = None
    """Tick every second up to here (default: the last timeline time)."""
    ticks: bool = True
    enabled: bool = True
    source: str = ""
    """Where in the reference the expectation comes from."""


def automation(trigger: dict[str, Any], enabled: bool = True) -> Automation:
    definition = AutomationCreate.model_validate(
        {"name": "case", "enabled": enabled, "trigger": trigger, "actions": []}
    )
    return Automation.build(definition, uuid.uuid4(), T0, T0)


def build_event(step: E, ids: dict[str, uuid.UUID]) -> ReceivedEvent:
    event_id = ids[step.same_as] if step.same_as else ids[step.key]
    return ReceivedEvent.model_validate(
        {
            "id": str(event_id),
            "occurred": at(step.t),
            "received": at(step.evaluated_at),
            "event": step.name,
            "resource": {"prefect.resource.id": step.resource, **step.labels},
            "related": step.related,
            "payload": step.payload,
            "follows": str(ids.setdefault(step.follows, uuid.uuid4())) if step.follows else None,
        }
    )


def run_case(case: Case) -> tuple[list[tuple[float, Firing]], dict[uuid.UUID, str]]:
    """Every firing of the case with the clock offset (seconds) at which it happened, and
    the tag of every event id."""
    evaluator = Evaluator([automation(case.trigger, case.enabled)], BucketStore())
    steps: list[tuple[float, int, E | Sweep]] = []
    for step in case.timeline:
        when = step.evaluated_at if isinstance(step, E) else step.now
        steps.append((when, 0, step))
    if case.ticks:
        last = max([when for when, _, _ in steps] + [case.until or 0])
        steps.extend((float(second), 1, Sweep(second)) for second in range(int(last) + 1))
    steps.sort(key=lambda item: (item[0], item[1]))
    ids = {step.key: uuid.uuid4() for step in case.timeline if isinstance(step, E)}
    fired: list[tuple[float, Firing]] = []
    for when, _, step in steps:
        if isinstance(step, E):
            firings = evaluator.evaluate(build_event(step, ids), at(when))
        else:
            firings = evaluator.sweep(at(when))
        fired.extend((when, firing) for firing in firings)
    tags: dict[uuid.UUID, str] = {}
    for tag, event_id in ids.items():
        tags.setdefault(event_id, tag)
    return fired, tags


def describe(fired: list[tuple[float, Firing]], tags: dict[uuid.UUID, str], case: Case) -> list:
    """The firings in the shape of the case's expectations, for a readable assertion."""
    shown = []
    for (when, firing), expected in zip(fired, case.expected + [None] * len(fired), strict=False):
        event = firing.triggering_event
        row: dict[str, Any] = {"t": when, "by": tags.get(event.id) if event else None}
        if expected is not None and expected.labels is not None:
            row["labels"] = firing.triggering_labels
        if expected is not None and expected.events is not None:
            row["events"] = [tags.get(e.id) for e in firing.triggering_events]
        if expected is not None and expected.count is not None:
            row["count"] = firing.count
        shown.append(row)
    return shown


def expected_rows(case: Case) -> list[dict[str, Any]]:
    rows = []
    for firing in case.expected:
        row: dict[str, Any] = {"t": firing.t, "by": firing.by}
        if firing.labels is not None:
            row["labels"] = firing.labels
        if firing.events is not None:
            row["events"] = firing.events
        if firing.count is not None:
            row["count"] = firing.count
        rows.append(row)
    return rows
