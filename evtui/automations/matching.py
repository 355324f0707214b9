"""Does an event concern a trigger? Prefect's matching rules (reference §2.4, §2.5), in words.

Labels (`match`, `match_related`) use evtui's one set of label rules (`evtui.labels`): `*`
anywhere, a leading `!` negates, a missing label never matches, a list's patterns are OR'd,
labels AND'd. Prefect's in-memory matcher also knows `?` and `[...]`; evtui's filters, stored
queries and triggers treat those characters literally so that all three agree (they appear in
real values such as URLs). `match_related` as an object is satisfied by any one related
resource having all its labels; as a list, each object must be satisfied, possibly by different
related resources.

Event names (`expect`, `after`) are globs on the whole name where `*` matches at least one
character: Prefect checks a name both with `fnmatch` and with a pre-filter regex that turns
each `*` into `.+`, and a name must pass both.

`why_not` answers the question users ask most ("why didn't it fire?") for one event: the first
predicate that fails, in the order Prefect checks them, phrased for a person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from evtui.automations.payload import payload_mismatch
from evtui.events import RESOURCE_ID, RESOURCE_ROLE, Event
from evtui.labels import LabelPatterns, any_pattern_matches, as_patterns
from evtui.labels import labels_match as _labels_match

if TYPE_CHECKING:
    from evtui.automations.models import EventTrigger, ResourceSpecification

RELATED_PREFIX = "related:"


def labels_match(spec: Mapping[str, LabelPatterns], labels: Mapping[str, str]) -> bool:
    """Every label of `spec` matches the resource's labels (§2.4); an empty spec matches all."""
    return _labels_match(spec, labels)


@lru_cache(maxsize=4096)
def _name_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(".+".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def name_matches(patterns: Iterable[str], name: str) -> bool:
    """Does the event name match any of the globs (`*` = one character or more)?"""
    return any(_name_regex(pattern).fullmatch(name) for pattern in patterns)


def find_resource_label(event: Event, label: str) -> str | None:
    """A label of the primary resource, or `related:<role>:<label>` of the first related
    resource in that role (Prefect's `find_resource_label`: only the first one is read)."""
    if label.startswith(RELATED_PREFIX):
        role, _, related_label = label.removeprefix(RELATED_PREFIX).rpartition(":")
        for related in event.related:
            if related.get(RESOURCE_ROLE) == role:
                return related.get(related_label)
    return event.resource.get(label)


def bucket_key(trigger: EventTrigger, event: Event) -> tuple[str, ...]:
    """The `for_each` values of this event, labels in sorted order; a missing one is ""."""
    return tuple(find_resource_label(event, label) or "" for label in sorted(trigger.for_each))


def triggering_labels(trigger: EventTrigger, event: Event) -> dict[str, str]:
    """`for_each` label -> this event's value, as a firing carries them."""
    return dict(zip(sorted(trigger.for_each), bucket_key(trigger, event), strict=True))


def covers(trigger: EventTrigger, event: Event) -> bool:
    """Prefect's `covers` plus `match_payload`: the name is one the trigger cares about
    (`expect` or `after`, or anything when `expect` is empty) and the resources and payload
    match."""
    return _name_problem(trigger, event.event) is None and _content_problem(trigger, event) is None


def why_not(trigger: EventTrigger, event: Event) -> str | None:
    """None if the event passes the trigger's name, labels, related and payload predicates;
    else the first that fails, in words."""
    return _name_problem(trigger, event.event) or _content_problem(trigger, event)


def _name_problem(trigger: EventTrigger, name: str) -> str | None:
    if not trigger.expect or name_matches(trigger.expect, name):
        return None
    if trigger.after and name_matches(trigger.after, name):
        return None
    fields = "expect or after" if trigger.after else "expect"
    return f"event name {name!r} is not in {fields} {[*trigger.expect, *trigger.after]!r}"


def _content_problem(trigger: EventTrigger, event: Event) -> str | None:
    problem = _resource_problem(trigger.match, event.resource)
    if problem:
        return problem
    for specification in trigger.related_specifications:
        if not _includes(specification, event.related):
            return f"no related resource matches {dict(specification.items())!r}"
    if trigger.match_payload:
        return payload_mismatch(trigger.match_payload, event.payload)
    return None


def _includes(specification: ResourceSpecification, resources: list[dict[str, str]]) -> bool:
    return not len(specification) or any(
        labels_match(specification, resource) for resource in resources
    )


def _resource_problem(spec: Mapping[str, LabelPatterns], labels: Mapping[str, str]) -> str | None:
    for label, patterns in spec.items():
        value = labels.get(label)
        if value is None:
            return f"resource has no label {label!r}"
        if not any_pattern_matches(patterns, value):
            listed = as_patterns(patterns)
            wanted = repr(listed[0]) if len(listed) == 1 else f"any of {listed!r}"
            shown = "resource id" if label == RESOURCE_ID else f"resource label {label!r}"
            return f"{shown} is {value!r}, not {wanted}"
    return None
