"""Prefect's websocket handshake (reference §5.6), shared by `/api/events/in` and `/out`.

With the `prefect` subprotocol the first message must be `{"type": "auth", "token": ...}` and
the server answers `{"type": "auth_success"}`; Prefect's client requires that reply. Without the
subprotocol a client is in legacy mode (no auth message), which only a server without an API
key allows.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from evtui.server.auth import ApiKey
from evtui.server.ordered_pongs import HOLD_PINGS

SUBPROTOCOL = "prefect"
MAX_CLOSE_REASON_BYTES = 123
"""A close frame's reason must fit in 125 bytes with its two-byte code."""

PROTOCOL_ERROR = 1002
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011
SERVICE_RESTART = 1012


def close_reason(text: str) -> str:
    """`text` cut to what a close frame can carry, never in the middle of a character."""
    return text.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


async def close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with a reason, unless either side already has."""
    if websocket.application_state is WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.close(code, close_reason(reason))


def parse_message(message: dict[str, Any]) -> Any:
    """The JSON in a received text or binary message, or None when there is none."""
    data = message.get("text")
    if data is None:
        data = message.get("bytes")
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


async def accept_prefect_socket(
    websocket: WebSocket, api_key: ApiKey, *, hold_pings: bool = False
) -> bool:
    """Accept and authenticate; False when the socket was closed instead.

    `hold_pings` asks the server (when it offers the ordered-pong extension) to hand pings to
    the caller, who must then answer them (see `evtui.server.ordered_pongs`).
    """
    if websocket.client_state is WebSocketState.CONNECTING:
        await websocket.receive()  # websocket.connect
    prefect = SUBPROTOCOL in websocket.scope.get("subprotocols", [])
    accept: dict[str, Any] = {
        "type": "websocket.accept",
        "subprotocol": SUBPROTOCOL if prefect else None,
        "headers": [],
    }
    if hold_pings:
        accept[HOLD_PINGS] = True
    await websocket.send(accept)
    if not prefect:
        if api_key.required:
            await close(
                websocket,
                PROTOCOL_ERROR,
                "Auth required: connect with subprotocol 'prefect' and send an auth message",
            )
            return False
        return True
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return False
    auth = parse_message(message)
    if not isinstance(auth, dict) or auth.get("type") != "auth":
        await close(websocket, POLICY_VIOLATION, "Expected 'auth' message")
        return False
    token = auth.get("token")
    if api_key.required:
        if not token:
            await close(websocket, POLICY_VIOLATION, "Auth required but no token provided")
            return False
        if not isinstance(token, str) or not api_key.token_ok(token):
            await close(websocket, POLICY_VIOLATION, "Invalid token")
            return False
    await websocket.send_text('{"type":"auth_success"}')
    return True
