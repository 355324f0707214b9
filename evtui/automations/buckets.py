"""Trigger state: buckets and composite child firings, in memory with an optional SQLite copy.

A bucket is Prefect's unit of trigger state (reference §2.6): per (automation, trigger,
bucket key) a window `[start, end)`, the number of expected events counted in it and the last
event it saw. Composite triggers keep the latest firing of each child (§2.7).

The evaluator works on `BucketStore`, a plain in-memory structure, so evaluating an event is a
few dictionary operations and a backtest costs no I/O. `SqliteBucketStore` is the same store
that also remembers what changed; the service writes those changes in one transaction per
batch of events (`take_changes`) and reads everything back at start-up (`load`), so a restart
forgets nothing while a burst of events still costs one commit, not one per event.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from evtui.automations.firing import decode_key, encode_key
from evtui.events import ReceivedEvent
from evtui.store.rows import from_micros, to_micros

BucketId = tuple[UUID, UUID, tuple[str, ...]]
"""(automation id, trigger id, bucket key)."""


@dataclass
class Bucket:
    """One counting window of one trigger for one `for_each` key."""

    automation_id: UUID
    trigger_id: UUID
    key: tuple[str, ...]
    start: datetime
    end: datetime
    count: int
    last_event: ReceivedEvent | None = None

    @property
    def ident(self) -> BucketId:
        return (self.automation_id, self.trigger_id, self.key)


@dataclass
class ChildFiring:
    """The latest firing of one child of a composite trigger, waiting for its siblings.

    `order` breaks ties between firings with the same `occurred` (one event can fire two
    children at once): a sequence trigger compares firing order, so it must be total.
    """

    id: UUID
    trigger_id: UUID
    occurred: datetime
    order: int
    triggering_event: ReceivedEvent | None
    triggering_events: list[ReceivedEvent] = field(default_factory=list)
    triggering_labels: dict[str, str] = field(default_factory=dict)
    count: int = 1
    bucket_key: str = ""


ChildId = tuple[UUID, UUID, UUID]
"""(automation id, parent trigger id, child trigger id)."""


class BucketStore:
    """All buckets and child firings, by automation and trigger, in memory."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[UUID, UUID], dict[tuple[str, ...], Bucket]] = {}
        self._children: dict[tuple[UUID, UUID], dict[UUID, ChildFiring]] = {}
        self._order = 0

    # -- buckets: Prefect's operations (ensure, increment, start_new, remove, sweep) ---------

    def get(self, automation_id: UUID, trigger_id: UUID, key: tuple[str, ...]) -> Bucket | None:
        found = self._buckets.get((automation_id, trigger_id))
        return found.get(key) if found else None

    def ensure(
        self,
        automation_id: UUID,
        trigger_id: UUID,
        key: tuple[str, ...],
        start: datetime,
        end: datetime,
        last_event: ReceivedEvent | None,
        initial_count: int = 0,
    ) -> Bucket:
        """Insert if absent; an existing bucket keeps its window and count but not its last
        event, which the new one replaces when there is one."""
        bucket = self.get(automation_id, trigger_id, key)
        if bucket is None:
            bucket = Bucket(automation_id, trigger_id, key, start, end, initial_count, last_event)
            self._set(bucket)
        elif last_event is not None:
            bucket.last_event = last_event
            self._changed(bucket.ident)
        return bucket

    def increment(self, bucket: Bucket, count: int, last_event: ReceivedEvent | None) -> None:
        bucket.count += count
        if last_event is not None:
            bucket.last_event = last_event
        self._changed(bucket.ident)

    def start_new(
        self,
        automation_id: UUID,
        trigger_id: UUID,
        key: tuple[str, ...],
        start: datetime,
        end: datetime,
        count: int,
        last_event: ReceivedEvent | None = None,
    ) -> Bucket:
        """Insert or overwrite the whole bucket."""
        bucket = Bucket(automation_id, trigger_id, key, start, end, count, last_event)
        self._set(bucket)
        return bucket

    def remove(self, bucket: Bucket) -> None:
        found = self._buckets.get((bucket.automation_id, bucket.trigger_id))
        if found is not None and found.pop(bucket.key, None) is not None:
            self._changed(bucket.ident)

    def buckets(self, automation_id: UUID, trigger_id: UUID) -> list[Bucket]:
        """A trigger's buckets, oldest window first."""
        found = self._buckets.get((automation_id, trigger_id), {})
        return sorted(found.values(), key=lambda b: b.start)

    def all_buckets(self) -> Iterator[Bucket]:
        for found in self._buckets.values():
            yield from found.values()

    def remove_satisfied(self, automation_id: UUID, trigger_id: UUID, threshold: int) -> None:
        found = self._buckets.get((automation_id, trigger_id), {})
        for bucket in list(found.values()):
            if bucket.count >= threshold:
                self.remove(bucket)

    def sweep(self, older_than: datetime) -> int:
        """Delete every bucket whose window ended at or before `older_than`."""
        ended = [b for b in self.all_buckets() if b.end <= older_than]
        for bucket in ended:
            self.remove(bucket)
        return len(ended)

    def _set(self, bucket: Bucket) -> None:
        self._buckets.setdefault((bucket.automation_id, bucket.trigger_id), {})[bucket.key] = bucket
        self._changed(bucket.ident)

    # -- composite child firings -------------------------------------------------------------

    def children(self, automation_id: UUID, parent_id: UUID) -> list[ChildFiring]:
        """A composite's child firings in firing order."""
        found = self._children.get((automation_id, parent_id), {})
        return sorted(found.values(), key=lambda c: (c.occurred, c.order))

    def put_child(self, automation_id: UUID, parent_id: UUID, child: ChildFiring) -> None:
        """Keep only the latest firing per child (Prefect's upsert)."""
        self._order = max(self._order, child.order) + 1
        child.order = self._order
        self._children.setdefault((automation_id, parent_id), {})[child.trigger_id] = child
        self._child_changed((automation_id, parent_id, child.trigger_id))

    def remove_children(
        self, automation_id: UUID, parent_id: UUID, older_than: datetime | None = None
    ) -> None:
        """Forget the composite's child firings (only those before `older_than` if given)."""
        found = self._children.get((automation_id, parent_id), {})
        for child in list(found.values()):
            if older_than is None or child.occurred < older_than:
                del found[child.trigger_id]
                self._child_changed((automation_id, parent_id, child.trigger_id))

    # -- housekeeping ------------------------------------------------------------------------

    def retain(self, triggers_by_automation: dict[UUID, set[UUID] | None]) -> None:
        """Drop the state of automations not listed and of triggers they no longer have.

        `None` keeps all of an automation's state (a disabled automation keeps its buckets
        until they are swept, as in Prefect).
        """
        for automation_id, trigger_id in list(self._buckets):
            if self._keeps(triggers_by_automation, automation_id, trigger_id):
                continue
            for bucket in list(self._buckets[(automation_id, trigger_id)].values()):
                self.remove(bucket)
        for automation_id, parent_id in list(self._children):
            if not self._keeps(triggers_by_automation, automation_id, parent_id):
                self.remove_children(automation_id, parent_id)

    @staticmethod
    def _keeps(
        triggers_by_automation: dict[UUID, set[UUID] | None], automation_id: UUID, trigger: UUID
    ) -> bool:
        if automation_id not in triggers_by_automation:
            return False
        kept = triggers_by_automation[automation_id]
        return kept is None or trigger in kept

    def _changed(self, ident: BucketId) -> None:
        """Hook for stores that persist: a bucket was created, changed or removed."""

    def _child_changed(self, ident: ChildId) -> None:
        """Hook for stores that persist: a child firing was stored or removed."""


