"""An engine with an `AutomationService` the test controls, and the firings it hands over."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from evtui.automations.firing import Firing
from evtui.automations.models import AutomationCreate
from evtui.automations.service import AutomationService
from evtui.automations.store import AutomationStore
from evtui.engine import Engine
from evtui.events import Event
from evtui.settings import Settings

T = TypeVar("T")
DEADLINE = 15.0


@dataclass
class Running:
    engine: Engine
    service: AutomationService
    fired: list[Firing] = field(default_factory=list)


async def eventually(check: Callable[[], T], what: str) -> T:
    deadline = time.monotonic() + DEADLINE
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
    return result


@contextlib.asynccontextmanager
async def running(db: Path, *, start_service: bool = True) -> AsyncIterator[Running]:
    """An engine on `db` whose automations this test's service evaluates.

    Until the engine owns an `AutomationStore` and a service of its own, the store is attached
    here; an engine service, once wired, is stopped so that only the test's one runs.
    """
    engine = Engine(Settings(db=db, port=0), serve_http=False)
    await engine.start()
    try:
        if getattr(engine, "automation_service", None) is not None:
            await engine.automation_service.stop()
        if getattr(engine, "automations", None) is None:
            engine.automations = AutomationStore(engine)  # type: ignore[attr-defined]
            await engine.automations.load()
        fired: list[Firing] = []

        async def on_firing(firing: Firing) -> None:
            fired.append(firing)

        service = AutomationService(engine, on_firing, tick=0.05)
        if start_service:
            await service.start()
        try:
            yield Running(engine, service, fired)
        finally:
            await service.stop()
    finally:
        await engine.stop()


def caught_up(run: Running) -> bool:
    """The service has evaluated every committed event."""
    return run.service.cursor >= run.engine.bus.head


async def create(engine: Engine, **document: Any) -> Any:
    spec = AutomationCreate.model_validate({"actions": [], **document})
    return await engine.automations.create(spec)  # type: ignore[attr-defined]


def file_event(name: str, event: str = "file.created", **fields: Any) -> Event:
    return Event(
        event=event,
        resource={"prefect.resource.id": f"evtui.file.{name}", "evtui.file.name": name},
        **fields,
    )
