"""A lean keep-alive HTTP/1.1 connection for load generation and latency probes.

On a 2-core machine the load generator shares the CPU with the server it measures, so its cost
per request must be tiny: requests are pre-serialized bytes written to one persistent socket,
and responses are parsed by `httptools` (the C parser uvicorn itself uses). A full client such
as httpx spends several times the server's own per-request CPU and would measure itself.
"""

from __future__ import annotations

import asyncio
from typing import cast

import httptools


class ConnectionLost(ConnectionError):
    """The server closed the connection before answering."""


class KeepAlive(asyncio.Protocol):
    """One connection; `exchange` sends a request and waits for the whole response."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []

    @classmethod
    async def open(cls, host: str, port: int) -> KeepAlive:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, host, port)
        return protocol

    @staticmethod
    def request(method: str, host: str, port: int, path: str, body: bytes = b"") -> bytes:
        """The bytes of one request, built once and sent as often as needed."""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send `request`; returns the status code and the body."""
        if self._transport is None or self._transport.is_closing():
            raise ConnectionLost("the connection is closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self._body.clear()
        self._transport.write(request)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # -- asyncio.Protocol and httptools callbacks -------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionLost(str(exc or "closed by the server")))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((self._parser.get_status_code(), b"".join(self._body)))
