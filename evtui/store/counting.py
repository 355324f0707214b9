"""Count-by: how many matching events per name, per resource or per time bucket (§5.4).

Time buckets are aligned to a fixed pivot (Prefect's 2024-04-01T00:00Z, a Monday) rather than
to `since`, so the same bucket has the same boundaries and index in every query and a chart
can be refreshed without its bars shifting. Empty buckets are filled with zero counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel

from evtui.events import RESOURCE_NAME, UtcDatetime, now_utc
from evtui.filters import EventFilter, OccurredFilter
from evtui.store.query import Statement, conditions
from evtui.store.rows import from_micros, to_micros

PIVOT = datetime(2024, 4, 1, tzinfo=UTC)
MAXIMUM_BUCKETS = 1000
MINIMUM_INTERVAL = 0.01
ONE_MICROSECOND = timedelta(microseconds=1)


class Countable(StrEnum):
    day = "day"
    """Shorthand for `time` with unit day and interval 1."""
    time = "time"
    event = "event"
    resource = "resource"


class TimeUnit(StrEnum):
    week = "week"
    day = "day"
    hour = "hour"
    minute = "minute"
    second = "second"

    def span(self, interval: float = 1.0) -> timedelta:
        """One bucket: `interval` units, in whole microseconds."""
        seconds = _UNIT_SECONDS[self] * interval
        return timedelta(microseconds=round(seconds * 1_000_000))

    def end_of_current(self, now: datetime) -> datetime:
        """The last microsecond of the unit `now` is in (weeks start on Monday)."""
        if self is TimeUnit.week:
            start = datetime.combine(now.date() - timedelta(days=now.weekday()), time(), UTC)
        elif self is TimeUnit.day:
            start = datetime.combine(now.date(), time(), UTC)
        elif self is TimeUnit.hour:
            start = now.replace(minute=0, second=0, microsecond=0)
        elif self is TimeUnit.minute:
            start = now.replace(second=0, microsecond=0)
        else:
            start = now.replace(microsecond=0)
        return start + self.span() - ONE_MICROSECOND


_UNIT_SECONDS = {
    TimeUnit.week: 7 * 86_400,
    TimeUnit.day: 86_400,
    TimeUnit.hour: 3_600,
    TimeUnit.minute: 60,
    TimeUnit.second: 1,
}


class EventCount(BaseModel):
    """One row of a count-by answer."""

    value: str
    """What was counted: the event name, the resource id, or the bucket's index from 0."""
    label: str
    """How to show it: the name, the resource's display name, or the bucket's start."""
    count: int
    start_time: UtcDatetime
    """The first matching event (event/resource) or the bucket's first microsecond (time)."""
    end_time: UtcDatetime
    """The last matching event (event/resource) or the bucket's last microsecond (time)."""


class InvalidCountParameters(ValueError):
    """The count cannot be made as asked; `field` names the request field to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CountPlan:
    """The statement to run and how to turn its rows into the answer."""

    statement: Statement
    collect: Callable[[Sequence[tuple]], list[EventCount]]


def plan_count(
    countable: Countable,
    filter: EventFilter,
    time_unit: TimeUnit = TimeUnit.day,
    time_interval: float = 1.0,
    now: datetime | None = None,
) -> CountPlan:
    """Raises `InvalidCountParameters` for a too-small interval or more than 1000 buckets."""
    if countable is Countable.event:
        return _by_event(filter)
    if countable is Countable.resource:
        return _by_resource(filter)
    if countable is Countable.day:
        time_unit, time_interval = TimeUnit.day, 1.0
    buckets = TimeBuckets.covering(filter.occurred, time_unit, time_interval, now or now_utc())
    return buckets.plan(filter)


def _by_event(filter: EventFilter) -> CountPlan:
    where = conditions(filter)
    statement = Statement(
        "SELECT e.event, e.event, count(*), min(e.occurred), max(e.occurred)"
        f" FROM events e WHERE {where.where}"
        " GROUP BY e.event ORDER BY count(*) DESC, e.event ASC",
        tuple(where.params),
    )
    return CountPlan(statement, lambda rows: [_count(*row) for row in rows])


RESOURCE_LABEL = (
    f"coalesce(json_extract(e.resource, '$.\"{RESOURCE_NAME}\"'),"
    " json_extract(e.resource, '$.\"prefect.name\"'), e.resource_id)"
)
"""A resource's display name: `prefect.resource.name`, else `prefect.name`, else its id."""


