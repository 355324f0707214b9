"""From a request to validated events: signature, mapping, then what every webhook adds.

Order matters: the signature is checked over the raw bytes before anything is parsed, so an
unsigned request costs no parsing and can never reach the store. Every event then gets the
webhook as a related resource (as Prefect Cloud adds it) carrying the verification result,
`evtui.webhook.signature` = `verified` or `none`, plus the webhook's `resource_labels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Template
from pydantic import ValidationError

from evtui.events import (
    MAXIMUM_EVENT_SIZE_BYTES,
    RESOURCE_ID,
    RESOURCE_NAME,
    RESOURCE_ROLE,
    Event,
    FieldError,
    event_size,
    field_errors,
)
from evtui.webhooks.models import Webhook
from evtui.webhooks.presets import PRESET_MAPPERS, Mapper
from evtui.webhooks.request import HookRequest, Mapped, MappingError
from evtui.webhooks.signatures import verify
from evtui.webhooks.templating import compile_template, render_events

SIGNATURE_LABEL = "evtui.webhook.signature"
WEBHOOK_ROLE = "webhook"


def webhook_resource_id(slug: str) -> str:
    return f"evtui.webhook.{slug}"


@dataclass
class Delivery:
    """A mapped request: validated events, or a confirmation to make, or a note."""

    events: list[Event]
    mapped: Mapped
    signature: str


class CompiledWebhook:
    """A webhook ready for the hot path: its template compiled once, its mapper chosen."""

    def __init__(self, webhook: Webhook) -> None:
        self.webhook = webhook
        self._mapper: Mapper = (
            PRESET_MAPPERS[webhook.preset]
            if webhook.preset
            else _template_mapper(compile_template(webhook.template or ""))
        )

    def deliver(self, request: HookRequest) -> Delivery:
        """Raises `MappingError` (401 signature, 4xx body) with nothing stored."""
        signature = verify(self.webhook, request.headers, request.raw_body)
        mapped = self._mapper(request)
        events = self._validate([self._decorate(event, signature) for event in mapped.events])
        return Delivery(events=events, mapped=mapped, signature=signature)

    def _decorate(self, event: dict[str, Any], signature: str) -> dict[str, Any]:
        """Add the webhook's labels and itself as a related resource. A mapping's own entry
        for this webhook is replaced, so only the receiver can say a request was verified."""
        own = {
            RESOURCE_ID: webhook_resource_id(self.webhook.slug),
            RESOURCE_ROLE: WEBHOOK_ROLE,
            RESOURCE_NAME: self.webhook.slug,
            SIGNATURE_LABEL: signature,
        }
        resource = event.get("resource")
        if isinstance(resource, dict):
            event["resource"] = {**resource, **self.webhook.resource_labels}
        related = event.get("related") or []
        if isinstance(related, list):
            others = [
                r
                for r in related
                if not (isinstance(r, dict) and r.get(RESOURCE_ID) == own[RESOURCE_ID])
            ]
            event["related"] = [*others, own]
        return event

    def _validate(self, events: list[dict[str, Any]]) -> list[Event]:
        loc_root = "template" if self.webhook.template is not None else "event"
        valid = []
        errors = []
        for index, event in enumerate(events):
            loc = [loc_root, index] if len(events) > 1 else [loc_root]
            try:
                valid.append(Event.model_validate(event))
            except ValidationError as error:
                errors.extend(field_errors(error, loc))
        if errors:
            raise MappingError(422, errors)
        too_large = [
            FieldError(
                loc=[loc_root, index],
                msg=f"the event is {size} bytes; at most {MAXIMUM_EVENT_SIZE_BYTES} are allowed",
            )
            for index, size in enumerate(event_size(event) for event in valid)
            if size > MAXIMUM_EVENT_SIZE_BYTES
        ]
        if too_large:
            raise MappingError(422, too_large)
        return valid


def _template_mapper(template: Template) -> Mapper:
    def render(request: HookRequest) -> Mapped:
        context = request.template_context()
        events = render_events(template, context)
        # Prefect Cloud's default payload when a template names none: what was received.
        received = {key: context[key] for key in ("method", "headers", "body")}
        for event in events:
            event.setdefault("payload", received)
        return Mapped(events=events)

    return render
