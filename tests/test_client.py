"""`from evtui import emit_event`: Prefect's signature, acknowledged delivery, clear failures."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from evtui import DeliveryError, Event, emit_event
from evtui.events import EventTooLarge
from tests.conftest import ServeProcess


@pytest.fixture
def pointed_at(serve: ServeProcess, monkeypatch: pytest.MonkeyPatch) -> ServeProcess:
    monkeypatch.setenv("EVTUI_API_URL", serve.api_url)
    return serve


def stored(db, event_id) -> tuple:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT event, resource_id, payload, follows FROM events WHERE id = ?",
            (str(event_id),),
        ).fetchone()


def test_emit_event_returns_once_the_event_is_stored(pointed_at: ServeProcess) -> None:
    event = emit_event(
        "custom.file_processed",
        resource={"prefect.resource.id": "file./data/a.csv"},
        related=[{"prefect.resource.id": "flow.x", "prefect.resource.role": "flow"}],
        payload={"rows": 12},
    )
    assert isinstance(event, Event)
    row = stored(pointed_at.db, event.id)
    assert row == ("custom.file_processed", "file./data/a.csv", '{"rows":12}', None)


def test_explicit_id_occurred_and_follows(pointed_at: ServeProcess) -> None:
    first = emit_event("a.first", resource={"prefect.resource.id": "r"})
    chosen = uuid.uuid4()
    second = emit_event("a.second", resource={"prefect.resource.id": "r"}, id=chosen, follows=first)
    assert second.id == chosen
    assert stored(pointed_at.db, chosen)[3] == str(first.id)
    long_after = emit_event(
        "a.third",
        resource={"prefect.resource.id": "r"},
        occurred=datetime.now(UTC) + timedelta(minutes=10),
        follows=first,
    )
    assert long_after.follows is None  # Prefect's 5-minute rule


def test_undeliverable_names_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVTUI_API_URL", "http://127.0.0.1:9/api")
    with pytest.raises(DeliveryError, match=r"http://127\.0\.0\.1:9/api/events"):
        emit_event("x", resource={"prefect.resource.id": "r"})


def test_invalid_and_oversized_events_fail_before_sending(pointed_at: ServeProcess) -> None:
    with pytest.raises(ValueError, match=r"prefect\.resource\.id"):
        emit_event("x", resource={})
    with pytest.raises(EventTooLarge, match="at most 1500000"):
        emit_event("x", resource={"prefect.resource.id": "r"}, payload={"b": "x" * 1_600_000})
