"""The ASGI application: Prefect 3's events API, plus evtui's status endpoints.

Each room of the API lives in its own module; this one wires them to one engine and one API
key. With a key configured every endpoint except `GET /api/health` and the webhooks
(`/hooks/{slug}`, which check their own signatures) requires it: REST routes by
the `Authorization` header (a FastAPI dependency), websockets by Prefect's auth message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI

from evtui.server.auth import ApiKey
from evtui.server.automations_api import automations_router
from evtui.server.errors import install_error_handlers
from evtui.server.firings_api import firings_router
from evtui.server.hooks_api import hooks_router, webhooks_api_router
from evtui.server.ingest_api import add_ingest_route
from evtui.server.query_api import query_router
from evtui.server.runs_api import runs_router
from evtui.server.status_api import health_router, status_router
from evtui.server.websocket_in import EventsIn
from evtui.server.websocket_out import EventsOut

if TYPE_CHECKING:
    from evtui.engine import Engine


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(
        title="evtui",
        description="Prefect 3 compatible events API: point `PREFECT_API_URL` here.",
    )
    api_key = ApiKey(engine.settings.api_key)
    auth = Depends(api_key.dependency())
    install_error_handlers(app)
    app.include_router(health_router())
    app.include_router(status_router(engine, auth))
    add_ingest_route(app, engine, api_key)
    app.include_router(query_router(engine), dependencies=[auth])
    app.include_router(runs_router(engine), dependencies=[auth])
    app.include_router(webhooks_api_router(engine), dependencies=[auth])
    app.include_router(automations_router(engine), dependencies=[auth])
    app.include_router(firings_router(engine), dependencies=[auth])
    app.include_router(hooks_router(engine))
    app.router.add_websocket_route("/api/events/in", EventsIn(engine, api_key))
    app.router.add_websocket_route("/api/events/out", EventsOut(engine, api_key).serve)
    return app
