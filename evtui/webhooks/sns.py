"""Confirming an SNS subscription: the one outbound request a webhook makes.

SNS sends nothing to a new HTTP(S) subscriber until someone visits the `SubscribeURL` of its
`SubscriptionConfirmation`. The URL arrives in a request body anyone could forge, so by default
only HTTPS URLs on SNS's own hosts (`sns.<region>.amazonaws.com[.cn]`) are visited: evtui must
not become a tool for making requests to arbitrary addresses. `allow` is replaceable (tests
point it at a loopback server).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

_SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


class ConfirmationFailed(RuntimeError):
    """The subscription could not be confirmed; the message says why."""


def is_sns_url(url: httpx.URL) -> bool:
    return url.scheme == "https" and _SNS_HOST.match(url.host) is not None


class SubscriptionConfirmer:
    """Visits a `SubscribeURL` (GET) and checks that SNS accepted it."""

    def __init__(
        self,
        allow: Callable[[httpx.URL], bool] = is_sns_url,
        timeout: float = 10.0,
        trust_env: bool = True,
    ) -> None:
        self.allow = allow
        self.timeout = timeout
        self.trust_env = trust_env

    async def __call__(self, subscribe_url: str) -> None:
        try:
            url = httpx.URL(subscribe_url)
        except httpx.InvalidURL as error:
            raise ConfirmationFailed(f"SubscribeURL is not a URL: {error}") from None
        if not self.allow(url):
            raise ConfirmationFailed(
                f"SubscribeURL {url.host or subscribe_url!r} is not an SNS endpoint "
                "(https://sns.<region>.amazonaws.com); not visited"
            )
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=False, trust_env=self.trust_env
            ) as client:
                response = await client.get(url)
        except httpx.HTTPError as error:
            raise ConfirmationFailed(f"visiting SubscribeURL failed: {error!r}") from None
        if response.status_code != 200:
            raise ConfirmationFailed(
                f"SNS answered the confirmation with HTTP {response.status_code}"
            )
