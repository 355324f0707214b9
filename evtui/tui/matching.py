"""The quick filter typed after `/`: which events the stream pane shows.

Kept free of Textual and of the engine so it is a plain function of the text and one event;
`FILTER_SYNTAX` is the user-facing description (the help screen shows it).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from evtui.events import RESOURCE_ID, Event

FILTER_SYNTAX = """\
One or more terms separated by spaces:
  GLOB            the event name, e.g. file.*  or  prefect.flow-run.*
  resource:GLOB   the primary resource id, e.g. resource:prefect.flow-run.*
A term without * ? [ matches anywhere, so  Completed  finds prefect.flow-run.Completed.
Case is ignored. Terms of one kind are alternatives; both kinds given must both match.
enter keeps the filter, esc clears it."""

RESOURCE_PREFIX = "resource:"
_WILDCARDS = frozenset("*?[")

TextTest = Callable[[str], object]
"""A compiled term: truthy when the text matches."""


def compile_term(term: str) -> TextTest:
    """A glob matches the whole text; a plain word matches any part of it."""
    if _WILDCARDS.intersection(term):
        return re.compile(fnmatch.translate(term), re.IGNORECASE).match
    return re.compile(re.escape(term), re.IGNORECASE).search


@dataclass(frozen=True)
class EventMatcher:
    """A parsed filter; call it with an event to know whether it is shown."""

    text: str
    """The filter as typed, to show back to the user."""
    names: tuple[TextTest, ...] = ()
    resources: tuple[TextTest, ...] = ()

    def __call__(self, event: Event) -> bool:
        if self.names and not any(test(event.event) for test in self.names):
            return False
        resource_id = event.resource.get(RESOURCE_ID, "")
        return not self.resources or any(test(resource_id) for test in self.resources)


def parse_filter(text: str) -> EventMatcher | None:
    """The matcher for `text`, or None when it selects everything (blank input)."""
    names: list[TextTest] = []
    resources: list[TextTest] = []
    for term in text.split():
        if term.lower().startswith(RESOURCE_PREFIX):
            pattern = term[len(RESOURCE_PREFIX) :]
            if pattern:
                resources.append(compile_term(pattern))
        else:
            names.append(compile_term(term))
    if not names and not resources:
        return None
    return EventMatcher(text.strip(), tuple(names), tuple(resources))
