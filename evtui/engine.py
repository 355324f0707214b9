"""The engine: every part of evtui, started and stopped in order.

Both shells (the Textual app and `evtui serve`) are thin layers over this class, and so are the
tests: anything a user can do is an engine call. Nothing here imports Textual.

Data flows one way: sources (HTTP, websockets, webhooks, the file watcher, flow runs and
automation firings) call `ingest`, which stamps `received` and hands events to the store; the
store's writer commits them and only then publishes them on the bus. Subscribers read committed
events there: websocket clients, the TUI, and the automation service, whose firings go to the
action runner, whose `run-flow` actions go to the flow runner, whose runs emit events back into
ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evtui.automations.actions import ActionRunner
from evtui.automations.folder import AutomationFolders
from evtui.automations.service import AutomationService
from evtui.automations.store import AutomationStore
from evtui.bus import Bus, Subscription
from evtui.events import Event, ReceivedEvent, now_utc
from evtui.flows.registry import FlowRegistry
from evtui.flows.runner import Runner
from evtui.settings import SAMPLE_INBOX, Settings, SettingsError
from evtui.sources import FileWatcher, WatchSpec
from evtui.sources.db_source import DbSource
from evtui.store import Store, WriteOutcome
from evtui.store.retention import RetentionPolicy, run_retention
from evtui.store.rows import StoredEvent
from evtui.webhooks import WebhookStore

log = logging.getLogger(__name__)


class EventRate:
    """Events per second over a sliding window of whole seconds."""

    def __init__(self, window: int = 5) -> None:
        self.window = window
        self._buckets: deque[tuple[int, int]] = deque()

    def add(self, count: int, now: float | None = None) -> None:
        second = int(time.monotonic() if now is None else now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1] = (second, self._buckets[-1][1] + count)
        else:
            self._buckets.append((second, count))
        self._trim(second)

    def per_second(self, now: float | None = None) -> float:
        second = int(time.monotonic() if now is None else now)
        self._trim(second)
        complete = [count for at, count in self._buckets if at < second]
        return sum(complete) / self.window if complete else 0.0

    def _trim(self, second: int) -> None:
        while self._buckets and self._buckets[0][0] < second - self.window:
            self._buckets.popleft()


@dataclass
class IngestCounters:
    """What was turned away before it reached the store."""

    rejected: int = 0
    """Requests (or websocket frames) refused as invalid: none of their events was stored."""
    overloaded: int = 0
    """Times a sender was told to retry because the write queue was full."""
    rate: EventRate = field(default_factory=EventRate)


class Engine:
    """Owns and wires the parts; `start` and `stop` run them in dependency order."""

    def __init__(self, settings: Settings, *, serve_http: bool = True) -> None:
        self.settings = settings
        self.serve_http = serve_http
        self.store = Store(settings.db, queue_limit=settings.queue_limit)
        self.bus = Bus()
        self.counters = IngestCounters()
        self.started_at = now_utc()
        self.opened_seq = 0
        """The last `seq` stored before this start: what came before is history, not news."""
        self.receiver: Any = None
        self._background: list[asyncio.Task[None]] = []
        self.store.add_commit_listener(self._on_commit)
        self.watcher = self._file_watcher(settings)
        self.db_sources: list[DbSource] = [
            *self._postgres_sources(settings),
            *self._sql_pollers(settings),
        ]
        self.webhooks = WebhookStore(self.store, settings.webhooks)
        self.automations = AutomationStore(self)
        self.automation_files = AutomationFolders(self.automations, settings.automation_dirs)
        self.registry = FlowRegistry(settings.flow_dirs)
        self.runner = Runner(self, self.registry)
        self.actions = ActionRunner(self)
        self.automation_service = AutomationService(self, self.actions.execute)

    def _file_watcher(self, settings: Settings) -> FileWatcher | None:
        """The `--watch` folders, checked here so a bad one stops evtui before it starts.

        With nothing configured in a checkout, the samples' `./inbox` is created and watched.
        """
        if not settings.watch_specs:
            return None
        if not settings.watch:
            SAMPLE_INBOX.mkdir(exist_ok=True)
        try:
            specs = [WatchSpec.parse(spec) for spec in settings.watch_specs]
        except ValueError as error:
            raise SettingsError(f"watch: {error}") from None
        return FileWatcher(
            specs,
            self.ingest,
            settle_seconds=settings.settle_seconds,
            announce_existing=settings.announce_existing,
        )

    def _postgres_sources(self, settings: Settings) -> list[DbSource]:
        """The `watch_db` entries, checked here; an unreachable database does not stop evtui.

        Imported only when configured: the driver is not loaded for evtui without databases.
        """
        if not settings.watch_db:
            return []
        from evtui.sources.postgres.source import PostgresSource
        from evtui.sources.postgres.spec import DbWatchSpec

        try:
            specs = [DbWatchSpec.parse(entry, i) for i, entry in enumerate(settings.watch_db)]
        except ValueError as error:
            raise SettingsError(str(error)) from None
        return [PostgresSource(spec, self.ingest) for spec in specs]

    def _sql_pollers(self, settings: Settings) -> list[DbSource]:
        """The `watch_sql` entries; a bad one is reported in its stats, the others still run."""
        if not settings.watch_sql:
            return []
        from evtui.sources.sql_poll import sql_pollers

        return list(sql_pollers(settings.watch_sql, self.ingest, self.store))

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()
        self.bus.head = self.opened_seq = await self.store.last_seq()
        self._background.extend(self._background_tasks())
        try:
            await self.webhooks.load()
            await self.automations.load()
            await self.registry.start()
            await self.runner.start()
            await self.actions.start()
            await self.automation_service.start()
            await self.automation_files.start()
            if self.watcher is not None:
                await self.watcher.start()
            for source in self.db_sources:
                await source.start()
        except BaseException:
            await self.stop()
            raise
        if self.serve_http:
            from evtui.server.receiver import Receiver

            self.receiver = Receiver(self)
            try:
                await self.receiver.start()
            except BaseException:
                await self.stop()
                raise

    async def stop(self) -> None:
        """Stop taking input, commit everything acknowledged, then close the store."""
        await self.automation_files.stop()
        if self.watcher is not None:
            await self.watcher.stop()
        for source in self.db_sources:
            await source.stop()
        if self.receiver is not None:
            await self.receiver.stop()
            self.receiver = None
        await self.automation_service.stop()
        await self.actions.stop()
        await self.runner.stop()
        await self.registry.stop()
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        await self.store.close()
        self.bus.close()

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _background_tasks(self) -> list[asyncio.Task[None]]:
        """Housekeeping that runs beside ingest (retention and the like)."""
        policy = RetentionPolicy.from_settings(self.settings)
        return [asyncio.create_task(run_retention(self.store, policy), name="evtui-retention")]

    @property
    def address(self) -> str:
        """`host:port` the receiver listens on (the real port when 0 was asked)."""
        if self.receiver is None:
            return "not listening"
        return f"{self.receiver.host}:{self.receiver.port}"

    @property
    def api_url(self) -> str:
        if self.receiver is None:
            return self.settings.api_url
        return f"http://{self.receiver.url_host}:{self.receiver.port}/api"

    # -- ingest ---------------------------------------------------------------------------

    def submit(self, events: Sequence[Event]) -> asyncio.Future[WriteOutcome]:
        """Stamp `received` and queue for commit; raises `Overloaded` when the queue is full.

        Events that are already `ReceivedEvent`s (the receivers validate into that class, see
        `evtui.events.received_now`) keep their stamp.
        """
        received = now_utc()
        return self.store.submit(
            [e if isinstance(e, ReceivedEvent) else e.receive(received) for e in events]
        )

    async def ingest(self, events: Sequence[Event]) -> WriteOutcome:
        """Store events; returns once they are committed (or were already stored)."""
        return await self.submit(events)

    def _on_commit(self, batch: list[StoredEvent]) -> None:
        self.counters.rate.add(len(batch))
        self.bus.publish(batch)

    # -- reading --------------------------------------------------------------------------

    def subscribe(self, name: str, limit: int | None = None) -> Subscription:
        return self.bus.subscribe(name, limit or self.settings.subscriber_buffer)

    async def catch_up(self, seq: int, limit: int) -> list[StoredEvent]:
        return await self.store.events_after(seq, limit)

    def stats(self) -> dict[str, Any]:
        """Counters for `GET /api/stats` and the status bar."""
        store = self.store.stats
        return {
            "address": self.address,
            "started": self.started_at.isoformat(),
            "events_per_second": self.counters.rate.per_second(),
            "stored_total": store.total,
            "accepted": store.accepted,
            "duplicates": store.duplicates,
            "rejected": self.counters.rejected,
            "overloaded": self.counters.overloaded,
            "write_queue": store.queued,
            "write_queue_limit": self.store.queue_limit,
            "write_lag_seconds": self.store.write_lag_seconds,
            "commits": store.commits,
            "head_seq": self.bus.head,
            "subscribers": [vars(s) for s in self.bus.stats()],
            "watcher": vars(self.watcher.stats) if self.watcher is not None else None,
            "watching": [spec.display() for spec in self.watcher.specs] if self.watcher else [],
            "db_sources": [source.stats() for source in self.db_sources],
            "flow_file_errors": {str(p): e for p, e in self.registry.errors().items()},
            "automation_file_errors": {
                str(p): e for p, e in self.automation_files.errors().items()
            },
        }
