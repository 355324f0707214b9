"""What the runner records about runs: plain dataclasses shared by the runner and the run store.

A run's state names follow Prefect's, and each maps to one of Prefect's state types (the
`prefect.state-type` label), so automations written for Prefect's run events read ours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

STATE_TYPES: dict[str, str] = {
    "Scheduled": "SCHEDULED",
    "Pending": "PENDING",
    "Running": "RUNNING",
    "AwaitingRetry": "SCHEDULED",
    "Retrying": "RUNNING",
    "Completed": "COMPLETED",
    "Failed": "FAILED",
    "Crashed": "CRASHED",
    "Cancelling": "CANCELLING",
    "Cancelled": "CANCELLED",
    "TimedOut": "FAILED",
}
"""Every flow-run state and its Prefect state type (TimedOut is a kind of failure, as there)."""

FINAL_STATES = frozenset({"Completed", "Failed", "Crashed", "Cancelled", "TimedOut"})
"""States a run never leaves."""

TASK_FINAL_STATES = frozenset({"Completed", "Failed"})

CauseKind = Literal["manual", "api", "automation", "rerun"]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass
class RunCause:
    """Why a run exists: who asked, and the event or run that led to it."""

    kind: CauseKind
    event_id: str | None = None
    automation_id: str | None = None
    rerun_of: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FlowRun:
    """One run of a flow: its latest state and when it started and ended.

    `attempt` counts the child processes started so far (0 while still Scheduled); `retries`
    is how many more the flow allows after the first.
    """

    id: str
    name: str
    flow: str
    parameters: dict[str, Any]
    state: str
    state_message: str | None
    cause: RunCause
    created: datetime
    started: datetime | None = None
    ended: datetime | None = None
    attempt: int = 0
    retries: int = 0

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def state_type(self) -> str:
        return STATE_TYPES[self.state]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "flow": self.flow,
            "parameters": self.parameters,
            "state": self.state,
            "state_type": self.state_type,
            "state_message": self.state_message,
            "cause": self.cause.to_json(),
            "created": _iso(self.created),
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "attempt": self.attempt,
            "retries": self.retries,
        }


@dataclass
class StateRecord:
    """One entry of a run's state history; its id is also the id of the state's event."""

    id: str
    state: str
    ts: datetime
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "ts": self.ts.isoformat(),
            "message": self.message,
        }


@dataclass
class TaskRun:
    """A task called inside a flow run, with its latest state."""

    id: str
    flow_run_id: str
    task: str
    state: str
    started: datetime | None = None
    ended: datetime | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "flow_run_id": self.flow_run_id,
            "task": self.task,
            "state": self.state,
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "message": self.message,
        }


@dataclass
class LogRecord:
    """One line a run wrote; `seq` numbers a run's lines from 1 in the order they arrived.

    `stream` is "logger" (the run logger and captured prints), "stdout"/"stderr" (raw output
    of the process) or "evtui" (notes from the runner itself).
    """

    seq: int
    run_id: str
    ts: datetime
    level: str
    stream: str
    logger: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "run_id": self.run_id,
            "ts": self.ts.isoformat(),
            "level": self.level,
            "stream": self.stream,
            "logger": self.logger,
            "message": self.message,
        }
