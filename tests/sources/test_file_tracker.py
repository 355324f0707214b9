"""The tracker on its own, with a hand-driven clock: settling, reconciling lost notifications."""

from __future__ import annotations

import os
import time
from pathlib import Path

from evtui.sources import WatchSpec
from evtui.sources.file_tracker import RESCAN_INTERVAL, FileTracker

SETTLE = 1.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def tracker_for(folder: Path, clock: Clock, pattern: str = "*") -> FileTracker:
    tracker = FileTracker([WatchSpec.parse(f"{folder}:{pattern}")], SETTLE, clock)
    tracker.scan(announce=False)
    return tracker


def kinds(tracker: FileTracker) -> list[tuple[str, str]]:
    return [(e.event, e.resource["evtui.file.name"]) for e in tracker.take()]


def test_a_file_is_announced_once_it_held_still(tmp_path: Path) -> None:
    clock = Clock()
    tracker = tracker_for(tmp_path, clock)
    path = tmp_path / "a.csv"
    path.write_text("part 1\n")
    tracker.changed([str(path)])
    clock.now += SETTLE * 0.9
    tracker.settle()
    assert kinds(tracker) == []
    with path.open("a") as handle:
        handle.write("part 2\n")
    clock.now += SETTLE * 0.5
    tracker.settle()
    assert kinds(tracker) == [], "the growth seen by a fresh stat restarts the settle clock"
    clock.now += SETTLE
    tracker.settle()
    assert kinds(tracker) == [("file.created", "a.csv")]
    assert tracker.seconds_to_next_check() is None


def test_files_whose_notifications_were_lost_are_found_by_listing(tmp_path: Path) -> None:
    clock = Clock()
    tracker = tracker_for(tmp_path, clock)
    clock.now += RESCAN_INTERVAL
    names = [f"f{n:03}.csv" for n in range(50)]
    for name in names:
        (tmp_path / name).write_text(name)
    tracker.changed([str(tmp_path / names[7])])
    assert len(tracker.pending) == 50
    clock.now += SETTLE
    tracker.settle()
    assert kinds(tracker) == [("file.created", name) for name in names]


def test_listings_of_a_busy_folder_are_spaced_out(tmp_path: Path) -> None:
    clock = Clock()
    tracker = tracker_for(tmp_path, clock)
    clock.now += RESCAN_INTERVAL
    (tmp_path / "a.csv").write_text("a")
    tracker.changed([str(tmp_path / "a.csv")])
    (tmp_path / "b.csv").write_text("b")
    (tmp_path / "c.csv").write_text("c")
    tracker.changed([str(tmp_path / "b.csv")])
    assert set(tracker.pending) == {tmp_path / "a.csv", tmp_path / "b.csv"}
    assert tracker.seconds_to_next_check() == RESCAN_INTERVAL
    clock.now += RESCAN_INTERVAL
    tracker.settle()
    assert tmp_path / "c.csv" in tracker.pending


def test_created_then_deleted_before_settling_gives_nothing(tmp_path: Path) -> None:
    clock = Clock()
    tracker = tracker_for(tmp_path, clock)
    path = tmp_path / "brief.csv"
    path.write_text("x")
    tracker.changed([str(path)])
    path.unlink()
    tracker.changed([str(path)])
    clock.now += SETTLE
    tracker.settle()
    assert kinds(tracker) == []
    assert not tracker.pending and not tracker.known


def test_a_removed_folder_deletes_the_files_known_in_it(tmp_path: Path) -> None:
    (tmp_path / "batch" / "deep").mkdir(parents=True)
    for name in ("batch/a.csv", "batch/deep/b.csv", "keep.csv"):
        (tmp_path / name).write_text(name)
    clock = Clock()
    tracker = tracker_for(tmp_path, clock, "**/*")
    assert len(tracker.known) == 3
    (tmp_path / "batch").rename(tmp_path.parent / f"{tmp_path.name}-moved-out")
    tracker.changed([str(tmp_path / "batch")])
    assert sorted(kinds(tracker)) == [("file.deleted", "a.csv"), ("file.deleted", "b.csv")]
    assert list(tracker.known) == [tmp_path / "keep.csv"]


def test_a_folder_moved_in_announces_every_file_in_it(tmp_path: Path) -> None:
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    inbox.mkdir()
    for name in ("a.csv", "deep/b.csv", "skip.txt"):
        (outside / name).write_text(name)
    clock = Clock()
    tracker = tracker_for(inbox, clock, "**/*.csv")
    outside.rename(inbox / "arrived")
    tracker.changed([str(inbox / "arrived")])
    clock.now += SETTLE
    tracker.settle()
    assert kinds(tracker) == [("file.created", "a.csv"), ("file.created", "b.csv")]


def test_existing_files_are_announced_from_their_mtime(tmp_path: Path) -> None:
    old, fresh = tmp_path / "old.csv", tmp_path / "fresh.csv"
    old.write_text("old")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    fresh.write_text("still arriving")
    clock = Clock()
    tracker = FileTracker([WatchSpec.parse(str(tmp_path))], 3600.0, clock)
    tracker.scan(announce=True)
    tracker.settle()
    assert kinds(tracker) == [("file.created", "old.csv")]
    clock.now += 3600.0
    tracker.settle()
    assert kinds(tracker) == [("file.created", "fresh.csv")]


def test_nested_watch_folders_are_watched_once(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    specs = [WatchSpec.parse(f"{tmp_path / 'sub'}:*.json"), WatchSpec.parse(f"{tmp_path}:*.csv")]
    assert FileTracker(specs, SETTLE).roots() == [tmp_path.resolve()]
