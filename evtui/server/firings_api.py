"""Automation firings over HTTP: what fired, on which event, and what each action did.

The TUI's Firings pane reads these (locally through the engine, remotely through this router),
so a firing looks the same either way: the stored firing's JSON plus its `actions`, each with
its state and result (a run id, a status code, or the reason it failed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from evtui.server.errors import http_error

if TYPE_CHECKING:
    from evtui.automations.firings import FiringRecord, FiringStore
    from evtui.engine import Engine

MAX_FIRINGS = 1000
"""The most firings one request returns."""


async def firing_json(firings: FiringStore, firing: FiringRecord) -> dict[str, Any]:
    """A firing with its actions, as the API and the TUI show it."""
    actions = await firings.actions_for_firing(firing.id)
    return {**firing.to_json(), "actions": [action.to_json() for action in actions]}


def firings_router(engine: Engine) -> APIRouter:
    """`GET /api/firings`, `/api/firings/counts` and `/api/firings/{id}`; the app adds auth."""
    router = APIRouter(prefix="/api/firings", tags=["automations"])

    @router.get("")
    async def list_firings(
        automation_id: UUID | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_FIRINGS)] = 200,
    ) -> list[dict[str, Any]]:
        """The newest firings first, of every automation or of one."""
        store = engine.actions.firings
        if automation_id is None:
            found = await store.recent(limit)
        else:
            found = await store.firings_for_automation(str(automation_id), limit=limit)
        return [await firing_json(store, firing) for firing in found]

    @router.get("/counts")
    async def firing_counts() -> dict[str, int]:
        """How many firings each automation has stored, by automation id."""
        return await engine.actions.firings.counts()

    @router.get("/{id}")
    async def read_firing(id: str) -> dict[str, Any]:
        """One firing with its actions; 404 if there is none with this id."""
        store = engine.actions.firings
        firing = await store.get_firing(id)
        if firing is None:
            raise http_error(404, f"no firing with id {id!r}", ["path", "id"])
        return await firing_json(store, firing)

    return router
