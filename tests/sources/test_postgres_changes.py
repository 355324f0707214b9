"""Outbox rows as events, without a server: names, resource ids, keys and fixed ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from evtui.sources.postgres.changes import (
    Database,
    OutboxRow,
    change_event,
    display_host,
    event_id,
    key_text,
)
from evtui.sources.postgres.spec import DbWatchSpec, redact

INSTALL = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ({"id": 42}, "42"),
        ({"code": "FR-7"}, "FR-7"),
        ({"order_id": 7, "line": 2}, "order_id=7,line=2"),
        ({"flag": True, "n": None}, "flag=true,n=null"),
    ],
)
def test_key_text(key: dict[str, object], text: str) -> None:
    assert key_text(key) == text


@pytest.mark.parametrize(
    ("host", "port", "shown"),
    [
        ("db.example", 5432, "db.example"),
        ("/run/postgresql", "5432", "localhost"),
        ("h", 6543, "h:6543"),
    ],
)
def test_display_host(host: str, port: int | str, shown: str) -> None:
    assert display_host(host, port) == shown


def test_the_id_is_fixed_by_the_outbox_and_the_row() -> None:
    assert event_id(INSTALL, 5) == event_id(INSTALL, 5)
    assert event_id(INSTALL, 5) != event_id(INSTALL, 6)
    assert event_id(INSTALL, 5) != event_id(uuid.uuid4(), 5)


def test_a_truncated_delete_carries_the_key_as_its_row() -> None:
    row = OutboxRow(
        id=9,
        table_schema="sales",
        table_name="orders",
        operation="delete",
        key={"id": 3},
        old_key=None,
        changed=["id", "blob"],
        row=None,
        truncated=True,
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    event = change_event(Database("db.example", "shop", INSTALL), row, "shop")
    assert event.event == "db.row.deleted"
    assert event.id == event_id(INSTALL, 9)
    assert event.occurred == row.at
    assert event.resource_id == "postgresql://db.example/shop/sales.orders/3"
    assert event.payload["row"] == {"id": 3} and event.payload["row_truncated"] is True


def test_specs_and_urls() -> None:
    spec = DbWatchSpec.model_validate({"url": "postgresql://u:pw@h/db", "tables": " a , s.b "})
    assert spec.tables == ["a", "s.b"]
    assert spec.label == "postgresql://u:***@h/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
