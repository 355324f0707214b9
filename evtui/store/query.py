"""EventFilter -> SQL over the `events` and `event_resources` tables.

Each criterion becomes one condition on `events e`, AND'd, with the same meaning as
`EventFilter.matches` in memory (tests check the two against one table of cases):

- lists of names or ids are passed as one JSON parameter (`IN (SELECT value FROM json_each(?))`),
  so a filter of any length is one statement and SQLite still uses the index for it;
- criteria on the primary resource use the columns of `events` (`resource_id` is indexed with
  `occurred`, which makes "this resource's events" an index range);
- criteria on related or any resources are a subquery on `event_resources` limited to the
  same `occurred` range, so all criteria of one object hold on one resource row;
- label globs become `GLOB` (case-sensitive, index-friendly) or `=` when they have no `*`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evtui.events import RESOURCE_ID, RESOURCE_ROLE
from evtui.filters import (
    PRIMARY_ROLE,
    AnyResourceFilter,
    EventFilter,
    EventNameFilter,
    RelatedFilter,
    ResourceFilter,
    ResourceLabels,
    TextFilter,
)
from evtui.labels import WILDCARD, as_patterns, glob_to_sqlite, prefix_to_sqlite, split_negation
from evtui.store.rows import EVENT_COLUMNS, to_micros

SEARCHABLE_TEXT = "lower(e.event || ' ' || e.resource || ' ' || e.related || ' ' || e.payload)"
"""The SQL twin of `evtui.filters.searchable_text`."""


@dataclass
class Conditions:
    """SQL conditions AND'd together, with their parameters in order."""

    sql: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, sql: str, *params: Any) -> None:
        self.sql.append(sql)
        self.params.extend(params)

    def extend(self, other: Conditions) -> None:
        self.sql.extend(other.sql)
        self.params.extend(other.params)

    @property
    def where(self) -> str:
        return " AND ".join(f"({c})" for c in self.sql) if self.sql else "1"


def in_list(column: str, values: Sequence[Any], negate: bool = False) -> tuple[str, str]:
    """`column [NOT] IN (...)` over a JSON array parameter: one bind however long the list.

    A single value is a plain comparison, which lets an index also give the order.
    """
    if len(values) == 1:
        return f"{column} {'!=' if negate else '='} ?", str(values[0])
    operator = "NOT IN" if negate else "IN"
    return f"{column} {operator} (SELECT value FROM json_each(?))", json.dumps(
        [str(value) for value in values]
    )


def any_of(clauses: Sequence[str]) -> str:
    return " OR ".join(f"({c})" for c in clauses)


# -- labels ----------------------------------------------------------------------------------


def _pattern_condition(column: str, pattern: str) -> tuple[str, str]:
    """One label pattern: `*` globs, `!` negates, a missing label (NULL) never matches."""
    negated, glob = split_negation(pattern)
    if WILDCARD in glob:
        test, value = f"{column} GLOB ?", glob_to_sqlite(glob)
    else:
        test, value = f"{column} = ?", glob
    if negated:
        return f"{column} IS NOT NULL AND NOT ({test})", value
    return test, value


def label_conditions(labels: ResourceLabels, columns: LabelColumns) -> Conditions:
    """The labels of one specification, AND'd; each label's patterns OR'd."""
    conditions = Conditions()
    for name, patterns in labels.items():
        parts = [_pattern_condition(columns.column(name), p) for p in as_patterns(patterns)]
        if not parts:
            conditions.add("0")  # an empty list of values matches nothing
            continue
        conditions.add(any_of([sql for sql, _ in parts]), *(value for _, value in parts))
    return conditions


@dataclass(frozen=True)
class LabelColumns:
    """Where one resource's labels live in SQL: id and role have columns, the rest is JSON."""

    resource_id: str
    role: str
    labels_json: str

    def column(self, label: str) -> str:
        if label == RESOURCE_ID:
            return self.resource_id
        if label == RESOURCE_ROLE:
            return self.role
        if '"' in label or "\\" in label:
            # a JSON path cannot quote these; look the key up by exact comparison instead
            return f"(SELECT value FROM json_each({self.labels_json}) WHERE key = {_quote(label)})"
        path = '$."' + label + '"'
        return f"json_extract({self.labels_json}, {_quote(path)})"


def _quote(text: str) -> str:
    """A SQL string literal (labels are part of the expression, not a bind parameter)."""
    return "'" + text.replace("'", "''") + "'"


PRIMARY_COLUMNS = LabelColumns(resource_id="e.resource_id", role="NULL", labels_json="e.resource")
"""The primary resource on `events`: it has no role."""

INVOLVED_COLUMNS = LabelColumns(
    resource_id="er.resource_id", role="NULLIF(er.resource_role, '')", labels_json="er.resource"
)
"""Any resource on `event_resources` (the primary has role "")."""


# -- criteria --------------------------------------------------------------------------------


def _event_name(criteria: EventNameFilter, out: Conditions) -> None:
    if criteria.prefix:
        out.add(
            any_of(["e.event GLOB ?"] * len(criteria.prefix)),
            *(prefix_to_sqlite(p) for p in criteria.prefix),
        )
    for prefix in criteria.exclude_prefix or ():
        out.add("NOT (e.event GLOB ?)", prefix_to_sqlite(prefix))
    if criteria.name:
        out.add(*in_list("e.event", criteria.name))
    if criteria.exclude_name:
        out.add(*in_list("e.event", criteria.exclude_name, negate=True))


