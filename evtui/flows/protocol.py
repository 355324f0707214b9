"""The child protocol: JSON lines between the runner (parent) and one run's child process.

One child process runs one attempt of one run and exits. The parent starts
`python -m evtui.flows.child` with `stdin=PIPE` and passes a dedicated pipe for child → parent
messages with `pass_fds`, naming its fd in the environment variable `EVTUI_CHANNEL_FD`. That
channel is the only ordered record of what the run does (logs, prints, task states, events);
the child's raw fds 1 and 2 carry only what bypasses Python's `sys.stdout`/`sys.stderr`
(C-level output, fatal interpreter tracebacks), which the parent reads as `stdout`/`stderr` logs.

Child → parent, one JSON object per line, `"op"` first:
`ready` (evtui imported; the child is a spare from now on and waits on stdin), `running` (flow
file imported and parameters valid; the user function is called next), `log`, `task`, `event`
(the child then waits for an `ack` with the event's id) and `done` (the last message).

Parent → child on stdin: exactly one `run`, then an `ack` per `event`. Stdin stays open for the
whole run: end of file on stdin means the parent is gone, and the child then exits at once
(code `EXIT_ORPHANED`) without `done`, so no child outlives its runner. A spare child that sees
end of file before any `run` exits 0. A child that exits without `done` is Crashed unless the
parent killed it (TimedOut / Cancelled).

Lines a flow writes to `sys.stdout` arrive as `log` messages with stream `stdout` (level INFO)
or, when `log_prints` is on, as INFO records of the run logger (stream `logger`); lines written
to `sys.stderr` have stream `stderr` and level WARNING.

The models below are the single definition of each message: the child writes them, the parent
parses them with `parse_child_message`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from evtui.events import Event

CHANNEL_FD_ENV = "EVTUI_CHANNEL_FD"
"""Names the fd (passed with `pass_fds`) on which the child writes its messages."""

EXIT_ORPHANED = 75
"""The child's exit code when its stdin closed mid-run: the parent went away."""

TaskState = Literal["Pending", "Running", "Completed", "Failed", "AwaitingRetry", "Retrying"]
DoneState = Literal["Completed", "Failed"]
Stream = Literal["logger", "stdout", "stderr"]


class Message(BaseModel):
    """One line of the protocol, either way."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    def line(self) -> bytes:
        """The message as one JSON line, ready to write."""
        return self.model_dump_json().encode() + b"\n"


class Ready(Message):
    op: Literal["ready"] = "ready"


class Running(Message):
    op: Literal["running"] = "running"
    ts: datetime


class Log(Message):
    op: Literal["log"] = "log"
    ts: datetime
    level: str
    logger: str
    stream: Stream
    message: str


class TaskUpdate(Message):
    op: Literal["task"] = "task"
    task_run_id: UUID
    task: str
    state: TaskState
    ts: datetime
    message: str | None = None


class EmittedEvent(Message):
    """An event the flow emitted, its run's related resources and `follows` already filled."""

    op: Literal["event"] = "event"
    event: Event


class Done(Message):
    op: Literal["done"] = "done"
    state: DoneState
    message: str | None = None
    retryable: bool = True
    """False when another attempt cannot succeed: bad parameters, a flow file that does not
    import, a flow name the file does not define."""
    result: Any = None


class RunRequest(Message):
    op: Literal["run"] = "run"
    run_id: UUID
    run_name: str
    file: str
    flow: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    attempt: int = 1
    cause_event_id: UUID | None = None
    api_url: str


class Ack(Message):
    """The parent committed (or, with `error`, refused) the event with this id."""

    op: Literal["ack"] = "ack"
    id: UUID
    error: str | None = None


ChildMessage = Annotated[
    Ready | Running | Log | TaskUpdate | EmittedEvent | Done, Field(discriminator="op")
]
ParentMessage = Annotated[RunRequest | Ack, Field(discriminator="op")]

_child_messages: TypeAdapter[ChildMessage] = TypeAdapter(ChildMessage)
_parent_messages: TypeAdapter[ParentMessage] = TypeAdapter(ParentMessage)


def parse_child_message(line: bytes | str) -> ChildMessage:
    """One line from the channel; raises `pydantic.ValidationError` for a malformed one."""
    return _child_messages.validate_json(line)


def parse_parent_message(line: bytes | str) -> RunRequest | Ack:
    """One line from the child's stdin; raises `pydantic.ValidationError` for a malformed one."""
    return _parent_messages.validate_json(line)
