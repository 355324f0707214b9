"""EventFilter: which events a query, a live stream or a view wants (reference §5.5).

The model is Prefect's request schema field for field, so a Prefect client's filter JSON works
unchanged, and unknown keys are refused with an error naming them. `EventFilter.matches` decides
the same question in memory for one event; it agrees with the SQL of `evtui.store.query` for
every criterion (including `related`, which Prefect only checks in SQL), so a live stream and a
stored query of the same filter show the same events.

Every event involves resources: its primary `resource` (which has no role) and each `related`
one (with its `prefect.resource.role`). Criteria on resources see each one as a set of labels
that includes `prefect.resource.id` and, for related resources, `prefect.resource.role`.
"""

from __future__ import annotations

import shlex
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import to_json

from evtui.events import RESOURCE_ID, RESOURCE_ROLE, Event, UtcDatetime, now_utc
from evtui.labels import LabelPatterns, labels_match

DEFAULT_LOOKBACK = timedelta(days=180)
MAXIMUM_TEXT_QUERY_LENGTH = 200

PRIMARY_ROLE = ""
"""The role the primary resource has in `event_resources` (it has none)."""


def default_since() -> datetime:
    """Start of today (UTC) minus 180 days, as Prefect defaults `occurred.since`."""
    return datetime.combine(now_utc().date(), time(), tzinfo=UTC) - DEFAULT_LOOKBACK


class _Criteria(BaseModel):
    """Filters refuse unknown keys: a typo must not silently widen a query."""

    model_config = ConfigDict(extra="forbid")


class OccurredFilter(_Criteria):
    since: UtcDatetime = Field(default_factory=default_since)
    """Only events at or after this time."""
    until: UtcDatetime = Field(default_factory=now_utc)
    """Only events at or before this time."""

    def includes(self, event: Event) -> bool:
        return self.since <= event.occurred <= self.until


class EventNameFilter(_Criteria):
    """Each given list narrows the events (AND); the names within one list are OR'd."""

    prefix: list[str] | None = None
    exclude_prefix: list[str] | None = None
    name: list[str] | None = None
    exclude_name: list[str] | None = None

    def includes(self, event: Event) -> bool:
        name = event.event
        if self.prefix and not name.startswith(tuple(self.prefix)):
            return False
        if self.exclude_prefix and name.startswith(tuple(self.exclude_prefix)):
            return False
        if self.name and name not in self.name:
            return False
        return not (self.exclude_name and name in self.exclude_name)


ResourceLabels = dict[str, LabelPatterns]
"""A ResourceSpecification: label -> glob or list of globs (see `evtui.labels`)."""


class ResourceFilter(_Criteria):
    """Criteria on the primary resource."""

    id: list[str] | None = None
    id_prefix: list[str] | None = None
    labels: ResourceLabels | None = None
    distinct: bool = False
    """One event per resource (the first in the query's order); `total` counts resources."""

    def includes(self, event: Event) -> bool:
        resource_id = event.resource[RESOURCE_ID]
        if self.id and resource_id not in self.id:
            return False
        if self.id_prefix and not resource_id.startswith(tuple(self.id_prefix)):
            return False
        return not (self.labels and not labels_match(self.labels, primary_labels(event)))


class RelatedFilter(_Criteria):
    """Criteria that must all hold on one and the same related resource.

    The primary resource counts only when `role` is given and contains "" (its role).
    """

    id: list[str] | None = None
    role: list[str] | None = None
    resources_in_roles: list[tuple[str, str]] | None = None
    """`[id, role]` pairs: the resource must be one of them, in that role."""
    labels: ResourceLabels | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.id or self.role or self.resources_in_roles or self.labels)

    def includes(self, event: Event) -> bool:
        if self.is_empty:
            return True
        return any(
            self._includes(role, labels)
            for role, labels in involved_resources(event)
            if self.role or role != PRIMARY_ROLE
        )

    def _includes(self, role: str, labels: dict[str, str]) -> bool:
        resource_id = labels[RESOURCE_ID]
        if self.id and resource_id not in self.id:
            return False
        if self.role and role not in self.role:
            return False
        if self.resources_in_roles and (resource_id, role) not in self.resources_in_roles:
            return False
        return not (self.labels and not labels_match(self.labels, labels))


class AnyResourceFilter(_Criteria):
    """Criteria that must all hold on one resource, primary or related."""

    id: list[str] | None = None
    id_prefix: list[str] | None = None
    labels: ResourceLabels | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.id or self.id_prefix or self.labels)

    def includes(self, event: Event) -> bool:
        if self.is_empty:
            return True
        return any(self._includes(labels) for _, labels in involved_resources(event))

    def _includes(self, labels: dict[str, str]) -> bool:
        resource_id = labels[RESOURCE_ID]
        if self.id and resource_id not in self.id:
            return False
        if self.id_prefix and not resource_id.startswith(tuple(self.id_prefix)):
            return False
        return not (self.labels and not labels_match(self.labels, labels))


class IdFilter(_Criteria):
    id: list[uuid.UUID] | None = None

    def includes(self, event: Event) -> bool:
        return not self.id or event.id in self.id


