"""Backtest: what an automation would have done over the stored events of a time range.

The stored events in `[start, end)` are replayed in `occurred` order through a fresh
`Evaluator` with in-memory buckets, its clock set to each event's time and swept every second
of simulated time, so windows, thresholds and proactive postures behave as they would have
live. Nothing is written, emitted or run. The answer lists the events that matched, the
firings with the bucket timeline that led to each and the rendered parameters of every action,
and, for a saved automation, the difference from what actually fired (`automation_firings`).

Only events whose names the triggers could care about are read: the `expect`/`after` globs
become SQL `GLOB`s over the `(event, occurred)` index, so a backtest over a busy store reads
the few thousand relevant rows, not all of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from evtui.automations import templating
from evtui.automations.buckets import Bucket, BucketId, BucketStore
from evtui.automations.evaluator import Evaluator
from evtui.automations.firing import Firing, decode_key
from evtui.automations.models import Automation, AutomationCreate
from evtui.events import ReceivedEvent, now_utc
from evtui.labels import glob_to_sqlite
from evtui.store.rows import EVENT_COLUMNS, event_from_row, from_micros, to_micros

if TYPE_CHECKING:
    from evtui.engine import Engine

PAGE = 5000
TICK = timedelta(seconds=1)
LISTED_MATCHES = 1000
"""At most this many matched events are listed (all are counted)."""


class TimelineStore(BucketStore):
    """Buckets that remember every state they passed through, for the firing's timeline."""

    def __init__(self) -> None:
        super().__init__()
        self.clock: datetime | None = None
        self.timelines: dict[BucketId, list[dict[str, Any]]] = {}

    def _changed(self, ident: BucketId) -> None:
        bucket = self.get(*ident)
        entry: dict[str, Any] = {"at": self.clock.isoformat() if self.clock else None}
        if bucket is None:
            entry["removed"] = True
        else:
            entry.update(_bucket_json(bucket))
        self.timelines.setdefault(ident, []).append(entry)

    def take(self, automation_id: uuid.UUID, trigger_ids: set[uuid.UUID], key: str | None) -> list:
        """The timeline of the bucket that fired (all the automation's, for a composite),
        then forget it."""
        if key is not None:
            [trigger_id] = trigger_ids
            idents = [(automation_id, trigger_id, decode_key(key))]
        else:
            idents = [i for i in self.timelines if i[0] == automation_id and i[1] in trigger_ids]
        return [
            {"trigger_id": str(i[1]), "key": list(i[2]), "states": self.timelines.pop(i)}
            for i in idents
            if i in self.timelines
        ]


