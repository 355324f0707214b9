"""Talking to a running evtui over HTTP: `emit_event` and the CLI's reads.

`emit_event` keeps Prefect's signature so code written for `prefect.events.emit_event` works by
changing its import. Unlike Prefect's fire-and-forget worker it returns only once the server has
acknowledged (committed) the event, and it fails loudly, naming the URL, when it cannot deliver.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from evtui.events import MAXIMUM_EVENT_SIZE_BYTES, Event, EventTooLarge, event_size
from evtui.flows.context import current_run
from evtui.settings import DEFAULT_PORT, ENV_PREFIX

if TYPE_CHECKING:
    import httpx

DEFAULT_API_URL = f"http://127.0.0.1:{DEFAULT_PORT}/api"
TIGHT_TIMING = timedelta(minutes=5)
"""Prefect sets `follows` only when the two events are this close in time."""
RETRY_DELAYS = (0.1, 0.3, 1.0)


class DeliveryError(RuntimeError):
    """The event could not be delivered; the message names the URL and the reason."""


def api_url_from_env() -> str:
    return os.environ.get(ENV_PREFIX + "API_URL") or DEFAULT_API_URL


def api_key_from_env() -> str | None:
    return os.environ.get(ENV_PREFIX + "API_KEY") or None


class ApiClient:
    """A small synchronous client for evtui's REST API."""

    def __init__(self, api_url: str | None = None, api_key: str | None = None) -> None:
        self.api_url = (api_url or api_url_from_env()).rstrip("/")
        key = api_key if api_key is not None else api_key_from_env()
        self.api_key = key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        import httpx  # here, not at the top: flow children import evtui without needing it

        self._http = httpx.Client(base_url=self.api_url, headers=headers, timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post_events(self, events: list[Event]) -> None:
        """POST events, retrying briefly on connection errors and 503; raises `DeliveryError`."""
        body = "[" + ",".join(e.model_dump_json() for e in events) + "]"
        url = f"{self.api_url}/events"
        last_reason = "no attempt made"
        for delay in (*RETRY_DELAYS, None):
            try:
                response = self._http.post(
                    "/events", content=body, headers={"Content-Type": "application/json"}
                )
            except _transport_errors() as error:
                last_reason = _transport_reason(error)
            else:
                if response.status_code < 300:
                    return
                if response.status_code not in (429, 503):
                    raise DeliveryError(f"{url} refused the event: {_describe(response)}")
                last_reason = _describe(response)
            if delay is None:
                break
            time.sleep(delay)
        raise DeliveryError(f"could not deliver to {url}: {last_reason}")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; returns the decoded JSON or raises `DeliveryError` with the reason."""
        url = f"{self.api_url}{path}"
        try:
            response = self._http.request(method, path, **kwargs)
        except _transport_errors() as error:
            raise DeliveryError(f"cannot reach {url}: {_transport_reason(error)}") from None
        if response.status_code >= 400:
            raise DeliveryError(f"{url}: {_describe(response)}")
        return response.json() if response.content else None

    def filter_events(self, filter: dict[str, Any], limit: int = 50) -> Iterator[dict[str, Any]]:
        """Every event matching `filter`, page after page (Prefect's `next_page` tokens)."""
        page = self.request("POST", "/events/filter", json={"filter": filter, "limit": limit})
        while True:
            yield from page["events"]
            if not page.get("next_page"):
                return
            page = self.request("GET", page["next_page"])


def _transport_errors() -> type[httpx.TransportError]:
    import httpx

    return httpx.TransportError


def _transport_reason(error: httpx.TransportError) -> str:
    import httpx

    if isinstance(error, httpx.ConnectError):
        return "connection refused (is `evtui` or `evtui serve` running?)"
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    return str(error) or type(error).__name__


def _describe(response: httpx.Response) -> str:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, list):
        parts = []
        for item in detail:
            loc = ".".join(str(p) for p in item.get("loc", []))
            parts.append(f"{loc}: {item.get('msg')}" if loc else str(item.get("msg")))
        detail = "; ".join(parts)
    return f"HTTP {response.status_code}: {detail}"


_clients: dict[tuple[str, str | None], ApiClient] = {}


def _shared_client() -> ApiClient:
    key = (api_url_from_env(), api_key_from_env())
    if key not in _clients:
        _clients[key] = ApiClient(*key)
    return _clients[key]


def emit_event(
    event: str,
    resource: dict[str, str],
    occurred: datetime | None = None,
    related: list[dict[str, str]] | None = None,
    payload: dict[str, Any] | None = None,
    id: UUID | None = None,
    follows: Event | UUID | None = None,
    **kwargs: Any,
) -> Event:
    """Send one event to evtui (`EVTUI_API_URL`, default the local receiver); Prefect's signature.

    Returns the `Event` once the server has committed it. Raises `DeliveryError` naming the
    URL when it cannot deliver after a short retry, and `EventTooLarge` for an event over the
    size limit. `follows` may be the preceding `Event` (kept only when within 5 minutes of
    this one, as Prefect does) or its id.

    Inside a flow run the event goes to the runner on the run's channel instead, with the run
    as a related resource and `follows` the event that caused the run (unless given here).
    """
    fields: dict[str, Any] = {
        "event": event,
        "resource": resource,
        "related": related or [],
        "payload": payload or {},
        **kwargs,
    }
    if occurred is not None:
        fields["occurred"] = occurred
    if id is not None:
        fields["id"] = id
    built = Event(**fields)
    if isinstance(follows, Event):
        if abs(built.occurred - follows.occurred) < TIGHT_TIMING:
            built.follows = follows.id
    elif follows is not None:
        built.follows = follows
    size = event_size(built)
    if size > MAXIMUM_EVENT_SIZE_BYTES:
        raise EventTooLarge(
            f"event {event!r} is {size} bytes; at most {MAXIMUM_EVENT_SIZE_BYTES} are allowed"
        )
    run = current_run()
    if run is not None:
        built = run.add_run_resources(built, keep_follows=follows is not None)
        refusal = run.send_event(built)
        if refusal is not None:
            raise DeliveryError(f"evtui refused event {event!r}: {refusal}")
        return built
    _shared_client().post_events([built])
    return built
