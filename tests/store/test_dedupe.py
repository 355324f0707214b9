"""A resent event (same id) is acknowledged again and stored once, in one batch or across."""

from __future__ import annotations

import asyncio

from store_helpers import make_event, related

from evtui.store import Store, WriteOutcome


async def resource_rows_of(store: Store, event_id: str) -> int:
    async with store.reader.execute(
        "SELECT count(*) FROM event_resources WHERE event_id = ?", (event_id,)
    ) as cursor:
        (count,) = await cursor.fetchone()
    return count


async def test_twice_in_one_batch(store: Store) -> None:
    event = make_event(related=[related("prefect.tag.a", "tag")])
    other = make_event()
    assert await store.write([event, other, event]) == WriteOutcome(stored=2, duplicates=1)
    assert await store.count_events() == 2
    assert await resource_rows_of(store, str(event.id)) == 2
    assert store.stats.duplicates == 1


async def test_again_in_a_later_batch(store: Store) -> None:
    event = make_event(related=[related("prefect.tag.a", "tag")])
    assert await store.write([event]) == WriteOutcome(stored=1, duplicates=0)
    assert await store.write([event, make_event()]) == WriteOutcome(stored=1, duplicates=1)
    assert await store.write([event]) == WriteOutcome(stored=0, duplicates=1)
    assert await store.count_events() == 2
    assert await resource_rows_of(store, str(event.id)) == 2
    assert (store.stats.accepted, store.stats.duplicates) == (2, 2)


async def test_two_senders_racing_with_the_same_event(store: Store) -> None:
    """Both submissions land in one group commit; one stores it, the other is the duplicate."""
    event = make_event()
    first, second = await asyncio.gather(store.write([event]), store.write([event]))
    assert sorted([first.stored, second.stored]) == [0, 1]
    assert first.duplicates + second.duplicates == 1
    assert await store.count_events() == 1


async def test_the_first_copy_wins(store: Store) -> None:
    """A resend may differ (a client re-stamped it); what was stored first stays."""
    original = make_event("acme.first")
    resent = make_event("acme.second", id=original.id)
    await store.write([original])
    await store.write([resent])
    stored = await store.get_event(str(original.id))
    assert stored is not None and stored.event.event == "acme.first"
