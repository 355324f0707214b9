"""`RemoteSource`: the TUI attached to a running `evtui serve` (`evtui --connect URL`).

Every `TuiSource` method is one route of evtui's HTTP API (the same answers `LocalSource`
builds from the engine), the live stream is Prefect's `WS /api/events/out` and a run's live
logs are the NDJSON stream `GET /api/flow-runs/{id}/logs/stream`, so the same screens work
against a server on another machine. Refusals come back as `SourceError` with the API's `loc`
and `msg`; an unreachable server as a `SourceError` naming the URL.

Events carry a `seq` only inside one store, so here each event gets a local, increasing
number in the order it arrived: the stream pane orders and de-duplicates by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from evtui.events import Event, FieldError, ReceivedEvent, field_errors
from evtui.store.rows import StoredEvent
from evtui.tui.source import Json, SourceError

log = logging.getLogger(__name__)

STATS_INTERVAL = 0.5
"""Seconds between polls of `GET /api/stats` (the status bar reads the latest answer)."""
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0)
"""Waits before reconnecting a dropped event stream (the last one repeats)."""
STREAM_BATCH = 500
"""Events gathered into one batch when they arrive together."""
PAGE = 50
"""Events per page of `POST /api/events/filter` (Prefect's interactive page size)."""
_EPOCH = "1970-01-01T00:00:00+00:00"
_LOCATIONS = ("body", "path", "query", "header")


class RemoteSource:
    """`TuiSource` over HTTP and websockets; `api_url` is e.g. `http://host:4200/api`."""

    def __init__(self, api_url: str, api_key: str | None = None) -> None:
        self._url = api_url.rstrip("/")
        if not self._url.endswith("/api"):
            self._url += "/api"
        self.api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(base_url=self._url, headers=headers, timeout=15.0)
        self._seq = itertools.count(1)
        self._stats: Json = {"address": self._url, "subscribers": []}
        self._poller: asyncio.Task[None] | None = None

    @property
    def api_url(self) -> str:
        return self._url

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Check the server answers (and accepts the key), then keep the stats fresh."""
        await self._refresh_stats()
        self._poller = asyncio.create_task(self._poll_stats(), name="evtui-remote-stats")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self._http.aclose()

    def stats(self) -> Json:
        return self._stats

    async def _refresh_stats(self) -> None:
        stats = await self._call("GET", "/stats")
        self._stats = stats | {"address": f"{stats.get('address', '')} (remote)"}

    async def _poll_stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            try:
                await self._refresh_stats()
            except SourceError as error:
                self._stats = self._stats | {"address": f"{self._url} unreachable: {error}"}

    # -- HTTP -----------------------------------------------------------------------------

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise SourceError.one([], f"cannot reach {self._url}: {reason}") from None
        if response.status_code >= 400:
            raise SourceError(_problems(response))
        return response.json() if response.content else None

    # -- events ---------------------------------------------------------------------------

    def _stored(self, event: Json) -> StoredEvent:
        return StoredEvent(next(self._seq), ReceivedEvent.model_validate(event))

    async def subscribe_events(self) -> AsyncIterator[list[StoredEvent]]:
        """Live events from `/api/events/out`; a dropped connection is opened again."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        url = re.sub(r"^http", "ws", self._url) + "/events/out"
        for attempt in itertools.count():
            try:
                async with connect(url, subprotocols=["prefect"]) as socket:  # type: ignore[list-item]
                    await self._handshake(socket, url)
                    while True:
                        frames = [await socket.recv()]
                        while len(frames) < STREAM_BATCH:
                            try:
                                frames.append(await asyncio.wait_for(socket.recv(), 0.005))
                            except TimeoutError:
                                break
                        batch = [
                            self._stored(frame["event"])
                            for frame in map(json.loads, frames)
                            if frame.get("type") == "event"
                        ]
                        if batch:
                            yield batch
            except (OSError, WebSocketException) as error:
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                log.warning("event stream from %s lost (%s); again in %s s", url, error, delay)
                await asyncio.sleep(delay)

    async def _handshake(self, socket: Any, url: str) -> None:
        await socket.send(json.dumps({"type": "auth", "token": self.api_key}))
        reply = json.loads(await socket.recv())
        if reply.get("type") != "auth_success":
            raise SourceError.one([], f"{url} refused the subscription: {reply.get('reason')}")
        await socket.send(json.dumps({"type": "filter", "filter": {}, "backfill": False}))

    async def _events(self, filter: Json, limit: int) -> list[Json]:
        """Up to `limit` events matching `filter`, page after page."""
        page = await self._call("POST", "/events/filter", json={"filter": filter, "limit": PAGE})
        found: list[Json] = []
        while True:
            found.extend(page["events"])
            if len(found) >= limit or not page.get("next_page"):
                return found[:limit]
            page = await self._call("GET", page["next_page"].removeprefix(self._url))

    async def latest_events(self, limit: int) -> list[StoredEvent]:
        newest = await self._events({"occurred": {"since": _EPOCH}, "order": "DESC"}, limit)
        return [self._stored(event) for event in reversed(newest)]

    async def get_event(self, id: str) -> StoredEvent | None:
        found = await self._events({"occurred": {"since": _EPOCH}, "id": {"id": [str(id)]}}, 1)
        return self._stored(found[0]) if found else None

    async def event_counts(self, countable: str, since: datetime) -> list[Json]:
        body = {"filter": {"occurred": {"since": _iso(since)}}}
        return await self._call("POST", f"/events/count-by/{countable}", json=body)  # type: ignore[no-any-return]

    async def explain(self, event_id: str) -> list[Json]:
        return await self._call("GET", f"/events/{event_id}/explain")  # type: ignore[no-any-return]

    async def replay(self, event_id: str) -> Json:
        return await self._call("POST", f"/events/{event_id}/replay")  # type: ignore[no-any-return]

    async def emit(self, event: Json) -> Json:
        try:
            parsed = Event.model_validate(event)
        except ValidationError as error:
            raise SourceError(field_errors(error)) from None
        body = parsed.model_dump(mode="json")
        await self._call("POST", "/events", json=[body])
        return body

    # -- automations and firings ----------------------------------------------------------

    async def automations(self) -> list[Json]:
        """Each automation with its live buckets, fire count and rate-cap pause, in one request."""
        return await self._call("GET", "/automations/live")  # type: ignore[no-any-return]

    async def set_enabled(self, id: str, enabled: bool) -> None:
        await self._call("PATCH", f"/automations/{id}", json={"enabled": enabled})

    async def delete_automation(self, id: str) -> None:
        await self._call("DELETE", f"/automations/{id}")

    async def save_automation(self, definition: Json, id: str | None = None) -> Json:
        if id is None:
            return await self._call("POST", "/automations/", json=definition)  # type: ignore[no-any-return]
        await self._call("PUT", f"/automations/{id}", json=definition)
        return await self._call("GET", f"/automations/{id}")  # type: ignore[no-any-return]

    async def backtest(self, definition: Json, start: datetime, end: datetime) -> Json:
        """Problems name fields of `definition` (as `LocalSource`'s), not of the request."""
        body = {"automation": definition, "start": _iso(start), "end": _iso(end)}
        try:
            return await self._call("POST", "/automations/test", json=body)  # type: ignore[no-any-return]
        except SourceError as error:
            raise SourceError(
                [
                    FieldError(loc=p.loc[1:] if p.loc[:1] == ["automation"] else p.loc, msg=p.msg)
                    for p in error.problems
                ]
            ) from None

    async def firings(self, limit: int = 200) -> list[Json]:
        return await self._call("GET", "/firings", params={"limit": limit})  # type: ignore[no-any-return]

    async def firing(self, id: str) -> Json:
        return await self._call("GET", f"/firings/{id}")  # type: ignore[no-any-return]

    # -- flows and runs -------------------------------------------------------------------

    async def flows(self) -> list[Json]:
        return (await self._call("GET", "/flows"))["flows"]  # type: ignore[no-any-return]

    async def runs(self, limit: int = 200) -> list[Json]:
        return await self._call("GET", "/flow-runs", params={"limit": min(limit, 500)})  # type: ignore[no-any-return]

    async def run(self, id: str) -> Json:
        return await self._call("GET", f"/flow-runs/{id}")  # type: ignore[no-any-return]

    async def logs(self, run_id: str, after: int = 0) -> list[Json]:
        return await self._call("GET", f"/flow-runs/{run_id}/logs", params={"after": after})  # type: ignore[no-any-return]

    async def follow_logs(self, run_id: str) -> AsyncIterator[list[Json]]:
        """Stored lines, then live ones, until the server says the run is final."""
        path = f"/flow-runs/{run_id}/logs/stream"
        try:
            async with self._http.stream("GET", path, timeout=None) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise SourceError(_problems(response))
                async for line in response.aiter_lines():
                    if not line:
                        continue
                    item = json.loads(line)
                    if item.get("type") != "log":
                        return
                    yield [{k: v for k, v in item.items() if k != "type"}]
        except httpx.TransportError as error:
            raise SourceError.one([], f"cannot reach {self._url}: {error}") from None

    async def lineage(self, run_id: str) -> Json:
        return await self._call("GET", f"/flow-runs/{run_id}/lineage")  # type: ignore[no-any-return]

    async def start_run(self, flow: str, parameters: Json) -> Json:
        body = {"flow": flow, "parameters": parameters}
        return await self._call("POST", "/flow-runs", json=body)  # type: ignore[no-any-return]

    async def cancel_run(self, id: str) -> Json:
        return await self._call("POST", f"/flow-runs/{id}/cancel")  # type: ignore[no-any-return]

    async def rerun(self, id: str) -> Json:
        return await self._call("POST", f"/flow-runs/{id}/rerun")  # type: ignore[no-any-return]


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _problems(response: httpx.Response) -> list[FieldError]:
    """The API's `{"detail": [{"loc", "msg"}]}` (or any other error body) as field errors."""
    try:
        detail = response.json().get("detail")
    except (json.JSONDecodeError, AttributeError):
        detail = None
    if isinstance(detail, list):
        problems = []
        for item in detail:
            loc = list(item.get("loc", []))
            if loc and loc[0] in _LOCATIONS:
                loc = loc[1:]
            problems.append(FieldError(loc=loc, msg=str(item.get("msg", ""))))
        return problems
    reason = detail if isinstance(detail, str) else response.text[:200]
    return [FieldError(loc=[], msg=f"HTTP {response.status_code}: {reason}")]
