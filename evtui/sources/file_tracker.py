"""What the file watcher knows about each file, and when a change becomes an event.

Two maps hold the state. `known`: files announced (or present at start), with the state last
announced. `pending`: files seen changing, with their latest state and when it last changed. A
pending file is announced once its size and mtime held still for `settle_seconds`, checked
again by a fresh `stat` at that moment, so a copy that writes in bursts gives one
`file.created` when it is done, however many change notifications it caused. Deletions need
no settling. A file created and deleted before settling was never announced, so its deletion
is not either.

Notifications are hints, not the truth: each batch names paths whose state is then read from
the file system, and the folders they are in are listed again (at most every
`RESCAN_INTERVAL`) to find files whose notifications were coalesced or lost in a burst. A
listing only compares names with the maps, so it stays cheap for large folders.

Sync code, owned by the watcher's thread: the file system calls never block the event loop.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evtui.events import Event
from evtui.sources.file_events import FileChange, FileState, file_event
from evtui.sources.watch_spec import WatchSpec

log = logging.getLogger(__name__)

_Start = Literal["now", "mtime", "known"]
"""How a newly seen file enters: pending from now, pending from its mtime, or known silently."""

RESCAN_INTERVAL = 0.5
"""Seconds between two listings of one folder while changes keep arriving in it."""


@dataclass(slots=True)
class _Pending:
    state: FileState
    changed_at: float
    """Monotonic time the state last changed (or the settle clock's start)."""


class FileTracker:
    """Turns change notifications into settled file events (collected in `take`)."""

    def __init__(
        self,
        specs: list[WatchSpec],
        settle_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.specs = specs
        self.settle_seconds = settle_seconds
        self.clock = clock
        self.known: dict[Path, FileState] = {}
        self.pending: dict[Path, _Pending] = {}
        self._folders: dict[Path, set[Path]] = {}
        """Tracked files (known or pending) per folder, for listings to compare with."""
        self._listed_at: dict[Path, float] = {}
        self._relist_due: dict[Path, float] = {}
        self._events: list[Event] = []

    # -- what the watcher calls -----------------------------------------------------------

    def scan(self, *, announce: bool) -> None:
        """Read every watched folder at start.

        Files found become known without an event, or with `announce` pending with their
        settle clock started at their mtime: a file untouched for `settle_seconds` is
        announced at the next `settle`, one still being written once it holds still.
        """
        for root in self.roots():
            self._list(root, recursive=True, start="mtime" if announce else "known")

    def rescan(self) -> None:
        """List every watched folder again (after the notifier restarted): find what it missed."""
        for root in self.roots():
            self._list(root, recursive=True)

    def changed(self, paths: Iterable[str]) -> None:
        """A notification batch: read each path's state, then relist the folders it touched."""
        folders = set()
        for raw in paths:
            path = Path(raw)
            self._observe(path)
            if self._watched_folder(path.parent):
                folders.add(path.parent)
        now = self.clock()
        for folder in folders:
            due = self._listed_at.get(folder, -RESCAN_INTERVAL) + RESCAN_INTERVAL
            if due <= now:
                self._list(folder, recursive=False)
            else:
                self._relist_due.setdefault(folder, due)

    def settle(self) -> None:
        """Announce pending files that held still, and run listings that fell due."""
        now = self.clock()
        for folder, due in list(self._relist_due.items()):
            if due <= now:
                self._list(folder, recursive=False)
        ripe = [p for p, w in self.pending.items() if now - w.changed_at >= self.settle_seconds]
        for path in sorted(ripe):
            waiting = self.pending[path]
            state = FileState.of(path)
            if state is None:
                self._gone(path)
            elif not state.same_content(waiting.state):
                waiting.state, waiting.changed_at = state, now
            else:
                del self.pending[path]
                announced = self.known.get(path)
                self.known[path] = state
                if announced is None:
                    self._emit("file.created", path, state)
                elif not announced.same_content(state):
                    self._emit("file.modified", path, state)

    def take(self) -> list[Event]:
        """The events produced since the last call, in the order they happened."""
        events, self._events = self._events, []
        return events

    def seconds_to_next_check(self) -> float | None:
        """How long `settle` can wait before something is due; None when nothing is."""
        times = [w.changed_at + self.settle_seconds for w in self.pending.values()]
        times.extend(self._relist_due.values())
        if not times:
            return None
        return max(0.0, min(times) - self.clock())

    def roots(self) -> list[Path]:
        """Watched folders, each once, without those inside another watched folder."""
        folders = sorted({spec.directory for spec in self.specs}, key=lambda p: len(p.parts))
        roots: list[Path] = []
        for folder in folders:
            if not any(folder.is_relative_to(root) for root in roots):
                roots.append(folder)
        return roots

    # -- state changes --------------------------------------------------------------------

    def _spec_for(self, path: Path) -> WatchSpec | None:
        return next((spec for spec in self.specs if spec.matches(path)), None)

    def _watched_folder(self, folder: Path) -> bool:
        return any(spec.covers_folder(folder) for spec in self.specs)

    def _observe(self, path: Path) -> None:
        """Read one notified path: a tracked file's new state, a new file, a folder's files.

        A folder is named in a notification when it arrives, leaves or is replaced (changes
        inside it name the file), so listing it whole is rare and catches files moved in
        with it, which get no notifications of their own.
        """
        if path in self.known or path in self.pending:
            state = FileState.of(path)
            if state is None:
                self._gone(path)
            else:
                self._saw(path, state)
        elif path.is_dir():
            if self._watched_folder(path):
                self._list(path, recursive=True)
        elif os.path.lexists(path):
            self._track_new(path)
        else:
            self._folder_gone(path)

    def _saw(self, path: Path, state: FileState, start: _Start = "now") -> None:
        """Record a state read from the file system; a changed one (re)starts the settle clock."""
        waiting = self.pending.get(path)
        last = waiting.state if waiting else self.known.get(path)
        if last is not None and last.same_content(state):
            return
        self._folders.setdefault(path.parent, set()).add(path)
        if start == "known":
            self.known[path] = state
            return
        now = self.clock()
        if start == "mtime":
            age = time.time() - state.mtime_ns / 1e9
            now -= min(max(age, 0.0), self.settle_seconds)
        self.pending[path] = _Pending(state, now)

    def _gone(self, path: Path) -> None:
        self.pending.pop(path, None)
        announced = self.known.pop(path, None)
        siblings = self._folders.get(path.parent)
        if siblings is not None:
            siblings.discard(path)
            if not siblings:
                del self._folders[path.parent]
        if announced is not None:
            self._emit("file.deleted", path, announced)

    def _folder_gone(self, path: Path) -> None:
        """`path` vanished and was no tracked file: drop what was tracked under it, if anything."""
        for folder in [f for f in self._listed_at if f == path or f.is_relative_to(path)]:
            if not folder.is_dir():
                del self._listed_at[folder]
                self._relist_due.pop(folder, None)
                for tracked in sorted(self._folders.get(folder, ())):
                    self._gone(tracked)

    def _list(self, folder: Path, *, recursive: bool, start: _Start = "now") -> None:
        """Compare a folder's names with the maps: new names are read, missing ones are gone.

        Sub-folders are listed too when `recursive`, or when never listed before (a folder
        moved in whose own notification was lost).
        """
        self._listed_at[folder] = self.clock()
        self._relist_due.pop(folder, None)
        present: set[Path] = set()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    path = Path(entry.path)
                    if entry.is_dir(follow_symlinks=False):
                        fresh = path not in self._listed_at
                        if (recursive or fresh) and not entry.name.startswith("."):
                            self._list(path, recursive=True, start=start)
                        continue
                    present.add(path)
                    if path not in self.known and path not in self.pending:
                        self._track_new(path, start)
        except (FileNotFoundError, NotADirectoryError):
            del self._listed_at[folder]
        except PermissionError as error:
            log.warning("cannot list watched folder %s: %s", folder, error.strerror)
            return
        for path in sorted(self._folders.get(folder, set()) - present):
            self._gone(path)
        for sub in [f for f in self._listed_at if f.parent == folder and not f.is_dir()]:
            self._folder_gone(sub)

    def _track_new(self, path: Path, start: _Start = "now") -> None:
        if self._spec_for(path) is not None:
            state = FileState.of(path)
            if state is not None:
                self._saw(path, state, start)

    def _emit(self, kind: FileChange, path: Path, state: FileState) -> None:
        spec = self._spec_for(path)
        assert spec is not None, "only files a spec matches are tracked"
        self._events.append(file_event(kind, path, state, str(spec)))
