"""Backtest benchmark: one automation replayed over 100,000 stored events.

    python bench/backtest.py                   # 100,000 events
    python bench/backtest.py --events 500000

A real engine (SQLite in a temporary directory, no HTTP) stores the events (a fifth of them
`file.created`, the rest job and noise events, an event every 10 ms), then `backtest` replays
the whole range for the canonical automation (CSV files, counted per folder, two within a
minute) and for a proactive watchdog over the job events. Target (issue 5 point 7): each
answers within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from evtui.automations.backtest import backtest
from evtui.automations.models import AutomationCreate
from evtui.engine import Engine
from evtui.events import Event
from evtui.settings import Settings

from figures import emit, note, target
from target import run_script

BATCH = 1000
CSV = {
    "name": "pairs of csv files",
    "trigger": {
        "type": "event",
        "expect": ["file.created"],
        "match": {"evtui.file.name": "*.csv"},
        "for_each": ["evtui.file.folder"],
        "threshold": 2,
        "within": 60,
    },
    "actions": [
        {
            "type": "run-flow",
            "flow": "process_new_file",
            "parameters": {"path": "{{ event.resource['evtui.file.name'] }}"},
        }
    ],
}
WATCHDOG = {
    "name": "stuck jobs",
    "trigger": {
        "type": "event",
        "posture": "Proactive",
        "after": ["job.started"],
        "expect": ["job.finished"],
        "for_each": ["prefect.resource.id"],
        "within": 60,
    },
    "actions": [],
}


def main() -> int:
    args = _parse_args()
    return run_script("bench/backtest.py", lambda: asyncio.run(_run(args.events)))


def workload(count: int, start: datetime) -> list[Event]:
    rng = random.Random(7)
    events = []
    for n in range(count):
        occurred = start + timedelta(milliseconds=10 * n)
        roll = rng.random()
        if roll < 0.2:
            name = f"f{n}.{rng.choice(['csv', 'txt'])}"
            resource = {
                "prefect.resource.id": f"file.{n}",
                "evtui.file.name": name,
                "evtui.file.folder": f"inbox{rng.randrange(20)}",
            }
            events.append(Event(event="file.created", occurred=occurred, resource=resource))
        elif roll < 0.5:
            kind = rng.choice(["job.started", "job.finished"])
            resource = {"prefect.resource.id": f"job.{rng.randrange(2000)}"}
            events.append(Event(event=kind, occurred=occurred, resource=resource))
        else:
            resource = {"prefect.resource.id": "noise"}
            events.append(Event(event=f"noise.{n % 50}", occurred=occurred, resource=resource))
    return events


async def _run(count: int) -> int:
    start = datetime.now(UTC) - timedelta(days=1)
    events = workload(count, start)
    end = events[-1].occurred + timedelta(seconds=1)
    with tempfile.TemporaryDirectory(prefix="evtui-bench-") as scratch:
        settings = Settings(db=Path(scratch) / "backtest.db", port=0)
        async with Engine(settings, serve_http=False) as engine:
            for i in range(0, len(events), BATCH):
                await engine.ingest(events[i : i + BATCH])
            note(f"stored {count:,} events")
            timings = {}
            for document in (CSV, WATCHDOG):
                draft = AutomationCreate.model_validate(document)
                began = time.perf_counter()
                result = await backtest(engine, draft, start, end)
                seconds = time.perf_counter() - began
                timings[document["name"]] = (seconds, result)
                note(
                    f"{document['name']}: {seconds:.2f} s, read {result['events_scanned']:,}, "
                    f"matched {result['matched_count']:,}, {len(result['firings']):,} firings"
                )
    worst = max(seconds for seconds, _ in timings.values())
    parts = "; ".join(
        f"{name} {seconds * 1000:,.0f} ms ({result['events_scanned']:,} read, "
        f"{len(result['firings']):,} firings)"
        for name, (seconds, result) in timings.items()
    )
    emit(f"backtest over {count:,} stored events: {parts}; {target(worst < 1.0, '< 1 s')}")
    return 0 if worst < 1.0 else 1


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events (default 100,000)")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
