"""The watcher feeding a real engine: events committed, restarts deduplicated by the store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from evtui.engine import Engine
from evtui.events import Event
from evtui.filters import EventFilter
from evtui.settings import Settings
from evtui.sources import FileWatcher, WatchSpec
from evtui.store import WriteOutcome


async def test_files_become_stored_events_and_a_restart_stores_nothing_twice(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "2024").mkdir(parents=True)
    (inbox / "2024" / "january.csv").write_text("month,total\njan,3\n")
    outcomes: list[WriteOutcome] = []
    async with Engine(Settings(db=tmp_path / "e.db", port=0), serve_http=False) as engine:

        async def ingest(events: list[Event]) -> None:
            outcomes.append(await engine.ingest(events))

        for _ in range(2):
            watcher = FileWatcher(
                [WatchSpec.parse(f"{inbox}:**/*.csv")],
                ingest,
                settle_seconds=0.2,
                announce_existing=True,
            )
            await watcher.start()
            deadline = time.monotonic() + 10
            while watcher.stats.emitted < 1:
                assert time.monotonic() < deadline, watcher.stats
                await asyncio.sleep(0.02)
            await watcher.stop()

        assert [(o.stored, o.duplicates) for o in outcomes] == [(1, 0), (0, 1)]
        page, total = await engine.store.query_events(EventFilter(), limit=10)
        assert total == 1
        event = page[0].event
        path = inbox.resolve() / "2024" / "january.csv"
        assert event.event == "file.created"
        assert event.resource["prefect.resource.id"] == f"file.{path}"
        assert event.resource["evtui.file.directory"] == str(path.parent)
        assert event.payload["watch"] == f"{inbox.resolve()}:**/*.csv"
