"""What the TUI reads and does, as one interface: `TuiSource`, and `LocalSource` over an engine.

The app talks to evtui only through `app.source`, so attaching to a remote `evtui serve`
(a `RemoteSource` over HTTP and websockets) replaces `LocalSource(engine)` without touching a
screen. Every answer is plain JSON-able data shaped like the HTTP API's (runs as
`FlowRun.to_json()`, automations as `Automation.model_dump(mode="json")`, firings as
`FiringRecord.to_json()`), events as `StoredEvent` (their `seq` orders the stream), which keeps
the remote version a thin mapping of routes. A refusal raises `SourceError` with the field and
the reason, as the API's `{"detail": [{"loc", "msg"}]}` does.

`LocalSource` is a thin layer of engine calls; it never imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from evtui.automations.backtest import backtest
from evtui.automations.explain import EventNotFound, explain
from evtui.automations.live import live_automations
from evtui.automations.models import AutomationCreate
from evtui.automations.replay import replay_of
from evtui.automations.store import AutomationNotFound, InvalidAutomation, template_errors
from evtui.events import Event, FieldError, field_errors
from evtui.filters import EventFilter, OccurredFilter
from evtui.flows.errors import RunAlreadyFinished, RunNotFound, UnknownFlow
from evtui.flows.log_follower import LogFollower
from evtui.flows.records import RunCause
from evtui.lineage import lineage
from evtui.server.firings_api import firing_json
from evtui.store.counting import Countable
from evtui.store.rows import StoredEvent

if TYPE_CHECKING:
    from evtui.engine import Engine

Json = dict[str, Any]

SUBSCRIBER_NAME = "tui"
"""The TUI's name on the engine's bus (the status bar sums drops over subscribers)."""


class SourceError(Exception):
    """A refusal the user can act on: each problem names the field (`loc`) and the reason."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems

    @classmethod
    def one(cls, loc: list[str | int], msg: str) -> SourceError:
        return cls([FieldError(loc=loc, msg=msg)])


class TuiSource(Protocol):
    """Everything the TUI needs from evtui; see the module docstring for the data shapes."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def stats(self) -> Json: ...
    @property
    def api_url(self) -> str: ...
    def subscribe_events(self) -> AsyncIterator[list[StoredEvent]]: ...
    async def latest_events(self, limit: int) -> list[StoredEvent]: ...
    async def get_event(self, id: str) -> StoredEvent | None: ...
    async def event_counts(self, countable: str, since: datetime) -> list[Json]: ...
    async def explain(self, event_id: str) -> list[Json]: ...
    async def replay(self, event_id: str) -> Json: ...
    async def emit(self, event: Json) -> Json: ...
    async def automations(self) -> list[Json]: ...
    async def set_enabled(self, id: str, enabled: bool) -> None: ...
    async def delete_automation(self, id: str) -> None: ...
    async def save_automation(self, definition: Json, id: str | None = None) -> Json: ...
    async def backtest(self, definition: Json, start: datetime, end: datetime) -> Json: ...
    async def firings(self, limit: int = 200) -> list[Json]: ...
    async def firing(self, id: str) -> Json: ...
    async def runs(self, limit: int = 200) -> list[Json]: ...
    async def run(self, id: str) -> Json: ...
    async def logs(self, run_id: str, after: int = 0) -> list[Json]: ...
    def follow_logs(self, run_id: str) -> AsyncIterator[list[Json]]: ...
    async def lineage(self, run_id: str) -> Json: ...
    async def flows(self) -> list[Json]: ...
    async def start_run(self, flow: str, parameters: Json) -> Json: ...
    async def cancel_run(self, id: str) -> Json: ...
    async def rerun(self, id: str) -> Json: ...


@contextlib.contextmanager
def refusals(loc: list[str | int]) -> Any:
    """The engine's refusals (unknown run, flow, automation, a finished run) as `SourceError`."""
    errors = (RunNotFound, RunAlreadyFinished, UnknownFlow, AutomationNotFound, EventNotFound)
    try:
        yield
    except errors as error:
        raise SourceError.one(loc, str(error)) from None
    except InvalidAutomation as error:
        raise SourceError(error.errors) from None


def automation_id(id: str) -> UUID:
    try:
        return UUID(str(id))
    except ValueError:
        raise SourceError.one(["id"], f"not an automation id: {id!r}") from None


def automation_spec(definition: Json) -> AutomationCreate:
    """A definition as the API's create body, or the fields that make it invalid."""
    try:
        spec = AutomationCreate.model_validate(definition)
    except ValidationError as error:
        raise SourceError(field_errors(error)) from None
    errors = template_errors(spec)
    if errors:
        raise SourceError(errors)
    return spec


