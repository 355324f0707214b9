"""What the store, folder, API and CLI tests share: a sample automation and polling."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from evtui.automations.models import AutomationCreate
from evtui.engine import Engine

T = TypeVar("T")
DEADLINE = 15.0

CSV: dict[str, Any] = {
    "name": "csv to warehouse",
    "trigger": {
        "type": "event",
        "posture": "Reactive",
        "expect": ["file.created"],
        "match": {"evtui.file.name": "*.csv"},
    },
    "actions": [
        {
            "type": "run-flow",
            "flow": "process_new_file",
            "parameters": {"path": "{{ event.resource['evtui.file.path'] }}"},
        }
    ],
}
"""The canonical scenario's automation, as a user writes it."""


def spec(**changes: Any) -> AutomationCreate:
    return AutomationCreate.model_validate({**CSV, **changes})


async def eventually(check: Callable[[], T | Awaitable[T]], what: str) -> T:
    """Poll `check()` (sync or async) until it returns something truthy; fail naming `what`
    at the deadline."""
    deadline = time.monotonic() + DEADLINE
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def change_events(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    """The `evtui.automation.created|updated|deleted` events stored, oldest first."""
    stored = await engine.store.latest(limit=1000)
    return [
        (s.event.event, s.event.payload)
        for s in stored
        if s.event.event.rsplit(".", 1)[-1] in ("created", "updated", "deleted")
        and s.event.event.startswith("evtui.automation.")
    ]
