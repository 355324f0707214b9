"""Label globs: how filters (and later automations) say which resources they mean.

One set of rules everywhere (reference §2.4), so a filter typed in the TUI, sent to the API or
written in an automation selects the same resources whether it is checked in memory against a
live event or translated to SQL over stored ones:

- `*` matches any run of characters, anywhere in the pattern; every other character is
  literal (no `?` or `[...]`: they appear in real label values such as URLs, and one wildcard
  keeps the in-memory and SQL answers identical);
- a leading `!` negates the whole pattern;
- a label the resource does not have never matches, not even a negated pattern;
- a list of patterns is OR'd; an empty list matches nothing;
- the labels of one specification are AND'd; an empty specification matches every resource.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

LabelPatterns = str | list[str]
"""What a specification gives for one label: a pattern or a list of them (OR'd)."""

LabelSpecification = Mapping[str, LabelPatterns]
"""Label name -> patterns; all labels must match (AND)."""

WILDCARD = "*"
NEGATION = "!"


def as_patterns(patterns: LabelPatterns) -> list[str]:
    """A single pattern is a list of one."""
    return [patterns] if isinstance(patterns, str) else list(patterns)


def split_negation(pattern: str) -> tuple[bool, str]:
    """`(negated, glob)`: `"!dev-*"` is `(True, "dev-*")`."""
    if pattern.startswith(NEGATION):
        return True, pattern[len(NEGATION) :]
    return False, pattern


@lru_cache(maxsize=4096)
def _compiled(glob: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in glob.split(WILDCARD))
    return re.compile(".*".join(parts), re.DOTALL)


def glob_matches(glob: str, value: str) -> bool:
    """Does the whole `value` match `glob` (case-sensitive, `*` the only wildcard)?"""
    if WILDCARD not in glob:
        return value == glob
    return _compiled(glob).fullmatch(value) is not None


def pattern_matches(pattern: str, value: str | None) -> bool:
    """One pattern, possibly negated, against a label's value (`None` = label missing)."""
    if value is None:
        return False
    negated, glob = split_negation(pattern)
    return glob_matches(glob, value) != negated


def any_pattern_matches(patterns: LabelPatterns, value: str | None) -> bool:
    """The patterns given for one label are OR'd; an empty list matches nothing."""
    return any(pattern_matches(pattern, value) for pattern in as_patterns(patterns))


def labels_match(specification: LabelSpecification, labels: Mapping[str, str]) -> bool:
    """Every label of the specification matches this resource's labels."""
    return all(
        any_pattern_matches(patterns, labels.get(name)) for name, patterns in specification.items()
    )


def glob_to_sqlite(glob: str) -> str:
    """The same glob for SQLite's `GLOB` operator, with its other metacharacters made literal.

    `GLOB` is case-sensitive like our matching and, unlike `LIKE`, lets SQLite use an index on
    a constant prefix (`prefect.flow-run.*` becomes an index range).
    """
    return WILDCARD.join(literal_to_sqlite(part) for part in glob.split(WILDCARD))


def literal_to_sqlite(text: str) -> str:
    """`text` as a `GLOB` pattern that matches exactly `text` (no wildcards)."""
    return text.replace("[", "[[]").replace("?", "[?]").replace(WILDCARD, "[*]")


def prefix_to_sqlite(prefix: str) -> str:
    """A `GLOB` pattern for "starts with `prefix`"."""
    return literal_to_sqlite(prefix) + WILDCARD
