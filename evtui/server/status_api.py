"""Health, the version Prefect clients check, and the engine's counters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

if TYPE_CHECKING:
    from fastapi.params import Depends

    from evtui.engine import Engine

PREFECT_API_VERSION = "3.99.0"
"""What `GET /api/admin/version` reports. Prefect's clients call it before they connect: they
refuse a server whose *major* version differs from theirs and warn ("please upgrade your Prefect
server") when it is older than they are, so evtui claims a minor above any Prefect 3 release."""


def health_router() -> APIRouter:
    """Open to everyone, with or without an API key (load balancers and `evtui` probe it)."""
    router = APIRouter(tags=["status"])

    @router.get("/api/health")
    async def health() -> bool:
        return True

    return router


def status_router(engine: Engine, auth: Depends) -> APIRouter:
    router = APIRouter(tags=["status"], dependencies=[auth])

    @router.get("/api/admin/version")
    async def version() -> str:
        """The Prefect API version evtui speaks (Prefect clients compare the major part)."""
        return PREFECT_API_VERSION

    @router.get("/api/stats")
    async def stats() -> dict[str, Any]:
        """Accepted, duplicate, rejected and overloaded counts, write lag, subscriber lag."""
        return engine.stats()

    return router
