"""Regenerate docs/screenshot.svg: the TUI after the samples' file-to-flow chain ran.

Three CSV files land in a watched inbox; the shipped automations run `process_new_file` on
each and `daily_summary` after each load. The picture is taken once every run has ended.

python docs/make_screenshot.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp

OUT = Path(__file__).resolve().with_name("screenshot.svg")
SAMPLES = Path(__file__).resolve().parents[1] / "sample_flows"


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        os.chdir(root)  # the flows' warehouse.db lands here
        (root / "inbox").mkdir()
        settings = Settings(
            db=root / "e.db",
            port=4200,
            flows=[SAMPLES],
            automations=[SAMPLES / "automations"],
            watch=["inbox:*.csv"],
            theme="evtui-dark",
        )
        engine = Engine(settings)
        app = EvtuiApp(engine, theme=settings.theme)
        async with app.run_test(size=(160, 45)) as pilot:
            while engine.receiver is None:
                await pilot.pause(0.05)
            for name in ("north", "south", "west"):
                shutil.copy(SAMPLES / "data" / "sales.csv", root / "inbox" / f"{name}.csv")
                await pilot.pause(0.3)
            while True:
                runs = await engine.runner.runs.list_runs(limit=10)
                if len(runs) == 6 and all(run.is_final for run in runs):
                    break
                await pilot.pause(0.1)
            await pilot.pause(1.5)
            await pilot.press("4")
            await pilot.pause(0.5)
            app.save_screenshot(str(OUT))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
