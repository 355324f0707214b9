"""File watcher benchmark: a burst of files dropped at once, until every one is stored.

    python bench/file_burst.py                         # 1,000 files, settle 1.0 s
    python bench/file_burst.py --files 10000 --settle 0.2

A real engine (SQLite in a temporary directory, no HTTP) watches a fresh folder; the script
writes the files as fast as it can, then waits until the store holds one `file.created` per
file. The figure is the time from the last write to the last commit, of which the settle time
is the part evtui waits on purpose. Exit status 1 if a file is missing or announced twice.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from evtui.engine import Engine
from evtui.events import Event
from evtui.settings import Settings
from evtui.sources import FileWatcher, WatchSpec

from figures import emit, ms, note
from target import run_script

TIMEOUT_SECONDS = 120.0


def main() -> int:
    args = _parse_args()
    return run_script("bench/file_burst.py", lambda: asyncio.run(_run(args.files, args.settle)))


async def _run(count: int, settle: float) -> int:
    with tempfile.TemporaryDirectory(prefix="evtui-bench-") as scratch:
        inbox = Path(scratch) / "inbox"
        inbox.mkdir()
        settings = Settings(db=Path(scratch) / "burst.db", port=0)
        async with Engine(settings, serve_http=False) as engine:
            stored: list[Event] = []

            async def ingest(events: list[Event]) -> None:
                await engine.ingest(events)
                stored.extend(events)

            watcher = FileWatcher([WatchSpec.parse(str(inbox))], ingest, settle_seconds=settle)
            await watcher.start()
            try:
                started = time.perf_counter()
                for n in range(count):
                    (inbox / f"drop-{n:06}.csv").write_text(f"{n}\n")
                written = time.perf_counter()
                note(f"wrote {count:,} files in {ms((written - started) * 1000)}")
                while len(stored) < count and time.perf_counter() - written < TIMEOUT_SECONDS:
                    await asyncio.sleep(0.005)
                done = time.perf_counter()
                await asyncio.sleep(settle + 0.5)  # room for a late duplicate to show
                stats = watcher.stats
            finally:
                await watcher.stop()
    ids = {event.resource["prefect.resource.id"] for event in stored}
    created = sum(event.event == "file.created" for event in stored)
    lost, doubled = count - len(ids), len(stored) - len(ids)
    emit(
        f"file burst: {count:,} files -> {created:,} file.created stored ({lost} lost, "
        f"{doubled} doubled) {ms((done - written) * 1000)} after the last write "
        f"(settle {settle:g} s; {stats.retries} ingest retries)"
    )
    return 0 if lost == 0 and doubled == 0 and created == count else 1


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1_000, help="files to drop (default 1000)")
    parser.add_argument("--settle", type=float, default=1.0, help="settle seconds (default 1.0)")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
