"""A large store written directly with `evtui.store.Store`, for the query benchmark.

Going through HTTP would measure ingest again and take minutes; the store's own writer in big
batches fills 1,000,000 events in about a minute and builds exactly the rows the server would.
The content is drawn from a seeded generator, so the expected answer to every query (how many
events each resource has) is known without asking the database.

Shape: `resources` primary resources (uniform, ~100 events each at the default sizes), each
event with one related customer (of 1,000) and half of them a tag, a few labels, one of eight
event names, `occurred` spread evenly over the last three days (inside the default 7-day
retention and the default 180-day query window).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from evtui.events import ReceivedEvent
from evtui.store import Store, WriteOutcome

NAMES = [
    f"bench.{kind}.{verb}"
    for kind in ("order", "invoice")
    for verb in ("created", "updated", "paid", "cancelled")
]
REGIONS = ("eu-west", "eu-central", "us-east", "ap-south")
SPAN = timedelta(days=3)
WRITE_BATCH = 10_000
IN_FLIGHT = 3
"""Batches submitted ahead, so building events overlaps the writer's SQLite work."""


def resource_id(number: int) -> str:
    return f"bench.order.{number}"


def plan(events: int, resources: int, seed: int) -> Iterator[tuple[int, int, int]]:
    """(event index, resource number, customer number) for every event, reproducibly."""
    rng = random.Random(seed)
    for index in range(events):
        yield index, rng.randrange(resources), rng.randrange(1_000)


def expected_counts(events: int, resources: int, seed: int) -> Counter[str]:
    """How many events each primary resource id has in a file filled with these arguments."""
    return Counter(resource_id(number) for _, number, _ in plan(events, resources, seed))


def _event(
    index: int, number: int, customer: int, start: datetime, step: timedelta
) -> ReceivedEvent:
    occurred = start + step * index
    related = [
        {
            "prefect.resource.id": f"bench.customer.{customer}",
            "prefect.resource.role": "customer",
            "prefect.resource.name": f"customer {customer}",
        }
    ]
    if index % 2:
        related.append({"prefect.resource.id": "prefect.tag.bench", "prefect.resource.role": "tag"})
    return ReceivedEvent.model_construct(
        id=uuid.UUID(int=index + 1),
        occurred=occurred,
        event=NAMES[index % len(NAMES)],
        resource={
            "prefect.resource.id": resource_id(number),
            "prefect.resource.name": f"order {number}",
            "bench.region": REGIONS[number % len(REGIONS)],
        },
        related=related,
        payload={"amount": index % 1_000, "currency": "EUR"},
        follows=None,
        received=occurred + timedelta(milliseconds=3),
    )


async def fill(store: Store, events: int, resources: int, seed: int) -> None:
    """Write the planned events through the store's writer, a few batches in flight."""
    end = datetime.now(UTC) - timedelta(minutes=1)
    start = end - SPAN
    step = SPAN / events
    pending: list[asyncio.Future[WriteOutcome]] = []
    batch: list[ReceivedEvent] = []
    for index, number, customer in plan(events, resources, seed):
        batch.append(_event(index, number, customer, start, step))
        if len(batch) == WRITE_BATCH:
            pending.append(store.submit(batch))
            batch = []
            if len(pending) >= IN_FLIGHT:
                await pending.pop(0)
    if batch:
        pending.append(store.submit(batch))
    await asyncio.gather(*pending)
