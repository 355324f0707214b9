"""`POST /api/events`: the hot path. Answers 204 only once the events are on disk.

The body is read as raw bytes under the size limit and validated by pydantic-core straight from
them (no intermediate `json.loads`), and a request is all-or-nothing: one bad event and none is
stored.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from evtui.events import (
    MAXIMUM_EVENT_SIZE_BYTES,
    Event,
    FieldError,
    ReceivedEvent,
    ReceivedList,
    ReceivedSingle,
    check_sizes,
    field_errors,
    received_now,
)
from evtui.server.auth import ApiKey
from evtui.server.errors import error_response
from evtui.server.openapi import document_route
from evtui.store import Overloaded, StoreClosed

if TYPE_CHECKING:
    from fastapi import FastAPI

    from evtui.engine import Engine

_STARTS_WITH_ARRAY = re.compile(rb"[ \t\r\n]*\[")


class BodyTooLarge(Exception):
    """The body exceeds `settings.max_body_bytes` (its size, when the client declared it)."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        self.limit = limit
        self.size = size

    def error(self) -> FieldError:
        if self.size is None:
            msg = f"the request body is over {self.limit} bytes, the most allowed per request"
        else:
            msg = f"the request body is {self.size} bytes; at most {self.limit} are allowed"
        return FieldError(loc=["body"], msg=f"{msg}: send the events in smaller batches")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed `limit` (header first, then stream)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class InvalidEvents(Exception):
    """The request is refused whole; `errors` say where and why."""

    def __init__(self, status: int, errors: list[FieldError]) -> None:
        self.status = status
        self.errors = errors


def parse_events(body: bytes) -> list[ReceivedEvent]:
    """A JSON array of events (Prefect's shape) or one event object.

    Raises `InvalidEvents` with every problem, located as `body[.index].field`.
    """
    is_array = _STARTS_WITH_ARRAY.match(body) is not None
    try:
        context = received_now()
        events = (
            ReceivedList.validate_json(body, context=context)
            if is_array
            else [ReceivedSingle.validate_json(body, context=context)]
        )
    except ValidationError as error:
        malformed = any(item["type"] == "json_invalid" for item in error.errors())
        raise InvalidEvents(400 if malformed else 422, field_errors(error, ["body"])) from None
    too_large = check_sizes(events, len(body))
    if too_large:
        errors = [
            FieldError(loc=["body", *(e.loc if is_array else [])], msg=e.msg) for e in too_large
        ]
        raise InvalidEvents(422, errors)
    return events


def _operation(limit: int) -> dict[str, Any]:
    """The OpenAPI description of the route (FastAPI documents only its own routes)."""
    event = Event.model_json_schema()
    return {
        "tags": ["events"],
        "summary": "Store events (Prefect's `POST /api/events`)",
        "description": "204 means every event is committed (or was already stored).",
        "operationId": "post_events",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [{"type": "array", "items": event}, event],
                        "description": "A JSON array of events (as Prefect sends) or one event",
                    }
                }
            },
        },
        "responses": {
            "204": {"description": "Stored."},
            "400": {"description": "The body is not valid JSON (the position is named)."},
            "401": {"description": "An API key is required and was missing or wrong."},
            "413": {"description": f"The body is over {limit} bytes."},
            "422": {
                "description": "An event is invalid (field path and reason), or over "
                f"{MAXIMUM_EVENT_SIZE_BYTES} bytes; nothing was stored."
            },
            "503": {"description": "The write queue is full; retry after `Retry-After` s."},
        },
        "security": [{"evtui API key": []}],
    }


def add_ingest_route(app: FastAPI, engine: Engine, api_key: ApiKey) -> None:
    """A plain Starlette route: FastAPI's per-request dependency solving would be most of the
    cost of a small request, and this handler parses its body itself anyway."""
    limit = engine.settings.max_body_bytes
    counters = engine.counters

    async def post_events(request: Request) -> Response:
        api_key.check(request.headers.get("authorization"))
        try:
            events = parse_events(await read_body(request, limit))
        except BodyTooLarge as error:
            counters.rejected += 1
            return error_response(413, [error.error()])
        except InvalidEvents as error:
            counters.rejected += 1
            return error_response(error.status, error.errors)
        if events:
            try:
                committed = engine.submit(events)
            except Overloaded as error:
                counters.overloaded += 1
                return _unavailable(str(error), error.retry_after)
            except StoreClosed as error:
                return _unavailable(f"{error}; retry shortly", 1.0)
            await committed
        return Response(status_code=204)

    app.router.add_route("/api/events", post_events, methods=["POST"])
    document_route(app, "/api/events", "post", _operation(limit))


def _unavailable(msg: str, retry_after: float) -> Response:
    return error_response(
        503,
        [FieldError(loc=[], msg=msg)],
        headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
    )
