"""Automations over HTTP: Prefect 3's REST paths, plus evtui's backtest, explain, state and replay.

The Prefect routes keep Prefect's paths, bodies and status codes (reference §2.1), so
Prefect's client and `prefect automation ...` work against evtui: `POST /api/automations/`
(201 + the automation), `PUT` / `PATCH {"enabled"}` / `DELETE /api/automations/{id}` (204),
`POST .../filter` and `.../count`, `GET .../{id}` and `.../related-to/{resource_id}`, and
`POST /api/templates/validate` (204, or 422 `{"error": {"line", "message", "source"}}`).
Collection paths answer with and without the trailing slash (Prefect's client posts to
`/automations/`; a redirect would turn its POST into a lost request).

evtui adds:
- `POST /api/automations/test`: a backtest of a saved (`automation_id`) or draft
  (`automation`) automation over the stored events between `start` and `end`, no side effects;
- `GET /api/automations/{id}/state`: the live buckets of its triggers;
- `GET /api/events/{id}/explain`: for each automation, what this event did to it, or why not;
- `POST /api/events/{id}/replay`: the event again, as a new event (`evtui.automations.replay`).

Every refusal has the app's shape, `{"detail": [{"loc": [...], "msg": "..."}]}`, naming the
field (`body.actions.0.parameters.path`) and the reason, with the template line when it is one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException

from evtui.automations import templating
from evtui.automations.backtest import backtest
from evtui.automations.explain import EventNotFound, explain
from evtui.automations.filters import AutomationQuery
from evtui.automations.live import live_automations
from evtui.automations.models import Automation, AutomationCreate
from evtui.automations.replay import replay_of
from evtui.automations.store import (
    AutomationNotFound,
    AutomationStore,
    InvalidAutomation,
    related_resource_ids,
    template_errors,
)
from evtui.events import UtcDatetime, now_utc
from evtui.server.errors import http_error

if TYPE_CHECKING:
    from evtui.engine import Engine


class AutomationPartialUpdate(BaseModel):
    """The body of `PATCH /api/automations/{id}`: Prefect's, pause or resume only."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool


class BacktestRequest(BaseModel):
    """The body of `POST /api/automations/test`: one automation and a time range."""

    model_config = ConfigDict(extra="forbid")
    automation_id: UUID | None = Field(None, description="a saved automation")
    automation: AutomationCreate | None = Field(None, description="a draft, as POSTed to create")
    start: UtcDatetime = Field(description="first moment of the range (events' `occurred`)")
    end: UtcDatetime | None = Field(None, description="last moment of the range; default now")

    @model_validator(mode="after")
    def _one_automation(self) -> BacktestRequest:
        if (self.automation_id is None) == (self.automation is None):
            raise ValueError("give either automation_id (a saved automation) or automation")
        return self


def _store(engine: Engine) -> AutomationStore:
    return engine.automations  # type: ignore[attr-defined, no-any-return]


def _invalid(error: InvalidAutomation, prefix: str = "body") -> HTTPException:
    head = prefix.split(".")
    return HTTPException(422, detail=[{"loc": [*head, *e.loc], "msg": e.msg} for e in error.errors])


def _not_found(automation_id: UUID) -> HTTPException:
    return http_error(404, f"no automation {automation_id}", ["path", "id"])


async def _no_content(automation_id: UUID, change: Awaitable[Automation]) -> Response:
    """Await a change to a stored automation: 204, or 404 / 422 saying why not."""
    try:
        await change
    except AutomationNotFound:
        raise _not_found(automation_id) from None
    except InvalidAutomation as error:
        raise _invalid(error) from None
    return Response(status_code=204)


def _json(automation: Automation) -> dict[str, Any]:
    return automation.model_dump(mode="json")


