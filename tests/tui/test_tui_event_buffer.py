"""The bounded buffer behind the pane: newest kept, filter kept in step, repeats skipped."""

from __future__ import annotations

from tui_helpers import make_event

from evtui.store.rows import StoredEvent
from evtui.tui.event_buffer import Change, EventBuffer
from evtui.tui.matching import parse_filter


def stored(first: int, count: int, name: str = "file.created") -> list[StoredEvent]:
    """Events at positions first+1 .. first+count."""
    return [StoredEvent(i + 1, make_event(i, name).receive()) for i in range(first, first + count)]


def seqs(buffer: EventBuffer) -> list[int]:
    return [s.seq for s in buffer.rows]


def test_the_oldest_fall_off_and_are_reported_dropped() -> None:
    buffer = EventBuffer(capacity=5)
    assert buffer.extend(stored(0, 3)) == Change(added=3, dropped=0)
    assert buffer.extend(stored(3, 4)) == Change(added=4, dropped=2)
    assert seqs(buffer) == [3, 4, 5, 6, 7]


def test_repeats_and_older_events_are_skipped() -> None:
    buffer = EventBuffer(capacity=10)
    buffer.extend(stored(0, 4))
    assert buffer.extend(stored(2, 4)) == Change(added=2, dropped=0)
    assert seqs(buffer) == [1, 2, 3, 4, 5, 6]


def test_a_filter_selects_rows_and_follows_new_and_dropped_events() -> None:
    buffer = EventBuffer(capacity=6)
    buffer.extend(stored(0, 2, "file.created") + stored(2, 2, "flow.done"))
    buffer.set_matcher(parse_filter("file.*"))
    assert seqs(buffer) == [1, 2]
    assert buffer.extend(stored(4, 1, "file.created") + stored(5, 2, "flow.done")) == Change(
        added=1, dropped=1
    )
    assert seqs(buffer) == [2, 5]
    assert len(buffer.events) == 6
    buffer.set_matcher(None)
    assert seqs(buffer) == [2, 3, 4, 5, 6, 7]


def test_index_of_seq_finds_the_row_or_the_nearest_older() -> None:
    buffer = EventBuffer(capacity=10)
    buffer.extend(stored(0, 2, "a") + stored(2, 2, "b") + stored(4, 2, "a"))
    buffer.set_matcher(parse_filter("a*"))
    assert seqs(buffer) == [1, 2, 5, 6]
    assert buffer.index_of_seq(5) == 2
    assert buffer.index_of_seq(4) == 1
    assert buffer.index_of_seq(0) == 0
