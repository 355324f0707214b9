"""The events the benchmarks send: Prefect-shaped, each with an id that names who sent it.

Every sender (a wrk thread, a client connection) has a `worker` number and counts its events
from 0, and a run has a random `nonce`; the event id is built from the three. So the ids a run
sent are known without keeping them, the ids one run stored are a range of the unique index on
`events.id`, and several runs can share one database file.

The event text is one `%`-format template shared with `wrk_events.lua` (Lua's `string.format`
takes the same `%s`/`%d` directives), so both load generators send the same bytes.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

RESOURCES = 10_000
"""Distinct primary resources the load is spread over."""

CUSTOMERS = 1_000
"""Distinct related resources (role `customer`)."""

EVENT_TEMPLATE = (
    '{"id":"%s","occurred":"OCCURRED","event":"bench.order.updated",'
    '"resource":{"prefect.resource.id":"bench.order.%d","prefect.resource.name":"order %d",'
    '"bench.region":"eu-west"},'
    '"related":[{"prefect.resource.id":"bench.customer.%d","prefect.resource.role":"customer"},'
    '{"prefect.resource.id":"prefect.tag.bench","prefect.resource.role":"tag"}],'
    '"payload":{"amount":%d,"currency":"EUR"}}'
)
"""Arguments: id, resource number (twice), customer number, amount."""


def new_nonce() -> str:
    """Eight hex digits that keep one run's ids apart from every other run's."""
    return f"{secrets.randbits(32):08x}"


def event_template(occurred: datetime | None = None) -> str:
    """The template with `occurred` filled in: one timestamp per run is realistic enough."""
    moment = (occurred or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return EVENT_TEMPLATE.replace("OCCURRED", moment)


def event_id(nonce: str, worker: int, n: int) -> str:
    """The UUID text of event `n` of `worker` (the same formula as in `wrk_events.lua`)."""
    return f"{nonce}-{worker:04x}-7000-8000-{n:012x}"


def id_range(nonce: str) -> tuple[str, str]:
    """Bounds (inclusive, exclusive) of every id a run with this nonce can produce."""
    return f"{nonce}-", f"{nonce}."


def event_json(template: str, nonce: str, worker: int, n: int) -> str:
    resource = (n * 7919 + worker) % RESOURCES
    return template % (
        event_id(nonce, worker, n),
        resource,
        resource,
        resource % CUSTOMERS,
        n % 1000,
    )


def batch_json(template: str, nonce: str, worker: int, first: int, size: int) -> bytes:
    """A JSON array of `size` events, Prefect's `POST /api/events` body."""
    events = ",".join(event_json(template, nonce, worker, n) for n in range(first, first + size))
    return f"[{events}]".encode()
