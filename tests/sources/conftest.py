"""A real FileWatcher over a folder in tmp_path, feeding a list-collecting ingest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from file_helpers import Collector

from evtui.sources import FileWatcher, WatchSpec


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
async def watching(inbox: Path, collector: Collector) -> AsyncIterator[FileWatcher]:
    """A started watcher on `inbox` (all names, settle 0.2 s) feeding `collector`."""
    watcher = FileWatcher([WatchSpec.parse(f"{inbox}:**/*")], collector, settle_seconds=0.2)
    await watcher.start()
    yield watcher
    await watcher.stop()
