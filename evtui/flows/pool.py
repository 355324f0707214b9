"""Child processes for runs, and the spares kept ready for the next ones.

Starting Python and importing evtui (pydantic and all) takes a few hundred milliseconds; a
run that had to wait for that would start its code far later than an event-driven system
should. So the pool keeps `size` children started ahead, each waiting on stdin with evtui
already imported (they said `ready`): taking one costs nothing, and a replacement starts in
the background at once. A spare that dies is replaced; spares that keep dying are replaced
more and more slowly, so a broken installation does not fork in a loop.

Each child gets its own session (process group), so cancelling a run reaches the processes
the flow started too, and a Ctrl-C meant for evtui's terminal does not reach the flows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

from pydantic import ValidationError

from evtui.flows.protocol import CHANNEL_FD_ENV, Ack, Ready, RunRequest, parse_child_message

log = logging.getLogger(__name__)

CHANNEL_LIMIT = 32 * 1024 * 1024
"""Longest message line read from the channel (an event may be 1.5 MB of JSON)."""
OUTPUT_CHUNK = 64 * 1024
MAX_OUTPUT_LINE = 16 * 1024
"""Raw stdout/stderr lines longer than this are split into several log lines."""
READY_TIMEOUT = 60.0
"""Seconds a new child may take to import evtui before it is given up."""


class ChildStartError(RuntimeError):
    """A child process could not be started or died before it was ready."""


class Child:
    """One `python -m evtui.flows.child` process: its stdin, its channel and its raw output."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        channel: asyncio.StreamReader,
        channel_transport: asyncio.ReadTransport,
    ) -> None:
        self.process = process
        self.channel = channel
        self._channel_transport = channel_transport

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def send(self, message: RunRequest | Ack) -> None:
        """Write one message to the child's stdin; a child that already exited is ignored."""
        assert self.process.stdin is not None
        with contextlib.suppress(ConnectionError, RuntimeError):
            self.process.stdin.write(message.line())
            await self.process.stdin.drain()

    async def read_message(self) -> bytes:
        """The next line on the channel (empty at end of file)."""
        return await self.channel.readline()

    def signal(self, signum: int) -> None:
        """Signal the child's whole process group (what the flow started too)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    async def wait(self) -> int:
        return await self.process.wait()

    async def destroy(self) -> None:
        """Kill the child (if still running), reap it and close its pipes."""
        if self.alive:
            self.signal(signal.SIGKILL)
        await self.process.wait()
        self.close()

    def close(self) -> None:
        """Close the parent's ends of the pipes (once the child has exited)."""
        self._channel_transport.close()
        if self.process.stdin is not None:
            self.process.stdin.close()


async def spawn_child() -> Child:
    """Start a child and wait for its `ready` line; raises `ChildStartError` if it fails."""
    read_fd, write_fd = os.pipe()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "evtui.flows.child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(write_fd,),
            env={**os.environ, CHANNEL_FD_ENV: str(write_fd)},
            start_new_session=True,
        )
    except BaseException as error:
        os.close(read_fd)
        if isinstance(error, OSError):
            raise ChildStartError(f"cannot start the flow process: {error}") from None
        raise
    finally:
        os.close(write_fd)
    loop = asyncio.get_running_loop()
    channel = asyncio.StreamReader(limit=CHANNEL_LIMIT)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(channel), os.fdopen(read_fd, "rb", buffering=0)
    )
    child = Child(process, channel, transport)
    try:
        line = await asyncio.wait_for(child.read_message(), READY_TIMEOUT)
    except BaseException as error:
        await child.destroy()
        if isinstance(error, TimeoutError):
            raise ChildStartError(
                f"the flow process was not ready within {READY_TIMEOUT:g} s"
            ) from None
        raise
    if not _is_ready(line):
        await child.destroy()
        said = await _last_words(child) or (line[:200].decode(errors="replace") or "nothing")
        raise ChildStartError(f"the flow process failed to start: {said}")
    return child


def _is_ready(line: bytes) -> bool:
    try:
        return isinstance(parse_child_message(line), Ready)
    except ValidationError:
        return False


