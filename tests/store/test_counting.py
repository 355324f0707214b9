"""Count-by event, resource and time (zero-filled buckets aligned to the 2024-04-01 pivot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from store_helpers import make_event

from evtui.events import now_utc
from evtui.filters import EventFilter
from evtui.store import Store
from evtui.store.counting import PIVOT, InvalidCountParameters, TimeUnit

T0 = datetime(2026, 1, 10, 10, 30, tzinfo=UTC)


def between(since: datetime, until: datetime, **criteria: Any) -> EventFilter:
    return EventFilter.model_validate(
        {"occurred": {"since": since.isoformat(), "until": until.isoformat()}, **criteria}
    )


def at(moment: datetime, name: str = "x.happened", resource: str | dict = "r.1"):
    return make_event(name, resource, occurred=moment)


async def test_by_event_most_frequent_first_then_by_name(store: Store) -> None:
    moments = [T0 + timedelta(minutes=m) for m in range(8)]
    names = ["b.two", "c.three", "a.two", "c.three", "b.two", "c.three", "a.two", "d.one"]
    await store.write([at(m, n) for m, n in zip(moments, names, strict=True)])
    counts = await store.count_by("event", between(T0, T0 + timedelta(hours=1)))
    assert [(c.value, c.label, c.count) for c in counts] == [
        ("c.three", "c.three", 3),
        ("a.two", "a.two", 2),
        ("b.two", "b.two", 2),
        ("d.one", "d.one", 1),
    ]
    assert (counts[0].start_time, counts[0].end_time) == (moments[1], moments[5])


async def test_by_resource_labels_with_the_latest_display_name(store: Store) -> None:
    minute = timedelta(minutes=1)
    await store.write(
        [
            at(T0, resource={"prefect.resource.id": "r.1", "prefect.resource.name": "Old"}),
            at(
                T0 + minute, resource={"prefect.resource.id": "r.1", "prefect.resource.name": "New"}
            ),
            at(T0 + 2 * minute, resource={"prefect.resource.id": "r.1"}),
            at(T0, resource={"prefect.resource.id": "r.2", "prefect.name": "legacy"}),
            at(
                T0,
                resource={
                    "prefect.resource.id": "r.3",
                    "prefect.resource.name": "preferred",
                    "prefect.name": "fallback",
                },
            ),
            at(T0, resource="r.4"),
            at(T0 + minute, resource="r.4"),
        ]
    )
    counts = await store.count_by("resource", between(T0, T0 + timedelta(hours=1)))
    assert [(c.value, c.label, c.count) for c in counts] == [
        ("r.1", "r.1", 3),  # its latest event has no name, so the id stands in
        ("r.4", "r.4", 2),
        ("r.2", "legacy", 1),
        ("r.3", "preferred", 1),
    ]
    assert (counts[0].start_time, counts[0].end_time) == (T0, T0 + 2 * minute)


async def test_by_resource_keeps_the_name_of_the_latest_event(store: Store) -> None:
    await store.write(
        [
            at(T0, resource={"prefect.resource.id": "r.1", "prefect.resource.name": "Old"}),
            at(
                T0 + timedelta(minutes=1),
                resource={"prefect.resource.id": "r.1", "prefect.resource.name": "New"},
            ),
        ]
    )
    (count,) = await store.count_by("resource", between(T0, T0 + timedelta(hours=1)))
    assert (count.label, count.count) == ("New", 2)


async def test_time_buckets_are_zero_filled_and_until_is_inclusive(store: Store) -> None:
    since, until = T0, T0.replace(hour=14, minute=0)
    await store.write(
        [
            at(since - timedelta(microseconds=1)),  # before the range
            at(T0.replace(minute=45)),
            at(T0.replace(minute=50)),
            at(T0.replace(hour=12, minute=10)),
            at(until),
            at(until + timedelta(microseconds=1)),  # after the range
        ]
    )
    counts = await store.count_by("time", between(since, until), time_unit="hour")
    assert [(c.value, c.count) for c in counts] == [
        ("0", 2),
        ("1", 0),
        ("2", 1),
        ("3", 0),
        ("4", 1),
    ]
    first = counts[0]
    assert first.label == "2026-01-10T10:00:00+00:00"
    assert first.start_time == T0.replace(minute=0)
    assert first.end_time == T0.replace(minute=0) + timedelta(hours=1, microseconds=-1)
    assert counts[-1].label == "2026-01-10T14:00:00+00:00"


async def test_buckets_are_aligned_to_the_pivot_not_to_since(store: Store) -> None:
    await store.write([at(T0)])
    counts = await store.count_by(
        "time", between(T0, T0 + timedelta(hours=6)), time_unit="hour", time_interval=1.5
    )
    span = timedelta(hours=1.5)
    for count in counts:
        assert (count.start_time - PIVOT) % span == timedelta(0)
        assert count.end_time == count.start_time + span - timedelta(microseconds=1)
    assert counts[0].start_time <= T0 < counts[0].start_time + span
    assert counts[-1].start_time <= T0 + timedelta(hours=6) < counts[-1].end_time
    assert sum(c.count for c in counts) == 1


async def test_day_is_time_by_one_day_whatever_the_unit_asked(store: Store) -> None:
    await store.write([at(T0), at(T0 + timedelta(days=2))])
    counts = await store.count_by(
        "day", between(T0, T0 + timedelta(days=2)), time_unit="minute", time_interval=5
    )
    assert [(c.label, c.count) for c in counts] == [
        ("2026-01-10T00:00:00+00:00", 1),
        ("2026-01-11T00:00:00+00:00", 0),
        ("2026-01-12T00:00:00+00:00", 1),
    ]


async def test_weeks_start_on_monday(store: Store) -> None:
    await store.write([at(T0)])  # a Saturday
    (count,) = await store.count_by("time", between(T0, T0 + timedelta(hours=1)), time_unit="week")
    assert count.start_time == datetime(2026, 1, 5, tzinfo=UTC)
    assert count.start_time.weekday() == 0
    assert count.count == 1


async def test_buckets_before_the_pivot_round_down(store: Store) -> None:
    await store.write(
        [at(datetime(2024, 3, 31, 23, tzinfo=UTC)), at(datetime(2024, 4, 1, 1, tzinfo=UTC))]
    )
    counts = await store.count_by(
        "day", between(datetime(2024, 3, 30, 12, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC))
    )
    assert [(c.label[:10], c.count) for c in counts] == [
        ("2024-03-30", 0),
        ("2024-03-31", 1),
        ("2024-04-01", 1),
        ("2024-04-02", 0),
    ]


async def test_a_future_until_stops_at_the_end_of_the_current_period(store: Store) -> None:
    now = now_utc()
    today = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    await store.write([at(now - timedelta(minutes=1))])
    counts = await store.count_by(
        "day", between(today - timedelta(days=2), now + timedelta(days=30))
    )
    assert [c.start_time for c in counts] == [today - timedelta(days=d) for d in (2, 1, 0)]
    assert [c.count for c in counts] == [0, 0, 1]
    assert counts[-1].end_time == today + timedelta(days=1, microseconds=-1)


async def test_criteria_apply_to_counts(store: Store) -> None:
    await store.write([at(T0, "a", "r.1"), at(T0, "a", "r.2"), at(T0, "b", "r.1")])
    counts = await store.count_by(
        "event", between(T0, T0 + timedelta(hours=1), resource={"id": ["r.1"]})
    )
    assert [(c.value, c.count) for c in counts] == [("a", 1), ("b", 1)]


async def test_at_most_a_thousand_buckets(store: Store) -> None:
    exactly = between(T0, T0 + timedelta(seconds=999))
    assert len(await store.count_by("time", exactly, time_unit="second")) == 1000
    with pytest.raises(InvalidCountParameters) as caught:
        await store.count_by("time", between(T0, T0 + timedelta(days=1)), time_unit="minute")
    assert caught.value.field == "time_interval"
    assert "1441 buckets" in caught.value.message


async def test_the_interval_has_a_floor(store: Store) -> None:
    with pytest.raises(InvalidCountParameters) as caught:
        await store.count_by(
            "time", between(T0, T0), time_unit=TimeUnit.second, time_interval=0.001
        )
    assert caught.value.field == "time_interval"
