"""The event model: Prefect 3's wire format, field for field.

Events are what every part of evtui exchanges. Keeping Prefect's exact JSON shape means a
client written for Prefect (its own `emit_event`, `prefect event emit`, a curl script) works
against evtui unchanged. Validation errors name the field path and the reason so a sender can
fix what it sent.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)

MAXIMUM_LABELS_PER_RESOURCE = 500
MAXIMUM_RELATED_RESOURCES = 100
MAXIMUM_EVENT_NAME_LENGTH = 1024
MAXIMUM_EVENT_SIZE_BYTES = 1_500_000

RESOURCE_ID = "prefect.resource.id"
RESOURCE_ROLE = "prefect.resource.role"
RESOURCE_NAME = "prefect.resource.name"


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7), as Prefect's client uses for event ids.

    Time-ordered ids keep related inserts close together in the primary-key index.
    """
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & (2**62 - 1)
    value = (unix_ms & (2**48 - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    """Naive timestamps are read as UTC (as Prefect does); everything inside is aware UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAXIMUM_LABELS_PER_RESOURCE:
        raise ValueError(
            f"has {len(labels)} labels; at most {MAXIMUM_LABELS_PER_RESOURCE} are allowed"
        )
    if not labels.get(RESOURCE_ID):
        raise ValueError(f"must have a non-empty {RESOURCE_ID!r} label")
    return labels


def _check_related_labels(labels: dict[str, str]) -> dict[str, str]:
    _check_labels(labels)
    if not labels.get(RESOURCE_ROLE):
        raise ValueError(f"must have a non-empty {RESOURCE_ROLE!r} label")
    return labels


Resource = Annotated[dict[str, str], AfterValidator(_check_labels)]
"""A flat mapping of labels that always names its `prefect.resource.id`."""

RelatedResource = Annotated[dict[str, str], AfterValidator(_check_related_labels)]
"""A resource with a `prefect.resource.role` saying how it relates to the event."""


class Event(BaseModel):
    """Something that happened to a resource, as a client sends it.

    `id` and `occurred` default like Prefect's client model, so a hand-written event need not
    invent them; Prefect's clients always send both, and `id` is the key for deduplication.
    Unknown keys are ignored, like Prefect's server model.
    """

    model_config = ConfigDict(extra="ignore")

    occurred: UtcDatetime = Field(default_factory=now_utc)
    event: str = Field(min_length=1, max_length=MAXIMUM_EVENT_NAME_LENGTH)
    resource: Resource
    related: list[RelatedResource] = Field(
        default_factory=list, max_length=MAXIMUM_RELATED_RESOURCES
    )
    payload: dict[str, Any] = Field(default_factory=dict)
    id: uuid.UUID = Field(default_factory=uuid7)
    follows: uuid.UUID | None = None

    @property
    def resource_id(self) -> str:
        return self.resource[RESOURCE_ID]

    def receive(self, received: datetime | None = None) -> ReceivedEvent:
        """Stamp the server's receipt time on an event built in Python.

        The fields were validated when this event was built, so they are not checked again.
        """
        fields = {name: getattr(self, name) for name in _EVENT_FIELDS}
        return ReceivedEvent.model_construct(**fields, received=received or now_utc())


class ReceivedEvent(Event):
    """An event as the server accepted it, with its `received` time.

    Receivers validate incoming JSON straight into this class with `RECEIVING` context (see
    `received_now`): `received` is then the server's stamp, whatever the client sent, without
    building the event twice.
    """

    received: UtcDatetime = Field(default=None, validate_default=True)  # type: ignore[assignment]
    """Absent means now; filled in by the validator below rather than a default factory, which
    would run for every event even when the receiver's stamp replaces it."""

    @field_validator("received", mode="wrap")
    @classmethod
    def _stamped_on_receipt(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> datetime:
        stamp = info.context.get(RECEIVING) if info.context else None
        if stamp is not None:
            return stamp
        return now_utc() if value is None else handler(value)


RECEIVING = "received"
"""Validation context key: the receipt time to stamp on every event validated with it."""


def received_now() -> dict[str, datetime]:
    """The validation context of one request or frame: everything in it is received now."""
    return {RECEIVING: now_utc()}


_EVENT_FIELDS = tuple(Event.model_fields)

ReceivedList = TypeAdapter(list[ReceivedEvent])
"""Validates a request body into received events: `ReceivedList.validate_json(body,
context=received_now())`."""
ReceivedSingle = TypeAdapter(ReceivedEvent)


class EventTooLarge(ValueError):
    """An event's JSON is over the size limit (Prefect's `EventTooLarge`)."""


def event_size(event: Event) -> int:
    return len(event.model_dump_json().encode())


def check_sizes(events: Sequence[Event], raw_size: int) -> list[FieldError]:
    """Errors for events whose JSON exceeds the limit.

    Only computed when the raw input could hold such an event, so the common small request
    pays nothing for the check.
    """
    if raw_size <= MAXIMUM_EVENT_SIZE_BYTES:
        return []
    errors = []
    for index, event in enumerate(events):
        size = event_size(event)
        if size > MAXIMUM_EVENT_SIZE_BYTES:
            errors.append(
                FieldError(
                    loc=[index],
                    msg=f"event is {size} bytes; at most {MAXIMUM_EVENT_SIZE_BYTES} are allowed",
                )
            )
    return errors


class FieldError(BaseModel):
    """One problem with an input: where it is (`loc`) and why it is wrong (`msg`)."""

    loc: list[str | int]
    msg: str

    @property
    def path(self) -> str:
        return ".".join(str(part) for part in self.loc) or "(root)"

    def __str__(self) -> str:
        return f"{self.path}: {self.msg}"


def field_errors(error: ValidationError, prefix: Iterable[str | int] = ()) -> list[FieldError]:
    """Turn pydantic's error into field paths and plain reasons."""
    found = []
    for item in error.errors(include_url=False, include_input=False):
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        found.append(FieldError(loc=[*prefix, *item["loc"]], msg=message))
    return found
