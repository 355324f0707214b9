"""Retention: old events (by `occurred`) go in small batches; some names may go sooner."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from store_helpers import make_event, related

from evtui.events import now_utc
from evtui.settings import Settings
from evtui.store import Store
from evtui.store.retention import BATCH_SIZE, RetentionPolicy, delete_expired
from evtui.store.rows import to_micros

DAY = timedelta(days=1)


async def resource_rows(store: Store) -> int:
    async with store.reader.execute("SELECT count(*) FROM event_resources") as cursor:
        (count,) = await cursor.fetchone()
    return count


def test_policy_from_settings_caps_overrides_at_the_global_period(tmp_path: Path) -> None:
    settings = Settings(
        db=tmp_path / "e.db",
        retention_days=7,
        retention_overrides={"prefect.flow-run.heartbeat": 1, "long.lived": 30},
    )
    policy = RetentionPolicy.from_settings(settings)
    assert policy.period == 7 * DAY
    assert policy.overrides == {"prefect.flow-run.heartbeat": DAY, "long.lived": 7 * DAY}


async def test_expired_events_and_their_resource_rows_go(store: Store) -> None:
    tag = [related("prefect.tag.a", "tag")]
    events = {
        "recent": make_event("acme.thing", ago=DAY, related=tag),
        "old": make_event("acme.thing", ago=8 * DAY, related=tag),
        "fresh heartbeat": make_event("prefect.flow-run.heartbeat", ago=DAY / 2),
        "stale heartbeat": make_event("prefect.flow-run.heartbeat", ago=2 * DAY),
        "capped": make_event("long.lived", ago=8 * DAY),
        "within cap": make_event("long.lived", ago=6 * DAY),
    }
    await store.write(list(events.values()))
    policy = RetentionPolicy(
        period=7 * DAY,
        overrides={"prefect.flow-run.heartbeat": DAY, "long.lived": 7 * DAY},
    )

    assert await delete_expired(store, policy) == 3

    left = {s.event.id for s in await store.events_after(0)}
    assert left == {events[k].id for k in ("recent", "fresh heartbeat", "within cap")}
    assert await resource_rows(store) == 4  # 3 primaries + the recent event's tag
    assert store.stats.total == await store.count_events() == 3


async def test_deletion_goes_in_batches_while_writes_go_on(store: Store) -> None:
    old = [make_event("acme.old", f"r.{n}", ago=30 * DAY) for n in range(2 * BATCH_SIZE + 100)]
    await store.write(old)
    assert await store.delete_batch(to_micros(now_utc() - 10 * DAY), None, 100) == 100

    new = [make_event("acme.new", f"r.{n}") for n in range(50)]
    deleted, outcome = await asyncio.gather(
        delete_expired(store, RetentionPolicy(period=7 * DAY)), store.write(new)
    )
    assert deleted == len(old) - 100
    assert outcome.stored == 50
    assert await store.count_events() == 50
    assert await resource_rows(store) == 50
