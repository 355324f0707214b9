"""Firings and the actions they ran, in the SQLite file (migration 8).

A firing is stored once, keyed by its id; an action is stored once, keyed by its idempotency key
(automation, firing, action index). Claiming that key is the first thing done for an action, in
its own transaction, so a firing delivered twice (a redelivery, a restart that evaluates the
same event again) finds its actions already claimed and runs none of them a second time.

Writes go through `store.transact` (the file's single writer); reads use the reader connection.
Other parts read: `explain` asks which firings an event caused, the API and TUI list an
automation's firings and what each action did.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from evtui.store.rows import from_micros, to_micros
from evtui.store.store import Store

if TYPE_CHECKING:
    from evtui.automations.firing import Firing

ActionState = Literal["running", "executed", "failed", "skipped"]
"""`running`: claimed and started (a row left so by a crash is never run again);
`skipped`: not run at all, `result["reason"]` says why (the automation was rate-capped)."""

INTERRUPTED = "evtui stopped while this action ran; it was not run again"

FIRING_COLUMNS = "id, automation_id, trigger_id, state, occurred, triggering_event_id, firing"
ACTION_COLUMNS = (
    "idempotency_key, firing_id, automation_id, action_index, action_type, state, started,"
    " ended, result"
)
INSERT_FIRING = (
    f"INSERT OR IGNORE INTO automation_firings ({FIRING_COLUMNS}) VALUES (?,?,?,?,?,?,?)"
)
CLAIM_ACTION = (
    f"INSERT OR IGNORE INTO automation_actions ({ACTION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"
)
FINISH_ACTION = (
    "UPDATE automation_actions SET state = ?, ended = ?, result = ? WHERE idempotency_key = ?"
)


def idempotency_key(automation_id: object, firing_id: object, action_index: int) -> str:
    """The key that makes an action run at most once per firing."""
    return f"{automation_id}/{firing_id}/{action_index}"


@dataclass
class FiringRecord:
    """A stored firing. `detail` holds what the columns do not: the automation's name, the
    triggering labels, bucket key, count, every triggering event id, `replay`, and `event_id`
    (the id of the `evtui.automation.triggered|resolved` event that announced it)."""

    id: str
    automation_id: str
    trigger_id: str
    state: str
    occurred: datetime
    triggering_event_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "automation_id": self.automation_id,
            "trigger_id": self.trigger_id,
            "state": self.state,
            "occurred": self.occurred.isoformat(),
            "triggering_event_id": self.triggering_event_id,
            **self.detail,
        }


@dataclass
class ActionRecord:
    """What one action of a firing did; `result` is the payload of its executed/failed event
    (status code, body excerpt, flow run id, reason ...) plus the ids of its events."""

    idempotency_key: str
    firing_id: str
    automation_id: str
    action_index: int
    action_type: str
    state: ActionState
    started: datetime
    ended: datetime | None
    result: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "idempotency_key": self.idempotency_key,
            "firing_id": self.firing_id,
            "automation_id": self.automation_id,
            "action_index": self.action_index,
            "action_type": self.action_type,
            "state": self.state,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat() if self.ended else None,
            "result": self.result,
        }


def firing_row(firing: Firing, event_id: str) -> tuple:
    event = firing.triggering_event
    detail = {
        "automation_name": firing.automation.name,
        "triggering_labels": firing.triggering_labels,
        "bucket_key": firing.bucket_key,
        "count": firing.count,
        "triggering_event_ids": [str(e.id) for e in firing.triggering_events],
        "replay": firing.replay,
        "event_id": event_id,
    }
    return (
        str(firing.id),
        str(firing.automation.id),
        str(firing.trigger_id),
        firing.state,
        to_micros(firing.occurred),
        str(event.id) if event is not None else None,
        json.dumps(detail),
    )


def _firing_from_row(row: Sequence[Any]) -> FiringRecord:
    id_, automation_id, trigger_id, state, occurred, event_id, detail = row
    return FiringRecord(
        id_, automation_id, trigger_id, state, from_micros(occurred), event_id, json.loads(detail)
    )


def _action_from_row(row: Sequence[Any]) -> ActionRecord:
    key, firing_id, automation_id, index, action_type, state, started, ended, result = row
    return ActionRecord(
        idempotency_key=key,
        firing_id=firing_id,
        automation_id=automation_id,
        action_index=index,
        action_type=action_type,
        state=state,
        started=from_micros(started),
        ended=from_micros(ended) if ended is not None else None,
        result=json.loads(result) if result else {},
    )


class FiringStore:
    """The firings tables: the action runner writes, explain, the API and the TUI read."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- writing --------------------------------------------------------------------------

    async def record_firing(self, firing: Firing, event_id: str) -> bool:
        """Store the firing; False when it was stored before (a redelivered firing)."""
        row = firing_row(firing, event_id)

        def work(conn: sqlite3.Connection) -> bool:
            return conn.execute(INSERT_FIRING, row).rowcount == 1

        return await self.store.transact(work)

    async def claim_action(
        self,
        key: str,
        firing: Firing,
        action_index: int,
        action_type: str,
        started: datetime,
        state: ActionState = "running",
        result: dict[str, Any] | None = None,
    ) -> bool:
        """Take the action's idempotency key; False when it was taken before (skip it)."""
        row = (
            key,
            str(firing.id),
            str(firing.automation.id),
            action_index,
            action_type,
            state,
            to_micros(started),
            to_micros(started) if state != "running" else None,
            json.dumps(result) if result is not None else None,
        )

        def work(conn: sqlite3.Connection) -> bool:
            return conn.execute(CLAIM_ACTION, row).rowcount == 1

        return await self.store.transact(work)

    async def finish_action(
        self, key: str, state: ActionState, ended: datetime, result: dict[str, Any]
    ) -> None:
        values = (state, to_micros(ended), json.dumps(result, default=str), key)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(FINISH_ACTION, values)

        await self.store.transact(work)

    async def interrupt_running(self, ended: datetime) -> int:
        """Mark actions a stopped process left running as failed; returns how many."""
        result = json.dumps({"reason": INTERRUPTED})

        def work(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE automation_actions SET state = 'failed', ended = ?, result = ?"
                " WHERE state = 'running'",
                (to_micros(ended), result),
            ).rowcount

        return await self.store.transact(work)

    # -- reading --------------------------------------------------------------------------

    async def unfinished(self, since: datetime) -> list[tuple[FiringRecord, int]]:
        """Firings since `since`, oldest first, each with how many of its actions are claimed
        (the caller knows how many it has)."""
        sql = (
            f"SELECT {FIRING_COLUMNS}, (SELECT count(*) FROM automation_actions AS a"
            " WHERE a.firing_id = f.id) FROM automation_firings AS f WHERE occurred >= ?"
            " ORDER BY occurred, id"
        )
        async with self.store.reader.execute(sql, (to_micros(since),)) as cursor:
            rows = await cursor.fetchall()
        return [(_firing_from_row(row[:-1]), int(row[-1])) for row in rows]

    async def get_firing(self, firing_id: str) -> FiringRecord | None:
        rows = await self._firings("WHERE id = ?", (str(firing_id),))
        return rows[0] if rows else None

    async def firings_for_event(self, event_id: str) -> list[FiringRecord]:
        """Firings whose triggering event (the last one, for composites) is `event_id`."""
        return await self._firings(
            "WHERE triggering_event_id = ? ORDER BY occurred, id", (str(event_id),)
        )

    async def firings_for_automation(
        self,
        automation_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
    ) -> list[FiringRecord]:
        """An automation's firings with `start <= occurred < end`, newest first."""
        low = to_micros(start) if start is not None else -(2**63)
        high = to_micros(end) if end is not None else 2**63 - 1
        return await self._firings(
            "WHERE automation_id = ? AND occurred >= ? AND occurred < ?"
            " ORDER BY occurred DESC, id DESC LIMIT ?",
            (str(automation_id), low, high, limit),
        )

    async def recent(self, limit: int = 200) -> list[FiringRecord]:
        """The newest firings of every automation (deleted ones too), newest first."""
        return await self._firings("ORDER BY occurred DESC, id DESC LIMIT ?", (limit,))

    async def counts(self) -> dict[str, int]:
        """How many firings each automation has stored, by automation id."""
        sql = "SELECT automation_id, count(*) FROM automation_firings GROUP BY automation_id"
        async with self.store.reader.execute(sql) as cursor:
            return {automation_id: int(n) for automation_id, n in await cursor.fetchall()}

    async def actions_for_firing(self, firing_id: str) -> list[ActionRecord]:
        """The actions of one firing, in action-index order."""
        sql = (
            f"SELECT {ACTION_COLUMNS} FROM automation_actions WHERE firing_id = ?"
            " ORDER BY action_index"
        )
        async with self.store.reader.execute(sql, (str(firing_id),)) as cursor:
            rows = await cursor.fetchall()
        return [_action_from_row(row) for row in rows]

    async def _firings(self, where: str, params: tuple) -> list[FiringRecord]:
        sql = f"SELECT {FIRING_COLUMNS} FROM automation_firings {where}"
        async with self.store.reader.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [_firing_from_row(row) for row in rows]
