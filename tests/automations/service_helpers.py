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
    """An engine on `db` whose automation service hands its firings to this test.

    The test's service takes the engine's place before the engine starts, so it also sees
    what the engine does at start-up (catching up, sweeping ended windows). Without
    `start_service` the engine runs no service at all: the test drives evaluation itself.
    """
    engine = Engine(Settings(db=db, port=0), serve_http=False)
    fired: list[Firing] = []

    async def on_firing(firing: Firing) -> None:
        fired.append(firing)

    service = AutomationService(engine, on_firing, tick=0.05)
    engine.automation_service = service
    await engine.start()
    try:
        if not start_service:
            await service.stop()
        yield Running(engine, service, fired)
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
