"""Retention: old events are deleted in small batches in the background.

SQLite has one writer at a time, so each batch is a short transaction of a few hundred events
and the loop yields between batches: ingest's group commits interleave and never wait long.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from evtui.events import now_utc
from evtui.settings import Settings
from evtui.store.rows import to_micros
from evtui.store.store import Store

log = logging.getLogger(__name__)

BATCH_SIZE = 500
PAUSE_BETWEEN_BATCHES = 0.05
INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class RetentionPolicy:
    """How long events are kept: a global period plus shorter ones for some event names."""

    period: timedelta = timedelta(days=7)
    overrides: dict[str, timedelta] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        period = timedelta(days=settings.retention_days)
        return cls(
            period=period,
            overrides={
                name: min(timedelta(days=days), period)
                for name, days in settings.retention_overrides.items()
            },
        )


async def delete_expired(store: Store, policy: RetentionPolicy) -> int:
    """Delete everything past its retention, batch by batch; returns how many events went."""
    now = now_utc()
    deleted = 0
    rules = [(None, policy.period), *policy.overrides.items()]
    for name, period in rules:
        cutoff = to_micros(now - period)
        while True:
            count = await store.delete_batch(cutoff, name, BATCH_SIZE)
            deleted += count
            if count < BATCH_SIZE:
                break
            await asyncio.sleep(PAUSE_BETWEEN_BATCHES)
    return deleted


async def run_retention(
    store: Store, policy: RetentionPolicy, interval: float = INTERVAL_SECONDS
) -> None:
    """Forever: delete what expired, then sleep `interval` seconds."""
    while True:
        try:
            deleted = await delete_expired(store, policy)
            if deleted:
                log.info("retention deleted %d events", deleted)
        except Exception:
            log.exception("retention pass failed; trying again in %.0f s", interval)
        await asyncio.sleep(interval)
