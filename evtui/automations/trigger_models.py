"""Triggers as data: Prefect 3's event, compound and sequence triggers (reference §2.2-2.3, 2.7).

Part of `evtui.automations.models` (import from there); see its docstring for where evtui
deliberately differs from Prefect. Unions are resolved by before-validators that pick the
class the way Prefect's discriminator does and validate with it, rather than by pydantic's
tagged unions, whose tags would appear in error paths (`trigger.event.threshold`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from uuid import UUID, uuid4

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from evtui.automations.matching import name_matches
from evtui.automations.payload import check_payload_conditions
from evtui.events import RESOURCE_ID
from evtui.labels import labels_match

PROACTIVE_MINIMUM_WITHIN = timedelta(seconds=10)
"""Prefect's floor for Proactive windows; a Proactive `within` of 0 means this."""

RELATED_PREFIX = "related:"
"""`for_each` labels of the form `related:<role>:<label>` read a related resource's label."""


def _seconds(value: timedelta) -> int | float:
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


Seconds = Annotated[timedelta, PlainSerializer(_seconds, return_type=int | float, when_used="json")]
"""A duration that JSON gives as a number of seconds, as Prefect's API does."""


def error_at(loc: tuple[str | int, ...], value: Any, kind: str, message: str) -> ValidationError:
    """A validation error at a path inside the value being validated.

    Raised from a validator, pydantic prefixes the field's own path, so the user sees e.g.
    `actions.2.type` rather than the whole action.
    """
    return ValidationError.from_exception_data(
        "Automation", [{"type": PydanticCustomError(kind, message), "loc": loc, "input": value}]
    )


# ----------------------------------------------------------------------------- resources


