"""Waiting for a condition the way every test here does: poll with a deadline, never sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(
    check: Callable[[], Awaitable[T]], timeout: float = 15.0, what: str | None = None
) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            waited = f"for {what}" if what else f"(last: {value!r})"
            raise AssertionError(f"gave up waiting after {timeout} s {waited}")
        await asyncio.sleep(0.02)
