"""The quick filter typed after `/`: which events the stream pane shows.

Kept free of Textual and of the engine so it is a plain function of the text and one event;
`FILTER_SYNTAX` is the user-facing description (the help screen shows it).

The filter is typed live, so every prefix of a sensible filter must be a sensible filter too:
an unfinished `resource:` or `size=` term is ignored rather than matching nothing, and an
unclosed quote runs to the end of the text.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from evtui.events import RESOURCE_ID, Event

FILTER_SYNTAX = """\
One or more terms separated by spaces:
  GLOB            the event name, whole: file.*  prefect.flow-run.*
  WORD            text anywhere in the name, the resource id, its labels or the payload:
                  Completed  report-3  1200
  "SOME TEXT"     the same, spaces and * ? [ included: "amount: 1200"
  resource:GLOB   the primary resource id: resource:file./data/*  (a word matches anywhere)
  LABEL=VALUE     a label of the primary resource, by its key or the key's last part
                  (as the LABELS column shows it): size=512  name=report-*.csv
Case is ignored. Terms of one kind are alternatives (a GLOB and a WORD are one kind);
each kind given must match.  enter keeps the filter, esc clears it."""

RESOURCE_PREFIX = "resource:"
_WILDCARDS = frozenset("*?[")
_TOKENS = re.compile(r'(?:[^\s"]|"[^"]*(?:"|$))+')
"""A run of non-space characters and quoted sections (`name="a b"` is one token); an unclosed
quote takes the rest of the text."""
_LABEL = re.compile(r"^([^=\s]+)=(.*)$", re.DOTALL)

TextTest = Callable[[str], object]
"""A compiled term: truthy when the text matches."""


def compile_term(term: str) -> TextTest:
    """A glob matches the whole text; a plain word matches any part of it."""
    if _WILDCARDS.intersection(term):
        return re.compile(fnmatch.translate(term), re.IGNORECASE).match
    return re.compile(re.escape(term), re.IGNORECASE).search


def compile_value(value: str) -> TextTest:
    """A label value: a glob matches the whole value, plain text the whole value too (`=` is
    equality; `size=5` must not find `size=512`)."""
    if _WILDCARDS.intersection(value):
        return compile_term(value)
    folded = value.casefold()
    return lambda text: text.casefold() == folded


def compile_text(text: str) -> TextTest:
    """Free text: found anywhere, wildcards taken literally."""
    return re.compile(re.escape(text), re.IGNORECASE).search


@dataclass(frozen=True)
class LabelTest:
    """`LABEL=VALUE`: some label of the primary resource named `key` has a matching value."""

    key: str
    """Lower-case; matches a label's whole key or the part after its last dot."""
    value: TextTest

    def __call__(self, labels: dict[str, str]) -> bool:
        return any(
            (name.lower() == self.key or name.rsplit(".", 1)[-1].lower() == self.key)
            and self.value(value)
            for name, value in labels.items()
        )


def searchable_texts(event: Event) -> Iterator[str]:
    """What free text is searched in, cheapest first so most events stop early: the name, the
    resource id and labels, then the payload as JSON without its double quotes (only built
    when needed), since a quoted term cannot hold one: `"amount: 1200"` finds `{"amount": 1200}`.
    """
    yield event.event
    yield from event.resource.values()
    if event.payload:
        yield json.dumps(event.payload, ensure_ascii=False, default=str).replace('"', "")


@dataclass(frozen=True)
class EventMatcher:
    """A parsed filter; call it with an event to know whether it is shown."""

    text: str
    """The filter as typed, to show back to the user."""
    names: tuple[TextTest, ...] = ()
    """Globs over the event name."""
    words: tuple[TextTest, ...] = ()
    """Free text over the name, resource and payload (alternatives to `names`)."""
    resources: tuple[TextTest, ...] = ()
    labels: tuple[LabelTest, ...] = ()

    def __call__(self, event: Event) -> bool:
        if (self.names or self.words) and not self._text_matches(event):
            return False
        if self.resources:
            resource_id = event.resource.get(RESOURCE_ID, "")
            if not any(test(resource_id) for test in self.resources):
                return False
        return not self.labels or any(test(event.resource) for test in self.labels)

    def _text_matches(self, event: Event) -> bool:
        if any(test(event.event) for test in self.names):
            return True
        if not self.words:
            return False
        return any(test(text) for text in searchable_texts(event) for test in self.words)


def terms(text: str) -> Iterator[tuple[str, bool]]:
    """Each term and whether it was quoted whole (`"a b"`); quotes inside a term are dropped
    (`name="a b"` is the term `name=a b`)."""
    for found in _TOKENS.finditer(text):
        token = found.group()
        if token.startswith('"') and '"' not in token[1:-1]:
            yield token.strip('"'), True
        else:
            yield token.replace('"', ""), False


def parse_filter(text: str) -> EventMatcher | None:
    """The matcher for `text`, or None when it selects everything (blank input)."""
    names: list[TextTest] = []
    words: list[TextTest] = []
    resources: list[TextTest] = []
    labels: list[LabelTest] = []
    for term, quoted in terms(text):
        label = _LABEL.match(term)
        if quoted:
            if term:
                words.append(compile_text(term))
        elif term.lower().startswith(RESOURCE_PREFIX):
            pattern = term[len(RESOURCE_PREFIX) :]
            if pattern:
                resources.append(compile_term(pattern))
        elif label is not None:
            key, value = label.groups()
            if value:
                labels.append(LabelTest(key.lower(), compile_value(value)))
        elif _WILDCARDS.intersection(term):
            names.append(compile_term(term))
        else:
            words.append(compile_text(term))
    if not (names or words or resources or labels):
        return None
    return EventMatcher(text.strip(), tuple(names), tuple(words), tuple(resources), tuple(labels))
