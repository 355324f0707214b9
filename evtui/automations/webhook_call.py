"""The `call-webhook` action's HTTP request and what is recorded of its answer.

The request is sent with the rendered method, URL, headers and body: a body that rendered to
an object or list goes as JSON, a string as it is (Prefect sends its payload raw). What the
answer said is kept, whether the call worked or not: the status code and the first
`BODY_EXCERPT` characters of the body, in the action's event and in `automation_actions`.

A status of 300 or more fails the action (reference §3.2 counts such answers as an
`ActionFailed`): redirects are not followed, so a 3xx means the hook was not reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

BODY_EXCERPT = 1000
"""Characters of the response body kept, as Prefect keeps its `response_body`."""


@dataclass
class WebhookOutcome:
    details: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None
    """Why the call failed (None: it worked)."""


def _request_body(body: Any) -> dict[str, Any]:
    if body is None or body == "":
        return {}
    if isinstance(body, dict | list):
        return {"json": body}
    if isinstance(body, bytes):
        return {"content": body}
    return {"content": str(body)}


async def call_webhook(
    client: httpx.AsyncClient,
    method: str,
    url: Any,
    headers: Any,
    body: Any,
    timeout: float,
) -> WebhookOutcome:
    """Send the request; the outcome says what came back or why nothing did."""
    method = str(method).upper()
    target = str(url).strip()
    details: dict[str, Any] = {"method": method, "url": target}
    if not target.startswith(("http://", "https://")):
        return WebhookOutcome(details, f"url {target!r} is not an http:// or https:// URL")
    if not isinstance(headers, dict):
        return WebhookOutcome(
            details, f"headers rendered to {type(headers).__name__}, not an object"
        )
    sent_headers = {str(name): str(value) for name, value in headers.items()}
    try:
        response = await client.request(
            method, target, headers=sent_headers, timeout=timeout, **_request_body(body)
        )
    except httpx.TimeoutException:
        return WebhookOutcome(details, f"{method} {target}: no answer within {timeout:g} s")
    except httpx.HTTPError as error:
        return WebhookOutcome(details, f"{method} {target} failed: {error or type(error).__name__}")
    text = response.text
    details.update(
        status_code=response.status_code,
        response_body=text[:BODY_EXCERPT],
        response_body_truncated=len(text) > BODY_EXCERPT,
    )
    if response.status_code >= 300:
        return WebhookOutcome(details, f"{method} {target} answered HTTP {response.status_code}")
    return WebhookOutcome(details)
