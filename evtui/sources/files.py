"""The file watcher: files arriving, changing and leaving watched folders become events.

watchfiles' Rust notifier runs in a thread of its own together with the `FileTracker` that
reads the file system, so neither notification bursts nor `stat` calls on a slow share ever
block the event loop; only finished event batches cross to the loop. The notifier is used
directly rather than through `awatch` because its constructor installs the watches before it
returns: the start-up listing that follows cannot miss a file dropped in between.

Events go to `ingest` (the engine's) in batches: everything that settled together, up to
`MAX_BATCH`. A failed ingest (the store overloaded, say) is retried after the delay it asks
for, and the batch stays queued meanwhile: nothing announced is dropped while evtui runs.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from watchfiles._rust_notify import RustNotify

from evtui.events import Event
from evtui.sources.file_tracker import FileTracker
from evtui.sources.watch_spec import WatchSpec

log = logging.getLogger(__name__)

Ingest = Callable[[list[Event]], Awaitable[object]]

MAX_BATCH = 5_000
"""Events per ingest call; a larger burst goes in several calls."""
STEP_MS = 50
"""How often the notifier looks for changes and for the stop signal."""
DEBOUNCE_MS = 200
"""Longest a notification batch gathers while changes keep coming."""
RETRY_DELAY = 0.5
"""Seconds before retrying an ingest that failed without saying when to retry."""
MAX_RETRY_DELAY = 5.0
RESTART_DELAY = 1.0
"""Seconds before re-creating a notifier that failed while running."""
STOP_FLUSH_SECONDS = 10.0
"""How long `stop` waits for queued events to be stored."""


@dataclass(frozen=True)
class WatcherStats:
    """A snapshot of the watcher's counters (for `/api/stats` and the status bar)."""

    emitted: int
    """Events ingest accepted."""
    pending: int
    """Files seen changing that have not held still for `settle_seconds` yet."""
    tracked: int
    """Files known in the watched folders."""
    queued: int
    """Events waiting for ingest (a failed ingest keeps its batch here until it succeeds)."""
    retries: int
    """Failed ingest calls, each retried."""
    last_error: str | None


def _force_polling() -> bool:
    """watchfiles' documented switch for file systems without notifications (NFS, SMB, ...).

    Its poller compares whole-second mtimes: a file changed again within the second it was
    announced in goes unnoticed, which a `settle_seconds` of 1 or more (the default) rules out.
    """
    value = os.environ.get("WATCHFILES_FORCE_POLLING", "")
    return value.lower() not in ("", "false", "disable", "disabled")


def _check_folders(roots: list[str]) -> None:
    """The notifier skips missing folders silently (it is told to skip unreadable ones)."""
    for root in roots:
        if not os.path.isdir(root):
            raise FileNotFoundError(f"watched folder {root} does not exist or is not a folder")


def _retry_delay(error: Exception) -> float:
    asked = getattr(error, "retry_after", None)
    delay = asked if isinstance(asked, int | float) and asked > 0 else RETRY_DELAY
    return min(float(delay), MAX_RETRY_DELAY)