def _by_resource(filter: EventFilter) -> CountPlan:
    where = conditions(filter)
    statement = Statement(
        f"SELECT e.resource_id, {RESOURCE_LABEL} AS label, count(*),"
        f" min(e.occurred), max(e.occurred) FROM events e WHERE {where.where}"
        " GROUP BY e.resource_id, label",
        tuple(where.params),
    )
    return CountPlan(statement, _merge_resource_labels)


def _merge_resource_labels(rows: Sequence[tuple]) -> list[EventCount]:
    """One row per resource, labelled as its latest event names it (names can change)."""
    merged: dict[str, tuple[str, int, int, int]] = {}
    for value, label, count, oldest, latest in sorted(rows, key=lambda row: row[4]):
        _, total, first, _ = merged.get(value, (label, 0, oldest, latest))
        merged[value] = (label, total + count, min(first, oldest), latest)
    counts = [_count(value, *merged_row) for value, merged_row in merged.items()]
    counts.sort(key=lambda c: (-c.count, c.label))
    return counts


def _count(value: str, label: str, count: int, oldest: int, latest: int) -> EventCount:
    return EventCount(
        value=value,
        label=label,
        count=count,
        start_time=from_micros(oldest),
        end_time=from_micros(latest),
    )


@dataclass(frozen=True)
class TimeBuckets:
    """Consecutive buckets of `span` from the one holding `since` to the one holding `end`."""

    first_index: int
    """The first bucket's index counted from the pivot."""
    count: int
    span: timedelta
    end: datetime
    """The last instant counted: `until`, or the end of the current unit if that is sooner."""

    @classmethod
    def covering(
        cls, occurred: OccurredFilter, unit: TimeUnit, interval: float, now: datetime
    ) -> TimeBuckets:
        if interval < MINIMUM_INTERVAL:
            raise InvalidCountParameters(
                "time_interval", f"must be at least {MINIMUM_INTERVAL}, not {interval}"
            )
        span = unit.span(interval)
        end = occurred.until
        if end > now:
            end = min(end, unit.end_of_current(now))
        first_index = (occurred.since - PIVOT) // span
        first_start = PIVOT + span * first_index
        count = (end - first_start) // span + 1 if end >= first_start else 0
        if count > MAXIMUM_BUCKETS:
            raise InvalidCountParameters(
                "time_interval",
                f"{interval} {unit.value}(s) from filter.occurred.since to until make {count}"
                f" buckets; at most {MAXIMUM_BUCKETS} are allowed: raise time_interval or"
                " narrow the time range",
            )
        return cls(first_index=first_index, count=count, span=span, end=end)

    def start(self, position: int) -> datetime:
        return PIVOT + self.span * (self.first_index + position)

    def plan(self, filter: EventFilter) -> CountPlan:
        clamped = filter.model_copy(
            update={"occurred": OccurredFilter(since=filter.occurred.since, until=self.end)}
        )
        where = conditions(clamped)
        span = self.span // ONE_MICROSECOND
        # floor division that also holds before the pivot: SQLite's `/` truncates toward 0
        offset = "(e.occurred - ?)"
        index = f"{offset} / {span} - ({offset} % {span} < 0)"
        pivot = to_micros(PIVOT)
        statement = Statement(
            f"SELECT {index} AS bucket, count(*) FROM events e WHERE {where.where} GROUP BY bucket",
            (pivot, pivot, *where.params),
        )
        return CountPlan(statement, self._zero_filled)

    def _zero_filled(self, rows: Sequence[tuple]) -> list[EventCount]:
        counted = {bucket - self.first_index: count for bucket, count in rows}
        answer = []
        for position in range(self.count):
            start = self.start(position)
            answer.append(
                EventCount(
                    value=str(position),
                    label=start.isoformat(),
                    count=counted.get(position, 0),
                    start_time=start,
                    end_time=start + self.span - ONE_MICROSECOND,
                )
            )
        return answer
