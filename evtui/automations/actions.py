"""The action runner: what happens when an automation fires (reference §2.10, §3.2).

`execute(firing)` only stores and queues the firing, so evaluation never waits for a flow to be
submitted or a webhook to answer. Each automation has its own queue, worked by one task at a
time, so an automation's firings act in the order they fired while different automations act
side by side.

For each firing, in order:
1. the firing is stored (`FiringStore`, before `execute` returns, so a restart finishes what a
   stop cut short: `start`), and counted against the rate cap; an automation over the cap is
   paused, says so (`evtui.automation.paused` and a warning), and the actions of its firings
   are recorded as skipped;
2. `evtui.automation.triggered` (or `resolved`) is emitted;
3. the actions run one after the other, as Prefect lists them: `actions`, then
   `actions_on_trigger` on Triggered (or `actions_on_resolve` on Resolved), numbered in that
   concatenation. In the last two lists, templates see the firing's own announcement as `event`,
   as in Prefect. Each action first claims its idempotency key (already claimed: skip, so a
   redelivered or replayed firing never acts twice), then emits `evtui.action.triggered`, does
   its work and emits `evtui.action.executed` or `evtui.action.failed` with the reason. A failing
   action never stops the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from evtui.automations.action_events import (
    action_event,
    firing_event,
    firing_event_id,
    paused_event,
)
from evtui.automations.action_kinds import ActionCall, ActionFailed, perform
from evtui.automations.firing import Firing
from evtui.automations.firings import FiringRecord, FiringStore, idempotency_key
from evtui.automations.rate_cap import RateCap
from evtui.events import Event, ReceivedEvent, now_utc

if TYPE_CHECKING:
    from evtui.engine import Engine

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0
"""How long `stop` lets queued firings finish before cancelling them (`start` finishes the
rest on the next start)."""
RESUME_WINDOW = timedelta(days=1)
"""How far back `start` looks for firings left unfinished: older ones are history."""


def actions_of(firing: Firing, announced: ReceivedEvent) -> list[tuple[Any, ReceivedEvent | None]]:
    """The firing's actions in Prefect's order, each with the event its templates see."""
    automation = firing.automation
    listed: list[tuple[Any, ReceivedEvent | None]] = [
        (action, firing.triggering_event) for action in automation.actions
    ]
    extra = (
        automation.actions_on_trigger
        if firing.state == "Triggered"
        else automation.actions_on_resolve
    )
    listed.extend((action, announced) for action in extra)
    return listed


class ActionRunner:
    """Runs the actions of firings, one queue per automation, off the evaluator's path."""

    def __init__(self, engine: Engine, *, rate_cap: RateCap | None = None) -> None:
        self.engine = engine
        self.firings = FiringStore(engine.store)
        self.rate_cap = rate_cap or RateCap()
        self._queues: dict[str, deque[tuple[Firing, bool]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._http: httpx.AsyncClient | None = None

    # -- entry points ---------------------------------------------------------------------

    async def start(self) -> None:
        """Finish what a previous process left: firings stored but not (fully) acted on.

        An action that was running when it stopped is not run again (it may have had its
        effect); its row is marked failed with the reason. Call before the evaluator starts.
        """
        interrupted = await self.firings.interrupt_running(now_utc())
        if interrupted:
            log.warning("%d actions were cut short when evtui last stopped", interrupted)
        for record, claimed in await self.firings.unfinished(now_utc() - RESUME_WINDOW):
            firing = await self._rebuild(record)
            if firing is not None and claimed < len(actions_of(firing, firing_event(firing))):
                self._enqueue(firing, False)

    async def execute(self, firing: Firing) -> None:
        """Store `firing` and queue it behind its automation's earlier firings.

        Returns once the firing is stored (so a restart finishes it, see `start`), without
        waiting for any action. A firing over the rate cap is queued to pause its automation.
        """
        is_new = await self.firings.record_firing(firing, str(firing_event_id(firing)))
        over_cap = is_new and self.rate_cap.record(str(firing.automation.id))
        self._enqueue(firing, over_cap)

    def _enqueue(self, firing: Firing, over_cap: bool) -> None:
        automation_id = str(firing.automation.id)
        self._queues.setdefault(automation_id, deque()).append((firing, over_cap))
        if automation_id not in self._workers:
            self._workers[automation_id] = asyncio.create_task(
                self._work(automation_id), name=f"evtui-actions-{automation_id}"
            )

    async def idle(self) -> None:
        """Wait until every queued firing has been acted on."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Let queued firings finish (for up to `grace` seconds), then cancel the rest."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), grace)
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._queues.clear()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def is_rate_capped(self, automation_id: object) -> str | None:
        """Why the rate cap paused this automation ("rate cap: N firings in M s"), or None.

        An automation enabled again since (by a user) is no longer capped.
        """
        key = str(automation_id)
        reason = self.rate_cap.capped(key)
        if reason is None:
            return None
        automation = self.engine.automations.get(uuid.UUID(key))
        if automation is not None and automation.enabled:
            self.rate_cap.release(key)
            return None
        return reason

    @property
    def http(self) -> httpx.AsyncClient:
        """The client webhook calls share (connection reuse); closed by `stop`."""
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

    # -- one automation's queue -----------------------------------------------------------

    async def _work(self, automation_id: str) -> None:
        queue = self._queues[automation_id]
        try:
            while queue:
                firing, over_cap = queue.popleft()
                try:
                    await self.act(firing, over_cap)
                except Exception:
                    log.exception("firing %s of automation %s failed", firing.id, automation_id)
        finally:
            del self._workers[automation_id]
            if not queue:
                self._queues.pop(automation_id, None)

    async def act(self, firing: Firing, over_cap: bool = False) -> None:
        """Announce and run one stored firing's actions, now (the queue calls this)."""
        announced = firing_event(firing)
        automation_id = str(firing.automation.id)
        if over_cap:
            await self._pause_for_rate_cap(firing)
        reason = self.is_rate_capped(automation_id)
        listed = actions_of(firing, announced)
        if reason is not None:
            await self._skip_all(firing, listed, reason)
            return
        await self.engine.ingest([announced])
        for index, (action, event) in enumerate(listed):
            await self._run_action(ActionCall(self, firing, announced, index, action, event))

    async def _run_action(self, call: ActionCall) -> None:
        firing = call.firing
        key = idempotency_key(firing.automation.id, firing.id, call.index)
        started = now_utc()
        if not await self.firings.claim_action(key, firing, call.index, call.type, started):
            log.info("action %s already ran; skipped", key)
            return
        triggered = self._action_event("triggered", call, call.announced.id, {"invocation": key})
        await self.engine.ingest([triggered])
        try:
            outcome = await perform(call)
        except ActionFailed as failure:
            state, details, targets = "failed", {**failure.details, "reason": failure.reason}, []
        except Exception as error:
            log.exception("action %s raised", key)
            state, details, targets = "failed", {"reason": f"{type(error).__name__}: {error}"}, []
        else:
            state, details, targets = "executed", outcome.details, outcome.targets
        result = self._action_event(state, call, triggered.id, details, targets)
        await self.engine.ingest([result])
        record = {**details, "triggered_event_id": str(triggered.id), "event_id": str(result.id)}
        await self.firings.finish_action(key, state, now_utc(), record)

    def _action_event(
        self,
        name: str,
        call: ActionCall,
        follows: uuid.UUID,
        details: dict[str, Any],
        targets: list[dict[str, str]] | None = None,
    ) -> Event:
        return action_event(
            name, call.firing, call.announced, call.index, call.type, follows, details, targets
        )

    # -- the rate cap ---------------------------------------------------------------------

    async def _rebuild(self, record: FiringRecord) -> Firing | None:
        """The firing as stored, with the automation as it is now (None: it was deleted)."""
        automation = self.engine.automations.get(uuid.UUID(record.automation_id))
        if automation is None:
            return None
        events: dict[str, ReceivedEvent] = {}
        for event_id in record.detail.get("triggering_event_ids", []):
            stored = await self.engine.store.get_event(event_id)
            if stored is not None:
                events[event_id] = stored.event
        return Firing(
            id=uuid.UUID(record.id),
            automation=automation,
            trigger_id=uuid.UUID(record.trigger_id),
            state=record.state,  # type: ignore[arg-type]
            occurred=record.occurred,
            triggering_event=events.get(record.triggering_event_id or ""),
            triggering_events=list(events.values()),
            triggering_labels=record.detail.get("triggering_labels", {}),
            bucket_key=record.detail.get("bucket_key", ""),
            count=record.detail.get("count", 0),
            replay=record.detail.get("replay", False),
        )

    async def _pause_for_rate_cap(self, firing: Firing) -> None:
        automation = firing.automation
        reason = self.rate_cap.reason
        log.warning("automation %r (%s) paused: %s", automation.name, automation.id, reason)
        try:
            await self.engine.automations.set_enabled(automation.id, False)
        except Exception as error:
            log.error("could not pause automation %s: %s", automation.id, error)
        self.rate_cap.paused(str(automation.id))
        await self.engine.ingest([paused_event(automation, reason, firing)])

    async def _skip_all(
        self, firing: Firing, listed: list[tuple[Any, ReceivedEvent | None]], reason: str
    ) -> None:
        """Record every action of a capped automation's firing as skipped, with the reason."""
        moment = now_utc()
        for index, (action, _event) in enumerate(listed):
            key = idempotency_key(firing.automation.id, firing.id, index)
            await self.firings.claim_action(
                key, firing, index, action.type, moment, "skipped", {"reason": reason}
            )
