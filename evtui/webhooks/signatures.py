"""HMAC-SHA256 signatures over the raw request body (GitHub's `X-Hub-Signature-256` scheme).

The digest is computed over the bytes exactly as received, before any parsing, and compared
in constant time (`hmac.compare_digest`), so response timing does not tell a forger how much
of a guess was right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from evtui.webhooks.models import WebhookSpec
from evtui.webhooks.request import Headers, mapping_error

SignatureState = Literal["verified", "none"]
"""Recorded on every event as the webhook related resource's `evtui.webhook.signature`."""


def sign(secret: str, body: bytes, encoding: Literal["hex", "base64"] = "hex") -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def signature_header(webhook: WebhookSpec, body: bytes) -> tuple[str, str]:
    """The header a sender adds for this webhook: `(name, value)`. For tests and clients."""
    assert webhook.secret is not None
    value = webhook.header_prefix + sign(webhook.secret, body, webhook.signature_encoding)
    return webhook.header_name, value


def verify(webhook: WebhookSpec, headers: Headers, body: bytes) -> SignatureState:
    """`verified`, or `none` when the webhook has no secret; raises `MappingError` 401."""
    if webhook.secret is None:
        return "none"
    name = webhook.header_name
    loc: list[str | int] = ["header", name]
    sent = headers.get(name)
    if not sent:
        raise mapping_error(401, loc, "this webhook requires a signature and none was sent")
    prefix = webhook.header_prefix
    if not sent.startswith(prefix):
        raise mapping_error(401, loc, f"the signature must start with {prefix!r}")
    given = sent[len(prefix) :].strip()
    if webhook.signature_encoding == "hex":
        given = given.lower()
    expected = sign(webhook.secret, body, webhook.signature_encoding)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise mapping_error(401, loc, "the signature does not match the body")
    return "verified"
