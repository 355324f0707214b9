"""Order, paging and `resource.distinct` of stored queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_helpers import make_event

from evtui.events import ReceivedEvent, now_utc
from evtui.filters import EventFilter
from evtui.store import Store


@pytest.fixture
async def history(store: Store) -> list[ReceivedEvent]:
    """Nine events over three resources; three of them share one `occurred`, written in order."""
    base = now_utc() - timedelta(hours=1)
    same = base + timedelta(minutes=30)
    events = [
        make_event("a", "r.1", occurred=base + timedelta(minutes=1)),
        make_event("b", "r.2", occurred=base + timedelta(minutes=2)),
        make_event("c", "r.1", occurred=same),
        make_event("d", "r.3", occurred=same),
        make_event("e", "r.2", occurred=same),
        make_event("f", "r.1", occurred=base + timedelta(minutes=40)),
        make_event("g", "r.2", occurred=base + timedelta(minutes=41)),
        make_event("h", "r.3", occurred=base + timedelta(minutes=3)),
        make_event("i", "r.1", occurred=base + timedelta(minutes=50)),
    ]
    for event in events:  # one commit each, so `seq` follows the list
        await store.write([event])
    return events


def names(stored: list) -> str:
    return "".join(s.event.event for s in stored)


async def test_newest_first_by_default_with_commit_order_breaking_ties(
    store: Store, history: list[ReceivedEvent]
) -> None:
    stored, total = await store.query_events(EventFilter(), limit=50)
    assert names(stored) == "igfedchba"
    assert total == 9


async def test_ascending_order(store: Store, history: list[ReceivedEvent]) -> None:
    stored, _ = await store.query_events(EventFilter(order="ASC"), limit=50)
    assert names(stored) == "abhcdefgi"


@pytest.mark.parametrize("order", ["ASC", "DESC"])
async def test_pages_cover_every_event_once_with_an_exact_total(
    store: Store, history: list[ReceivedEvent], order: str
) -> None:
    event_filter = EventFilter(order=order)
    whole, _ = await store.query_events(event_filter, limit=50)
    pages = []
    for offset in range(0, 12, 4):
        page, total = await store.query_events(event_filter, limit=4, offset=offset)
        assert total == 9
        pages.extend(page)
    assert [s.seq for s in pages] == [s.seq for s in whole]


async def test_past_the_end_and_zero_limits_still_count(
    store: Store, history: list[ReceivedEvent]
) -> None:
    assert await store.query_events(EventFilter(), limit=5, offset=100) == ([], 9)
    assert await store.query_events(EventFilter(), limit=0) == ([], 9)
    only_r3 = EventFilter.model_validate({"resource": {"id": ["r.3"]}})
    page, total = await store.query_events(only_r3, limit=1, offset=1)
    assert (names(page), total) == ("h", 2)


async def test_distinct_gives_each_resource_once_and_counts_resources(
    store: Store, history: list[ReceivedEvent]
) -> None:
    newest = EventFilter.model_validate({"resource": {"distinct": True}})
    stored, total = await store.query_events(newest, limit=50)
    assert (names(stored), total) == ("igd", 3)

    oldest = EventFilter.model_validate({"resource": {"distinct": True}, "order": "ASC"})
    stored, total = await store.query_events(oldest, limit=50)
    assert (names(stored), total) == ("abh", 3)

    page, total = await store.query_events(newest, limit=2, offset=2)
    assert (names(page), total) == ("d", 3)


async def test_distinct_applies_after_the_other_criteria(
    store: Store, history: list[ReceivedEvent]
) -> None:
    event_filter = EventFilter.model_validate(
        {"resource": {"distinct": True}, "event": {"exclude_name": ["i", "g"]}}
    )
    stored, total = await store.query_events(event_filter, limit=50)
    assert (names(stored), total) == ("fed", 3)
