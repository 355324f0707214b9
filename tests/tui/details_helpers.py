"""A real causal chain for the detail screen tests, made once per module by a real engine.

file.created (stored by ingest) → automation "load csv" fires → its run-flow action runs
`load` in a child process → `load` logs at every level, runs a task and emits table.loaded →
automation "report" fires → its run-flow action runs `report`. A third automation never
matches, so explain has a reason to give; "audit" also fires on file.created (doing nothing),
so going forward from that event means choosing between two firings. `chatty` is there to be
started while a test watches.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_helpers import RETENTION_DAYS, make_event

from evtui.automations.models import AutomationCreate
from evtui.engine import Engine
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.screens.routes import DetailRoutes
from tests.polling import until as poll

FLOWS = """
import time

from evtui import emit_event, flow, get_run_logger, task


@task
def count_rows(path: str) -> int:
    return len(path)


@flow
def load(path: str) -> None:
    logger = get_run_logger()
    logger.info("loading %s", path)
    logger.warning("slow disk")
    rows = count_rows(path)
    logger.error("bad row %d", rows)
    emit_event("table.loaded", resource={"prefect.resource.id": f"table.{path}"}, payload={})


@flow
def report() -> None:
    get_run_logger().info("report written")


@flow
def chatty(lines: int = 5, pause: float = 0.05) -> None:
    logger = get_run_logger()
    for i in range(lines):
        logger.info("line %d", i)
        time.sleep(pause)
"""

AUTOMATIONS: list[dict[str, Any]] = [
    {
        "name": "load csv",
        "trigger": {"type": "event", "posture": "Reactive", "expect": ["file.created"]},
        "actions": [
            {
                "type": "run-flow",
                "flow": "load",
                "parameters": {"path": "{{ event.resource['prefect.resource.name'] }}"},
            }
        ],
    },
    {
        "name": "report",
        "trigger": {"type": "event", "posture": "Reactive", "expect": ["table.loaded"]},
        "actions": [{"type": "run-flow", "flow": "report"}],
    },
    {
        "name": "audit",
        "trigger": {"type": "event", "posture": "Reactive", "expect": ["file.created"]},
        "actions": [{"type": "do-nothing"}],
    },
    {
        "name": "never",
        "trigger": {"type": "event", "posture": "Reactive", "expect": ["nothing.happens"]},
        "actions": [{"type": "do-nothing"}],
    },
]


@dataclass
class Chain:
    """The ids along the chain, as a user would find them."""

    settings: Settings
    event: str
    firing: str
    run: str
    emitted: str
    second_firing: str
    second_run: str


class DetailsApp(EvtuiApp, DetailRoutes):
    """The app with the detail routes mixed in (in this order it stays valid once `EvtuiApp`
    mixes them in itself)."""


async def make_chain(folder: Path) -> Chain:
    flows = folder / "flows"
    flows.mkdir(parents=True)
    (flows / "demo.py").write_text(FLOWS)
    automations = folder / "automations"
    automations.mkdir()
    settings = Settings(
        db=folder / "e.db",
        port=0,
        flows=[flows],
        automations=[automations],
        retention_days=RETENTION_DAYS,
    )
    async with Engine(settings, serve_http=False) as engine:
        for body in AUTOMATIONS:
            await engine.automations.create(AutomationCreate.model_validate(body))
        cause = make_event(0)
        await engine.ingest([cause])
        runs = engine.runner.runs

        async def both_final() -> list[Any] | None:
            found = await runs.list_runs(limit=10)
            return found if len(found) == 2 and all(r.is_final for r in found) else None

        second, first = await poll(both_final, timeout=60, what="both runs to finish")
        assert (first.flow, second.flow, first.state) == ("load", "report", "Completed")
        emitted = second.cause.event_id
        assert emitted is not None
        firings = await engine.actions.firings.firings_for_event(str(cause.id))
        [firing] = [f for f in firings if f.detail["automation_name"] == "load csv"]
        [second_firing] = await engine.actions.firings.firings_for_event(emitted)
        return Chain(
            settings,
            str(cause.id),
            firing.id,
            first.id,
            emitted,
            second_firing.id,
            second.id,
        )


def chain_in(folder: Path) -> Chain:
    return asyncio.run(make_chain(folder))
