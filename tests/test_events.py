"""The event model: Prefect's wire format, its limits, and errors that name the field."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from evtui.events import (
    MAXIMUM_EVENT_SIZE_BYTES,
    Event,
    ReceivedEvent,
    ReceivedList,
    check_sizes,
    field_errors,
    received_now,
    uuid7,
)

PREFECT_CLIENT_JSON = {
    "occurred": "2026-03-31T18:30:00.123456Z",
    "event": "acme.order.created",
    "resource": {"prefect.resource.id": "acme.order.123", "prefect.resource.name": "order"},
    "related": [
        {
            "prefect.resource.id": "prefect.deployment.4c2a",
            "prefect.resource.role": "deployment",
            "prefect.resource.name": "etl/prod",
        }
    ],
    "payload": {"amount": 1200, "nested": {"ok": True}},
    "id": "0190f0c2-7d4e-7bbb-9a1e-0123456789ab",
    "follows": None,
}


def errors_of(data: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ReceivedList.validate_python(data)
    return [str(e) for e in field_errors(caught.value, ["body"])]


def resource(rid: str = "r.1", **labels: str) -> dict[str, str]:
    return {"prefect.resource.id": rid, **labels}


def test_prefect_client_json_round_trips_unchanged() -> None:
    event = Event.model_validate(PREFECT_CLIENT_JSON)
    dumped = json.loads(event.model_dump_json())
    assert dumped["occurred"] == "2026-03-31T18:30:00.123456Z"
    assert {k: v for k, v in dumped.items() if k != "occurred"} == {
        k: v for k, v in PREFECT_CLIENT_JSON.items() if k != "occurred"
    }


def test_unknown_keys_are_ignored_and_client_received_is_overwritten() -> None:
    sent = {**PREFECT_CLIENT_JSON, "surprise": 1, "received": "2001-01-01T00:00:00Z"}
    event = Event.model_validate(sent)
    received = event.receive()
    assert not hasattr(event, "surprise")
    assert received.received.year >= 2026
    assert isinstance(received, ReceivedEvent)


def test_defaults_give_a_time_ordered_id_and_an_aware_occurred() -> None:
    first = Event(event="a", resource=resource())
    second = Event(event="a", resource=resource())
    assert first.id.version == 7
    assert first.id < second.id or first.id.int >> 80 == second.id.int >> 80
    assert first.occurred.tzinfo is not None


def test_naive_occurred_is_read_as_utc() -> None:
    event = Event(event="a", resource=resource(), occurred=datetime(2026, 1, 1, 12))
    assert event.occurred == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_uuid7_is_rfc_9562() -> None:
    value = uuid7()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        ({"resource": {}}, "body.0.resource: must have a non-empty 'prefect.resource.id' label"),
        ({"resource": {"prefect.resource.id": ""}}, "body.0.resource: must have a non-empty"),
        (
            {"related": [{"prefect.resource.id": "x"}]},
            "body.0.related.0: must have a non-empty 'prefect.resource.role'",
        ),
        (
            {"related": [{"prefect.resource.role": "x"}]},
            "body.0.related.0: must have a non-empty 'prefect.resource.id'",
        ),
        ({"event": "x" * 1025}, "body.0.event: String should have at most 1024 characters"),
        ({"event": ""}, "body.0.event: String should have at least 1 character"),
        ({"id": "not-a-uuid"}, "body.0.id: Input should be a valid UUID"),
        ({"occurred": "yesterday"}, "body.0.occurred: Input should be a valid datetime"),
        ({"payload": [1, 2]}, "body.0.payload: Input should be a valid dictionary"),
        (
            {"resource": {"prefect.resource.id": 5}},
            "body.0.resource.prefect.resource.id: Input should be a valid string",
        ),
        ({"follows": "nope"}, "body.0.follows: Input should be a valid UUID"),
    ],
)
def test_violations_name_the_field_and_the_reason(mutation: dict, expected: str) -> None:
    found = errors_of([{**PREFECT_CLIENT_JSON, **mutation}])
    assert any(e.startswith(expected) for e in found), found


def test_missing_event_name_is_reported() -> None:
    data = {k: v for k, v in PREFECT_CLIENT_JSON.items() if k != "event"}
    assert errors_of([data]) == ["body.0.event: Field required"]


def test_label_and_related_limits() -> None:
    labels = {f"k{i}": "v" for i in range(500)}
    too_many = {**PREFECT_CLIENT_JSON, "resource": resource(**labels)}
    assert errors_of([too_many]) == ["body.0.resource: has 501 labels; at most 500 are allowed"]
    at_limit = {**PREFECT_CLIENT_JSON, "resource": resource(**dict(list(labels.items())[:499]))}
    ReceivedList.validate_python([at_limit])
    related = [{"prefect.resource.id": f"r{i}", "prefect.resource.role": "x"} for i in range(101)]
    found = errors_of([{**PREFECT_CLIENT_JSON, "related": related}])
    assert found[0].startswith("body.0.related: List should have at most 100 items")


def test_null_related_and_payload_are_refused_as_by_prefect() -> None:
    found = errors_of([{**PREFECT_CLIENT_JSON, "related": None, "payload": None}])
    assert found == [
        "body.0.related: Input should be a valid list",
        "body.0.payload: Input should be a valid dictionary",
    ]


def test_size_limit_is_checked_only_when_the_input_could_exceed_it() -> None:
    small = Event(event="a", resource=resource())
    big = Event(event="a", resource=resource(), payload={"blob": "x" * MAXIMUM_EVENT_SIZE_BYTES})
    assert check_sizes([small], raw_size=100) == []
    problems = check_sizes([small, big], raw_size=MAXIMUM_EVENT_SIZE_BYTES * 2)
    assert [p.path for p in problems] == ["1"]
    assert "at most 1500000 are allowed" in problems[0].msg


def test_receivers_stamp_received_at_validation_whatever_the_client_sent() -> None:
    body = json.dumps([{**PREFECT_CLIENT_JSON, "received": "1999-01-01T00:00:00Z"}])
    context = received_now()
    (stamped,) = ReceivedList.validate_json(body, context=context)
    assert stamped.received == context["received"]
    (kept,) = ReceivedList.validate_json(body)  # reading a stored event keeps its stamp
    assert kept.received == datetime(1999, 1, 1, tzinfo=UTC)
