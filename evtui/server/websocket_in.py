"""`WS /api/events/in`: Prefect's event stream in, one event per text frame (reference §5.6).

Frames are validated and submitted to the store one by one without waiting for each commit
(the writer groups them), so a fast sender is limited by validation, not by fsync. The waits
happen where the client asks for a guarantee: a ping is answered only after every event before
it is committed (`evtui.server.ordered_pongs`), which makes Prefect's ping/pong checkpoints
mean "on disk". A bad frame closes the connection with a reason naming the field, after the
events received before it are committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from pydantic import ValidationError
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from evtui.events import (
    Event,
    FieldError,
    ReceivedSingle,
    check_sizes,
    field_errors,
    received_now,
)
from evtui.server.auth import ApiKey
from evtui.server.ordered_pongs import EXTENSION, PING, PONG
from evtui.server.prefect_socket import (
    INTERNAL_ERROR,
    INVALID_PAYLOAD,
    SERVICE_RESTART,
    accept_prefect_socket,
    close,
)
from evtui.store import Overloaded, StoreClosed, WriteOutcome

if TYPE_CHECKING:
    from evtui.engine import Engine

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 1000
"""Submitted-but-unconfirmed events per connection before reading pauses for their commit.

Prefect's client pings every 700 events, so it normally never reaches this."""


class CommitPipeline:
    """Events submitted from one connection whose commits have not been awaited yet."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: list[asyncio.Future[WriteOutcome]] = []

    async def add(self, events: list[Event]) -> None:
        """Submit; on overload wait (backpressure on the socket), never drop."""
        while True:
            try:
                self._pending.append(self.engine.submit(events))
                break
            except Overloaded as overloaded:
                self.engine.counters.overloaded += 1
                if self._pending:
                    await self.drain()
                else:
                    await asyncio.sleep(overloaded.retry_after)
        if len(self._pending) >= MAX_IN_FLIGHT:
            await self.drain()

    async def drain(self) -> None:
        """Return once everything submitted so far is committed; raise if a write failed."""
        pending, self._pending = self._pending, []
        results = await asyncio.gather(*pending, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


def _parse_frame(message: Message) -> Event | list[FieldError]:
    """The frame's event, or what is wrong with it."""
    data = message.get("text")
    if data is None:
        data = message.get("bytes")
    if data is None:
        return [FieldError(loc=[], msg="empty frame; expected one event as JSON")]
    try:
        event = ReceivedSingle.validate_json(data, context=received_now())
    except ValidationError as error:
        return field_errors(error)
    too_large = check_sizes([event], len(data))
    return [FieldError(loc=[], msg=e.msg) for e in too_large] or event


def _describe(errors: list[FieldError]) -> str:
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"Invalid event: {errors[0]}{more}"


class EventsIn:
    """The ASGI app behind the route (it needs the raw messages to see pings)."""

    def __init__(self, engine: Engine, api_key: ApiKey) -> None:
        self.engine = engine
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pipeline = CommitPipeline(self.engine)

        async def receive_answering_pings() -> Message:
            while True:
                message = await receive()
                if message["type"] != PING:
                    return message
                await pipeline.drain()
                await send({"type": PONG, "bytes": message["bytes"]})

        websocket = WebSocket(scope, receive_answering_pings, send)
        hold_pings = EXTENSION in scope.get("extensions", {})
        if not await accept_prefect_socket(websocket, self.api_key, hold_pings=hold_pings):
            return
        try:
            await self._ingest(websocket, pipeline)
        except StoreClosed:
            await close(websocket, SERVICE_RESTART, "the server is shutting down; reconnect")
        except Exception:
            log.exception("storing events from a websocket failed")
            await close(websocket, INTERNAL_ERROR, "could not store events; resend them")

    async def _ingest(self, websocket: WebSocket, pipeline: CommitPipeline) -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                await pipeline.drain()
                return
            parsed = _parse_frame(message)
            if isinstance(parsed, list):
                self.engine.counters.rejected += 1
                await pipeline.drain()
                await close(websocket, INVALID_PAYLOAD, _describe(parsed))
                return
            await pipeline.add([parsed])
