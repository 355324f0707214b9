"""Websocket pongs that mean "committed": uvicorn's protocol, with pings handed to the app.

Prefect's events client treats the pong to its ping as proof that every event it sent before
that ping arrived, and forgets them (reference §5.9 checkpoints). Websocket stacks, uvicorn's
included, answer a ping as soon as they parse it, possibly before the app has read the frames
that came before it. In evtui "acknowledged" means "on disk", so the ingest socket takes pings
itself: this protocol queues each ping as an ASGI message in order with the data frames, and
sends the pong only when the app asks, after it committed everything that preceded the ping.

The extension is advertised in `scope["extensions"][EXTENSION]`; an app opts in per connection
by putting `HOLD_PINGS: True` into its `websocket.accept` message. Every other connection (and
every app on a server without this protocol) keeps the usual automatic pongs.

- server -> app: `{"type": PING, "bytes": <payload>}`
- app -> server: `{"type": PONG, "bytes": <payload>}`
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

EXTENSION = "evtui.websocket.ordered_pongs"
HOLD_PINGS = "evtui.hold_pings"
PING = "evtui.websocket.ping"
PONG = "evtui.websocket.pong"


class _PingHoldingConnection(ServerProtocol):
    """websockets' sans-I/O server side, able to keep ping payloads instead of answering."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hold_pings = False
        self.held_pings: deque[bytes] = deque()

    def recv_frame(self, frame: Frame) -> None:
        if self.hold_pings and frame.opcode is Opcode.PING:
            # Everything the base class does for a ping, except writing the pong.
            self.held_pings.append(bytes(frame.data))
            self.events.append(frame)
            return
        super().recv_frame(frame)


class OrderedPongProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol plus the ordered-pong extension (module doc)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        plain = self.conn
        self.conn = _PingHoldingConnection(
            extensions=plain.available_extensions,
            max_size=(plain.max_message_size, plain.max_fragment_size),
            logger=plain.logger,
        )

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if not self.close_sent:  # upgraded; the app's task has not started yet
            self.scope["extensions"][EXTENSION] = {}

    def handle_ping(self) -> None:
        assert isinstance(self.conn, _PingHoldingConnection)
        if not self.conn.held_pings:
            super().handle_ping()
            return
        payload = self.conn.held_pings.popleft()
        if not self.close_sent:
            self.queue.put_nowait({"type": PING, "bytes": payload})  # type: ignore[typeddict-item]

    async def send(self, message: ASGISendEvent) -> None:
        assert isinstance(self.conn, _PingHoldingConnection)
        kind: str = message["type"]
        if kind == PONG:
            self._send_pong(message["bytes"])  # type: ignore[typeddict-item]
            return
        if kind == "websocket.accept" and message.get(HOLD_PINGS):
            # Set before the 101 goes out: the client cannot ping earlier than that.
            self.conn.hold_pings = True
        await super().send(message)

    def _send_pong(self, payload: bytes) -> None:
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        try:
            self.conn.send_pong(payload)
        except InvalidState:
            return
        self.transport.write(b"".join(self.conn.data_to_send()))
