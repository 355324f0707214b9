"""The flow and run API: start runs, list and inspect them, cancel, rerun, read and follow logs.

Every route is a thin call into the engine's registry (`engine.registry`) and runner
(`engine.runner`); nothing here knows about subprocesses. Runs started here record the cause
kind `api`. Errors have the app's one shape, `{"detail": [{"loc": [...], "msg": "..."}]}`.

Live logs are an NDJSON stream (`GET /api/flow-runs/{id}/logs/stream`): one JSON object per
line, `{"type": "log", ...record}` for each log line (the stored ones first, then live ones, in
`seq` order with none repeated), and a last `{"type": "end", "run": {...}}` once the run is in a
final state. Any HTTP client can follow it line by line; no websocket handshake is needed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from evtui.flows.errors import RunAlreadyFinished, RunNotFound, UnknownFlow
from evtui.flows.log_follower import LogFollower
from evtui.flows.records import STATE_TYPES, RunCause
from evtui.lineage import lineage
from evtui.server.errors import http_error

if TYPE_CHECKING:
    from evtui.engine import Engine
    from evtui.flows.records import FlowRun

MAX_PAGE = 500
"""The most runs or log lines one request returns."""


class FlowRunCreate(BaseModel):
    """The body of `POST /api/flow-runs`."""

    model_config = ConfigDict(extra="forbid")

    flow: str = Field(min_length=1, description="name of a flow the registry knows")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments, checked against the flow's signature"
    )


def not_found(run_id: str) -> HTTPException:
    return http_error(404, f"no flow run with id {run_id!r}", ["path", "id"])


@contextlib.contextmanager
def refusals(run_id: str) -> Iterator[None]:
    """The runner's refusals as HTTP errors on the run id of the path."""
    try:
        yield
    except RunNotFound:
        raise not_found(run_id) from None
    except (RunAlreadyFinished, UnknownFlow) as error:  # a rerun of a flow since removed
        raise http_error(409, str(error), ["path", "id"]) from None


def runs_router(engine: Engine) -> APIRouter:
    """Routes over `engine.registry` and `engine.runner`; the app adds the API-key dependency."""
    router = APIRouter(prefix="/api", tags=["flow runs"])

    async def known_run(run_id: str) -> FlowRun:
        run = await engine.runner.runs.get_run(run_id)
        if run is None:
            raise not_found(run_id)
        return run

    @router.get("/flows")
    async def list_flows() -> dict[str, Any]:
        """The flow folders, every flow found in them with its parameter schema, and the
        files that failed to load with their error."""
        registry = engine.registry
        errors = [{"file": str(path), "error": text} for path, text in registry.errors().items()]
        return {
            "folders": [str(folder) for folder in registry.dirs],
            "flows": [info.to_json() for info in registry.flows()],
            "errors": sorted(errors, key=lambda e: e["file"]),
        }

    @router.post("/flow-runs", status_code=201)
    async def create_run(body: FlowRunCreate) -> dict[str, Any]:
        """Start a run of a flow now (it queues when a concurrency limit is reached)."""
        try:
            run = await engine.runner.submit(body.flow, body.parameters, RunCause(kind="api"))
        except UnknownFlow as error:
            raise http_error(404, str(error), ["body", "flow"]) from None
        return run.to_json()

    @router.get("/flow-runs")
    async def list_runs(
        flow: str | None = None,
        state: Annotated[list[str] | None, Query(description="repeat for several states")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        """Runs, newest first, optionally of one flow and in given states."""
        for name in state or ():
            if name not in STATE_TYPES:
                raise http_error(
                    422,
                    f"unknown state {name!r}; one of {', '.join(STATE_TYPES)}",
                    ["query", "state"],
                )
        runs = await engine.runner.runs.list_runs(
            flow=flow, states=state or None, limit=limit, offset=offset
        )
        return [run.to_json() for run in runs]

    @router.get("/flow-runs/{id}")
    async def read_run(id: str) -> dict[str, Any]:
        """One run with its task runs and its state history, oldest state first."""
        run = await known_run(id)
        store = engine.runner.runs
        return run.to_json() | {
            "task_runs": [t.to_json() for t in await store.task_runs(run.id)],
            "states": [s.to_json() for s in await store.states(run.id)],
        }

    @router.get("/flow-runs/{id}/logs")
    async def read_logs(
        id: str,
        after: Annotated[int, Query(ge=0, description="only lines with a greater seq")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    ) -> list[dict[str, Any]]:
        """Stored log lines of a run in order; page with `after` = the last `seq` seen."""
        run = await known_run(id)
        return [line.to_json() for line in await engine.runner.runs.logs(run.id, after, limit)]

    @router.get("/flow-runs/{id}/logs/stream", response_class=StreamingResponse)
    async def stream_logs(
        id: str, after: Annotated[int, Query(ge=0, description="start after this seq")] = 0
    ) -> StreamingResponse:
        """NDJSON: stored lines, then live ones, then `{"type": "end", "run": ...}`."""
        run = await known_run(id)
        return StreamingResponse(
            _ndjson(LogFollower(engine.runner, run.id, after)), media_type="application/x-ndjson"
        )

    @router.post("/flow-runs/{id}/cancel")
    async def cancel_run(id: str) -> dict[str, Any]:
        """Ask a queued or running run to stop (terminate, then kill)."""
        with refusals(id):
            run = await engine.runner.cancel(id)
        return run.to_json()

    @router.post("/flow-runs/{id}/rerun", status_code=201)
    async def rerun(id: str) -> dict[str, Any]:
        """A new run of the same flow with the same parameters (cause kind `rerun`)."""
        with refusals(id):
            run = await engine.runner.rerun(id)
        return run.to_json()

    @router.get("/flow-runs/{id}/lineage")
    async def read_lineage(id: str) -> dict[str, Any]:
        """The events and runs that led to this run, and those that followed from it
        (shape documented in `evtui.lineage`)."""
        with refusals(id):
            chain = await lineage(engine, id)
        return chain.to_json()

    return router


async def _ndjson(items: AsyncIterable[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for item in items:
        yield (json.dumps(item, separators=(",", ":")) + "\n").encode()