def _resource(
    criteria: ResourceFilter | AnyResourceFilter, columns: LabelColumns, out: Conditions
) -> Conditions:
    """Id, id prefix and label criteria on one resource, wherever its columns are."""
    if criteria.id:
        out.add(*in_list(columns.resource_id, criteria.id))
    if criteria.id_prefix:
        prefixes = criteria.id_prefix
        out.add(
            any_of([f"{columns.resource_id} GLOB ?"] * len(prefixes)),
            *map(prefix_to_sqlite, prefixes),
        )
    if criteria.labels:
        out.extend(label_conditions(criteria.labels, columns))
    return out


def related_rows() -> Conditions:
    """Conditions on `event_resources er` that start with "a related resource, not the primary".

    The literal term (no bound parameter) lets SQLite use the partial index on related rows;
    the primary resource is found through the columns of `events` instead.
    """
    rows = Conditions()
    rows.add(f"er.resource_role != '{PRIMARY_ROLE}'")
    return rows


def _related_resource(criteria: RelatedFilter) -> Conditions:
    """Conditions on one `event_resources er` row."""
    # Prefect's quirk: asking for the role "" includes the primary resource's row.
    row = Conditions() if PRIMARY_ROLE in (criteria.role or ()) else related_rows()
    if criteria.id:
        row.add(*in_list("er.resource_id", criteria.id))
    if criteria.role:
        row.add(*in_list("er.resource_role", criteria.role))
    if criteria.resources_in_roles:
        pairs = criteria.resources_in_roles
        row.add(
            any_of(["er.resource_id = ? AND er.resource_role = ?"] * len(pairs)),
            *(value for pair in pairs for value in pair),
        )
    if criteria.labels:
        row.extend(label_conditions(criteria.labels, INVOLVED_COLUMNS))
    return row


def _text(criteria: TextFilter, out: Conditions) -> None:
    terms = criteria.terms
    contains = f"instr({SEARCHABLE_TEXT}, ?) > 0"
    if terms.include:
        out.add(any_of([contains] * len(terms.include)), *terms.include)
    for term in terms.exclude:
        out.add(f"NOT ({contains})", term)
    for term in terms.required:
        out.add(contains, term)


def _resource_row_test(filter: EventFilter, row_conditions: str) -> str:
    """ "Some `event_resources` row of this event meets `row_conditions`", in the faster form.

    When the event's own ids narrow the events to a few (an index range on `events`), each
    candidate probes its own resource rows by `event_id`. Otherwise the resource rows are
    found first through their own indexes and their events looked up by id. SQLite cannot
    tell the two cases apart (it knows nothing of the subquery's size), so we choose.
    """
    if filter.id.id or (filter.resource and filter.resource.id):
        return (
            "EXISTS (SELECT 1 FROM event_resources er INDEXED BY ix_event_resources_event_id"
            " WHERE er.event_id = e.id AND er.occurred >= ? AND er.occurred <= ?"
            f" AND {row_conditions})"
        )
    return (
        "e.id IN (SELECT er.event_id FROM event_resources er"
        f" WHERE er.occurred >= ? AND er.occurred <= ? AND {row_conditions})"
    )


def conditions(filter: EventFilter) -> Conditions:
    """Every criterion of the filter as conditions on `events e`."""
    since, until = to_micros(filter.occurred.since), to_micros(filter.occurred.until)
    out = Conditions()
    out.add("e.occurred >= ? AND e.occurred <= ?", since, until)
    if filter.id.id:
        out.add(*in_list("e.id", filter.id.id))
    if filter.event:
        _event_name(filter.event, out)
    if filter.resource:
        _resource(filter.resource, PRIMARY_COLUMNS, out)
    for related in filter.related or ():
        if not related.is_empty:
            row = _related_resource(related)
            out.add(_resource_row_test(filter, row.where), since, until, *row.params)
    for involved in filter.any_resource or ():
        if not involved.is_empty:
            # "the primary resource, or one of the related", each side on its own table
            primary = _resource(involved, PRIMARY_COLUMNS, Conditions())
            row = _resource(involved, INVOLVED_COLUMNS, related_rows())
            out.add(
                f"({primary.where}) OR {_resource_row_test(filter, row.where)}",
                *primary.params,
                since,
                until,
                *row.params,
            )
    if filter.text:
        _text(filter.text, out)
    return out


# -- statements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Any, ...]


def page_statement(filter: EventFilter, limit: int, offset: int) -> Statement:
    """One page of matching events in the filter's order (`seq` breaks ties stably).

    With `resource.distinct`, each resource's first event in that order stands for it.
    """
    where = conditions(filter)
    direction = filter.order.value
    order = f"ORDER BY occurred {direction}, seq {direction}"
    if filter.distinct:
        sql = (
            f"SELECT {EVENT_COLUMNS} FROM ("
            f" SELECT e.*, row_number() OVER (PARTITION BY e.resource_id {order}) AS nth"
            f" FROM events e WHERE {where.where}"
            f") WHERE nth = 1 {order} LIMIT ? OFFSET ?"
        )
    else:
        sql = f"SELECT {EVENT_COLUMNS} FROM events e WHERE {where.where} {order} LIMIT ? OFFSET ?"
    return Statement(sql, (*where.params, limit, offset))


def count_statement(filter: EventFilter) -> Statement:
    """The exact number of matches (of distinct resources with `resource.distinct`)."""
    where = conditions(filter)
    counted = "count(DISTINCT e.resource_id)" if filter.distinct else "count(*)"
    return Statement(f"SELECT {counted} FROM events e WHERE {where.where}", tuple(where.params))