class ResourceSpecification(RootModel[dict[str, str | list[str]]]):
    """Label -> glob or list of globs (reference §2.4): labels AND'd, a list's globs OR'd.

    Behaves as a read-only mapping so `evtui.labels.labels_match` takes it directly.
    """

    @field_validator("root", mode="before")
    @classmethod
    def _patterns(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected an object of label -> pattern(s), not {value!r}")
        for label, patterns in value.items():
            is_list = isinstance(patterns, list) and all(isinstance(p, str) for p in patterns)
            if not (isinstance(patterns, str) or is_list):
                raise ValueError(
                    f"label {label!r}: expected a pattern or a list of patterns, not {patterns!r}"
                )
        return value

    def __getitem__(self, label: str) -> str | list[str]:
        return self.root[label]

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __contains__(self, label: object) -> bool:
        return label in self.root

    def items(self) -> Iterable[tuple[str, str | list[str]]]:
        return self.root.items()

    def get(self, label: str, default: Any = None) -> Any:
        return self.root.get(label, default)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Does this one resource satisfy every label?"""
        return labels_match(self.root, labels)

    def includes(self, resources: Iterable[Mapping[str, str]]) -> bool:
        """Does any of the resources satisfy it? An empty specification always does."""
        return not self.root or any(self.matches(resource) for resource in resources)

    def matches_every_resource_of_kind(self, prefix: str) -> bool:
        """Empty, or only `prefect.resource.id: <prefix>.*` (the loop check of §2.11)."""
        if not self.root:
            return True
        patterns = self.root.get(RESOURCE_ID)
        if len(self.root) != 1 or patterns is None:
            return False
        return f"{prefix}.*" in ([patterns] if isinstance(patterns, str) else patterns)


Mapping.register(ResourceSpecification)

_RelatedList = TypeAdapter(list[ResourceSpecification])


def _related_specifications(value: Any) -> Any:
    """`match_related` keeps the form it was given: one object, or a list AND'd across items."""
    if isinstance(value, list):
        return _RelatedList.validate_python(value)
    if isinstance(value, ResourceSpecification):
        return value
    return ResourceSpecification.model_validate(value)


MatchRelated = Annotated[
    ResourceSpecification | list[ResourceSpecification], BeforeValidator(_related_specifications)
]

# ----------------------------------------------------------------------------- triggers


class _Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str

    id: UUID = Field(default_factory=uuid4)
    """Regenerated by the store on create and update, as Prefect's server does."""

    def all_triggers(self) -> list[Trigger]:
        """This trigger and every trigger below it, depth first, parents before children."""
        return [self]  # type: ignore[list-item]

    def event_triggers(self) -> list[EventTrigger]:
        return [t for t in self.all_triggers() if isinstance(t, EventTrigger)]

    def reset_ids(self) -> None:
        for trigger in self.all_triggers():
            trigger.id = uuid4()


def _name_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        if not pattern:
            raise ValueError("an event-name pattern cannot be empty")
        if pattern.startswith("!"):
            raise ValueError(
                f"{pattern!r}: event-name patterns cannot be negated with '!' "
                "(Prefect never matches such a pattern); list the names to expect instead"
            )
    return patterns


NamePatterns = Annotated[list[str], Field(default_factory=list)]


class EventTrigger(_Trigger):
    """Counts events that match, per `for_each` bucket, in windows of `within` (§2.3, §2.6)."""

    type: Literal["event"] = "event"
    match: ResourceSpecification = Field(default_factory=lambda: ResourceSpecification({}))
    """Labels of the event's primary resource."""
    match_related: MatchRelated = Field(default_factory=lambda: ResourceSpecification({}))
    """An object: some related resource has all its labels. A list: each object is satisfied,
    possibly by different related resources."""
    after: NamePatterns
    """Event-name globs that arm the trigger; empty: always armed."""
    expect: NamePatterns
    """Event-name globs that count toward `threshold`; empty: every event counts."""
    for_each: NamePatterns
    """Labels whose values split the counting into buckets (`related:<role>:<label>` allowed)."""
    posture: Literal["Reactive", "Proactive"] = "Reactive"
    threshold: int = Field(default=1, ge=1)
    within: Seconds = Field(default=timedelta(0), ge=timedelta(0), validate_default=True)
    match_payload: dict[str, Any] = Field(default_factory=dict)
    """evtui extension: dotted payload path -> condition (see `evtui.automations.payload`)."""

    _check_names = field_validator("after", "expect")(_name_patterns)
    _check_payload = field_validator("match_payload")(check_payload_conditions)

    @field_validator("for_each")
    @classmethod
    def _bucket_labels(cls, labels: list[str]) -> list[str]:
        for label in labels:
            if label.startswith(RELATED_PREFIX):
                role, _, related_label = label.removeprefix(RELATED_PREFIX).partition(":")
                if not role or not related_label:
                    raise ValueError(f"{label!r}: write related labels as related:<role>:<label>")
            elif not label:
                raise ValueError("a for_each label cannot be empty")
        return labels

    @field_validator("posture", mode="before")
    @classmethod
    def _not_metric(cls, posture: Any) -> Any:
        if posture == "Metric":
            raise ValueError(
                "Metric is the posture of Prefect Cloud's metric triggers; an event trigger is "
                "Reactive or Proactive"
            )
        return posture

    @field_validator("within", mode="before")
    @classmethod
    def _not_null(cls, within: Any) -> Any:
        if within is None:
            raise ValueError("must be a number of seconds (0 or more), not null")
        return within

    @field_validator("within")
    @classmethod
    def _proactive_minimum(cls, within: timedelta, info: ValidationInfo) -> timedelta:
        if info.data.get("posture") != "Proactive":
            return within
        if within == timedelta(0):
            return PROACTIVE_MINIMUM_WITHIN
        if within < PROACTIVE_MINIMUM_WITHIN:
            raise ValueError(
                "a Proactive trigger's window must be at least 10 seconds (0 means 10)"
            )
        return within

    @property
    def immediate(self) -> bool:
        """Reactive with no window: every matching event counts, whatever the bucket bounds."""
        return self.posture == "Reactive" and self.within == timedelta(0)

    def expects(self, event_name: str) -> bool:
        """Does this event count toward the threshold? An empty `expect` counts every event."""
        return not self.expect or name_matches(self.expect, event_name)

    def starts_after(self, event_name: str) -> bool:
        """Does this event arm the trigger? Never, when there is no `after`."""
        return bool(self.after) and name_matches(self.after, event_name)

    def meets_threshold(self, count: int) -> bool:
        if self.posture == "Reactive":
            return count >= self.threshold
        return count < self.threshold

    @property
    def related_specifications(self) -> list[ResourceSpecification]:
        """`match_related` as a list (an object is a list of one)."""
        related = self.match_related
        return related if isinstance(related, list) else [related]


class _CompositeTrigger(_Trigger):
    triggers: list[TriggerTypes] = Field(min_length=1)
    within: Seconds | None = Field(default=None, ge=timedelta(0))
    """How close together the children must fire; null: no limit."""

    def all_triggers(self) -> list[Trigger]:
        return [self, *(t for child in self.triggers for t in child.all_triggers())]  # type: ignore[list-item]

    @property
    def num_expected_firings(self) -> int:
        return len(self.triggers)


class CompoundTrigger(_CompositeTrigger):
    """Fires when `require` of its children have fired within `within` (§2.7)."""

    type: Literal["compound"] = "compound"
    require: int | Literal["any", "all"]

    @model_validator(mode="after")
    def _require_in_range(self) -> CompoundTrigger:
        if isinstance(self.require, int) and not 1 <= self.require <= len(self.triggers):
            raise error_at(
                ("require",),
                self.require,
                "require_range",
                f"must be 'any', 'all' or a number from 1 to {len(self.triggers)} "
                "(the number of triggers)",
            )
        return self

    @property
    def num_expected_firings(self) -> int:
        if self.require == "any":
            return 1
        if self.require == "all":
            return len(self.triggers)
        return self.require


class SequenceTrigger(_CompositeTrigger):
    """Fires when all its children have fired, in the declared order, within `within`."""

    type: Literal["sequence"] = "sequence"

    @property
    def expected_firing_order(self) -> list[UUID]:
        return [trigger.id for trigger in self.triggers]


def trigger_discriminator(value: Any) -> str:
    """Prefect's: an explicit `type`, else `triggers` + `require` is compound, `triggers` alone
    a sequence, a Metric posture a metric trigger, anything else an event trigger."""
    if not isinstance(value, Mapping):
        return str(getattr(value, "type", "event"))
    if "type" in value:
        return str(value["type"])
    if "triggers" in value:
        return "compound" if "require" in value else "sequence"
    return "metric" if value.get("posture") == "Metric" else "event"


_TRIGGERS: dict[str, type[_Trigger]] = {
    "event": EventTrigger,
    "compound": CompoundTrigger,
    "sequence": SequenceTrigger,
}


def _validate_trigger(value: Any) -> Any:
    if isinstance(value, _Trigger):
        return value
    if not isinstance(value, Mapping):
        raise ValueError("expected a trigger object (type event, compound or sequence)")
    kind = trigger_discriminator(value)
    model = _TRIGGERS.get(kind)
    if model is None:
        reason = (
            "metric triggers are Prefect Cloud only"
            if kind == "metric"
            else f"{kind!r} is not a trigger type"
        )
        raise error_at(
            ("type",), kind, "trigger_type", f"{reason}; evtui supports event, compound, sequence"
        )
    return model.model_validate(value)


Trigger = Union[EventTrigger, CompoundTrigger, SequenceTrigger]  # noqa: UP007
if TYPE_CHECKING:
    TriggerTypes = Trigger
else:
    TriggerTypes = Annotated[Trigger, BeforeValidator(_validate_trigger)]
    """A trigger of any kind, told apart as Prefect does (see `trigger_discriminator`)."""


CompoundTrigger.model_rebuild()
SequenceTrigger.model_rebuild()
