"""Every automation as the TUI's Automations pane shows it: definition, live buckets, fire
count and a rate-cap pause, in one answer.

One function serves both the in-process TUI and `GET /api/automations/live`, so a TUI attached
with `--connect` sees exactly what a local one does (a rate-capped automation says why it is
paused, not merely "disabled") and pays one request per refresh, not one per automation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from evtui.engine import Engine


async def live_automations(engine: Engine) -> list[dict[str, Any]]:
    """Each automation's JSON plus `state` (bucket views), `fired` (count), `paused` (the
    rate cap's reason, or None) and `file` (the automation file that defines it, or None)."""
    counts = await engine.actions.firings.counts()
    return [
        automation.model_dump(mode="json")
        | {
            "state": [view.as_json() for view in engine.automation_service.state(automation.id)],
            "fired": counts.get(str(automation.id), 0),
            "paused": engine.actions.is_rate_capped(automation.id),
            "file": _file_of(engine, automation.id),
        }
        for automation in engine.automations.all()
    ]


def _file_of(engine: Engine, automation_id: UUID) -> str | None:
    origin = engine.automations.origin(automation_id)
    return origin.source if origin.is_file else None
