"""Event sources that live inside evtui: the file watcher (`--watch DIR[:PATTERN]`)."""

from evtui.sources.file_events import FileState, file_event, file_resource_id
from evtui.sources.files import FileWatcher, WatcherStats
from evtui.sources.watch_spec import DEFAULT_IGNORE, WatchSpec

__all__ = [
    "DEFAULT_IGNORE",
    "FileState",
    "FileWatcher",
    "WatchSpec",
    "WatcherStats",
    "file_event",
    "file_resource_id",
]
