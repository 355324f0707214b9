"""One attempt of a run in one child process: the conversation with the child, and the verdict.

The child gets the run request, then everything it reports comes in order on its channel:
log lines go to the log sink, `running` and task states become state changes, emitted events
are stored (after the run's earlier states) and acknowledged. The attempt ends when the child
exits, or when the runner kills it for its timeout, a cancel or evtui stopping; then the
child's last report, or the way it ended, decides the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from evtui.events import Event, field_errors
from evtui.flows.journal import Journal
from evtui.flows.logs import LogSink
from evtui.flows.pool import Child, output_lines
from evtui.flows.protocol import (
    Ack,
    Done,
    EmittedEvent,
    Log,
    Running,
    RunRequest,
    TaskUpdate,
    parse_child_message,
)
from evtui.flows.records import FlowRun, StateRecord, TaskRun
from evtui.flows.tasks import TaskTracker

if TYPE_CHECKING:
    from pathlib import Path

    from evtui.engine import Engine

DRAIN_SECONDS = 2.0
"""Time to read what an exited child left in its pipes (a grandchild may hold them open)."""
STOPPED_MESSAGE = "evtui stopped while this run was in flight"


class FlowInfoLike(Protocol):
    """What the runner needs to know of a flow (the registry's `FlowInfo`)."""

    @property
    def name(self) -> str: ...
    @property
    def file(self) -> Path: ...
    @property
    def retries(self) -> int: ...
    @property
    def retry_delay_seconds(self) -> float | list[float]: ...
    @property
    def timeout_seconds(self) -> float | None: ...


@dataclass
class Outcome:
    """How an attempt ended; `retry` when another attempt may succeed."""

    state: str
    message: str | None
    retry: bool = False


@dataclass
class ActiveRun:
    """A run the runner is responsible for, from submit to its final state."""

    run: FlowRun
    info: FlowInfoLike
    journal: Journal
    slot: asyncio.Future[None]
    interrupt: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """Resolved with "cancel" or "stop" when the run must end early."""
    interrupt_handled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a cancel took effect (Cancelling or Cancelled), or the run ended anyway."""
    last_state: StateRecord | None = None
    done: Done | None = None
    """The current attempt's `done` report, once received."""
    tasks: TaskTracker = field(default_factory=TaskTracker)
    driver: asyncio.Task[None] | None = None


class AttemptHost(Protocol):
    """What an attempt uses of the runner."""

    engine: Engine
    logs: LogSink
    cancel_grace: float

    def change(
        self, active: ActiveRun, state: str, message: str | None, ts: datetime | None = None
    ) -> Any: ...

    def note(self, active: ActiveRun, message: str, level: str = "INFO") -> None: ...

    async def persist_task(self, task: TaskRun, event: Event) -> None: ...


def exit_description(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the flow process was killed by {name}"
    return f"the flow process exited with code {code} before the run finished"


class ChildAttempt:
    """Runs `active`'s next attempt in `child` (which the caller destroys afterwards)."""

    def __init__(self, host: AttemptHost, active: ActiveRun, child: Child) -> None:
        self.host = host
        self.active = active
        self.child = child

    async def run(self) -> Outcome:
        """Give the child the run, follow it until it exits (or kill it), then judge."""
        active, child, host = self.active, self.child, self.host
        run, info = active.run, active.info
        run.attempt += 1
        active.done = None
        await child.send(
            RunRequest(
                run_id=uuid.UUID(run.id),
                run_name=run.name,
                file=str(info.file),
                flow=run.flow,
                parameters=run.parameters,
                attempt=run.attempt,
                cause_event_id=uuid.UUID(run.cause.event_id) if run.cause.event_id else None,
                api_url=host.engine.api_url,
            )
        )
        host.change(active, "Pending" if run.attempt == 1 else "Retrying", None)
        pipes = (("stdout", child.process.stdout), ("stderr", child.process.stderr))
        readers = [
            asyncio.create_task(self._converse()),
            *(
                asyncio.create_task(self._pipe_logs(stream, pipe))
                for stream, pipe in pipes
                if pipe is not None
            ),
        ]
        exited = asyncio.ensure_future(child.wait())
        killed_for = None
        try:
            await asyncio.wait(
                {exited, active.interrupt},
                timeout=info.timeout_seconds,
                return_when="FIRST_COMPLETED",
            )
            finished = active.done  # a run that reported before it was killed keeps its report
            if not exited.done():
                killed_for = active.interrupt.result() if active.interrupt.done() else "timeout"
                await self._kill(exited, killed_for)
        finally:
            await _drain(readers)
        if killed_for is None:
            finished = active.done
        return self._judge(finished, killed_for, child.process.returncode)

    async def _kill(self, exited: asyncio.Future[int], reason: str) -> None:
        active, child = self.active, self.child
        if reason == "cancel":
            self.host.change(active, "Cancelling", "cancel requested: stopping the flow process")
            active.interrupt_handled.set()
            child.signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(exited), self.host.cancel_grace)
        elif reason == "timeout":
            timeout = active.info.timeout_seconds
            self.host.note(active, f"timed out after {timeout:g} s; killing the flow process")
        child.signal(signal.SIGKILL)
        await exited

    def _judge(self, done: Done | None, killed_for: str | None, code: int | None) -> Outcome:
        if done is not None:
            return Outcome(
                done.state, done.message, retry=done.state == "Failed" and done.retryable
            )
        if killed_for == "timeout":
            timeout = self.active.info.timeout_seconds
            return Outcome("TimedOut", f"timed out after {timeout:g} s", retry=True)
        if killed_for == "cancel":
            return Outcome("Cancelled", "cancelled while running")
        if killed_for == "stop":
            return Outcome("Crashed", STOPPED_MESSAGE)
        return Outcome("Crashed", exit_description(code if code is not None else -9))

    # -- what the child says ----------------------------------------------------------------

    async def _converse(self) -> None:
        """Read the channel until the child closes it, acting on each message in order."""
        active, host = self.active, self.host
        run = active.run
        while line := await self.child.read_message():
            try:
                message = parse_child_message(line)
            except ValidationError as error:
                await self._refuse(line, error)
                continue
            if isinstance(message, Log):
                host.logs.add(
                    run.id,
                    message.message,
                    level=message.level,
                    stream=message.stream,
                    logger=message.logger,
                    ts=message.ts,
                )
            elif isinstance(message, Running):
                host.change(active, "Running", None, message.ts)
            elif isinstance(message, TaskUpdate):
                task, event = active.tasks.update(run, message)
                active.journal.put(lambda task=task, event=event: host.persist_task(task, event))
            elif isinstance(message, EmittedEvent):
                error_text = await self._ingest_emitted(message.event)
                await self.child.send(Ack(id=message.event.id, error=error_text))
            elif isinstance(message, Done):
                active.done = message

    async def _ingest_emitted(self, event: Event) -> str | None:
        """Store an event the flow emitted, after the run's earlier states; None or the error."""
        try:
            await self.active.journal.put(lambda: self.host.engine.ingest([event]))
        except Exception as error:
            return str(error) or type(error).__name__
        return None

    async def _refuse(self, line: bytes, error: ValidationError) -> None:
        """A message that does not parse: an event gets an error ack, anything else a note."""
        reason = "; ".join(str(problem) for problem in field_errors(error))
        event_id = _event_id_in(line)
        if event_id is not None:
            await self.child.send(Ack(id=event_id, error=f"invalid event: {reason}"))
        else:
            message = f"unreadable message from the flow process ({reason})"
            self.host.note(self.active, message, "WARNING")

    async def _pipe_logs(self, stream: str, pipe: asyncio.StreamReader) -> None:
        level = "INFO" if stream == "stdout" else "ERROR"
        run_id = self.active.run.id
        async for line in output_lines(pipe):
            self.host.logs.add(run_id, line, level=level, stream=stream, logger=stream)


async def _drain(readers: list[asyncio.Task[None]]) -> None:
    """Let the readers finish what the child left in its pipes, within `DRAIN_SECONDS`."""
    _, late = await asyncio.wait(readers, timeout=DRAIN_SECONDS)
    for reader in late:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


def _event_id_in(line: bytes) -> uuid.UUID | None:
    """The id of the event in an `event` message that failed validation, if it has one."""
    with contextlib.suppress(ValueError, TypeError, AttributeError, KeyError):
        message = json.loads(line)
        if message.get("op") == "event":
            return uuid.UUID(str(message["event"]["id"]))
    return None
