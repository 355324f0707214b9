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

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from evtui.flows.errors import RunAlreadyFinished, RunNotFound, UnknownFlow
from evtui.flows.records import STATE_TYPES, RunCause
from evtui.lineage import lineage
from evtui.server.errors import http_error

if TYPE_CHECKING:
    from evtui.engine import Engine
    from evtui.flows.records import FlowRun, LogRecord

MAX_PAGE = 500
"""The most runs or log lines one request returns."""
STREAM_PAGE = 1000
"""Stored log lines read per query while a stream catches up."""
FINAL_CHECK_SECONDS = 0.5
"""How often a quiet log stream checks whether its run has finished."""
RESUBSCRIBE_SECONDS = 0.05
"""Pause before subscribing again to a run that is not in flight (queued, or ending)."""
GAP_WAIT_SECONDS = 2.0
"""How long a stream waits for lines the runner numbered but has not stored yet (it stores
them within a tenth of a second)."""
GAP_POLL_SECONDS = 0.02


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
            _ndjson(LogFollower(engine, run.id, after)), media_type="application/x-ndjson"
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


class LogFollower:
    """Stored lines of one run from a `seq` on, then live ones, until the run is final.

    Each (re)subscription opens before the store is read, so a line is live, stored, or
    waiting in the runner's next log batch; `seq` (1, 2, 3... per run) tells which lines were
    already sent, and a live line past a hole makes the follower read the hole from the store
    first (waiting briefly for that batch). A subscription is over at once while the run is
    not in flight (still queued, or ending): the follower then reads the store and subscribes
    again shortly. The runner stores all of a run's lines before its final state, so once the
    run is final one more read of the store completes the stream.
    """

    def __init__(self, engine: Engine, run_id: str, after: int) -> None:
        self.runner = engine.runner
        self.run_id = run_id
        self.last = after
        """The `seq` of the last line sent."""

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        subscription = self.runner.subscribe_logs(self.run_id)
        try:
            async for item in self._stored():
                yield item
            while True:
                try:
                    batch: list[LogRecord] | None = await asyncio.wait_for(
                        subscription.next_batch(), FINAL_CHECK_SECONDS
                    )
                except TimeoutError:
                    batch = None
                if batch:
                    async for item in self._live(batch):
                        yield item
                    continue
                run = await self.runner.runs.get_run(self.run_id)
                if run is None or run.is_final:
                    async for item in self._stored():
                        yield item
                    yield {"type": "end", "run": run.to_json() if run else None}
                    return
                if batch is not None:
                    subscription.close()
                    await asyncio.sleep(RESUBSCRIBE_SECONDS)
                    subscription = self.runner.subscribe_logs(self.run_id)
                    async for item in self._stored():
                        yield item
        finally:
            subscription.close()

    def _sent(self, line: LogRecord) -> dict[str, Any]:
        self.last = line.seq
        return {"type": "log"} | line.to_json()

    async def _live(self, batch: list[LogRecord]) -> AsyncIterator[dict[str, Any]]:
        for line in batch:
            if line.seq <= self.last:
                continue
            if line.seq > self.last + 1:
                async for item in self._stored(before=line.seq):
                    yield item
            yield self._sent(line)

    async def _stored(self, before: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """Stored lines after `last`; with `before`, only those below it, waiting up to
        `GAP_WAIT_SECONDS` for lines the runner has numbered but not yet written (lines a
        long run has already trimmed never come: the wait ends there)."""
        deadline = time.monotonic() + GAP_WAIT_SECONDS
        while before is None or self.last < before - 1:
            page = await self.runner.runs.logs(self.run_id, self.last, STREAM_PAGE)
            lines = [line for line in page if before is None or line.seq < before]
            for line in lines:
                yield self._sent(line)
            if before is None and len(page) < STREAM_PAGE:
                return
            if before is not None and not lines:
                if time.monotonic() > deadline:
                    return
                await asyncio.sleep(GAP_POLL_SECONDS)


async def _ndjson(items: AsyncIterable[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for item in items:
        yield (json.dumps(item, separators=(",", ":")) + "\n").encode()
