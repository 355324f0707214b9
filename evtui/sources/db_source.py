"""What the engine needs from a database source (`--watch-db`, `--watch-sql`)."""

from __future__ import annotations

from typing import Any, Protocol


class DbSource(Protocol):
    """Started after the store and stopped before it; never raises for a database problem.

    `stats()` has at least `name`, `kind`, `lag` (changes not yet delivered, None while
    unknown), `delivered` (events stored) and `error` (one line, None while healthy).
    """

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def stats(self) -> dict[str, Any]: ...
