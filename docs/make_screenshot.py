"""Regenerate docs/screenshot.svg: the TUI on a fresh engine after the file-to-flow chain.

python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from evtui.engine import Engine
from evtui.events import Event
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.widgets.event_list import EventList

OUT = Path(__file__).with_name("screenshot.svg")


def chain(n: int) -> list[Event]:
    """What a folder of CSVs looks like on its way through: arrival, processing, result."""
    name = f"orders-{n:03d}.csv"
    file = {
        "prefect.resource.id": f"file./data/in/{name}",
        "prefect.resource.name": name,
        "size": str(1200 + 37 * n),
    }
    flow = {"prefect.resource.id": "evtui.flow.process_new_file", "prefect.resource.role": "flow"}
    arrived = Event(event="file.created", resource=file, payload={"size": 1200 + 37 * n})
    done = Event(
        event="custom.file_processed",
        resource=file,
        related=[flow],
        payload={"rows": 40 + n},
        follows=arrived.id,
    )
    return [arrived, done]


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(Settings(db=Path(folder) / "e.db", port=4200))
        app = EvtuiApp(engine)
        async with app.run_test(size=(120, 30)) as pilot:
            while engine.receiver is None:
                await pilot.pause(0.05)
            for n in range(12):
                await engine.ingest(chain(n))
            while len(app.query_one(EventList).buffer.rows) < 24:
                await pilot.pause(0.05)
            await pilot.press("k", "k", "k")
            await pilot.pause(0.3)
            app.save_screenshot(str(OUT))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