async def _last_words(child: Child) -> str:
    """The last line a dead child wrote on stderr (the end of its traceback), if any."""
    if child.process.stderr is None:
        return ""
    with contextlib.suppress(TimeoutError):
        data = await asyncio.wait_for(child.process.stderr.read(), 1.0)
        lines = data.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""
    return ""


async def output_lines(reader: asyncio.StreamReader) -> AsyncIterator[str]:
    """Lines of raw output, decoded leniently; over-long lines come in pieces."""
    pending = b""
    while True:
        chunk = await reader.read(OUTPUT_CHUNK)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        while len(pending) > MAX_OUTPUT_LINE:
            lines.append(pending[:MAX_OUTPUT_LINE])
            pending = pending[MAX_OUTPUT_LINE:]
        for line in lines:
            yield line.rstrip(b"\r").decode(errors="replace")
    if pending:
        yield pending.decode(errors="replace")


Spawner = Callable[[], Awaitable[Child]]


class ChildPool:
    """Keeps `size` ready children; `take()` hands out the oldest and starts a replacement."""

    def __init__(self, size: int, spawn: Spawner = spawn_child) -> None:
        self.size = size
        self._spawn = spawn
        self._spares: deque[asyncio.Task[Child | None]] = deque()
        self._watchers: set[asyncio.Task[None]] = set()
        self._failures = 0
        self._closed = False

    def start(self) -> None:
        self._closed = False
        self._fill()

    async def take(self) -> Child:
        """A ready child: the oldest spare (waiting for it if still starting), else a new one.

        Raises `ChildStartError` when no child can be started.
        """
        if self._spares:
            starting = self._spares.popleft()
            self._fill()
            child = await starting
            if child is not None and child.alive:
                self._failures = 0
                return child
            if child is not None:
                await child.destroy()
        return await self._spawn()

    async def stop(self) -> None:
        """Kill and reap every spare."""
        self._closed = True
        for watcher in list(self._watchers):
            watcher.cancel()
        spares, self._spares = list(self._spares), deque()
        for starting in spares:
            starting.cancel()
        results = await asyncio.gather(*spares, return_exceptions=True)
        for child in results:
            if isinstance(child, Child):
                await child.destroy()

    def _fill(self) -> None:
        delay = min(30.0, 0.25 * 2**self._failures) if self._failures else 0.0
        while not self._closed and len(self._spares) < self.size:
            task = asyncio.create_task(self._start_spare(delay), name="evtui-spare-child")
            self._spares.append(task)

    async def _start_spare(self, delay: float) -> Child | None:
        """A new spare, or None if it failed to start (a replacement is then on its way)."""
        if delay:
            await asyncio.sleep(delay)
        spawning = asyncio.ensure_future(self._spawn())
        try:
            child = await asyncio.shield(spawning)
        except asyncio.CancelledError:
            # `stop` cancelled us mid-spawn: the process exists, so reap it before the loop
            # closes (an unreaped transport complains from its finalizer).
            with contextlib.suppress(Exception):
                await (await spawning).destroy()
            raise
        except ChildStartError as error:
            log.warning("a spare flow process failed to start: %s", error)
            self._replace(lambda starting: starting is asyncio.current_task())
            return None
        watcher = asyncio.create_task(self._watch(child), name="evtui-spare-watch")
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        return child

    async def _watch(self, child: Child) -> None:
        """Replace a spare that exits while waiting (a run's child is the runner's concern)."""
        await child.process.wait()
        if self._replace(lambda starting: _holds(starting, child)):
            child.close()
            log.warning("a spare flow process exited (code %s)", child.process.returncode)

    def _replace(self, failed: Callable[[asyncio.Task[Child | None]], bool]) -> bool:
        """Drop the spare that failed (if still a spare) and start another, a little later
        after each failure in a row."""
        for starting in self._spares:
            if failed(starting):
                self._spares.remove(starting)
                self._failures += 1
                self._fill()
                return True
        return False


def _holds(starting: asyncio.Task[Child | None], child: Child) -> bool:
    return starting.done() and not starting.cancelled() and starting.result() is child