class SqliteBucketStore(BucketStore):
    """The in-memory store plus its durable copy in table `automation_buckets`.

    Changes are remembered by identity and collected by `take_changes`, so a bucket touched
    by a thousand events in one batch is written once.
    """

    def __init__(self) -> None:
        super().__init__()
        self._dirty: set[BucketId] = set()
        self._dirty_children: set[ChildId] = set()

    @property
    def dirty(self) -> bool:
        return bool(self._dirty or self._dirty_children)

    def _changed(self, ident: BucketId) -> None:
        self._dirty.add(ident)

    def _child_changed(self, ident: ChildId) -> None:
        self._dirty_children.add(ident)

    def load(self, conn: sqlite3.Connection) -> None:
        """Read every bucket and child firing back (at start-up)."""
        rows = conn.execute(
            "SELECT automation_id, trigger_id, bucket_key, start, end, count, last_event"
            " FROM automation_buckets"
        )
        for automation_id, trigger_id, key, start, end, count, last_event in rows:
            bucket = Bucket(
                UUID(automation_id),
                UUID(trigger_id),
                decode_key(key),
                from_micros(start),
                from_micros(end),
                count,
                ReceivedEvent.model_validate_json(last_event) if last_event else None,
            )
            self._buckets.setdefault((bucket.automation_id, bucket.trigger_id), {})[bucket.key] = (
                bucket
            )
        rows = conn.execute(
            "SELECT automation_id, parent_trigger_id, firing FROM automation_child_firings"
        )
        for automation_id, parent_id, firing in rows:
            child = _child_from_json(firing)
            self._order = max(self._order, child.order)
            self._children.setdefault((UUID(automation_id), UUID(parent_id)), {})[
                child.trigger_id
            ] = child
        self._dirty.clear()
        self._dirty_children.clear()

    def take_changes(self) -> BucketChanges:
        """The rows to write for what changed since the last call, built now (on the event
        loop, where the state lives) so the write can run on the writer's thread."""
        changes = BucketChanges()
        for ident in self._dirty:
            automation_id, trigger_id, key = ident
            row_key = (str(automation_id), str(trigger_id), encode_key(key))
            bucket = self.get(*ident)
            if bucket is None:
                changes.deleted.append(row_key)
            else:
                last = bucket.last_event.model_dump_json() if bucket.last_event else None
                start, end = to_micros(bucket.start), to_micros(bucket.end)
                changes.upserted.append((*row_key, start, end, bucket.count, last))
        for automation_id, parent_id, child_id in self._dirty_children:
            row_key = (str(automation_id), str(parent_id), str(child_id))
            child = self._children.get((automation_id, parent_id), {}).get(child_id)
            if child is None:
                changes.children_deleted.append(row_key)
            else:
                changes.children_upserted.append((*row_key, _child_to_json(child)))
        self._dirty.clear()
        self._dirty_children.clear()
        return changes


@dataclass
class BucketChanges:
    """Rows to write to `automation_buckets` and `automation_child_firings`."""

    upserted: list[tuple] = field(default_factory=list)
    deleted: list[tuple] = field(default_factory=list)
    children_upserted: list[tuple] = field(default_factory=list)
    children_deleted: list[tuple] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(
            map(
                len,
                (self.upserted, self.deleted, self.children_upserted, self.children_deleted),
            )
        )

    def write(self, conn: sqlite3.Connection) -> None:
        """Apply the rows (inside the caller's transaction)."""
        conn.executemany(
            "DELETE FROM automation_buckets"
            " WHERE automation_id = ? AND trigger_id = ? AND bucket_key = ?",
            self.deleted,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO automation_buckets"
            " (automation_id, trigger_id, bucket_key, start, end, count, last_event)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.upserted,
        )
        conn.executemany(
            "DELETE FROM automation_child_firings WHERE automation_id = ?"
            " AND parent_trigger_id = ? AND child_trigger_id = ?",
            self.children_deleted,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO automation_child_firings"
            " (automation_id, parent_trigger_id, child_trigger_id, firing) VALUES (?, ?, ?, ?)",
            self.children_upserted,
        )


def _events_json(events: Iterable[ReceivedEvent]) -> list[dict]:
    return [event.model_dump(mode="json") for event in events]


def _child_to_json(child: ChildFiring) -> str:
    return json.dumps(
        {
            "id": str(child.id),
            "trigger_id": str(child.trigger_id),
            "occurred": to_micros(child.occurred),
            "order": child.order,
            "triggering_event": (
                child.triggering_event.model_dump(mode="json") if child.triggering_event else None
            ),
            "triggering_events": _events_json(child.triggering_events),
            "triggering_labels": child.triggering_labels,
            "count": child.count,
            "bucket_key": child.bucket_key,
        }
    )


def _child_from_json(text: str) -> ChildFiring:
    data = json.loads(text)
    event = data["triggering_event"]
    return ChildFiring(
        id=UUID(data["id"]),
        trigger_id=UUID(data["trigger_id"]),
        occurred=from_micros(data["occurred"]),
        order=data["order"],
        triggering_event=ReceivedEvent.model_validate(event) if event else None,
        triggering_events=[ReceivedEvent.model_validate(e) for e in data["triggering_events"]],
        triggering_labels=data["triggering_labels"],
        count=data["count"],
        bucket_key=data["bucket_key"],
    )
