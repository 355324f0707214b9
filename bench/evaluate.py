"""Automation evaluation benchmark: 100 enabled automations of mixed kinds, 50,000 events.

    python bench/evaluate.py                    # 50,000 events
    python bench/evaluate.py --events 200000

Two measurements, one result line:
- the pure evaluator (in-memory buckets, simulated clock: an event every millisecond and a
  sweep every simulated second), events evaluated per second of CPU;
- the live service on a real engine (SQLite in a temporary directory, no HTTP): the events are
  ingested as fast as the store commits them, and the service evaluates each committed batch
  and writes its buckets; its lag is how far (in events and seconds) it trailed the commits.
Target (issue 5 point 11): evaluation keeps up with >= 10,000 events/s.
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
from typing import Any

from evtui.automations.buckets import BucketStore
from evtui.automations.evaluator import Evaluator
from evtui.automations.firing import Firing
from evtui.automations.models import Automation, AutomationCreate
from evtui.automations.service import AutomationService
from evtui.automations.store import AutomationStore
from evtui.engine import Engine
from evtui.events import Event
from evtui.settings import Settings

from figures import emit, note, target
from target import run_script

TARGET_RATE = 10_000
JOBS = 1000
BATCH = 500


def main() -> int:
    args = _parse_args()
    return run_script("bench/evaluate.py", lambda: asyncio.run(_run(args.events)))


def automation_documents() -> list[dict[str, Any]]:
    """100 automations: immediate label globs, thresholds per resource, `after` arming,
    proactive per-job watchdogs, payload conditions, compound and sequence triggers; each
    watches its own files or jobs, as real automations do."""
    docs: list[dict[str, Any]] = []

    def add(name: str, trigger: dict[str, Any]) -> None:
        docs.append({"name": name, "trigger": trigger, "actions": []})

    def job(i: int, name: str, **more: Any) -> dict[str, Any]:
        return {
            "type": "event",
            "expect": [name],
            "match": {"prefect.resource.id": f"job.{i + 10}*"},
            "for_each": ["prefect.resource.id"],
            **more,
        }

    for i in range(30):
        add(
            f"csv {i}",
            {
                "type": "event",
                "expect": ["file.created"],
                "match": {"evtui.file.name": f"part-{i}.csv"},
            },
        )
    for i in range(10):
        add(
            f"reports {i}",
            {
                "type": "event",
                "expect": ["file.*"],
                "match": {"evtui.file.name": [f"report-{i}-*.json", f"report-{i}-*.csv"]},
            },
        )
    for i in range(15):
        add(f"failures {i}", job(i, "job.failed", threshold=3, within=60))
    for i in range(10):
        add(f"failed after start {i}", job(i, "job.failed", after=["job.started"], within=30))
    for i in range(15):
        add(
            f"stuck {i}",
            job(i, "job.finished", posture="Proactive", after=["job.started"], within=60),
        )
    for i in range(10):
        add(
            f"big {i}",
            {
                "type": "event",
                "expect": ["file.created"],
                "match": {"evtui.file.name": f"part-{30 + i}.csv"},
                "match_payload": {"size": {"gt": 10_000}},
            },
        )
    for i in range(5):
        add(
            f"compound {i}",
            {
                "type": "compound",
                "require": "all",
                "within": 60,
                "triggers": [job(i, "job.started"), job(i, "job.failed")],
            },
        )
    for i in range(5):
        add(
            f"sequence {i}",
            {
                "type": "sequence",
                "within": 60,
                "triggers": [job(i, "job.started"), job(i, "job.finished")],
            },
        )
    return docs


def workload(count: int, start: datetime) -> list[Event]:
    """Files, job life cycles and noise, an event per simulated millisecond."""
    rng = random.Random(5)
    events: list[Event] = []
    for n in range(count):
        occurred = start + timedelta(milliseconds=n)
        roll = rng.random()
        if roll < 0.4:
            name = rng.choice(
                [f"part-{rng.randrange(80)}.csv", f"report-{rng.randrange(40)}-a.json", "x.txt"]
            )
            events.append(
                Event(
                    event="file.created",
                    occurred=occurred,
                    resource={"prefect.resource.id": f"file.{n}", "evtui.file.name": name},
                    payload={"size": rng.randrange(20_000)},
                )
            )
        elif roll < 0.8:
            kind = rng.choice(["job.started", "job.finished", "job.failed"])
            events.append(
                Event(
                    event=kind,
                    occurred=occurred,
                    resource={"prefect.resource.id": f"job.{rng.randrange(JOBS)}"},
                )
            )
        else:
            events.append(
                Event(
                    event=f"noise.{rng.randrange(20)}",
                    occurred=occurred,
                    resource={"prefect.resource.id": "noise"},
                )
            )
    return events


def pure(automations: list[Automation], events: list[Event]) -> tuple[float, int]:
    """Events per second through the bare evaluator, and the firings."""
    evaluator = Evaluator(automations, BucketStore())
    received = [e.receive(e.occurred) for e in events]
    firings = 0
    started = time.perf_counter()
    last_sweep = received[0].occurred
    for event in received:
        firings += len(evaluator.evaluate(event, event.occurred))
        if event.occurred - last_sweep >= timedelta(seconds=1):
            firings += len(evaluator.sweep(event.occurred))
            last_sweep = event.occurred
    return len(received) / (time.perf_counter() - started), firings


async def live(documents: list[dict[str, Any]], events: list[Event]) -> dict[str, float]:
    """The service behind a real engine: throughput and how far it trailed the commits."""
    with tempfile.TemporaryDirectory(prefix="evtui-bench-") as scratch:
        settings = Settings(db=Path(scratch) / "evaluate.db", port=0)
        async with Engine(settings, serve_http=False) as engine:
            if getattr(engine, "automation_service", None) is not None:
                await engine.automation_service.stop()
            if getattr(engine, "automations", None) is None:
                engine.automations = AutomationStore(engine)  # type: ignore[attr-defined]
                await engine.automations.load()
            for document in documents:
                await engine.automations.create(AutomationCreate.model_validate(document))
            fired = 0

            async def on_firing(_firing: Firing) -> None:
                nonlocal fired
                fired += 1

            service = AutomationService(engine, on_firing)
            await service.start()
            try:
                trailing: list[int] = []
                started = time.perf_counter()
                pending = [
                    engine.submit(events[i : i + BATCH]) for i in range(0, len(events), BATCH)
                ]
                for future in pending:
                    await future
                    trailing.append(engine.bus.head - service.cursor)
                committed = time.perf_counter()
                while service.cursor < engine.bus.head:
                    await asyncio.sleep(0.001)
                done = time.perf_counter()
            finally:
                await service.stop()
    return {
        "rate": len(events) / (done - started),
        "ingest_rate": len(events) / (committed - started),
        "lag_after_last_commit": done - committed,
        "max_trailing": max(trailing),
        "firings": fired,
    }


async def _run(count: int) -> int:
    documents = automation_documents()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    automations = [
        Automation.build(AutomationCreate.model_validate(d), _uuid(i), start, start)
        for i, d in enumerate(documents)
    ]
    events = workload(count, start)
    note(f"{len(automations)} automations, {len(events):,} events")
    rate, firings = pure(automations, events)
    note(f"pure evaluator: {rate:,.0f} events/s, {firings:,} firings")
    now = datetime.now(UTC) - timedelta(milliseconds=count)
    shifted = [e.model_copy(update={"occurred": now + (e.occurred - start)}) for e in events]
    figures = await live(documents, shifted)
    note(f"live: {figures}")
    met = rate >= TARGET_RATE and figures["rate"] >= TARGET_RATE
    emit(
        f"evaluate: {len(automations)} automations x {len(events):,} events: evaluator "
        f"{rate:,.0f} events/s; live service {figures['rate']:,.0f} events/s end to end "
        f"(ingest {figures['ingest_rate']:,.0f}/s), lag "
        f"{figures['lag_after_last_commit'] * 1000:,.0f} ms after the last commit, at most "
        f"{figures['max_trailing']:,.0f} events behind; "
        f"{figures['firings']:,.0f} firings; {target(met, '>= 10,000 events/s')}"
    )
    return 0 if met else 1


def _uuid(n: int) -> Any:
    import uuid

    return uuid.UUID(int=n + 1)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="events (default 50,000)")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
