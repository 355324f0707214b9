"""The watcher on real folders with real watchfiles notifications, as a user drops files."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from file_helpers import Collector, barrier

from evtui.events import Event
from evtui.sources import FileWatcher, WatchSpec
from evtui.store import Overloaded


async def test_a_file_written_in_chunks_gives_one_created(
    watching: FileWatcher, inbox: Path, collector: Collector
) -> None:
    path = inbox / "orders.csv"
    with path.open("w") as handle:
        for n in range(6):
            handle.write(f"{n},row\n" * 1000)
            handle.flush()
            await asyncio.sleep(0.05)
    created = await collector.wait_for_file("orders.csv")
    assert created.payload["size"] == path.stat().st_size
    assert created.resource["evtui.file.size"] == str(path.stat().st_size)
    await barrier(collector, inbox)
    assert collector.about("orders.csv") == [("file.created", "orders.csv")]


async def test_modified_and_deleted(
    watching: FileWatcher, inbox: Path, collector: Collector
) -> None:
    path = inbox / "data.csv"
    path.write_text("v1\n")
    await collector.wait_for_file("data.csv")
    with path.open("a") as handle:
        handle.write("v2\n")
    modified = await collector.wait_for_file("data.csv", "file.modified")
    assert modified.payload["size"] == 6
    path.unlink()
    deleted = await collector.wait_for_file("data.csv", "file.deleted")
    assert deleted.resource["prefect.resource.id"] == f"file.{inbox.resolve() / 'data.csv'}"
    assert collector.about("data.csv") == [
        ("file.created", "data.csv"),
        ("file.modified", "data.csv"),
        ("file.deleted", "data.csv"),
    ]


async def test_files_present_at_start_are_known_but_not_announced(
    inbox: Path, collector: Collector
) -> None:
    (inbox / "before.csv").write_text("here first\n")
    watcher = FileWatcher([WatchSpec.parse(str(inbox))], collector, settle_seconds=0.2)
    await watcher.start()
    try:
        (inbox / "before.csv").unlink()
        await collector.wait_for_file("before.csv", "file.deleted")
        await barrier(collector, inbox)
        assert collector.about("before.csv") == [("file.deleted", "before.csv")]
    finally:
        await watcher.stop()


async def test_a_file_gone_before_it_settled_gives_nothing(
    watching: FileWatcher, inbox: Path, collector: Collector
) -> None:
    path = inbox / "fleeting.csv"
    path.write_text("x")
    path.unlink()
    await barrier(collector, inbox)
    assert collector.about("fleeting.csv") == []


async def test_rename_inside_the_folder_is_deleted_then_created(
    watching: FileWatcher, inbox: Path, collector: Collector
) -> None:
    (inbox / "draft.csv").write_text("x\n")
    await collector.wait_for_file("draft.csv")
    (inbox / "draft.csv").rename(inbox / "final.csv")
    await collector.wait_for_file("final.csv")
    assert collector.about("draft.csv") == [
        ("file.created", "draft.csv"),
        ("file.deleted", "draft.csv"),
    ]


async def test_pattern_and_scratch_names_filter_what_is_announced(
    inbox: Path, collector: Collector
) -> None:
    watcher = FileWatcher([WatchSpec.parse(f"{inbox}:*.csv")], collector, settle_seconds=0.2)
    await watcher.start()
    try:
        (inbox / "sub").mkdir()
        (inbox / ".cache").mkdir()
        for name in ("a.csv", "notes.txt", "b.csv.part", ".c.csv", "~$d.csv", "sub/e.csv"):
            (inbox / name).write_text(name)
        (inbox / ".cache" / "f.csv").write_text("hidden folder")
        (inbox / "upload.tmp").write_text("arrives under a scratch name")
        (inbox / "upload.tmp").rename(inbox / "g.csv")
        await barrier(collector, inbox)
        assert sorted(name for _, name in collector.summary()) == [
            "a.csv",
            "g.csv",
            "zz-barrier.csv",
        ]
    finally:
        await watcher.stop()


async def test_announce_existing_repeats_the_same_ids_after_a_restart(
    inbox: Path, collector: Collector
) -> None:
    (inbox / "old.csv").write_text("old\n")
    (inbox / "older.csv").write_text("older\n")
    ids: list[set[str]] = []
    for _ in range(2):
        seen = Collector()
        watcher = FileWatcher(
            [WatchSpec.parse(str(inbox))], seen, settle_seconds=0.2, announce_existing=True
        )
        await watcher.start()
        events = await seen.wait_for(lambda events: len(events) == 2)
        await watcher.stop()
        assert {e.event for e in events} == {"file.created"}
        ids.append({str(e.id) for e in events})
    assert ids[0] == ids[1]


async def test_a_thousand_files_at_once_give_exactly_a_thousand_created(
    watching: FileWatcher, inbox: Path, collector: Collector
) -> None:
    names = {f"drop-{n:04}.csv" for n in range(1000)}
    for name in names:
        (inbox / name).write_text(f"{name}\n")
    await collector.wait_for(lambda events: len(events) >= 1000)
    await barrier(collector, inbox)
    burst = [e for e in collector.events if e.resource["evtui.file.name"] in names]
    assert len(burst) == 1000
    assert {e.event for e in burst} == {"file.created"}
    assert len({e.resource["prefect.resource.id"] for e in burst}) == 1000
    assert len(collector.events) == 1001
    assert len(collector.batches) < 100, "files settling together go to ingest together"
    assert watching.stats.emitted == 1001
    assert watching.stats.pending == 0


async def test_a_failing_ingest_is_retried_and_nothing_is_dropped(inbox: Path) -> None:
    stored: list[Event] = []
    refusals = 0

    async def overloaded_twice(events: list[Event]) -> None:
        nonlocal refusals
        if refusals < 2:
            refusals += 1
            raise Overloaded(queued=10, retry_after=0.05)
        stored.extend(events)

    watcher = FileWatcher([WatchSpec.parse(str(inbox))], overloaded_twice, settle_seconds=0.1)
    await watcher.start()
    try:
        for n in range(20):
            (inbox / f"f{n}.csv").write_text("x")
        deadline = time.monotonic() + 10
        while len(stored) < 20:
            assert time.monotonic() < deadline, f"stored {len(stored)} of 20"
            await asyncio.sleep(0.02)
        assert sorted(e.resource["evtui.file.name"] for e in stored) == sorted(
            f"f{n}.csv" for n in range(20)
        )
        assert watcher.stats.retries == 2
        assert "write queue is full" in (watcher.stats.last_error or "")
    finally:
        await watcher.stop()


async def test_stop_hands_over_what_was_already_announced(inbox: Path) -> None:
    release = asyncio.Event()
    stored: list[Event] = []

    async def slow(events: list[Event]) -> None:
        await release.wait()
        stored.extend(events)

    watcher = FileWatcher([WatchSpec.parse(str(inbox))], slow, settle_seconds=0.1)
    await watcher.start()
    (inbox / "last.csv").write_text("x")
    deadline = time.monotonic() + 10
    while watcher.stats.queued == 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    stopping = asyncio.create_task(watcher.stop())
    release.set()
    await stopping
    assert [e.resource["evtui.file.name"] for e in stored] == ["last.csv"]


async def test_a_folder_that_cannot_be_watched_fails_start(tmp_path: Path) -> None:
    folder = tmp_path / "short-lived"
    folder.mkdir()
    spec = WatchSpec.parse(str(folder))
    os.rmdir(folder)
    watcher = FileWatcher([spec], Collector(), settle_seconds=0.1)
    with pytest.raises(FileNotFoundError, match="short-lived"):
        await watcher.start()


async def test_a_folder_moved_in_and_a_folder_filled_at_once_announce_every_file(
    watching: FileWatcher, inbox: Path, collector: Collector, tmp_path: Path
) -> None:
    outside = tmp_path / "export"
    (outside / "deep").mkdir(parents=True)
    for name in ("m1.csv", "deep/m2.csv"):
        (outside / name).write_text(name)
    outside.rename(inbox / "export")
    fresh = inbox / "made" / "here"
    fresh.mkdir(parents=True)
    for n in range(20):
        (fresh / f"h{n}.csv").write_text("written right after mkdir")
    expected = {"m1.csv", "m2.csv", *(f"h{n}.csv" for n in range(20))}
    await collector.wait_for(lambda _: expected <= {name for _, name in collector.summary()})
    await barrier(collector, inbox)
    assert sorted(collector.summary()) == sorted(
        [("file.created", name) for name in [*expected, "zz-barrier.csv"]]
    )
