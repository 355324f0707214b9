"""The API key: who may talk to the receiver when `settings.api_key` is set.

HTTP requests carry it as `Authorization: Bearer <key>`, or the way Prefect's clients send
`PREFECT_API_AUTH_STRING`: `Authorization: Basic base64(<auth string>)`, where the whole decoded
string is the key. So `PREFECT_API_AUTH_STRING=<key>` is all a Prefect client needs. Websockets
send the key as the token of Prefect's auth message instead. Every comparison is constant-time
so response timing does not leak how much of a guess was right.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Security
from fastapi.security import APIKeyHeader

from evtui.server.errors import http_error

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="evtui"'}

_authorization_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="evtui API key",
    description="`Bearer <key>`, or `Basic base64(<key>)` as Prefect's "
    "`PREFECT_API_AUTH_STRING` sends it. Needed when the server has an API key.",
)


class ApiKey:
    """Checks credentials against the configured key; with no key everything is allowed."""

    def __init__(self, key: str | None) -> None:
        self._key = key.encode() if key else None

    @property
    def required(self) -> bool:
        return self._key is not None

    def token_ok(self, token: str | None) -> bool:
        """The raw key, as a websocket auth message carries it."""
        if self._key is None:
            return True
        return token is not None and hmac.compare_digest(token.encode(), self._key)

    def header_ok(self, authorization: str | None) -> bool:
        """An HTTP `Authorization` header value: Bearer or Basic."""
        if self._key is None:
            return True
        scheme, _, credentials = (authorization or "").partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            return self.token_ok(credentials.strip())
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True)
            except (binascii.Error, ValueError):
                return False
            return hmac.compare_digest(decoded, self._key)
        return False

    def check(self, authorization: str | None) -> None:
        """Raise 401 (our JSON error shape) unless the `Authorization` header is good."""
        if self.header_ok(authorization):
            return
        reason = (
            "the API key sent in the Authorization header is not valid"
            if authorization
            else "this server requires an API key: send 'Authorization: Bearer <key>'"
        )
        raise http_error(401, reason, ["header", "Authorization"], UNAUTHORIZED_HEADERS)

    def dependency(self) -> Callable[[str | None], Awaitable[None]]:
        """`check` as a FastAPI dependency (which also documents the header in OpenAPI)."""

        async def require_api_key(
            authorization: Annotated[str | None, Security(_authorization_header)],
        ) -> None:
            self.check(authorization)

        return require_api_key
