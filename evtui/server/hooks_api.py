"""`/hooks/<slug>`, where senders deliver, and `/api/webhooks`, where webhooks are managed.

The hooks are outside `/api` and not behind the API key: a sender (GitHub, SNS, Pub/Sub, a
CloudEvents emitter) cannot present evtui's key, so a webhook authenticates with its own
secret (HMAC signature over the body) when it has one. A delivery is answered only after its
events are committed, like `POST /api/events`, with the ids stored; every refusal stores
nothing and says why in the usual `{"detail": [{"loc", "msg"}]}` shape.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from evtui.events import FieldError, field_errors
from evtui.server.errors import error_response, http_error
from evtui.server.ingest_api import BodyTooLarge, read_body
from evtui.store import Overloaded, StoreClosed
from evtui.webhooks import (
    HookRequest,
    MappingError,
    ReadOnlyWebhook,
    RegisteredWebhook,
    Webhook,
    WebhookSpec,
    WebhookStore,
)
from evtui.webhooks.request import Headers
from evtui.webhooks.sns import ConfirmationFailed

if TYPE_CHECKING:
    from evtui.engine import Engine

log = logging.getLogger(__name__)

TEMPLATE_METHODS = ("GET", "POST", "PUT", "PATCH")
"""Template webhooks also answer bodiless GETs (static templates, like Prefect Cloud's); the
presets map what their senders POST."""


def _webhooks(engine: Engine) -> WebhookStore:
    return engine.webhooks  # type: ignore[attr-defined, no-any-return]


def _find(engine: Engine, slug: str) -> RegisteredWebhook:
    registered = _webhooks(engine).get(slug)
    if registered is None:
        raise http_error(404, f"no webhook {slug!r}", ["path", "slug"])
    return registered


def hooks_router(engine: Engine) -> APIRouter:
    """`POST /hooks/{slug}` (and the CloudEvents `OPTIONS` handshake). No API key."""
    router = APIRouter(tags=["webhooks"])
    limit = engine.settings.max_body_bytes

    async def receive(slug: str, request: Request) -> Response:
        """Map the request to events with the webhook's template or preset, and store them.

        200 with the event ids once committed; 401 bad or missing signature; 404 unknown slug;
        409 disabled; 413 body too large; 400/415/422 a body the webhook cannot map; 502 an
        SNS subscription could not be confirmed; 503 the store is busy (`Retry-After`).
        """
        registered = _find(engine, slug)
        webhook = registered.webhook
        if not webhook.enabled:
            raise http_error(409, f"webhook {slug!r} is disabled", ["path", "slug"])
        if webhook.preset and request.method != "POST":
            raise http_error(
                405, f"a {webhook.preset} webhook accepts POST only", headers={"Allow": "POST"}
            )
        try:
            body = await read_body(request, limit)
        except BodyTooLarge as error:
            return error_response(413, [error.error()])
        hook_request = HookRequest(
            slug=slug,
            method=request.method,
            path=request.url.path,
            headers=Headers(request.headers.items()),
            query=dict(request.query_params),
            raw_body=body,
        )
        try:
            delivery = registered.compiled.deliver(hook_request)
        except MappingError as error:
            engine.counters.rejected += 1
            log.info("webhook %r refused a request: %s", slug, error)
            return error_response(error.status, error.errors)
        mapped = delivery.mapped
        if mapped.confirm_url is not None:
            try:
                await _webhooks(engine).confirmer(mapped.confirm_url)
            except ConfirmationFailed as error:
                return error_response(
                    502, [FieldError(loc=["body", "SubscribeURL"], msg=str(error))]
                )
            log.info("webhook %r confirmed the SNS subscription to %s", slug, mapped.confirm_topic)
            return JSONResponse({"confirmed": True, "topic": mapped.confirm_topic})
        stored = duplicates = 0
        if delivery.events:
            try:
                outcome = await engine.ingest(delivery.events)
            except Overloaded as error:
                engine.counters.overloaded += 1
                return _unavailable(str(error), error.retry_after)
            except StoreClosed as error:
                return _unavailable(f"{error}; retry shortly", 1.0)
            stored, duplicates = outcome.stored, outcome.duplicates
        answer: dict[str, Any] = {
            "ids": [str(event.id) for event in delivery.events],
            "stored": stored,
            "duplicates": duplicates,
            "signature": delivery.signature,
        }
        if mapped.note:
            answer["note"] = mapped.note
        return JSONResponse(answer)

    for method in TEMPLATE_METHODS:
        # One route per method: a route's OpenAPI operation id names only its first method.
        router.add_api_route("/hooks/{slug}", receive, methods=[method])

    @router.options("/hooks/{slug}")
    async def handshake(slug: str, request: Request) -> Response:
        """CloudEvents webhook abuse protection: grant the origin that asks (any rate)."""
        _find(engine, slug)
        headers = {"Allow": ", ".join(("OPTIONS", *TEMPLATE_METHODS))}
        origin = request.headers.get("webhook-request-origin")
        if origin:
            headers["WebHook-Allowed-Origin"] = origin
            headers["WebHook-Allowed-Rate"] = "*"
        return Response(status_code=200, headers=headers)

    return router


def webhooks_api_router(engine: Engine) -> APIRouter:
    """CRUD for webhooks under `/api/webhooks`; include it with the API-key dependency."""
    router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

    @router.get("")
    async def list_webhooks() -> list[dict[str, Any]]:
        """Every webhook, stored and from the config file (secrets are never shown)."""
        return [registered.to_json() for registered in _webhooks(engine).all()]

    @router.get("/{slug}")
    async def get_webhook(slug: str) -> dict[str, Any]:
        return _find(engine, slug).to_json()

    @router.put("/{slug}")
    async def put_webhook(slug: str, spec: WebhookSpec, response: Response) -> dict[str, Any]:
        """Create (201) or replace (200) the webhook at this slug; the whole definition."""
        try:
            webhook = Webhook.from_spec(slug, spec)
        except ValidationError as error:
            raise _invalid(field_errors(error, ["path"])) from None
        return await _save(webhook, response)

    @router.post("")
    async def post_webhook(webhook: Webhook, response: Response) -> dict[str, Any]:
        """Create (201) or replace (200) the webhook named by `slug` in the body."""
        return await _save(webhook, response)

    @router.delete("/{slug}", status_code=204)
    async def delete_webhook(slug: str) -> Response:
        try:
            deleted = await _webhooks(engine).delete(slug)
        except ReadOnlyWebhook as error:
            raise http_error(409, str(error), ["path", "slug"]) from None
        if not deleted:
            raise http_error(404, f"no webhook {slug!r}", ["path", "slug"])
        return Response(status_code=204)

    async def _save(webhook: Webhook, response: Response) -> dict[str, Any]:
        try:
            registered, created = await _webhooks(engine).put(webhook)
        except ReadOnlyWebhook as error:
            raise http_error(409, str(error), ["body", "slug"]) from None
        response.status_code = 201 if created else 200
        return registered.to_json()

    return router


def _invalid(errors: list[FieldError]) -> HTTPException:
    return HTTPException(422, detail=[error.model_dump() for error in errors])


def _unavailable(msg: str, retry_after: float) -> Response:
    return error_response(
        503,
        [FieldError(loc=[], msg=msg)],
        headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
    )
