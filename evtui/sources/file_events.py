"""The events a watched file gives: `file.created`, `file.modified`, `file.deleted`.

The resource id is `file.` + the absolute path (`file./data/inbox/orders.csv`): stable across
restarts, readable in the TUI, and in the dotted `<kind>.<id>` form of Prefect's ids, so a
trigger on `file.*` (or `id_prefix` `file./data/inbox/`) picks local files while cloud objects
from webhooks keep their own `s3://bucket/key` ids.

Event ids are derived (uuid5) from what was announced: kind, path, size, mtime and ctime. A
restart that announces the same file in the same state again (`announce_existing`) produces
the same id, which the store deduplicates; a real change produces a new one. ctime is in the
key because `cp -p` and `rsync -t` keep mtime: the same bytes dropped again after the first
copy was processed and moved away are a new arrival, and their ctime says so.
"""

from __future__ import annotations

import os
import stat
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from evtui.events import RESOURCE_ID, RESOURCE_NAME, Event

FileChange = Literal["file.created", "file.modified", "file.deleted"]

FILE_EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "evtui:file-events")
"""uuid5 namespace of file event ids; fixed, so ids stay the same across versions."""


@dataclass(frozen=True, slots=True)
class FileState:
    """What the watcher compares to tell that a file changed, and what it announces."""

    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, path: Path | str) -> FileState | None:
        """The state of a regular file at `path` (symlinks followed); None if there is none."""
        try:
            found = os.stat(path)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return None
        if not stat.S_ISREG(found.st_mode):
            return None
        return cls(found.st_size, found.st_mtime_ns, found.st_ctime_ns)

    def same_content(self, other: FileState) -> bool:
        """Size and mtime unchanged: ctime alone moves on chmod or rename, not on writes."""
        return self.size == other.size and self.mtime_ns == other.mtime_ns

    @property
    def modified(self) -> datetime:
        seconds, nanos = divmod(self.mtime_ns, 1_000_000_000)
        return datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)


def file_resource_id(path: Path) -> str:
    return f"file.{path.as_posix()}"


def file_event(kind: FileChange, path: Path, state: FileState, watch: str) -> Event:
    """One event about the file at `path` (absolute), in `state` (its last state if deleted)."""
    modified = state.modified.isoformat()
    key = f"{kind}\n{path.as_posix()}\n{state.size}\n{state.mtime_ns}\n{state.ctime_ns}"
    return Event(
        id=uuid.uuid5(FILE_EVENT_NAMESPACE, key),
        event=kind,
        resource={
            RESOURCE_ID: file_resource_id(path),
            RESOURCE_NAME: path.name,
            "evtui.file.path": str(path),
            "evtui.file.directory": str(path.parent),
            "evtui.file.name": path.name,
            "evtui.file.size": str(state.size),
            "evtui.file.modified": modified,
        },
        payload={"path": str(path), "size": state.size, "modified": modified, "watch": watch},
    )