class FileWatcher:
    """Watches folders (`WatchSpec`s) and ingests `file.created|modified|deleted` events.

    With `announce_existing`, files present at start are announced as `file.created`;
    otherwise they are known silently, so their later changes and removal are announced.
    """

    def __init__(
        self,
        specs: list[WatchSpec],
        ingest: Ingest,
        *,
        settle_seconds: float = 1.0,
        announce_existing: bool = False,
    ) -> None:
        self.specs = list(specs)
        self.settle_seconds = settle_seconds
        self.announce_existing = announce_existing
        self._ingest = ingest
        self._tracker = FileTracker(self.specs, settle_seconds)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._sender: asyncio.Task[None] | None = None
        self._outbox: list[Event] = []
        self._has_events = asyncio.Event()
        self._drained = asyncio.Event()
        self._emitted = 0
        self._retries = 0
        self._last_error: str | None = None

    @property
    def stats(self) -> WatcherStats:
        return WatcherStats(
            emitted=self._emitted,
            pending=len(self._tracker.pending),
            tracked=len(self._tracker.known),
            queued=len(self._outbox),
            retries=self._retries,
            last_error=self._last_error,
        )

    async def start(self) -> None:
        """Install the watches and list the folders; raises if a folder cannot be watched."""
        if self._thread is not None or not self.specs:
            return
        loop = asyncio.get_running_loop()
        started: asyncio.Future[None] = loop.create_future()

        def report(error: BaseException | None) -> None:
            if error is None:
                loop.call_soon_threadsafe(started.set_result, None)
            else:
                loop.call_soon_threadsafe(started.set_exception, error)

        def deliver(events: list[Event]) -> None:
            loop.call_soon_threadsafe(self._queue, events)

        self._stopping.clear()
        self._drained.set()
        self._sender = asyncio.create_task(self._deliver(), name="evtui-file-events")
        self._thread = threading.Thread(
            target=self._run, args=(report, deliver), name="evtui-file-watcher", daemon=True
        )
        self._thread.start()
        try:
            await started
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop watching, then give queued events up to `STOP_FLUSH_SECONDS` to be stored."""
        if self._thread is not None:
            self._stopping.set()
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        if self._sender is None:
            return
        try:
            await asyncio.wait_for(self._drained.wait(), STOP_FLUSH_SECONDS)
        except TimeoutError:
            log.error("file watcher stopped with %d events not stored", len(self._outbox))
        self._sender.cancel()
        await asyncio.gather(self._sender, return_exceptions=True)
        self._sender = None

    # -- the watch thread ---------------------------------------------------------------

    def _run(
        self,
        report: Callable[[BaseException | None], None],
        deliver: Callable[[list[Event]], None],
    ) -> None:
        """Watch until stopped; a notifier failing later is re-created and the folders relisted."""
        first = True
        roots = [str(root) for root in self._tracker.roots()]
        while not self._stopping.is_set():
            try:
                if first:
                    _check_folders(roots)
                with RustNotify(roots, False, _force_polling(), 300, True, True) as notify:
                    if first:
                        self._tracker.scan(announce=self.announce_existing)
                        report(None)
                        first = False
                    else:
                        self._tracker.rescan()
                    self._watch(notify, deliver)
            except Exception as error:
                if first:
                    report(error)
                    return
                log.exception("file watcher failed; restarting in %.0f s", RESTART_DELAY)
                self._stopping.wait(RESTART_DELAY)

    def _watch(self, notify: RustNotify, deliver: Callable[[list[Event]], None]) -> None:
        tracker = self._tracker
        while True:
            tracker.settle()
            events = tracker.take()
            if events:
                deliver(events)
            wait = tracker.seconds_to_next_check()
            timeout_ms = 0 if wait is None else max(1, math.ceil(wait * 1000))
            changes = notify.watch(DEBOUNCE_MS, STEP_MS, timeout_ms, self._stopping)
            if changes == "stop":
                return
            if isinstance(changes, set):
                tracker.changed({path for _, path in changes})

    # -- delivery on the event loop -----------------------------------------------------

    def _queue(self, events: list[Event]) -> None:
        self._outbox.extend(events)
        self._drained.clear()
        self._has_events.set()

    async def _deliver(self) -> None:
        while True:
            await self._has_events.wait()
            while self._outbox:
                batch = self._outbox[:MAX_BATCH]
                try:
                    await self._ingest(batch)
                except Exception as error:
                    self._retries += 1
                    self._last_error = f"{type(error).__name__}: {error}"
                    delay = _retry_delay(error)
                    log.warning("file events not stored (%s); retrying in %.1f s", error, delay)
                    await asyncio.sleep(delay)
                    continue
                del self._outbox[: len(batch)]
                self._emitted += len(batch)
            self._has_events.clear()
            self._drained.set()