def automations_router(engine: Engine) -> APIRouter:
    """Prefect's automation routes and evtui's additions; include with the API-key dependency."""
    router = APIRouter(prefix="/api", tags=["automations"])

    def find(automation_id: UUID) -> Automation:
        automation = _store(engine).get(automation_id)
        if automation is None:
            raise _not_found(automation_id)
        return automation

    async def create_automation(automation: AutomationCreate) -> JSONResponse:
        """Save a new automation (new id and trigger ids); 201 with it, 422 naming the field."""
        try:
            created = await _store(engine).create(automation)
        except InvalidAutomation as error:
            raise _invalid(error) from None
        return JSONResponse(_json(created), status_code=201)

    for path in ("/automations/", "/automations"):
        router.add_api_route(
            path,
            create_automation,
            methods=["POST"],
            status_code=201,
            response_model=None,
            include_in_schema=path.endswith("/"),
        )

    @router.put("/automations/{id:uuid}", status_code=204)
    async def update_automation(id: UUID, automation: AutomationCreate) -> Response:
        """Replace the whole definition (trigger ids are regenerated); 204, 404, 422."""
        return await _no_content(id, _store(engine).update(id, automation))

    @router.patch("/automations/{id:uuid}", status_code=204)
    async def patch_automation(id: UUID, patch: AutomationPartialUpdate) -> Response:
        """Pause (`{"enabled": false}`) or resume; the automation is validated again."""
        return await _no_content(id, _store(engine).set_enabled(id, patch.enabled))

    @router.delete("/automations/{id:uuid}", status_code=204)
    async def delete_automation(id: UUID) -> Response:
        return await _no_content(id, _store(engine).delete(id))

    @router.get("/automations/{id:uuid}")
    async def read_automation(id: UUID) -> dict[str, Any]:
        return _json(find(id))

    @router.post("/automations/filter")
    async def read_automations(
        query: Annotated[AutomationQuery | None, Body()] = None,
    ) -> list[dict[str, Any]]:
        """Prefect's filter body: `sort`, `limit`, `offset`, `automations` (name, created, tags)."""
        chosen = (query or AutomationQuery()).apply(_store(engine).all())
        return [_json(automation) for automation in chosen]

    @router.post("/automations/count")
    async def count_automations() -> int:
        return len(_store(engine).all())

    @router.get("/automations/related-to/{resource_id:path}")
    async def read_related(resource_id: str) -> list[dict[str, Any]]:
        """Automations whose actions act on the resource (`evtui.flow.<name>`, an automation)."""
        return [
            _json(automation)
            for automation in _store(engine).all()
            if resource_id in related_resource_ids(automation)
        ]

    @router.delete("/automations/owned-by/{resource_id:path}", status_code=202)
    async def delete_owned(resource_id: str) -> Response:
        """Delete the automations a resource owns (`owner_resource`), as a redeploy does."""
        before = now_utc()
        for automation in _store(engine).all():
            if automation.owner_resource == resource_id and automation.created < before:
                with contextlib.suppress(AutomationNotFound):  # deleted meanwhile
                    await _store(engine).delete(automation.id)
        return Response(status_code=202)

    async def validate_template(template: Annotated[str, Body()] = "") -> Response:
        """Compile a Jinja template: 204 if it would render, else Prefect's 422 error body."""
        problems = templating.check(template)
        if not problems:
            return Response(status_code=204)
        problem = problems[0]
        error = {"line": problem.line, "message": problem.message, "source": template}
        return JSONResponse({"error": error}, status_code=422)

    for path in ("/templates/validate", "/automations/templates/validate"):
        router.add_api_route(
            path,
            validate_template,
            methods=["POST"],
            response_class=Response,
            include_in_schema=path.startswith("/templates"),
        )

    @router.post("/automations/test")
    async def test_automation(request: BacktestRequest) -> Any:
        """What the automation would have done over the stored events in the range."""
        automation: Automation | AutomationCreate
        if request.automation_id is not None:
            automation = find(request.automation_id)
        else:
            assert request.automation is not None
            automation = request.automation
            errors = template_errors(automation)
            if errors:
                raise _invalid(InvalidAutomation(errors), "body.automation")
        end = request.end or now_utc()
        if end < request.start:
            raise http_error(422, "end is before start", ["body", "end"])
        return jsonable_encoder(await backtest(engine, automation, request.start, end))

    @router.get("/automations/live")
    async def live() -> list[dict[str, Any]]:
        """Every automation with its live buckets, fire count and rate-cap pause (the TUI's
        Automations pane in one request)."""
        return await live_automations(engine)

    @router.get("/automations/{id:uuid}/state")
    async def automation_state(id: UUID) -> list[Any]:
        """The live buckets: key, count of threshold, window start and end, time left."""
        find(id)
        views = engine.automation_service.state(id)  # type: ignore[attr-defined]
        return [view.as_json() for view in views]

    @router.get("/events/{id}/explain")
    async def explain_event(id: UUID) -> Any:
        """For every automation: what this event caused, or the first reason it did not fire."""
        try:
            return jsonable_encoder(await explain(engine, str(id)))
        except EventNotFound:
            raise http_error(404, f"no stored event {id}", ["path", "id"]) from None

    @router.post("/events/{id}/replay", status_code=201)
    async def replay_event(id: UUID) -> dict[str, Any]:
        """Store a copy of the event (new id, `follows` the original) for today's automations."""
        stored = await engine.store.get_event(str(id))
        if stored is None:
            raise http_error(404, f"no stored event {id}", ["path", "id"])
        replay = replay_of(stored.event)
        await engine.ingest([replay])
        return replay.model_dump(mode="json")

    return router
