"""Outbox rows as events: `db.row.inserted|updated|deleted` on the changed row.

The resource is the row: `postgresql://HOST/DB/SCHEMA.TABLE/KEY`, with labels for each part,
so an automation can match a table by label (`evtui.db.table: orders`) and a value by payload
(`row.amount: {">": 1000}`). The payload carries the row as the trigger saw it (the new row;
the old one for a delete), or only its key when the row was over the install's size cap, and
the names of the columns that changed (all of them for an insert or a delete); an update also
carries `old_key`, the key before it (different from `key` when the update changed the key).
`occurred` is when the change was made inside its transaction (the trigger's clock), which for
a long transaction is before its commit.

The event id is a UUID derived from the outbox's install id and the outbox row id, so
delivering a row twice (a crash between the store's commit and the outbox delete) stores it
once: the store deduplicates on event ids.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evtui.events import RESOURCE_ID, RESOURCE_NAME, Event

EVENT_NAMES = {"insert": "db.row.inserted", "update": "db.row.updated", "delete": "db.row.deleted"}
_NAMESPACE = uuid.UUID("5f0c1f7e-7d36-4c51-9b0e-3a1c2e9f6a10")
"""Fixed namespace for the ids of change events (UUID version 5)."""

LABEL_PREFIX = "evtui.db."


@dataclass(frozen=True)
class Database:
    """Where the changes come from: the address shown in resource ids, and the outbox's id."""

    host: str
    """`HOST` or `HOST:PORT` (the port only when not 5432; `localhost` for a Unix socket)."""
    name: str
    install_id: uuid.UUID

    def table_resource(self, schema: str, table: str) -> str:
        return f"postgresql://{self.host}/{self.name}/{schema}.{table}"


@dataclass(frozen=True)
class OutboxRow:
    """One row of `evtui.outbox`, in the column order `SELECT_COLUMNS` reads."""

    id: int
    table_schema: str
    table_name: str
    operation: str
    key: dict[str, Any]
    old_key: dict[str, Any] | None
    """The key before an update (differs from `key` when the update changed it)."""
    changed: list[str]
    row: dict[str, Any] | None
    truncated: bool
    at: datetime


SELECT_COLUMNS = (
    "id, table_schema, table_name, operation, key, old_key, changed, row, truncated, at"
)


def display_host(host: str, port: int | str) -> str:
    shown = "localhost" if not host or host.startswith("/") else host
    return shown if str(port) == "5432" else f"{shown}:{port}"


def event_id(install_id: uuid.UUID, outbox_id: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{install_id}/{outbox_id}")


def key_text(key: dict[str, Any]) -> str:
    """`42` for a one-column key, `order_id=7,line=2` for a composite one."""
    if len(key) == 1:
        return _scalar_text(next(iter(key.values())))
    return ",".join(f"{column}={_scalar_text(value)}" for column, value in key.items())


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def change_event(database: Database, change: OutboxRow, source: str) -> Event:
    key = key_text(change.key)
    table = f"{change.table_schema}.{change.table_name}"
    resource = {
        RESOURCE_ID: f"{database.table_resource(change.table_schema, change.table_name)}/{key}",
        RESOURCE_NAME: f"{table}/{key}",
        LABEL_PREFIX + "host": database.host,
        LABEL_PREFIX + "database": database.name,
        LABEL_PREFIX + "schema": change.table_schema,
        LABEL_PREFIX + "table": change.table_name,
        LABEL_PREFIX + "operation": change.operation,
        LABEL_PREFIX + "key": key,
    }
    payload: dict[str, Any] = {
        "table": table,
        "operation": change.operation,
        "key": change.key,
        "row": change.row if change.row is not None else change.key,
        "row_truncated": change.truncated,
        "changed": change.changed,
        **({"old_key": change.old_key} if change.old_key is not None else {}),
        "outbox_id": change.id,
        "source": source,
    }
    return Event(
        id=event_id(database.install_id, change.id),
        occurred=change.at,
        event=EVENT_NAMES[change.operation],
        resource=resource,
        payload=payload,
    )
