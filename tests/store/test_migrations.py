"""Schema migrations: a new file and a file from every earlier version end up the same."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest
from store_helpers import make_event, related

from evtui.filters import EventFilter
from evtui.store import Store
from evtui.store.rows import ROW_COLUMNS, event_row
from evtui.store.schema import SCHEMA_VERSION, SchemaTooNew, migrate, schema_version
from evtui.store.writer import INSERT_RESOURCES

EXPECTED_INDEXES = {
    "ix_events_occurred",
    "ix_events_event_occurred",
    "ix_events_resource_occurred",
    "ix_event_resources_related_occurred",
    "ix_event_resources_event_id",
    "ix_event_resources_role",
}


async def tables_and_indexes(path: Path) -> tuple[set[str], set[str]]:
    async with (
        aiosqlite.connect(path) as conn,
        conn.execute("SELECT type, name FROM sqlite_master") as cursor,
    ):
        rows = await cursor.fetchall()
    return {n for t, n in rows if t == "table"}, {n for t, n in rows if t == "index"}


async def test_a_new_file_gets_the_whole_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with Store(path) as store:
        assert await schema_version(store.reader) == SCHEMA_VERSION
    tables, indexes = await tables_and_indexes(path)
    assert {"events", "event_resources", "store_meta"} <= tables
    assert indexes >= EXPECTED_INDEXES


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
async def test_an_older_file_upgrades_and_keeps_its_data(tmp_path: Path, version: int) -> None:
    path = tmp_path / f"v{version}.db"
    kept = make_event(
        "acme.order.created", "acme.order.1", related=[related("prefect.tag.a", "tag")]
    )
    store_id = None
    async with aiosqlite.connect(path) as conn:
        await migrate(conn, target=version)
        assert await schema_version(conn) == version
        tables, _ = await tables_and_indexes(path)
        if "events" in tables:
            await conn.execute(
                f"INSERT INTO events (seq, recorded, {ROW_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (1, 0, *event_row(kept)),
            )
            await conn.execute(INSERT_RESOURCES, {"first": 1, "last": 1})
        if "store_meta" in tables:
            async with conn.execute("SELECT value FROM store_meta WHERE key = 'store_id'") as cur:
                (store_id,) = await cur.fetchone()
        await conn.commit()

    async with Store(path) as store:
        assert await schema_version(store.reader) == SCHEMA_VERSION
        async with store.reader.execute(
            "SELECT value FROM store_meta WHERE key = 'store_id'"
        ) as cur:
            (now_id,) = await cur.fetchone()
        if store_id is not None:
            assert now_id == store_id
        if version >= 1:
            found = await store.get_event(str(kept.id))
            assert found is not None and found.event.model_dump() == kept.model_dump()
            by_resource = EventFilter.model_validate(
                {"resource": {"id": ["acme.order.1"]}, "related": {"role": ["tag"]}}
            )
            assert [s.event.id for s in (await store.query_events(by_resource, 10))[0]] == [kept.id]
        newer = make_event("acme.order.paid", "acme.order.1")
        await store.write([newer])
        assert await store.count_events() == (2 if version >= 1 else 1)
    _, indexes = await tables_and_indexes(path)
    assert indexes >= EXPECTED_INDEXES


async def test_a_file_from_a_newer_evtui_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    async with aiosqlite.connect(path) as conn:
        await conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="newer"):
        await Store(path).open()
    async with aiosqlite.connect(path) as conn:
        assert await schema_version(conn) == SCHEMA_VERSION + 1
