"""A polled SQLite source feeding a real store: new rows become events once, in cursor order,
the cursor survives restarts, a crash can only resend, and idle polls are skipped."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from polling import until
from sql_poll_helpers import Landed, Warehouse, by_update_time, orders_entry, polling

from evtui.sources.sql_poll import SqlPoller
from evtui.sources.sql_poll.events import ROW_CAP


def ids(events: list) -> list[str]:
    return [e.resource["evtui.db.key"] for e in events]


async def test_rows_added_after_start_become_events_and_a_restart_resumes(
    warehouse: Warehouse, landed: Landed
) -> None:
    warehouse.insert((1, "acme", 10.0, "2026-11-26T10:00"), (2, "acme", 20.0, "2026-11-26T10:01"))
    entry = orders_entry(warehouse.url)
    async with polling(entry, landed) as poller:
        warehouse.insert((3, "globex", 1500.0, "2026-11-26T10:02"))
        warehouse.insert((4, "initech", 5.5, "2026-11-26T10:03"))
        events = await landed.wait_for(2)
        assert poller.stats()["error"] is None
    assert ids(events) == ["3", "4"]  # rows already there at first start are not announced

    first = events[0]
    database = str(warehouse.path.resolve())
    assert first.event == "db.row.polled"
    assert first.resource["prefect.resource.id"] == f"sqlite:///{database}/warehouse/3"
    assert first.resource["prefect.resource.name"] == "warehouse/3"
    assert first.resource["evtui.db.kind"] == "sqlite"
    assert first.resource["evtui.db.database"] == database
    assert first.resource["evtui.db.source"] == "warehouse"
    assert first.resource["evtui.db.cursor"] == "3"
    assert first.payload == {
        "source": "warehouse",
        "key": {"id": 3},
        "cursor": 3,
        "row": {"id": 3, "customer": "globex", "amount": 1500.0, "updated_at": "2026-11-26T10:02"},
        "row_truncated": False,
    }

    warehouse.insert((5, "acme", 1.0, "2026-11-26T11:00"), (6, "acme", 2.0, "2026-11-26T11:01"))
    async with polling(entry, landed):
        events = await landed.wait_for(4)
    assert ids(events) == ["3", "4", "5", "6"]
    assert sum(o.duplicates for o in landed.outcomes) == 0


async def test_start_announces_existing_rows_and_an_update_is_a_new_event(
    warehouse: Warehouse, landed: Landed
) -> None:
    warehouse.insert((1, "acme", 10.0, "2026-11-26T10:00"), (2, "acme", 20.0, "2026-11-26T10:01"))
    entry = by_update_time(
        warehouse.url,
        name="orders",
        query="SELECT id, amount, updated_at FROM orders WHERE updated_at > :cursor",
        event="acme.order.changed",
    )
    async with polling(entry, landed) as poller:
        await landed.wait_for(2)
        warehouse.execute(
            "UPDATE orders SET amount = 99, updated_at = '2026-11-26T12:00' WHERE id = 1"
        )
        events = await landed.wait_for(3)
        await until(lambda: _cursor_at(poller, "2026-11-26T12:00"), what="the cursor saved")
    assert ids(events) == ["1", "2", "1"]
    assert {e.event for e in events} == {"acme.order.changed"}
    assert events[0].resource["prefect.resource.id"] == events[2].resource["prefect.resource.id"]
    assert events[0].id != events[2].id
    assert events[2].payload["row"] == {"id": 1, "amount": 99.0, "updated_at": "2026-11-26T12:00"}


async def _cursor_at(poller: SqlPoller, value: str) -> bool:
    return poller.stats()["cursor"] == value


async def test_a_crash_before_the_cursor_is_saved_only_resends(
    warehouse: Warehouse, landed: Landed
) -> None:
    warehouse.insert(*[(n, "acme", float(n), f"2026-11-26T10:0{n}") for n in range(1, 4)])
    entry = orders_entry(warehouse.url, start=0)
    async with polling(entry, landed):
        first = await landed.wait_for(3)
    # The events were committed, then evtui died before storing the cursor.
    await landed.store.transact(lambda conn: conn.execute("DELETE FROM source_cursors"))
    async with polling(entry, landed) as poller:
        await until(lambda: _resent(landed), what="the rows read again")
        await until(lambda: _cursor_at(poller, "3"), what="the cursor saved again")
    assert [e.id for e in await landed.events()] == [e.id for e in first]


async def _resent(landed: Landed) -> bool:
    return sum(o.duplicates for o in landed.outcomes) == 3


async def test_idle_polls_are_skipped_until_another_connection_commits(
    warehouse: Warehouse, landed: Landed
) -> None:
    async with polling(orders_entry(warehouse.url, every="1h"), landed) as poller:
        polls = poller.stats()["polls"]
        for expected in range(1, 4):
            poller.poll_now()
            await until(lambda n=expected: _skipped(poller, n), what=f"{expected} skipped polls")
        assert poller.stats()["polls"] == polls
        warehouse.insert((1, "acme", 1.0, "2026-11-26T10:00"))
        poller.poll_now()
        await landed.wait_for(1)
        assert poller.stats()["polls"] == polls + 1


async def _skipped(poller: SqlPoller, count: int) -> bool:
    return poller.stats()["skipped_polls"] >= count


@pytest.mark.parametrize(
    ("stamps", "batch_size"),
    [
        (["a", "a", "b", "b", "b", "c", "d", "d"], 3),  # a batch ends inside a run of "b"
        (["a", "a", "a", "a", "a", "b"], 2),  # a whole batch shares one value
    ],
)
async def test_rows_sharing_a_cursor_value_across_batches_all_arrive_once(
    warehouse: Warehouse, landed: Landed, stamps: list[str], batch_size: int
) -> None:
    warehouse.insert(*[(n, "acme", 1.0, stamp) for n, stamp in enumerate(stamps, 1)])
    entry = by_update_time(warehouse.url, batch_size=batch_size)
    async with polling(entry, landed) as poller:
        events = await landed.wait_for(len(stamps))
        await until(lambda: _caught_up(poller), what="lag 0")
    assert sorted(int(key) for key in ids(events)) == list(range(1, len(stamps) + 1))
    assert [e.resource["evtui.db.cursor"] for e in events] == sorted(stamps)


async def _caught_up(poller: SqlPoller) -> bool:
    return poller.stats()["lag"] == 0


async def test_a_burst_larger_than_a_batch_arrives_in_order_and_lag_is_counted(
    warehouse: Warehouse, landed: Landed
) -> None:
    rows = [(n, "acme", float(n), "2026-11-26") for n in range(1, 2501)]
    async with polling(orders_entry(warehouse.url, batch_size=1000), landed) as poller:
        warehouse.insert(*rows)
        events = await landed.wait_for(len(rows))
        await until(lambda: _caught_up(poller), what="lag 0")
        assert poller.stats()["delivered"] == len(rows)
    assert [int(key) for key in ids(events)] == list(range(1, 2501))


async def test_a_row_over_the_cap_carries_only_its_key(
    warehouse: Warehouse, landed: Landed
) -> None:
    async with polling(orders_entry(warehouse.url), landed):
        warehouse.insert((1, "x" * (ROW_CAP + 1), 1.0, "2026-11-26"))
        (event,) = await landed.wait_for(1)
    assert event.payload["row"] == {"id": 1}
    assert event.payload["row_truncated"] is True


async def test_a_timestamp_start_is_compared_as_sqlite_stores_it(
    warehouse: Warehouse, landed: Landed
) -> None:
    warehouse.insert((1, "acme", 1.0, "2026-11-26T10:00"), (2, "acme", 2.0, "2026-11-26T10:02"))
    entry = by_update_time(warehouse.url, start=datetime(2026, 11, 26, 10, 1))
    async with polling(entry, landed):
        (event,) = await landed.wait_for(1)
    assert event.resource["evtui.db.key"] == "2"


async def test_a_file_replaced_under_its_name_is_reopened(
    warehouse: Warehouse, landed: Landed, tmp_path: Path
) -> None:
    async with polling(orders_entry(warehouse.url), landed):
        warehouse.insert((1, "acme", 1.0, "2026-11-26"))
        await landed.wait_for(1)
        fresh = Warehouse(tmp_path / "fresh.db")
        fresh.insert((1, "acme", 1.0, "2026-11-26"), (2, "globex", 2.0, "2026-11-27"))
        os.replace(fresh.path, warehouse.path)
        events = await landed.wait_for(2)
    assert ids(events) == ["1", "2"]
