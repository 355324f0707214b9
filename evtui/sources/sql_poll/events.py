"""Polled rows as events: `db.row.polled` (or the source's `event`) on the row.

The resource is the row as the source sees it: `<database>/<source name>/<key>`, e.g.
`sqlite:////srv/warehouse.db/orders/42` or `postgresql://HOST/DB/orders/42`, with the labels
the PostgreSQL change events use (`evtui.db.host`, `evtui.db.database`, `evtui.db.key`) plus
`evtui.db.source` and `evtui.db.cursor`. The payload holds the row (column -> JSON value), its
key and cursor value, so an automation matches `row.amount: {">": 1000}` on either kind of
source. A row whose JSON is over `ROW_CAP` bytes carries only its key, and `row_truncated`
says so.

The event id is a UUID derived from the database, the source's name, the row's key and its
cursor value: a poll repeated after a crash (events stored, cursor not yet) makes the same ids,
which the store deduplicates; the same row with a new cursor value (updated) is a new event.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from evtui.events import RESOURCE_ID, RESOURCE_NAME, Event
from evtui.sources.postgres.changes import LABEL_PREFIX, key_text
from evtui.sources.sql_poll.spec import SqlPollSpec, postgres_host
from evtui.sources.sql_poll.values import encode_cursor, json_value, text_value

NAMESPACE = uuid.UUID("0d6c33c5-4f0e-4d0a-8d36-6a3f3f6b2a51")
"""Fixed namespace of polled-row event ids (UUID version 5)."""
ROW_CAP = 8000
"""Bytes of row JSON carried in a payload (the PostgreSQL outbox's default cap)."""


class RowEvents:
    """Builds the events of one source for rows with one column layout."""

    def __init__(self, spec: SqlPollSpec, columns: list[str]) -> None:
        self.spec = spec
        self.columns = columns
        self._cursor = columns.index(spec.cursor)
        self._keys = [columns.index(column) for column in spec.key_columns]
        self._row_base = f"{spec.resource_base}/{spec.name}"
        """Resource ids of rows are this plus their key; computed once, not per row."""
        labels = {
            LABEL_PREFIX + "kind": spec.kind,
            LABEL_PREFIX + "database": spec.database,
            LABEL_PREFIX + "source": spec.name,
        }
        if spec.kind == "postgresql":
            labels[LABEL_PREFIX + "host"] = postgres_host(spec.url)
        self._labels = labels

    def cursor_of(self, row: tuple[Any, ...]) -> Any:
        return row[self._cursor]

    def events(self, rows: list[tuple[Any, ...]]) -> list[Event]:
        """The events of a batch; run on the source's thread, a large batch takes a while."""
        return [self.event(row) for row in rows]

    def event(self, row: tuple[Any, ...]) -> Event:
        spec = self.spec
        key = {spec.key_columns[i]: json_value(row[index]) for i, index in enumerate(self._keys)}
        key_label = key_text(key)
        cursor = self.cursor_of(row)
        values = {c: json_value(v) for c, v in zip(self.columns, row, strict=True)}
        truncated = len(json.dumps(values)) > ROW_CAP
        identity = f"{self._row_base}\n{key_label}\n{encode_cursor(cursor)}"
        return Event(
            id=uuid.uuid5(NAMESPACE, identity),
            event=spec.event,
            resource={
                RESOURCE_ID: f"{self._row_base}/{key_label}",
                RESOURCE_NAME: f"{spec.name}/{key_label}",
                **self._labels,
                LABEL_PREFIX + "key": key_label,
                LABEL_PREFIX + "cursor": text_value(cursor),
            },
            payload={
                "source": spec.name,
                "key": key,
                "cursor": json_value(cursor),
                "row": key if truncated else values,
                "row_truncated": truncated,
            },
        )