@dataclass(frozen=True)
class TextTerms:
    """A parsed text query, lower-cased: any `include` (OR), no `exclude`, all `required`."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.include or self.exclude or self.required)

    def matches(self, text: str) -> bool:
        """`text` must already be folded with `fold_case`."""
        if self.include and not any(term in text for term in self.include):
            return False
        if any(term in text for term in self.exclude):
            return False
        return all(term in text for term in self.required)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold_case(text: str) -> str:
    """Lower-case ASCII letters only, exactly as SQLite's `lower()` does.

    Stored and live events must agree on what matches, and SQLite (without ICU) folds ASCII
    only; Prefect on SQLite behaves the same.
    """
    return text.translate(_ASCII_LOWER)


def _split(query: str) -> list[str]:
    lexer = shlex.shlex(query, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escapedquotes = '"'
    lexer.commenters = ""
    return list(lexer)


def _tokens(query: str) -> list[str]:
    """Split like a shell: spaces separate terms, "double quotes" keep a phrase together.

    Only double quotes quote (an apostrophe in `can't` is text), `#` is text, and an unclosed
    quote runs to the end of the query, as Prefect's parser reads it. A backslash escapes the
    next character, so a query cannot end in a single one.
    """
    for attempt in (query, query + '"'):
        try:
            return _split(attempt)
        except ValueError as error:
            if str(error) != "No closing quotation":
                break
    raise ValueError("ends in a lone backslash; write \\\\ to search for a backslash")


def parse_text_query(query: str) -> TextTerms:
    """Terms are OR'd; `-term` or `!term` excludes, `+term` is required; quotes make phrases."""
    include: list[str] = []
    exclude: list[str] = []
    required: list[str] = []
    for token in _tokens(query):
        target = include
        if token[0] in "-!":
            target, token = exclude, token[1:]
        elif token[0] == "+":
            target, token = required, token[1:]
        if token:
            target.append(fold_case(token))
    return TextTerms(tuple(include), tuple(exclude), tuple(required))


def searchable_text(event: Event) -> str:
    """What text search looks in: the name and the JSON of resource, related and payload.

    The JSON is serialised exactly as the store writes it, so the SQL search over the stored
    columns sees the very same characters.
    """
    return fold_case(
        " ".join(
            (
                event.event,
                to_json(event.resource).decode(),
                to_json(event.related).decode(),
                to_json(event.payload).decode(),
            )
        )
    )


class TextFilter(_Criteria):
    query: str = Field(max_length=MAXIMUM_TEXT_QUERY_LENGTH)
    """Case-insensitive substrings: `error -debug +prod "connection timeout"`."""

    @field_validator("query")
    @classmethod
    def _parsable(cls, query: str) -> str:
        parse_text_query(query)
        return query

    @cached_property
    def terms(self) -> TextTerms:
        return parse_text_query(self.query)

    def includes(self, event: Event) -> bool:
        return self.terms.is_empty or self.terms.matches(searchable_text(event))


class _Criterion(Protocol):
    def includes(self, event: Event) -> bool: ...


class EventOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


def _one_or_many(value: Any) -> Any:
    """An object is a list of one: `related: {...}` means the same as `related: [{...}]`."""
    return [value] if isinstance(value, dict) else value


class EventFilter(_Criteria):
    """Everything a query can ask of events; all given criteria must hold (AND)."""

    occurred: OccurredFilter = Field(default_factory=OccurredFilter)
    event: EventNameFilter | None = None
    resource: ResourceFilter | None = None
    related: Annotated[list[RelatedFilter], BeforeValidator(_one_or_many)] | None = None
    """Each item must be satisfied, each by some related resource."""
    any_resource: Annotated[list[AnyResourceFilter], BeforeValidator(_one_or_many)] | None = None
    """Each item must be satisfied, each by some resource, primary or related."""
    id: IdFilter = Field(default_factory=IdFilter)
    text: TextFilter | None = None
    order: EventOrder = EventOrder.DESC

    @property
    def distinct(self) -> bool:
        return bool(self.resource and self.resource.distinct)

    def matches(self, event: Event) -> bool:
        """Would a stored query with this filter return `event` (ignoring `distinct`)?"""
        return all(criterion.includes(event) for criterion in self._criteria())

    def _criteria(self) -> Iterator[_Criterion]:
        yield self.occurred
        yield self.id
        for optional in (self.event, self.resource, self.text):
            if optional is not None:
                yield optional
        yield from self.related or ()
        yield from self.any_resource or ()


def primary_labels(event: Event) -> dict[str, str]:
    """The primary resource's labels as criteria see them: it has no role."""
    if RESOURCE_ROLE in event.resource:
        return {k: v for k, v in event.resource.items() if k != RESOURCE_ROLE}
    return event.resource


def involved_resources(event: Event) -> Iterator[tuple[str, dict[str, str]]]:
    """`(role, labels)` of every resource the event involves, the primary first (role "")."""
    yield PRIMARY_ROLE, primary_labels(event)
    for related in event.related:
        yield related[RESOURCE_ROLE], related
