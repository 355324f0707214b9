"""A real FileWatcher over a folder in tmp_path, feeding a list-collecting ingest; a real
PostgreSQL server for the database sources."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from file_helpers import Collector
from pg_server import PostgresServer, unavailable_reason
from sql_poll_helpers import Landed, Warehouse

from evtui.sources import FileWatcher, WatchSpec
from evtui.store import Store


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (see `pg_server.py`).

    Skipped only where none can be started; under CI (`CI` set) that is a failure instead,
    since `.ci/run` installs the server.
    """
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    server = PostgresServer.start()
    yield server
    server.stop()


_databases = itertools.count()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server, as a connection URL."""
    name = f"test_{next(_databases)}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} STRATEGY = FILE_COPY")
    return pg_server.url_for(name)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    """A SQLite file with an empty `orders` table, for the polled SQL source."""
    return Warehouse(tmp_path / "warehouse.db")


@pytest.fixture
async def landed(tmp_path: Path) -> AsyncIterator[Landed]:
    """A real evtui store that polled events are ingested into."""
    async with Store(tmp_path / "evtui.db") as store:
        yield Landed(store)


@pytest.fixture
def quick_pg_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL sources retry within a fraction of a second (tests break connections)."""
    from evtui.sources.postgres.source import PostgresSource

    monkeypatch.setattr(PostgresSource, "first_retry", 0.05)
    monkeypatch.setattr(PostgresSource, "max_retry", 0.2)
