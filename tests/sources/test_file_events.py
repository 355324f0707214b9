"""The shape of file events, and ids that repeat only for the same announcement."""

from __future__ import annotations

from pathlib import Path

from evtui.sources import FileState, file_event


def test_created_event_carries_the_file_labels_and_payload(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,qty\n1,2\n")
    state = FileState.of(path)
    assert state is not None
    event = file_event("file.created", path, state, f"{tmp_path}:*.csv")
    modified = state.modified.isoformat()
    assert event.event == "file.created"
    assert event.resource == {
        "prefect.resource.id": f"file.{path}",
        "prefect.resource.name": "orders.csv",
        "evtui.file.path": str(path),
        "evtui.file.directory": str(tmp_path),
        "evtui.file.name": "orders.csv",
        "evtui.file.size": "11",
        "evtui.file.modified": modified,
    }
    assert event.payload == {
        "path": str(path),
        "size": 11,
        "modified": modified,
        "watch": f"{tmp_path}:*.csv",
    }
    assert modified.endswith("+00:00")
    assert state.modified.timestamp() == path.stat().st_mtime_ns // 1000 / 1e6


def test_same_file_state_gives_the_same_id_and_a_change_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    state = FileState(size=3, mtime_ns=1_700_000_000_123_456_789, ctime_ns=1_700_000_000_0)
    first = file_event("file.created", path, state, "w")
    assert file_event("file.created", path, state, "w").id == first.id
    others = [
        file_event("file.modified", path, state, "w"),
        file_event("file.created", tmp_path / "b.csv", state, "w"),
        file_event("file.created", path, FileState(4, state.mtime_ns, state.ctime_ns), "w"),
        file_event("file.created", path, FileState(3, state.mtime_ns + 1, state.ctime_ns), "w"),
        file_event("file.created", path, FileState(3, state.mtime_ns, state.ctime_ns + 1), "w"),
    ]
    assert len({first.id, *(event.id for event in others)}) == 6


def test_only_regular_files_have_a_state(tmp_path: Path) -> None:
    assert FileState.of(tmp_path) is None
    assert FileState.of(tmp_path / "missing") is None
