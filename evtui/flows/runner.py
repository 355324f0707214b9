"""The runner: every flow run in its own child process, its life recorded as states and events.

A run is Scheduled when submitted, waits for a concurrency slot (FIFO, global and per flow),
goes Pending when a child process gets it and Running when the child reaches the user's
function. It ends Completed or Failed as the child reports, TimedOut when the runner kills it
for overrunning, Cancelled when asked (SIGTERM, then SIGKILL after a grace period), or Crashed
when the child died on its own or evtui stopped. A failed or timed-out attempt with retries
left goes AwaitingRetry, then Retrying in a fresh child after the flow's delay.

Every state is a row in the run store and an `evtui.flow-run.<State>` event. Those writes are
queued per run (`Journal`) and never awaited on the way to starting the child: the run message
goes to a spare child first, the commits follow, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from evtui.events import Event, now_utc, uuid7
from evtui.flows.errors import RunAlreadyFinished, RunNotFound, UnknownFlow
from evtui.flows.journal import Journal
from evtui.flows.logs import LogSink, LogSubscription
from evtui.flows.names import run_name
from evtui.flows.pool import Child, ChildPool, ChildStartError, output_lines
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
from evtui.flows.records import FINAL_STATES, FlowRun, RunCause, StateRecord, TaskRun
from evtui.flows.run_events import flow_run_state_event
from evtui.flows.slots import ConcurrencySlots
from evtui.flows.tasks import TaskTracker
from evtui.store.runs import RunStore

if TYPE_CHECKING:
    from pathlib import Path

    from evtui.engine import Engine

log = logging.getLogger(__name__)

CANCEL_GRACE_SECONDS = 5.0
"""Time a cancelled child gets between SIGTERM and SIGKILL."""
DRAIN_SECONDS = 2.0
"""Time to read what an exited child left in its pipes (a grandchild may hold them open)."""
WAITING_MESSAGE = "waiting for a concurrency slot"
STOPPED_MESSAGE = "evtui stopped while this run was in flight"

__all__ = ["RunCause", "Runner"]


class FlowInfoLike(Protocol):
    """What the runner needs to know of a flow (the registry's `FlowInfo`)."""

    name: str
    file: Path
    retries: int
    retry_delay_seconds: float | list[float]
    timeout_seconds: float | None


class FlowSource(Protocol):
    def get(self, name: str) -> FlowInfoLike | None: ...


@dataclass
class _Outcome:
    """How an attempt ended; `retry` when another attempt may succeed."""

    state: str
    message: str | None
    retry: bool = False


@dataclass
class _Active:
    """A run this runner is responsible for, from submit to its final state."""

    run: FlowRun
    info: FlowInfoLike
    journal: Journal
    slot: asyncio.Future[None]
    interrupt: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """Resolved with "cancel" or "stop" when the run must end early."""
    interrupt_handled: asyncio.Event = field(default_factory=asyncio.Event)
    last_state: StateRecord | None = None
    done: Done | None = None
    tasks: TaskTracker = field(default_factory=TaskTracker)
    driver: asyncio.Task[None] | None = None


def retry_delay(delays: float | list[float], attempt: int) -> float:
    """The delay before the attempt after `attempt`: a list gives one per retry (last repeats)."""
    if isinstance(delays, list):
        return float(delays[min(attempt, len(delays)) - 1]) if delays else 0.0
    return float(delays)


def exit_description(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the flow process was killed by {name}"
    return f"the flow process exited with code {code} before the run finished"


class Runner:
    """Runs flows in child processes; the engine's door to flow runs."""

    def __init__(
        self,
        engine: Engine,
        registry: FlowSource,
        *,
        cancel_grace: float = CANCEL_GRACE_SECONDS,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.cancel_grace = cancel_grace
        settings = engine.settings
        self.runs = RunStore(engine.store)
        self.logs = LogSink(self.runs, settings.log_lines_per_run)
        self.slots = ConcurrencySlots(settings.max_concurrent_runs, settings.flow_concurrency)
        self.pool = ChildPool(settings.spare_children)
        self._active: dict[str, _Active] = {}
        self._stopping = False

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Close the books on runs a previous process left in flight, then get spares ready."""
        self._stopping = False
        self.logs.start()
        self.pool.start()
        for run in await self.runs.unfinished_runs():
            history = await self.runs.states(run.id)
            last = history[-1] if history else None
            record = _enter(run, "Crashed", STOPPED_MESSAGE)
            await self._persist(run, record, last)

    async def stop(self) -> None:
        """Kill every child, mark its run (and every queued run) Crashed, reap everything."""
        self._stopping = True
        active = list(self._active.values())
        for run in active:
            _interrupt(run, "stop")
        await asyncio.gather(*(run.driver for run in active if run.driver), return_exceptions=True)
        await self.pool.stop()
        await self.logs.stop()

    # -- requests -------------------------------------------------------------------------

    async def submit(self, flow: str, parameters: dict[str, Any], cause: RunCause) -> FlowRun:
        """Accept a run of `flow`; returns once its Scheduled state is stored.

        Raises `UnknownFlow` for a flow the registry does not know.
        """
        if self._stopping:
            raise RuntimeError("the runner is stopping; no new runs are accepted")
        info = self.registry.get(flow)
        if info is None:
            raise UnknownFlow(flow)
        created = now_utc()
        run = FlowRun(
            id=str(uuid7()),
            name=run_name(),
            flow=info.name,
            parameters=dict(parameters),
            state="Scheduled",
            state_message=None,
            cause=cause,
            created=created,
            retries=info.retries,
        )
        slot = self.slots.request(info.name)
        active = _Active(run, info, Journal(run.id), slot)
        self._active[run.id] = active
        self.logs.open_run(run.id)
        scheduled = self._change(active, "Scheduled", None if slot.done() else WAITING_MESSAGE)
        active.driver = asyncio.create_task(self._drive(active), name=f"evtui-run-{run.id}")
        with contextlib.suppress(Exception):  # a failed write is logged by the journal
            await asyncio.shield(scheduled)
        return replace(active.run)

    async def cancel(self, run_id: str) -> FlowRun:
        """Cancel a queued or running run; returns it once the cancel has taken effect
        (Cancelled for a queued run, Cancelling for a running one)."""
        active = self._active.get(run_id)
        if active is None:
            run = await self.runs.get_run(run_id)
            if run is None:
                raise RunNotFound(run_id)
            if not run.is_final:  # not in flight here: nothing to stop, only the books to close
                history = await self.runs.states(run_id)
                previous = history[-1] if history else None
                await self._persist(run, _enter(run, "Cancelled", None), previous)
                return run
            raise RunAlreadyFinished(run_id, run.state)
        if active.run.is_final:
            raise RunAlreadyFinished(run_id, active.run.state)
        _interrupt(active, "cancel")
        await active.interrupt_handled.wait()
        return replace(active.run)

    async def rerun(self, run_id: str) -> FlowRun:
        """A new run of the same flow with the same parameters."""
        active = self._active.get(run_id)
        run = active.run if active else await self.runs.get_run(run_id)
        if run is None:
            raise RunNotFound(run_id)
        return await self.submit(run.flow, run.parameters, RunCause("rerun", rerun_of=run.id))

    def subscribe_logs(self, run_id: str | None) -> LogSubscription:
        """Live log lines of one run in flight (or of all runs, with None)."""
        return self.logs.subscribe(run_id)

    def active_runs(self) -> list[FlowRun]:
        """Runs queued or executing now, as they are this moment."""
        return [replace(active.run) for active in self._active.values()]

    # -- one run --------------------------------------------------------------------------

    async def _drive(self, active: _Active) -> None:
        run = active.run
        try:
            while True:
                outcome = await self._attempt(active)
                if outcome.retry and run.attempt <= run.retries:
                    delay = retry_delay(active.info.retry_delay_seconds, run.attempt)
                    self._change(
                        active,
                        "AwaitingRetry",
                        f"{outcome.message}; retry {run.attempt} of {run.retries} in {delay:g} s",
                    )
                    if await self._until(active, asyncio.sleep(delay)):
                        active.slot = self.slots.request(run.flow)
                        continue
                    outcome = self._interrupted(active)
                self._change(active, outcome.state, outcome.message)
                break
        except Exception as error:
            log.exception("flow run %s failed in the runner", run.id)
            self._change(active, "Crashed", f"the runner failed: {error}")
        finally:
            active.interrupt_handled.set()
            await active.journal.close()
            self.logs.finish_run(run.id)
            del self._active[run.id]

    async def _attempt(self, active: _Active) -> _Outcome:
        """One child process for the run, from waiting for a slot to the child's exit."""
        try:
            if not await self._until(active, active.slot):
                return self._interrupted(active)
            return await self._in_child(active)
        finally:
            self.slots.withdraw(active.run.flow, active.slot)

    async def _in_child(self, active: _Active) -> _Outcome:
        taking = asyncio.ensure_future(self.pool.take())
        try:
            if not await self._until(active, taking):
                return self._interrupted(active)
            child = taking.result()
        except ChildStartError as error:
            return _Outcome("Crashed", str(error))
        try:
            return await self._supervise(active, child)
        finally:
            await child.destroy()

    async def _supervise(self, active: _Active, child: Child) -> _Outcome:
        """Give the child the run, follow it until it exits (or kill it), then judge."""
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
                api_url=self.engine.api_url,
            )
        )
        self._change(active, "Pending" if run.attempt == 1 else "Retrying", None)
        pipes = (("stdout", child.process.stdout), ("stderr", child.process.stderr))
        readers = [
            asyncio.create_task(self._converse(active, child)),
            *(
                asyncio.create_task(self._pipe_logs(run.id, stream, pipe))
                for stream, pipe in pipes
                if pipe is not None
            ),
        ]
        exited = asyncio.ensure_future(child.wait())
        try:
            await asyncio.wait(
                {exited, active.interrupt},
                timeout=info.timeout_seconds,
                return_when="FIRST_COMPLETED",
            )
            finished = active.done  # a run that reported before it was killed keeps its report
            killed_for = None
            if not exited.done():
                killed_for = active.interrupt.result() if active.interrupt.done() else "timeout"
                await self._kill(active, child, exited, killed_for)
        finally:
            await _drain(readers)
        if killed_for is None:
            finished = active.done
        return self._outcome(finished, killed_for, child.process.returncode, info.timeout_seconds)

    async def _kill(
        self, active: _Active, child: Child, exited: asyncio.Future[int], reason: str
    ) -> None:
        if reason == "cancel":
            self._change(active, "Cancelling", "cancel requested: stopping the flow process")
            active.interrupt_handled.set()
            child.signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(exited), self.cancel_grace)
        elif reason == "timeout":
            self._note(active, f"timed out after {active.info.timeout_seconds:g} s; killing it")
        child.signal(signal.SIGKILL)
        await exited

    def _outcome(
        self, done: Done | None, killed_for: str | None, code: int | None, timeout: float | None
    ) -> _Outcome:
        if done is not None:
            return _Outcome(
                done.state, done.message, retry=done.state == "Failed" and done.retryable
            )
        if killed_for == "timeout":
            return _Outcome("TimedOut", f"timed out after {timeout:g} s", retry=True)
        if killed_for == "cancel":
            return _Outcome("Cancelled", "cancelled while running")
        if killed_for == "stop":
            return _Outcome("Crashed", STOPPED_MESSAGE)
        return _Outcome("Crashed", exit_description(code if code is not None else -9))

    def _interrupted(self, active: _Active) -> _Outcome:
        """The outcome of a run interrupted while it waited (for a slot, a child, a retry)."""
        if active.interrupt.result() == "cancel":
            return _Outcome("Cancelled", "cancelled before it ran")
        return _Outcome("Crashed", STOPPED_MESSAGE)

    async def _until(self, active: _Active, waiting: Awaitable[Any]) -> bool:
        """Wait for `waiting` unless the run is interrupted first (then False)."""
        future = asyncio.ensure_future(waiting)
        await asyncio.wait({future, active.interrupt}, return_when="FIRST_COMPLETED")
        if future.done():
            return True
        future.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await future
        return False

    # -- what the child says ----------------------------------------------------------------

    async def _converse(self, active: _Active, child: Child) -> None:
        """Read the channel until the child closes it, acting on each message in order."""
        run = active.run
        while line := await child.read_message():
            try:
                message = parse_child_message(line)
            except ValidationError as error:
                await self._refuse(active, child, line, error)
                continue
            if isinstance(message, Log):
                self.logs.add(
                    run.id,
                    message.message,
                    level=message.level,
                    stream=message.stream,
                    logger=message.logger,
                    ts=message.ts,
                )
            elif isinstance(message, Running):
                self._change(active, "Running", None, message.ts)
            elif isinstance(message, TaskUpdate):
                task, event = active.tasks.update(run, message)
                active.journal.put(lambda task=task, event=event: self._persist_task(task, event))
            elif isinstance(message, EmittedEvent):
                error_text = await self._ingest_emitted(active, message.event)
                await child.send(Ack(id=message.event.id, error=error_text))
            elif isinstance(message, Done):
                active.done = message

    async def _ingest_emitted(self, active: _Active, event: Event) -> str | None:
        """Store an event the flow emitted, after the run's earlier states; None or the error."""
        try:
            await active.journal.put(lambda: self.engine.ingest([event]))
        except Exception as error:
            return str(error) or type(error).__name__
        return None

    async def _refuse(
        self, active: _Active, child: Child, line: bytes, error: ValidationError
    ) -> None:
        """A message that does not parse: an event gets an error ack, anything else a note."""
        reason = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        event_id = _event_id_in(line)
        if event_id is not None:
            await child.send(Ack(id=event_id, error=f"invalid event: {reason}"))
        else:
            self._note(active, f"unreadable message from the flow process ({reason})", "WARNING")

    async def _pipe_logs(self, run_id: str, stream: str, pipe: asyncio.StreamReader) -> None:
        level = "INFO" if stream == "stdout" else "ERROR"
        async for line in output_lines(pipe):
            self.logs.add(run_id, line, level=level, stream=stream, logger=stream)

    # -- states ---------------------------------------------------------------------------

    def _change(
        self, active: _Active, state: str, message: str | None, ts: datetime | None = None
    ) -> asyncio.Future[None]:
        """Move the run to `state` now; its row and event are written in order, later."""
        previous = active.last_state
        record = _enter(active.run, state, message, ts)
        active.last_state = record
        snapshot = replace(active.run)
        if message and state != "Scheduled":
            self._note(active, f"{state}: {message}", "ERROR" if state in FINAL_STATES else "INFO")
        if state in FINAL_STATES:  # a finished run's lines are all stored
            active.journal.put(self.logs.flush)
        return active.journal.put(lambda: self._persist(snapshot, record, previous))

    async def _persist(
        self, run: FlowRun, record: StateRecord, previous: StateRecord | None
    ) -> None:
        await self.runs.record_state(run, record)
        follows = previous.id if previous else run.cause.event_id
        event = flow_run_state_event(run, record, previous.state if previous else None, follows)
        await self.engine.ingest([event])

    async def _persist_task(self, task: TaskRun, event: Event) -> None:
        await self.runs.record_task(task)
        await self.engine.ingest([event])

    def _note(self, active: _Active, message: str, level: str = "INFO") -> None:
        self.logs.add(active.run.id, message, level=level, stream="evtui", logger="evtui.runner")


def _enter(
    run: FlowRun, state: str, message: str | None, ts: datetime | None = None
) -> StateRecord:
    """Put `run` in `state` (in memory) and return the new state's record."""
    ts = ts or now_utc()
    run.state, run.state_message = state, message
    if state == "Running" and run.started is None:
        run.started = ts
    if state in FINAL_STATES:
        run.ended = ts
    return StateRecord(str(uuid7()), state, ts, message)


def _interrupt(active: _Active, reason: str) -> None:
    if not active.interrupt.done():
        active.interrupt.set_result(reason)


async def _drain(readers: list[asyncio.Task[None]]) -> None:
    """Let the readers finish what the child left in its pipes, within `DRAIN_SECONDS`."""
    _, late = await asyncio.wait(readers, timeout=DRAIN_SECONDS)
    for reader in late:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


def _event_id_in(line: bytes) -> uuid.UUID | None:
    """The id of the event in an `event` message that failed validation, if it has one."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        message = json.loads(line)
        if message.get("op") == "event":
            return uuid.UUID(str(message["event"]["id"]))
    return None
