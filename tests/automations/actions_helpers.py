"""What the action runner tests share: an engine with flows and automations, firings built by
hand (no evaluator), a real HTTP server for webhooks, and polling with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import uvicorn
from polling import until
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from evtui.automations.actions import ActionRunner
from evtui.automations.firing import Firing
from evtui.automations.firings import ActionRecord
from evtui.automations.models import Automation, AutomationCreate
from evtui.automations.rate_cap import RateCap
from evtui.automations.store import AutomationStore
from evtui.engine import Engine
from evtui.events import Event, ReceivedEvent, now_utc
from evtui.filters import EventFilter
from evtui.settings import Settings

FLOWS = """
import json
from pathlib import Path

from evtui import flow


@flow
def record(out: str, value=None, count: int = 0):
    partial = Path(out + ".partial")
    partial.write_text(json.dumps({"value": value, "count": count}))
    partial.replace(out)
    return count


@flow
def hold(release: str):
    import time
    while not Path(release).exists():
        time.sleep(0.02)
"""

NEVER = {"type": "event", "expect": ["test.never-emitted"], "posture": "Reactive"}
"""A trigger no test event matches, so an evaluator wired into the engine never fires it:
these tests build their firings by hand."""


def write_flows(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "action_flows.py").write_text(FLOWS)
    return folder


@contextlib.asynccontextmanager
async def engine_with_flows(tmp_path: Path) -> AsyncIterator[Engine]:
    """A started engine on a fresh file, with the flows above and an automation store."""
    settings = Settings(db=tmp_path / "e.db", port=0, flows=[write_flows(tmp_path / "flows")])
    async with Engine(settings, serve_http=False) as engine:
        if getattr(engine, "automations", None) is None:
            engine.automations = AutomationStore(engine)
            await engine.automations.load()
        yield engine


def action_runner(engine: Engine, limit: int = 500, seconds: float = 60.0) -> ActionRunner:
    return ActionRunner(engine, rate_cap=RateCap(limit, seconds))


@dataclass
class Acting:
    """An engine with flows and the action runner under test, with a test's usual steps."""

    engine: Engine
    runner: ActionRunner
    out: Path
    """Where the `record` flow writes its parameters (`record_action`)."""

    async def automation(self, actions: list[dict[str, Any]], **fields: Any) -> Automation:
        return await automation(self.engine, actions, **fields)

    async def event(self, name: str = "file.created", **fields: Any) -> ReceivedEvent:
        return await stored_event(self.engine, name, **fields)

    async def fire(self, *firings: Firing) -> None:
        """Hand the firings to the runner and wait until it has acted on all of them."""
        for firing in firings:
            await self.runner.execute(firing)
        await self.runner.idle()

    async def events(self, *prefixes: str) -> list[ReceivedEvent]:
        return await events_named(self.engine, *prefixes)

    async def actions(self, firing: Firing) -> list[ActionRecord]:
        return await self.runner.firings.actions_for_firing(str(firing.id))

    def record_action(self, **parameters: Any) -> dict[str, Any]:
        """A `run-flow` action of the `record` flow, which writes its parameters to `out`."""
        parameters = {"out": str(self.out), **parameters}
        return {"type": "run-flow", "flow": "record", "parameters": parameters}

    async def recorded(self) -> Any:
        """What the `record` flow wrote, once it has."""
        return await until(json_file(self.out))


@pytest.fixture(name="acting")
async def acting_fixture(tmp_path: Path) -> AsyncIterator[Acting]:
    """Import it into a test module as `acting_fixture`; tests ask for `acting`."""
    async with engine_with_flows(tmp_path) as engine:
        runner = action_runner(engine)
        yield Acting(engine, runner, tmp_path / "out.json")
        await runner.stop()


async def automation(engine: Engine, actions: list[dict[str, Any]], **fields: Any) -> Automation:
    spec = {"name": "test automation", "trigger": NEVER, "actions": actions, **fields}
    return await engine.automations.create(AutomationCreate.model_validate(spec))


async def stored_event(engine: Engine, name: str = "file.created", **fields: Any) -> ReceivedEvent:
    """An event ingested into the store, as a triggering event is."""
    fields.setdefault("resource", {"prefect.resource.id": "file.inbox.a.csv"})
    event = Event(event=name, **fields).receive()
    await engine.ingest([event])
    return event


def firing_of(
    automation: Automation,
    event: ReceivedEvent | None,
    state: str = "Triggered",
    firing_id: UUID | None = None,
    labels: dict[str, str] | None = None,
) -> Firing:
    return Firing(
        id=firing_id or uuid4(),
        automation=automation,
        trigger_id=automation.trigger.id,
        state=state,  # type: ignore[arg-type]
        occurred=now_utc(),
        triggering_event=event,
        triggering_events=[event] if event is not None else [],
        triggering_labels=labels or {},
        bucket_key="[]",
        count=1,
    )


async def events_named(engine: Engine, *prefixes: str) -> list[ReceivedEvent]:
    """Stored events whose names start with one of `prefixes`, in commit order."""
    query = EventFilter.model_validate(
        {"event": {"prefix": list(prefixes)}, "occurred": {"since": "2000-01-01T00:00:00Z"}}
    )
    found, _ = await engine.store.query_events(query, limit=1000)
    return [stored.event for stored in sorted(found, key=lambda stored: stored.seq)]


def json_file(path: Path) -> Callable[[], Awaitable[Any]]:
    async def read() -> Any:
        return json.loads(path.read_text()) if path.exists() else None

    return read


@dataclass
class HookServer:
    """A real HTTP server on 127.0.0.1 that records what webhooks send it."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        """Let `/slow` answer (every request waiting there, and every one after)."""
        self.released.set()


@contextlib.asynccontextmanager
async def hook_server() -> AsyncIterator[HookServer]:
    """`/ok` answers 200 with JSON, `/fail` 500 with a long body, `/slow` only once released."""
    hooks = HookServer(url="")

    async def record(request: Request) -> dict[str, Any]:
        body = await request.body()
        entry = {
            "method": request.method,
            "path": request.url.path,
            "query": str(request.url.query),
            "headers": dict(request.headers),
            "body": body.decode(),
        }
        hooks.received.append(entry)
        return entry

    async def ok(request: Request) -> Response:
        entry = await record(request)
        return JSONResponse({"got": entry["body"]})

    async def fail(request: Request) -> Response:
        await record(request)
        return PlainTextResponse("boom " * 500, status_code=500)

    async def slow(request: Request) -> Response:
        await record(request)
        await hooks.released.wait()
        return PlainTextResponse("late")

    app = Starlette(
        routes=[
            Route("/ok", ok, methods=["GET", "POST", "PUT"]),
            Route("/fail", fail, methods=["POST"]),
            Route("/slow", slow, methods=["POST"]),
        ]
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await until(lambda: _started(server), timeout=10)
        port = server.servers[0].sockets[0].getsockname()[1]
        hooks.url = f"http://127.0.0.1:{port}"
        yield hooks
    finally:
        hooks.release()
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started
