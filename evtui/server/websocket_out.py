"""`WS /api/events/out`: stored events matching a filter, then live ones (reference §5.7).

After Prefect's handshake the client sends `{"type": "filter", "filter": ..., "backfill": true}`.
The live subscription is taken *before* the backfill query, so an event committed meanwhile is
either in the backfill or in the live stream, and one that is in both is sent once. Unlike
Prefect (which drops events for a subscriber whose queue of 256 is full), a slow client here
falls behind and catches up from the store by cursor: it is delayed, never silently skipped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from evtui.events import field_errors, now_utc
from evtui.filters import EventFilter, EventOrder
from evtui.server.auth import ApiKey
from evtui.server.prefect_socket import (
    INTERNAL_ERROR,
    PROTOCOL_ERROR,
    accept_prefect_socket,
    close,
    parse_message,
)
from evtui.store.rows import StoredEvent

if TYPE_CHECKING:
    from evtui.bus import Subscription
    from evtui.engine import Engine

log = logging.getLogger(__name__)

MAXIMUM_BACKFILL = timedelta(minutes=15)
BACKFILL_PAGE_SIZE = 250
GOING_AWAY = 1001
OPEN_END = datetime(9999, 12, 31, tzinfo=UTC)


def stream_filter(requested: EventFilter) -> EventFilter:
    """Prefect's normalisation: oldest first, and no further back than 15 minutes.

    An `occurred.until` the client did not give means "no end", not "now": otherwise every
    live event would be past it. (Prefect's client always sends one, a year ahead.)
    """
    now = now_utc()
    since = max(requested.occurred.since, now - MAXIMUM_BACKFILL)
    given = requested.occurred.model_fields_set
    until = requested.occurred.until if "until" in given else OPEN_END
    occurred = requested.occurred.model_copy(update={"since": since, "until": until})
    return requested.model_copy(update={"occurred": occurred, "order": EventOrder.ASC})


def event_message(stored: StoredEvent) -> str:
    return '{"type":"event","event":' + stored.event.model_dump_json() + "}"


class EventsOut:
    """The route's handler: one subscription and one stream task per connection."""

    def __init__(self, engine: Engine, api_key: ApiKey) -> None:
        self.engine = engine
        self.api_key = api_key

    async def serve(self, websocket: WebSocket) -> None:
        if not await accept_prefect_socket(websocket, self.api_key):
            return
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        request = parse_message(message)
        if not isinstance(request, dict) or request.get("type") != "filter":
            await close(websocket, PROTOCOL_ERROR, "Expected 'filter' message")
            return
        try:
            requested = EventFilter.model_validate(request.get("filter") or {})
        except ValidationError as error:
            first = field_errors(error, ["filter"])[0]
            await close(websocket, PROTOCOL_ERROR, f"Invalid filter: {first}")
            return
        client = websocket.client
        name = f"websocket {client.host}:{client.port}" if client else "websocket"
        with self.engine.subscribe(name) as subscription:
            stream = asyncio.create_task(
                self._stream(
                    websocket,
                    subscription,
                    stream_filter(requested),
                    backfill=request.get("backfill", True) is not False,
                )
            )
            gone = asyncio.create_task(_until_disconnected(websocket))
            await asyncio.wait({stream, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in (stream, gone):
                task.cancel()
            await asyncio.gather(stream, gone, return_exceptions=True)
        if stream.cancelled():  # the client left
            return
        error = stream.exception()
        if error is None:
            await close(websocket, GOING_AWAY, "the server is shutting down")
        elif not isinstance(error, WebSocketDisconnect):
            log.error("streaming events to %s failed", name, exc_info=error)
            await close(websocket, INTERNAL_ERROR, "streaming failed; reconnect to resume")

    async def _stream(
        self,
        websocket: WebSocket,
        subscription: Subscription,
        event_filter: EventFilter,
        *,
        backfill: bool,
    ) -> None:
        """Backfill, then live events until the bus closes (server shutdown)."""
        live_from = subscription.cursor
        backfilled = await self._backfill(websocket, event_filter) if backfill else set()
        sent_live_ones = {seq for seq in backfilled if seq > live_from}
        """Backfilled events the live stream offers again: those committed after subscribing."""
        while True:
            try:
                batch = await subscription.next_batch(self.engine.catch_up)
            except StopAsyncIteration:
                return
            for stored in batch:
                if stored.seq in sent_live_ones:
                    sent_live_ones.discard(stored.seq)
                elif event_filter.matches(stored.event):
                    await websocket.send_text(event_message(stored))

    async def _backfill(self, websocket: WebSocket, event_filter: EventFilter) -> set[int]:
        """Send stored matches page by page; returns the `seq` of every event sent."""
        sent: set[int] = set()
        offset = 0
        while True:
            page, total = await self.engine.store.query_events(
                event_filter, limit=BACKFILL_PAGE_SIZE, offset=offset
            )
            for stored in page:
                # An insert before the current offset shifts pages: skip what was already sent.
                if stored.seq not in sent:
                    sent.add(stored.seq)
                    await websocket.send_text(event_message(stored))
            offset += len(page)
            if len(page) < BACKFILL_PAGE_SIZE or offset >= total:
                return sent


async def _until_disconnected(websocket: WebSocket) -> None:
    """Clients send nothing after the filter; reading is how a vanished client is noticed."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
