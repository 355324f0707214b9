"""The runner: every flow run in its own child process, its life recorded as states and events.

A run is Scheduled when submitted, waits for a concurrency slot (FIFO, global and per flow),
goes Pending when a child process gets it and Running when the child reaches the user's
function. It ends Completed or Failed as the child reports; TimedOut when the runner kills it
for overrunning (the flow's `timeout_seconds`, counted from the moment the child got the run);
Cancelled when asked (SIGTERM, then SIGKILL after a grace period); or Crashed when the child
died on its own or evtui stopped. A failed or timed-out attempt with retries left goes
AwaitingRetry, then Retrying in a fresh child after the flow's delay.

Every state is a row in the run store and an `evtui.flow-run.<State>` event. Those writes are
queued per run (`Journal`) and never awaited on the way to starting the child: the run message
goes to a spare child first, the commits follow, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from evtui.events import Event, now_utc, uuid7
from evtui.flows.attempt import (
    STOPPED_MESSAGE,
    ActiveRun,
    ChildAttempt,
    FlowInfoLike,
    Outcome,
)
from evtui.flows.errors import RunAlreadyFinished, RunNotFound, UnknownFlow
from evtui.flows.journal import Journal
from evtui.flows.logs import LogSink, LogSubscription
from evtui.flows.names import run_name
from evtui.flows.pool import ChildPool, ChildStartError
from evtui.flows.records import FINAL_STATES, FlowRun, RunCause, StateRecord, TaskRun
from evtui.flows.run_events import flow_run_state_event
from evtui.flows.slots import ConcurrencySlots
from evtui.store.runs import RunStore

if TYPE_CHECKING:
    from evtui.engine import Engine

log = logging.getLogger(__name__)

CANCEL_GRACE_SECONDS = 5.0
"""Time a cancelled child gets between SIGTERM and SIGKILL."""
WAITING_MESSAGE = "waiting for a concurrency slot"

__all__ = ["STOPPED_MESSAGE", "RunCause", "Runner"]


class FlowSource(Protocol):
    """Where the runner looks flows up: the registry."""

    def get(self, name: str) -> FlowInfoLike | None: ...


def retry_delay(delays: float | list[float], attempt: int) -> float:
    """The delay before the attempt after `attempt`: a list gives one per retry (last repeats)."""
    if isinstance(delays, list):
        return float(delays[min(attempt, len(delays)) - 1]) if delays else 0.0
    return float(delays)


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
        self._active: dict[str, ActiveRun] = {}
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
        active = ActiveRun(run, info, Journal(run.id), slot)
        self._active[run.id] = active
        self.logs.open_run(run.id)
        scheduled = self.change(active, "Scheduled", None if slot.done() else WAITING_MESSAGE)
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

    async def _drive(self, active: ActiveRun) -> None:
        run = active.run
        try:
            while True:
                outcome = await self._attempt(active)
                if outcome.retry and run.attempt <= run.retries:
                    delay = retry_delay(active.info.retry_delay_seconds, run.attempt)
                    self.change(
                        active,
                        "AwaitingRetry",
                        f"{outcome.message}; retry {run.attempt} of {run.retries} in {delay:g} s",
                    )
                    if await self._until(active, asyncio.sleep(delay)):
                        active.slot = self.slots.request(run.flow)
                        continue
                    outcome = self._interrupted(active)
                self.change(active, outcome.state, outcome.message)
                break
        except Exception as error:
            log.exception("flow run %s failed in the runner", run.id)
            self.change(active, "Crashed", f"the runner failed: {error}")
        finally:
            active.interrupt_handled.set()
            await active.journal.close()
            self.logs.finish_run(run.id)
            del self._active[run.id]

    async def _attempt(self, active: ActiveRun) -> Outcome:
        """One child process for the run, from waiting for a slot to the child's exit."""
        try:
            if not await self._until(active, active.slot):
                return self._interrupted(active)
            return await self._in_child(active)
        finally:
            self.slots.withdraw(active.run.flow, active.slot)

    async def _in_child(self, active: ActiveRun) -> Outcome:
        taking = asyncio.ensure_future(self.pool.take())
        interrupted = not await self._until(active, taking)
        if interrupted and (taking.cancelled() or taking.exception() is not None):
            return self._interrupted(active)
        try:
            child = taking.result()
        except ChildStartError as error:
            return Outcome("Crashed", str(error))
        if interrupted:  # the child came just as the run was interrupted
            await child.destroy()
            return self._interrupted(active)
        try:
            return await ChildAttempt(self, active, child).run()
        finally:
            await child.destroy()

    def _interrupted(self, active: ActiveRun) -> Outcome:
        """The outcome of a run interrupted while it waited (for a slot, a child, a retry)."""
        if active.interrupt.result() == "cancel":
            waited = "to retry" if active.run.attempt else "to start"
            return Outcome("Cancelled", f"cancelled while waiting {waited}")
        return Outcome("Crashed", STOPPED_MESSAGE)

    async def _until(self, active: ActiveRun, waiting: Awaitable[Any]) -> bool:
        """Wait for `waiting` unless the run is interrupted first (then False)."""
        future = asyncio.ensure_future(waiting)
        await asyncio.wait({future, active.interrupt}, return_when="FIRST_COMPLETED")
        if future.done():
            return True
        future.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await future
        return False

    # -- states (also what `ChildAttempt` reports through) ----------------------------------

    def change(
        self, active: ActiveRun, state: str, message: str | None, ts: datetime | None = None
    ) -> asyncio.Future[None]:
        """Move the run to `state` now; its row and event are written in order, later."""
        previous = active.last_state
        record = _enter(active.run, state, message, ts)
        active.last_state = record
        snapshot = replace(active.run)
        if message and state != "Scheduled":
            self.note(active, f"{state}: {message}", "ERROR" if state in FINAL_STATES else "INFO")
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

    async def persist_task(self, task: TaskRun, event: Event) -> None:
        await self.runs.record_task(task)
        await self.engine.ingest([event])

    def note(self, active: ActiveRun, message: str, level: str = "INFO") -> None:
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


def _interrupt(active: ActiveRun, reason: str) -> None:
    if not active.interrupt.done():
        active.interrupt.set_result(reason)
