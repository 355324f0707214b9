"""What a row says and how it fits its columns."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from rich.cells import cell_len
from tui_helpers import make_event

from evtui.tui.columns import (
    TIME_WIDTH,
    Columns,
    compact_labels,
    fit_cell,
    fit_cells,
    format_time,
    row_cells,
)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_time_has_milliseconds_today_and_the_date_otherwise(utc: None) -> None:
    moment = datetime(2024, 5, 1, 12, 3, 4, 567890, tzinfo=UTC)
    assert format_time(moment, date(2024, 5, 1)) == "12:03:04.567"
    assert format_time(moment, date(2024, 5, 2)) == "05-01 12:03:04"


def test_time_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        assert format_time(moment, date(2024, 5, 1)) == "17:30:00.000"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_labels_show_the_name_then_short_keys() -> None:
    labels = {
        "prefect.resource.id": "file.x",
        "prefect.resource.role": "source",
        "evtui.path": "/data/x.csv",
        "prefect.resource.name": "x.csv",
        "size": "3",
    }
    assert compact_labels(labels) == "x.csv  path=/data/x.csv  size=3"
    assert compact_labels({"prefect.resource.id": "a", "prefect.name": "n"}) == "n"
    assert compact_labels({"prefect.resource.id": "a"}) == ""


def test_cells_are_one_line_even_when_senders_send_control_characters() -> None:
    event = make_event(1, "evil\nname\x1b[2J")
    _, name, _, _ = row_cells(event, date(2024, 5, 1))
    assert "\n" not in name and "\x1b" not in name
    assert name.startswith("evil name")


@pytest.mark.parametrize(
    ("value", "width", "fitted"),
    [("abc", 5, "abc  "), ("abcdef", 5, "abcd…"), ("日本語テキスト", 6, "日本 …")],
)
def test_fit_cell_is_exactly_the_width(value: str, width: int, fitted: str) -> None:
    assert fit_cell(value, width) == fitted
    assert cell_len(fit_cell(value, width)) == width


@pytest.mark.parametrize("width", [20, 80, 120, 160, 300])
def test_columns_fill_the_width(width: int) -> None:
    columns = Columns.for_width(width)
    assert columns.time == TIME_WIDTH
    assert columns.total <= max(width, TIME_WIDTH + 23)
    if width >= 80:
        assert columns.total == width
    cells = fit_cells(("t", "e", "r", "l"), columns)
    assert sum(cell_len(c) for c in cells) == columns.total
