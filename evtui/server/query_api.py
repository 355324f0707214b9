"""Reading stored events over HTTP, as Prefect's API does it (reference §5.4).

`POST /api/events/filter` answers the first page and a `next_page` URL; following that URL
(`GET /api/events/filter/next?page-token=...`) gives the next page of the very same query: the
token carries the filter with its resolved `occurred` range, so new events do not shift pages.
`POST /api/events/count-by/{countable}` counts per event name, resource or time bucket.

Bad input is answered 422 with `{"detail": [{"loc": [...], "msg": "..."}]}` naming the field
and the reason (request validation errors get that shape from the app's handlers, see
`evtui.server.errors`); a page token this server did not issue is 403.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from evtui.events import FieldError, ReceivedEvent
from evtui.filters import EventFilter
from evtui.server.errors import error_response
from evtui.store.counting import (
    MINIMUM_INTERVAL,
    Countable,
    EventCount,
    InvalidCountParameters,
    TimeUnit,
)

if TYPE_CHECKING:
    from evtui.engine import Engine

INTERACTIVE_PAGE_SIZE = 50
"""Prefect's page size limit for interactive queries."""


class FilterRequest(BaseModel):
    """The body of `POST /api/events/filter`."""

    filter: EventFilter | None = None
    limit: int = Field(default=INTERACTIVE_PAGE_SIZE, ge=0, le=INTERACTIVE_PAGE_SIZE)


class CountRequest(BaseModel):
    """The body of `POST /api/events/count-by/{countable}`."""

    filter: EventFilter
    time_unit: TimeUnit = TimeUnit.day
    time_interval: float = Field(default=1.0, ge=MINIMUM_INTERVAL)


class EventPage(BaseModel):
    events: list[ReceivedEvent]
    total: int
    """How many events match in all (resources, with `resource.distinct`)."""
    next_page: str | None
    """The URL of the next page, or null on the last one."""


class PageToken(BaseModel):
    """What a page token carries: the query, its total, and where the next page starts."""

    model_config = ConfigDict(extra="forbid")

    filter: EventFilter
    count: int = Field(ge=0)
    page_size: int = Field(ge=0, le=INTERACTIVE_PAGE_SIZE)
    offset: int = Field(ge=0)

    def encode(self) -> str:
        """base64(base64(JSON)), the shape Prefect's server hands out."""
        inner = base64.b64encode(self.model_dump_json().encode())
        return base64.b64encode(inner).decode()

    @classmethod
    def decode(cls, token: str) -> PageToken:
        """Raises `ValueError` for anything that is not a token this server issued."""
        try:
            inner = base64.b64decode(token.encode(), validate=True)
            return cls.model_validate_json(base64.b64decode(inner, validate=True))
        except (binascii.Error, ValidationError, UnicodeError) as error:
            raise ValueError("not a page token this server issued") from error


_COUNTS = TypeAdapter(list[EventCount])


def query_router(engine: Engine) -> APIRouter:
    """The query endpoints, reading from `engine.store`."""
    router = APIRouter(prefix="/api/events", tags=["events"])

    async def page(request: Request, token: PageToken) -> Response:
        events, total = await engine.store.query_events(token.filter, token.page_size, token.offset)
        following = token.model_copy(
            update={"count": total, "offset": token.offset + token.page_size}
        )
        next_page = None
        if token.page_size and following.offset < total:
            next_page = (
                f"{request.base_url}api/events/filter/next?page-token={quote(following.encode())}"
            )
        body = EventPage(events=[e.event for e in events], total=total, next_page=next_page)
        return Response(body.model_dump_json(), media_type="application/json")

    @router.post("/filter", response_model=EventPage)
    async def read_events(request: Request, body: FilterRequest | None = None) -> Response:
        """The first page of events matching the filter (all recent events without one)."""
        body = body or FilterRequest()
        token = PageToken(
            filter=body.filter or EventFilter(), count=0, page_size=body.limit, offset=0
        )
        return await page(request, token)

    @router.get("/filter/next", response_model=EventPage)
    async def read_next_page(
        request: Request, page_token: str = Query(alias="page-token")
    ) -> Response:
        """The page a `next_page` URL points at."""
        try:
            token = PageToken.decode(page_token)
        except ValueError as error:
            return error_response(403, [FieldError(loc=["query", "page-token"], msg=str(error))])
        return await page(request, token)

    @router.post("/count-by/{countable}", response_model=list[EventCount])
    async def count_events(countable: Countable, body: CountRequest) -> Response:
        """Matching events counted per event name, resource, or time bucket (zero-filled)."""
        try:
            counts = await engine.store.count_by(
                countable, body.filter, body.time_unit, body.time_interval
            )
        except InvalidCountParameters as error:
            return error_response(422, [FieldError(loc=["body", error.field], msg=error.message)])
        return Response(_COUNTS.dump_json(counts), media_type="application/json")

    return router
