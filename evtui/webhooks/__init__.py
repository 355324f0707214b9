"""Webhooks: `POST /hooks/<slug>` turns a request into events with a template or a preset.

`WebhookStore` holds the definitions (database plus config file), `CompiledWebhook.deliver`
maps one request, and `evtui.server.hooks_api` serves both the hooks and their management API.
"""

from __future__ import annotations

from evtui.webhooks.delivery import SIGNATURE_LABEL, CompiledWebhook, Delivery
from evtui.webhooks.models import PRESETS, Webhook, WebhookSpec
from evtui.webhooks.request import HookRequest, MappingError
from evtui.webhooks.signatures import sign, signature_header
from evtui.webhooks.store import (
    ReadOnlyWebhook,
    RegisteredWebhook,
    WebhookConfigError,
    WebhookStore,
    parse_config,
)

__all__ = [
    "PRESETS",
    "SIGNATURE_LABEL",
    "CompiledWebhook",
    "Delivery",
    "HookRequest",
    "MappingError",
    "ReadOnlyWebhook",
    "RegisteredWebhook",
    "Webhook",
    "WebhookConfigError",
    "WebhookSpec",
    "WebhookStore",
    "parse_config",
    "sign",
    "signature_header",
]
