"""The trigger evaluator: Prefect's reactive and proactive evaluation, as a pure core.

`evaluate(event, now)` and `sweep(now)` follow the reference §2.6-2.7 (Prefect's
`server/events/triggers.py`) step by step: buckets with the 15-minute back-dated first window,
eager reactive firing and the next window starting at the old one's end, `after` arming with
the -1 initial count when the same event also matches `expect`, the heartbeat restart,
proactive firing once a window has ended short, the sweep of buckets ended a minute ago, and
compound and sequence triggers over the latest firing of each child.

It does no I/O and reads no clock: `now` is the wall-clock time of the call (it stamps
firings and drives proactive evaluation; windows themselves use events' `occurred`). State
lives in a `BucketStore`, so the live service, the tests and a backtest run the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from evtui.automations import matching
from evtui.automations.buckets import Bucket, BucketStore, ChildFiring
from evtui.automations.firing import Firing, encode_key
from evtui.automations.ordering import MAX_DEPTH, PRECEDING_EVENT_LOOKBACK, CausalOrdering
from evtui.automations.replay import is_replay
from evtui.automations.trigger_index import (
    LoadedTrigger,
    TriggerIndex,
    composite_ready,
    expected_firings,
)
from evtui.events import Event, ReceivedEvent, uuid7

if TYPE_CHECKING:
    from evtui.automations.models import Automation

log = logging.getLogger(__name__)

EXPIRED_BUCKET_BUFFER = timedelta(seconds=60)
"""Buckets are deleted this long after their window ended (Prefect's
`PREFECT_SERVER_EVENTS_EXPIRED_BUCKET_BUFFER`)."""


class EventsClock:
    """How far behind real time evaluation runs: the newest `occurred` seen (never in the
    future) against the wall-clock time it was seen. Proactive windows are judged that far
    back, so a backlog of events is not mistaken for silence."""

    def __init__(self) -> None:
        self._clock: datetime | None = None
        self._updated: datetime | None = None

    def update(self, occurred: datetime, now: datetime) -> None:
        stamp = min(occurred, now)
        if self._clock is None or stamp >= self._clock:
            self._clock = stamp
        self._updated = now

    @property
    def offset(self) -> timedelta:
        if self._clock is None or self._updated is None:
            return timedelta(0)
        return self._clock - self._updated


@dataclass(frozen=True)
class BucketView:
    """One live bucket as `GET /api/automations/{id}/state` shows it."""

    trigger_id: UUID
    posture: str
    key: tuple[str, ...]
    labels: dict[str, str]
    count: int
    threshold: int
    start: datetime
    end: datetime
    time_left: float
    """Seconds until the window ends (0 once it has)."""
    armed: bool
    """True when the trigger has `after` (this bucket exists because it was armed)."""
    last_event_id: UUID | None

    def as_json(self) -> dict[str, Any]:
        return {
            "trigger_id": str(self.trigger_id),
            "posture": self.posture,
            "key": list(self.key),
            "labels": self.labels,
            "count": self.count,
            "threshold": self.threshold,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "time_left": self.time_left,
            "armed": self.armed,
            "last_event_id": str(self.last_event_id) if self.last_event_id else None,
        }


class Evaluator:
    """Evaluates events and the passing of time against the enabled automations."""

    def __init__(
        self,
        automations: Iterable[Automation],
        buckets: BucketStore,
        *,
        hold_followers: bool = True,
    ) -> None:
        self.buckets = buckets
        self.clock = EventsClock()
        self.ordering = CausalOrdering() if hold_followers else None
        self._next_runs: dict[UUID, datetime] = {}
        self.index = TriggerIndex(())
        self.last_covered = False
        """Whether the last event evaluated matched some trigger (a backtest lists those)."""
        self.load(automations)

    # -- automations --------------------------------------------------------------------------

    def load(self, automations: Iterable[Automation]) -> None:
        """Replace the automations; state of deleted ones and of vanished triggers goes.

        `automations` is every automation, enabled or not: a disabled one is not evaluated
        but keeps its buckets until the sweep (as in Prefect); one missing from the list was
        deleted and loses its state at once.
        """
        automations = list(automations)
        previous = self.index.automations
        self.index = TriggerIndex(automations)
        for automation in automations:
            if previous.get(automation.id) != automation:
                for trigger_id in self.index.trigger_ids(automation):
                    self._next_runs.pop(trigger_id, None)
        self.buckets.retain(
            {a.id: (self.index.trigger_ids(a) if a.enabled else None) for a in automations}
        )

    @property
    def automations(self) -> dict[UUID, Automation]:
        """The enabled automations, by id."""
        return self.index.automations

    # -- reactive -----------------------------------------------------------------------------

    def evaluate(self, event: Event, now: datetime) -> list[Firing]:
        """Count `event` in every interested trigger's bucket; the firings it caused."""
        self.clock.update(event.occurred, now)
        ordering = self.ordering
        if ordering is not None and (ordering.seen(event.id, now) or ordering.hold(event, now)):
            return []
        return self._process(event, now, depth=0)

    def _process(self, event: Event, now: datetime, depth: int) -> list[Firing]:
        firings: list[Firing] = []
        received = _received(event)
        self.last_covered = False
        for loaded in self.index.candidates(event.event):
            if loaded.could_match(event.resource) and matching.covers(loaded.trigger, event):
                self.last_covered = True
                firings.extend(self._react(loaded, received, now))
        if self.ordering is not None:
            self.ordering.mark_seen(event.id, now)
            for follower in self.ordering.release(event.id):
                if depth >= MAX_DEPTH:
                    log.warning("event %s follows a chain deeper than %d", follower.id, MAX_DEPTH)
                    continue
                firings.extend(self._process(follower, now, depth + 1))
        return firings

    def _react(self, loaded: LoadedTrigger, event: ReceivedEvent, now: datetime) -> list[Firing]:
        trigger = loaded.trigger
        ids = (loaded.automation.id, trigger.id, matching.bucket_key(trigger, event))
        expects = loaded.expects(event.event)
        bucket: Bucket | None = None
        if loaded.starts_after(event.event):
            bucket = self.buckets.ensure(
                *ids,
                start=event.occurred,
                end=event.occurred + loaded.within,
                last_event=event,
                initial_count=-1 if expects else 0,
            )
        if bucket is None and not trigger.after and expects:
            bucket = self.buckets.ensure(
                *ids,
                start=event.occurred - PRECEDING_EVENT_LOOKBACK,
                end=event.occurred + loaded.within,
                last_event=event,
            )
        if not expects:
            return []
        if bucket is None:
            bucket = self.buckets.get(*ids)
            if bucket is None:
                return []
        firings, _ = self._evaluate(loaded, bucket, event.occurred, event, now)
        return firings

    def _evaluate(
        self,
        loaded: LoadedTrigger,
        bucket: Bucket,
        at: datetime,
        event: ReceivedEvent | None,
        now: datetime,
    ) -> tuple[list[Firing], Bucket | None]:
        """Prefect's `evaluate`: count, maybe fire, maybe set up the next window.

        Returns the firings and the bucket left open (for proactive scheduling).
        """
        trigger = loaded.trigger
        unspent = 1 if event is not None else 0
        if at < bucket.start:
            return [], bucket  # late, or redundant after a firing
        if unspent and (loaded.immediate or bucket.start <= at < bucket.end):
            self.buckets.increment(bucket, 1, event)
            unspent = 0
        ready = not loaded.proactive or bucket.end <= at
        if loaded.proactive:
            meets = bucket.count < trigger.threshold
        else:
            meets = bucket.count >= trigger.threshold
        firings: list[Firing] = []
        if ready and meets:
            firings = self._fire_event_trigger(loaded, bucket, event or bucket.last_event, now)
            self.buckets.remove(bucket)
        elif at < bucket.end:
            if (
                event is not None
                and loaded.proactive
                and not meets
                and loaded.starts_after(event.event)
                and loaded.expects(event.event)
            ):
                # The heartbeat: each heartbeat restarts the window it satisfied.
                self.buckets.remove(bucket)
                return [], self.buckets.start_new(
                    *bucket.ident,
                    start=event.occurred,
                    end=event.occurred + loaded.within,
                    count=0,
                    last_event=event,
                )
            return [], bucket
        if trigger.after:
            self.buckets.remove(bucket)  # only another `after` event arms it again
            return firings, None
        if loaded.within == timedelta(0):
            return firings, None
        start = max(bucket.end, at)
        end = start + loaded.within
        if not loaded.proactive and unspent:
            # The event belongs to the next window ("from the future", PrefectHQ#15343).
            fresh = self.buckets.start_new(*bucket.ident, start=start, end=end, count=0)
            more, left = self._evaluate(loaded, fresh, at, event, now)
            return firings + more, left
        return firings, self.buckets.start_new(*bucket.ident, start=start, end=end, count=unspent)

    # -- proactive and housekeeping -----------------------------------------------------------

    def sweep(self, now: datetime) -> list[Firing]:
        """What time alone causes: held followers whose leader never came, proactive
        triggers due for evaluation, then the removal of buckets ended over a minute ago."""
        firings: list[Firing] = []
        if self.ordering is not None:
            for event in self.ordering.lost(now):
                firings.extend(self._process(event, now, depth=0))
        for loaded in self.index.triggers:
            if not loaded.proactive:
                continue
            trigger_id = loaded.trigger.id
            if self._next_runs.get(trigger_id, now) > now:
                continue
            fired, run_again_at = self._proactive(loaded, now)
            firings.extend(fired)
            self._next_runs[trigger_id] = run_again_at
        self.buckets.sweep(now + self.clock.offset - EXPIRED_BUCKET_BUFFER)
        return firings

    def next_due(self, now: datetime) -> datetime | None:
        """When the next proactive trigger is due (`now` if one has never run), or None."""
        due = [
            self._next_runs.get(loaded.trigger.id, now)
            for loaded in self.index.triggers
            if loaded.proactive
        ]
        return min(due, default=None)

    def _proactive(self, loaded: LoadedTrigger, now: datetime) -> tuple[list[Firing], datetime]:
        trigger = loaded.trigger
        as_of = now + self.clock.offset
        run_again_at = as_of + loaded.within
        automation_id = loaded.automation.id
        if not trigger.for_each:
            self.buckets.ensure(
                automation_id, trigger.id, (), as_of, as_of + loaded.within, last_event=None
            )
        self.buckets.remove_satisfied(automation_id, trigger.id, trigger.threshold)
        firings: list[Firing] = []
        for bucket in self.buckets.buckets(automation_id, trigger.id):
            if as_of < bucket.end:
                # Still open: evaluating it without an event changes nothing (Prefect's
                # "keep waiting"), so only its end matters, for the next run.
                left: Bucket | None = bucket
            else:
                fired, left = self._evaluate(loaded, bucket, as_of, None, now)
                firings.extend(fired)
            if left is not None and as_of < left.end < run_again_at:
                run_again_at = left.end
        return firings, run_again_at

    # -- firing -------------------------------------------------------------------------------

    def _fire_event_trigger(
        self,
        loaded: LoadedTrigger,
        bucket: Bucket,
        triggering_event: ReceivedEvent | None,
        now: datetime,
    ) -> list[Firing]:
        child = ChildFiring(
            id=uuid7(),
            trigger_id=loaded.trigger.id,
            occurred=now,
            order=0,
            triggering_event=triggering_event,
            triggering_events=[triggering_event] if triggering_event else [],
            triggering_labels=dict(zip(loaded.sorted_for_each, bucket.key, strict=True)),
            count=bucket.count,
            bucket_key=encode_key(bucket.key),
        )
        return self._fire(loaded.automation, child, now)

    def _fire(self, automation: Automation, fired: ChildFiring, now: datetime) -> list[Firing]:
        """A trigger fired: act if it is the root, else offer it to its composite parent."""
        parent = self.index.parents.get(fired.trigger_id)
        if parent is None:
            return [
                Firing(
                    id=fired.id,
                    automation=automation,
                    trigger_id=fired.trigger_id,
                    state="Triggered",
                    occurred=fired.occurred,
                    triggering_event=fired.triggering_event,
                    triggering_events=fired.triggering_events,
                    triggering_labels=fired.triggering_labels,
                    bucket_key=fired.bucket_key,
                    count=fired.count,
                    replay=fired.triggering_event is not None and is_replay(fired.triggering_event),
                )
            ]
        if expected_firings(parent) == 1:
            return self._fire(automation, _combined(parent.id, [fired], fired, now), now)
        if parent.within is not None:
            self.buckets.remove_children(automation.id, parent.id, now - parent.within)
        self.buckets.put_child(automation.id, parent.id, fired)
        children = self.buckets.children(automation.id, parent.id)
        if not composite_ready(parent, [c.trigger_id for c in children]):
            return []
        self.buckets.remove_children(automation.id, parent.id)
        return self._fire(automation, _combined(parent.id, children, fired, now), now)

    # -- state ----------------------------------------------------------------------------------

    def views(self, automation_id: UUID, now: datetime) -> list[BucketView]:
        """The live buckets of one automation's event triggers."""
        views = []
        for loaded in self.index.triggers:
            if loaded.automation.id != automation_id:
                continue
            trigger = loaded.trigger
            for bucket in self.buckets.buckets(automation_id, trigger.id):
                views.append(
                    BucketView(
                        trigger_id=trigger.id,
                        posture="Proactive" if loaded.proactive else "Reactive",
                        key=bucket.key,
                        labels=dict(zip(loaded.sorted_for_each, bucket.key, strict=True)),
                        count=max(bucket.count, 0),
                        threshold=trigger.threshold,
                        start=bucket.start,
                        end=bucket.end,
                        time_left=max(0.0, (bucket.end - now).total_seconds()),
                        armed=bool(trigger.after),
                        last_event_id=bucket.last_event.id if bucket.last_event else None,
                    )
                )
        return views


def _combined(
    parent_id: UUID, children: list[ChildFiring], current: ChildFiring, now: datetime
) -> ChildFiring:
    """The firing of a composite: its children's events in firing order, and their labels.

    The triggering event is the child's that completed it, as in Prefect; the labels of all
    children are merged (Prefect leaves a composite's labels empty) so templates can use them.
    """
    labels: dict[str, str] = {}
    for child in children:
        labels.update(child.triggering_labels)
    return ChildFiring(
        id=uuid7(),
        trigger_id=parent_id,
        occurred=now,
        order=0,
        triggering_event=current.triggering_event,
        triggering_events=[e for child in children for e in child.triggering_events],
        triggering_labels=labels,
        count=len(children),
        bucket_key="",
    )


def _received(event: Event) -> ReceivedEvent:
    return event if isinstance(event, ReceivedEvent) else event.receive()
