"""What a run's child process knows about its run, and the channel it reports on.

Everything a run does (log records, prints, task states, emitted events) goes to the parent as
messages on one channel, so the parent sees them in the order they happened. Messages are
queued and written by one thread: user code may be interrupted at any point by a timeout
(`FlowTimeout` raised from a signal handler), and a write split by such an interruption would
leave half a JSON line on the pipe; handing a whole line to a queue cannot be split.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from queue import SimpleQueue
from uuid import UUID

from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event
from evtui.flows.protocol import EXIT_ORPHANED, Ack, EmittedEvent, Log, Message, Stream

FLOW_LOGGER = "evtui.flow_runs"
TASK_LOGGER = "evtui.task_runs"
MAX_QUEUED_LINES = 1024
"""Lines queued for the writer thread before user code blocks: a slow parent slows the run
down instead of growing the child's memory."""


class Channel:
    """The child → parent message pipe, written in order by one thread, plus pending acks."""

    def __init__(self, fd: int, on_broken: Callable[[], None] = lambda: os._exit(EXIT_ORPHANED)):
        self._fd = fd
        self._lines: SimpleQueue[bytes | None] = SimpleQueue()
        self._room = threading.Semaphore(MAX_QUEUED_LINES)
        self._acks: dict[UUID, _AckWaiter] = {}
        self._on_broken = on_broken
        self._writer = threading.Thread(target=self._write_lines, name="evtui-channel", daemon=True)
        self._writer.start()

    def send(self, message: Message) -> None:
        line = message.line()
        self._room.acquire()
        self._lines.put(line)

    def close(self) -> None:
        """Write everything queued, then close the pipe (the parent sees end of file)."""
        self._lines.put(None)
        self._writer.join()
        os.close(self._fd)

    def request_ack(self, message: EmittedEvent) -> str | None:
        """Send an event and wait for the parent's ack; returns the refusal reason, if any."""
        waiter = _AckWaiter()
        self._acks[message.event.id] = waiter
        try:
            self.send(message)
            waiter.arrived.wait()
        finally:
            self._acks.pop(message.event.id, None)
        return waiter.error

    def deliver(self, ack: Ack) -> None:
        waiter = self._acks.get(ack.id)
        if waiter is not None:
            waiter.error = ack.error
            waiter.arrived.set()

    def _write_lines(self) -> None:
        while (line := self._lines.get()) is not None:
            view = memoryview(line)
            try:
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError:
                self._on_broken()
                return
            self._room.release()


@dataclass
class _AckWaiter:
    arrived: threading.Event = field(default_factory=threading.Event)
    error: str | None = None


@dataclass
class TaskRunContext:
    id: UUID
    name: str
    log_prints: bool


@dataclass
class RunContext:
    """The run this child process executes (there is at most one per process)."""

    run_id: UUID
    run_name: str
    flow_name: str
    cause_event_id: UUID | None
    channel: Channel
    log_prints: bool = False

    def log(self, level: str, logger: str, stream: Stream, message: str, ts: datetime) -> None:
        self.channel.send(Log(ts=ts, level=level, logger=logger, stream=stream, message=message))

    def prints_are_logs(self) -> bool:
        task_run = current_task_run()
        return task_run.log_prints if task_run is not None else self.log_prints

    def add_run_resources(self, event: Event, keep_follows: bool) -> Event:
        """The event with this run (and task run) as related resources, following the cause."""
        present = {resource[RESOURCE_ID] for resource in event.related}
        present.add(event.resource[RESOURCE_ID])
        candidates = [
            {
                RESOURCE_ID: f"evtui.flow-run.{self.run_id}",
                RESOURCE_ROLE: "flow-run",
                RESOURCE_NAME: self.run_name,
            },
            {
                RESOURCE_ID: f"evtui.flow.{self.flow_name}",
                RESOURCE_ROLE: "flow",
                RESOURCE_NAME: self.flow_name,
            },
        ]
        task_run = current_task_run()
        if task_run is not None:
            candidates.append(
                {
                    RESOURCE_ID: f"evtui.task-run.{task_run.id}",
                    RESOURCE_ROLE: "task-run",
                    RESOURCE_NAME: task_run.name,
                }
            )
        added = [resource for resource in candidates if resource[RESOURCE_ID] not in present]
        follows = event.follows if keep_follows else self.cause_event_id
        return event.model_copy(update={"related": [*event.related, *added], "follows": follows})

    def send_event(self, event: Event) -> str | None:
        """Send the event and wait until the parent committed it; returns a refusal reason."""
        return self.channel.request_ack(EmittedEvent(event=event))


_run: RunContext | None = None
_task_run: ContextVar[TaskRunContext | None] = ContextVar("evtui_task_run", default=None)


def current_run() -> RunContext | None:
    """The run executing in this process, or None outside a run's child process."""
    return _run


def enter_run(run: RunContext) -> None:
    global _run
    _run = run


def current_task_run() -> TaskRunContext | None:
    return _task_run.get()


def set_task_run(task_run: TaskRunContext) -> None:
    """Make `task_run` current in this context (a copy the task's code then runs in)."""
    _task_run.set(task_run)


def now() -> datetime:
    return datetime.now(UTC)


class ChannelLogHandler(logging.Handler):
    """Sends the run loggers' records to the parent as `log` messages."""

    def __init__(self, run: RunContext) -> None:
        super().__init__()
        self._run = run

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        ts = datetime.fromtimestamp(record.created, UTC)
        self._run.log(record.levelname, record.name, "logger", message, ts)


class ChannelStream(io.TextIOBase):
    """Stands in for `sys.stdout`/`sys.stderr`: each complete line becomes a `log` message.

    With `log_prints` on (flow or task), stdout lines are INFO records of the run logger, as
    Prefect's `log_prints` makes `print` log; otherwise they keep their stream name.
    """

    def __init__(self, run: RunContext, stream: Stream, level: str, fd: int) -> None:
        self._run = run
        self._stream: Stream = stream
        self._level = level
        self._fd = fd
        self._pending = ""
        self._lock = threading.Lock()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        """The raw fd; output written there reaches the parent's stdout/stderr pipes."""
        return self._fd

    def write(self, text: str) -> int:
        with self._lock:
            lines = (self._pending + text).split("\n")
            self._pending = lines.pop()
        for line in lines:
            self._send(line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, ""
        if pending:
            self._send(pending)

    def _send(self, line: str) -> None:
        if self._stream == "stdout" and self._run.prints_are_logs():
            logger = TASK_LOGGER if current_task_run() is not None else FLOW_LOGGER
            self._run.log("INFO", logger, "logger", line, now())
        else:
            self._run.log(self._level, self._stream, self._stream, line, now())
