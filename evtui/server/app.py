"""The ASGI application: Prefect-compatible events API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from evtui.events import EventList, SingleEvent, field_errors

if TYPE_CHECKING:
    from evtui.engine import Engine


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(title="evtui")

    @app.get("/api/health")
    async def health() -> bool:
        return True

    @app.post("/api/events", status_code=204)
    async def post_events(request: Request) -> Response:
        body = await request.body()
        try:
            stripped = body.lstrip()
            events = (
                EventList.validate_json(body)
                if stripped.startswith(b"[")
                else [SingleEvent.validate_json(body)]
            )
        except ValidationError as error:
            return JSONResponse(
                {"detail": [e.model_dump() for e in field_errors(error, ["body"])]}, 422
            )
        await engine.ingest(events)
        return Response(status_code=204)

    return app
