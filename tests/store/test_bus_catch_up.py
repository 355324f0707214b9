"""A slow subscriber overflows its small buffer, shows its lag, then catches up from the store
without missing or repeating anything; a fast one is not affected."""

from __future__ import annotations

from pathlib import Path

from store_helpers import make_event

from evtui.engine import Engine
from evtui.settings import Settings


async def test_a_slow_subscriber_catches_up_from_the_store(tmp_path: Path) -> None:
    async with Engine(Settings(db=tmp_path / "e.db", port=0), serve_http=False) as engine:
        slow = engine.subscribe("slow", limit=4)
        fast = engine.subscribe("fast", limit=1000)
        for batch in range(10):
            await engine.ingest([make_event(f"b{batch}.e{n}") for n in range(5)])

        assert slow.dropped > 0
        assert slow.lag == 50
        stats = {s["name"]: s for s in engine.stats()["subscribers"]}
        assert stats["slow"]["lag"] == 50 and stats["slow"]["dropped"] == slow.dropped
        assert stats["fast"]["dropped"] == 0

        fast_seen = []
        while fast.lag:
            fast_seen.extend(await fast.next_batch())

        slow_seen = []
        while slow.lag:
            slow_seen.extend(await slow.next_batch(engine.catch_up, max_size=7))
        stored = await engine.store.events_after(0)
        assert [s.seq for s in slow_seen] == [s.seq for s in stored]
        assert [s.event.id for s in slow_seen] == [s.event.id for s in fast_seen]
        assert len(stored) == 50

        await engine.ingest([make_event("after.catching.up")])
        (live,) = await slow.next_batch(engine.catch_up)
        assert live.event.event == "after.catching.up"
        assert slow.lag == 0