class LocalSource:
    """`TuiSource` over an engine in this process; the app starts and stops it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- life cycle and stream ------------------------------------------------------------

    async def start(self) -> None:
        await self.engine.start()

    async def stop(self) -> None:
        await self.engine.stop()

    def stats(self) -> Json:
        return self.engine.stats()

    @property
    def api_url(self) -> str:
        return self.engine.api_url

    async def subscribe_events(self) -> AsyncIterator[list[StoredEvent]]:
        """Committed batches from now on; a reader that falls behind skips ahead (counted as
        drops in `stats()`)."""
        with self.engine.subscribe(SUBSCRIBER_NAME) as subscription:
            async for batch in subscription.batches():
                yield batch

    # -- events ---------------------------------------------------------------------------

    async def latest_events(self, limit: int) -> list[StoredEvent]:
        return await self.engine.store.latest(limit)

    async def get_event(self, id: str) -> StoredEvent | None:
        return await self.engine.store.get_event(str(id))

    async def event_counts(self, countable: str, since: datetime) -> list[Json]:
        """Events since `since` counted per `event` name or per `resource`, most first, as
        `POST /api/events/count-by/{countable}` answers (the editor completes from them)."""
        filter = EventFilter(occurred=OccurredFilter(since=since))
        try:
            counts = await self.engine.store.count_by(Countable(countable), filter)
        except ValueError:
            raise SourceError.one(["countable"], f"cannot count by {countable!r}") from None
        return [count.model_dump(mode="json") for count in counts]

    async def explain(self, event_id: str) -> list[Json]:
        with refusals(["event_id"]):
            answers = await explain(self.engine, str(event_id))
        return to_jsonable_python(answers)  # type: ignore[no-any-return]

    async def replay(self, event_id: str) -> Json:
        """A new copy of the event through today's automations; returns the copy."""
        stored = await self.engine.store.get_event(str(event_id))
        if stored is None:
            raise SourceError.one(["event_id"], f"no stored event {event_id}")
        copy = replay_of(stored.event)
        await self.engine.ingest([copy])
        return copy.model_dump(mode="json")

    async def emit(self, event: Json) -> Json:
        try:
            parsed = Event.model_validate(event)
        except ValidationError as error:
            raise SourceError(field_errors(error)) from None
        await self.engine.ingest([parsed])
        return parsed.model_dump(mode="json")

    # -- automations and firings ----------------------------------------------------------

    async def automations(self) -> list[Json]:
        """Each automation with its live buckets, fire count, rate-cap pause and file."""
        return await live_automations(self.engine)

    async def set_enabled(self, id: str, enabled: bool) -> None:
        with refusals(["id"]):
            await self.engine.automations.set_enabled(automation_id(id), enabled)

    async def delete_automation(self, id: str) -> None:
        with refusals(["id"]):
            await self.engine.automations.delete(automation_id(id))

    async def save_automation(self, definition: Json, id: str | None = None) -> Json:
        """Create (no `id`) or replace an automation; problems name fields of `definition`."""
        spec = automation_spec(definition)
        store = self.engine.automations
        with refusals(["id"]):
            if id is None:
                saved = await store.create(spec)
            else:
                saved = await store.update(automation_id(id), spec)
        return saved.model_dump(mode="json")

    async def backtest(self, definition: Json, start: datetime, end: datetime) -> Json:
        """What a draft would have done over the stored events in `[start, end)`."""
        if end < start:
            raise SourceError.one(["end"], "end is before start")
        result = await backtest(self.engine, automation_spec(definition), start, end)
        return to_jsonable_python(result)  # type: ignore[no-any-return]

    async def firings(self, limit: int = 200) -> list[Json]:
        """The newest firings first, each with what its actions did."""
        from evtui.server.firings_api import firing_json

        store = self.engine.actions.firings
        return [await firing_json(store, record) for record in await store.recent(limit)]

    async def firing(self, id: str) -> Json:
        """One firing with its actions (`GET /api/firings/{id}`); unknown ids are refused."""
        store = self.engine.actions.firings
        record = await store.get_firing(str(id))
        if record is None:
            raise SourceError.one(["id"], f"no firing with id {id!r}")
        return await firing_json(store, record)

    # -- flows and runs -------------------------------------------------------------------

    async def flows(self) -> list[Json]:
        return [info.to_json() for info in self.engine.registry.flows()]

    async def runs(self, limit: int = 200) -> list[Json]:
        return [run.to_json() for run in await self.engine.runner.runs.list_runs(limit=limit)]

    async def run(self, id: str) -> Json:
        """One run with its task runs and its state history, oldest state first."""
        store = self.engine.runner.runs
        run = await store.get_run(str(id))
        if run is None:
            raise SourceError.one(["id"], f"no flow run with id {id!r}")
        return run.to_json() | {
            "task_runs": [task.to_json() for task in await store.task_runs(run.id)],
            "states": [state.to_json() for state in await store.states(run.id)],
        }

    async def logs(self, run_id: str, after: int = 0) -> list[Json]:
        return [line.to_json() for line in await self.engine.runner.runs.logs(run_id, after)]

    async def follow_logs(self, run_id: str) -> AsyncIterator[list[Json]]:
        """Stored lines, then live ones as they come, in batches; ends once the run is final.

        The log follower does the ordering; lines it hands over while the reader is busy are
        gathered into the next batch, so a chatty run costs one batch per wake-up, not per line.
        """
        queue: asyncio.Queue[Json | None] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for item in LogFollower(self.engine.runner, str(run_id), 0):
                    if item["type"] == "log":
                        queue.put_nowait({k: v for k, v in item.items() if k != "type"})
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(pump(), name=f"evtui-tui-logs-{run_id}")
        try:
            while True:
                first = await queue.get()
                if first is None:
                    return
                batch = [first]
                while not queue.empty():
                    item = queue.get_nowait()
                    if item is None:
                        yield batch
                        return
                    batch.append(item)
                yield batch
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def lineage(self, run_id: str) -> Json:
        with refusals(["run_id"]):
            chain = await lineage(self.engine, str(run_id))
        return chain.to_json()

    async def start_run(self, flow: str, parameters: Json) -> Json:
        """Start a run now (cause `manual`); an unknown flow is refused on `flow`."""
        with refusals(["flow"]):
            run = await self.engine.runner.submit(flow, dict(parameters), RunCause(kind="manual"))
        return run.to_json()

    async def cancel_run(self, id: str) -> Json:
        with refusals(["id"]):
            run = await self.engine.runner.cancel(str(id))
        return run.to_json()

    async def rerun(self, id: str) -> Json:
        with refusals(["id"]):
            run = await self.engine.runner.rerun(str(id))
        return run.to_json()