async def backtest(
    engine: Engine,
    automation: Automation | AutomationCreate,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Replay `[start, end)` through `automation` (saved or a draft) without side effects."""
    draft = isinstance(automation, AutomationCreate)
    if isinstance(automation, AutomationCreate):
        now = now_utc()
        automation = Automation.build(automation, uuid.uuid4(), now, now)
    automation = automation.model_copy(update={"enabled": True})
    buckets = TimelineStore()
    evaluator = Evaluator([automation], buckets, hold_followers=False)
    event_triggers = automation.trigger.event_triggers()
    trigger_ids = {t.id for t in automation.trigger.all_triggers()}
    matched: list[dict[str, Any]] = []
    matched_count = scanned = 0
    firings: list[dict[str, Any]] = []
    last_sweep: datetime | None = None

    def record(fired: list[Firing]) -> None:
        for firing in fired:
            if automation.trigger.type == "event":
                timeline = buckets.take(automation.id, {firing.trigger_id}, firing.bucket_key)
            else:
                timeline = buckets.take(automation.id, trigger_ids, None)
            firings.append(_firing_json(firing, timeline))

    def sweep_until(moment: datetime) -> None:
        """Sweep as the live service would have (every second) up to `moment`, skipping the
        seconds in which no proactive trigger was due."""
        nonlocal last_sweep
        while True:
            if last_sweep is None:
                when = moment
            else:
                tick = last_sweep + TICK
                if tick > moment:
                    return
                due = evaluator.next_due(tick)
                when = moment if due is None else max(tick, min(due, moment))
            buckets.clock = when
            record(evaluator.sweep(when))
            last_sweep = when
            if when >= moment:
                return

    sweep_until(start)
    async for event in _events(engine, event_triggers, start, end):
        scanned += 1
        sweep_until(event.occurred)
        buckets.clock = event.occurred
        fired = evaluator.evaluate(event, event.occurred)
        if evaluator.last_covered:
            matched_count += 1
            if len(matched) < LISTED_MATCHES:
                matched.append(_event_json(event))
        record(fired)
    sweep_until(min(end, now_utc()))
    actual = [] if draft else await _actual_firings(engine, automation.id, start, end)
    return {
        "automation": {"id": None if draft else str(automation.id), "name": automation.name},
        "start": start.isoformat(),
        "end": end.isoformat(),
        "events_scanned": scanned,
        "matched_count": matched_count,
        "matched": matched,
        "firings": firings,
        "actual": actual,
        "difference": None if draft else _difference(firings, actual),
    }


async def _events(
    engine: Engine, triggers: list[Any], start: datetime, end: datetime
) -> AsyncIterator[ReceivedEvent]:
    """Stored events in `[start, end)` by `occurred`, only names some trigger could want."""
    names: set[str] | None = set()
    for trigger in triggers:
        if not trigger.expect:
            names = None
            break
        names.update(trigger.expect, trigger.after)
    where = "occurred >= ? AND occurred < ?"
    base: list[Any] = []
    if names is not None:
        if not names:
            return
        where += " AND (" + " OR ".join("event GLOB ?" for _ in names) + ")"
        base = [glob_to_sqlite(name) for name in sorted(names)]
    after = (to_micros(start), -1)
    high = to_micros(end)
    while True:
        sql = (
            f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} AND (occurred, seq) > (?, ?)"
            " ORDER BY occurred, seq LIMIT ?"
        )
        params = [to_micros(start), high, *base, *after, PAGE]
        async with engine.store.reader.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        for row in rows:
            yield event_from_row(tuple(row)).event
        if len(rows) < PAGE:
            return
        after = (rows[-1][2], rows[-1][0])


def _bucket_json(bucket: Bucket) -> dict[str, Any]:
    return {
        "start": bucket.start.isoformat(),
        "end": bucket.end.isoformat(),
        "count": bucket.count,
        "last_event_id": str(bucket.last_event.id) if bucket.last_event else None,
    }


def _event_json(event: ReceivedEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "event": event.event,
        "occurred": event.occurred.isoformat(),
        "resource_id": event.resource_id,
    }


def _firing_json(firing: Firing, timeline: list[dict[str, Any]]) -> dict[str, Any]:
    event = firing.triggering_event
    return {
        "occurred": firing.occurred.isoformat(),
        "trigger_id": str(firing.trigger_id),
        "triggering_event_id": str(event.id) if event else None,
        "triggering_event_ids": [str(e.id) for e in firing.triggering_events],
        "triggering_labels": firing.triggering_labels,
        "bucket_key": firing.bucket_key,
        "count": firing.count,
        "buckets": timeline,
        "actions": _rendered_actions(firing),
    }


def _rendered_actions(firing: Firing) -> list[dict[str, Any]]:
    """Each action's fields rendered as the action runner would; errors per field."""
    automation = firing.automation
    context = templating.context_for(automation, firing, firing.triggering_event)
    rendered = []
    actions = [*automation.actions, *automation.actions_on_trigger]
    for index, action in enumerate(actions):
        fields = action.model_dump(mode="json", exclude={"type"})
        entry: dict[str, Any] = {"index": index, "type": action.type, "parameters": {}}
        errors = []
        for name, value in fields.items():
            try:
                entry["parameters"][name] = templating.render(value, context)
            except templating.TemplateError as error:
                errors.append(f"{name}: {error}")
        if errors:
            entry["errors"] = errors
        rendered.append(json.loads(json.dumps(entry, default=str)))
    return rendered


async def _actual_firings(
    engine: Engine, automation_id: uuid.UUID, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    async with engine.store.reader.execute(
        "SELECT id, occurred, triggering_event_id FROM automation_firings"
        " WHERE automation_id = ? AND occurred >= ? AND occurred < ? ORDER BY occurred",
        (str(automation_id), to_micros(start), to_micros(end)),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        {"id": row[0], "occurred": from_micros(row[1]).isoformat(), "triggering_event_id": row[2]}
        for row in rows
    ]


def _difference(would: list[dict[str, Any]], actual: list[dict[str, Any]]) -> dict[str, Any]:
    """Firings compared by triggering event: those only the backtest has, and the reverse."""
    would_ids = [f["triggering_event_id"] for f in would]
    actual_ids = [f["triggering_event_id"] for f in actual]
    return {
        "would_fire_but_did_not": [i for i in would_ids if i not in actual_ids],
        "fired_but_would_not": [i for i in actual_ids if i not in would_ids],
        "same": sorted(set(would_ids) & set(actual_ids), key=str),
    }
