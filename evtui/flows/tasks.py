"""Task runs inside a flow run: each `task` message from the child becomes a state change.

The tracker keeps each task run's latest state in memory, so every state event can name the
one it follows; the runner writes the results in the run's order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from evtui.events import Event, uuid7
from evtui.flows.protocol import TaskUpdate
from evtui.flows.records import TASK_FINAL_STATES, FlowRun, StateRecord, TaskRun
from evtui.flows.run_events import task_run_state_event


@dataclass
class TaskTracker:
    """One flow run's task runs and the last state record of each."""

    tasks: dict[str, tuple[TaskRun, StateRecord]] = field(default_factory=dict)

    def update(self, run: FlowRun, message: TaskUpdate) -> tuple[TaskRun, Event]:
        """Apply a task message; returns the task run as it is now and its state event."""
        task_id = str(message.task_run_id)
        known = self.tasks.get(task_id)
        task = known[0] if known else TaskRun(task_id, run.id, message.task, message.state)
        previous = known[1] if known else None
        task.state, task.message = message.state, message.message
        if message.state == "Running" and task.started is None:
            task.started = message.ts
        if message.state in TASK_FINAL_STATES:
            task.ended = message.ts
        record = StateRecord(str(uuid7()), message.state, message.ts, message.message)
        self.tasks[task_id] = (task, record)
        event = task_run_state_event(
            task,
            run,
            record,
            previous.state if previous else None,
            previous.id if previous else None,
        )
        return replace(task), event
