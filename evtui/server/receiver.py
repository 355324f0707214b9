"""Serving the ASGI app with uvicorn as a task inside the engine's own event loop.

No extra process and no extra thread: the receiver shares the loop with the store's writer and,
in the TUI, with Textual. We bind the socket ourselves so a busy port is a clear error (uvicorn
would call `sys.exit`), port 0 gives an ephemeral port for tests, and uvicorn's signal handlers
stay off: the shell that owns the process decides what SIGINT means.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from typing import TYPE_CHECKING

import uvicorn

from evtui.server.app import create_app
from evtui.server.ordered_pongs import OrderedPongProtocol

if TYPE_CHECKING:
    from evtui.engine import Engine

log = logging.getLogger(__name__)


class ReceiverError(RuntimeError):
    """The receiver could not start (typically: the address is in use)."""


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to whoever owns the process."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[override]
        yield


class Receiver:
    """The HTTP + websocket front door of one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.host = engine.settings.host
        self.port = engine.settings.port
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def url_host(self) -> str:
        """The host to put in URLs (a wildcard bind is reached on loopback)."""
        if self.host in ("0.0.0.0", ""):
            return "127.0.0.1"
        if self.host == "::":
            return "[::1]"
        return f"[{self.host}]" if ":" in self.host else self.host

    async def start(self) -> None:
        self._socket = _bind(self.host, self.port)
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.engine),
            log_config=None,
            log_level=self.engine.settings.log_level,
            access_log=False,
            lifespan="off",
            ws=OrderedPongProtocol,
            ws_max_size=4 * 1024 * 1024,
            ws_ping_interval=None,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=5,
            server_header=False,
            backlog=2048,
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name="evtui-receiver"
        )
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise ReceiverError(f"the receiver on {self.host}:{self.port} stopped at start")
            await asyncio.sleep(0.01)
        log.info("receiving events on http://%s:%s/api", self.url_host, self.port)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (they await their commits)."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._server = None
        self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio turns on TCP_NODELAY only for sockets that say
    # they are TCP, and without it Nagle + delayed ACK add ~40 ms to keep-alive responses.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ReceiverError(
                f"{host}:{port} is already in use; is another evtui or Prefect server "
                "running? Choose another with --port"
            ) from None
        raise ReceiverError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock
