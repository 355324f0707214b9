"""`w` wraps and `t` hides the times, in the Events pane, the Logs pane and the run detail."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_tui_panes import open_panes
from textual.app import App, ComposeResult
from tui_helpers import WIDE, Running, make_event, screen_lines, subscribed

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.columns import Columns, format_time
from evtui.tui.screens.run_detail import RunDetailScreen
from evtui.tui.source import LocalSource
from evtui.tui.widgets.logs_pane import FollowLog
from evtui.tui.widgets.run_log import RunLog
from evtui.tui.widgets.run_log import screen_lines as log_screen_lines
from evtui.tui.wrapped_rows import RowLines, row_height, wrapped_lines

LONG = "file./data/in/" + "/".join(f"folder-{n:02d}" for n in range(20)) + "/report.csv"
"""A resource id far wider than its column at 200 columns."""


def pane_state(running: Running) -> str:
    return str(running.app.query_one("#event-state").render())


async def test_w_wraps_long_cells_and_the_keys_still_move_by_event(running: Running) -> None:
    events = [make_event(i) for i in range(3)]
    long = make_event(3).model_copy(update={"resource": {"prefect.resource.id": LONG}})
    await running.ingest([*events, long, make_event(4)])
    listed = running.events
    assert listed.virtual_size.height == 5
    assert not any(LONG in line for line in screen_lines(listed))

    await running.pilot.press("w")
    assert listed.wrap and "wrap" in pane_state(running)
    lines = screen_lines(listed)
    tall = row_height(("", "", LONG, ""), listed.columns)
    assert tall > 1 and listed.virtual_size.height == 4 + tall
    pieces = [line.split()[0] if i else line.split()[3] for i, line in enumerate(lines[3:][:tall])]
    assert "".join(pieces) == LONG  # the whole id, over the row's lines, in its column
    assert listed.selected is not None and listed.selected.event.id == make_event(4).id

    await running.pilot.press("k")
    assert listed.selected is not None and listed.selected.event.id == long.id
    await running.pilot.press("k")
    assert listed.selected is not None and listed.selected.event.id == make_event(2).id
    await running.pilot.press("G", "w")
    assert not listed.wrap and listed.virtual_size.height == 5
    assert "wrap" not in pane_state(running)


async def test_t_hides_the_time_column_and_gives_its_room_away(running: Running) -> None:
    await running.ingest([make_event(i) for i in range(2)])
    listed = running.events
    header = running.app.query_one("#event-columns")
    assert str(header.render()).startswith("TIME")
    before = listed.columns
    await running.pilot.press("t")
    assert str(header.render()).startswith("EVENT")
    assert listed.columns.time == 0 and listed.columns.total == before.total
    assert listed.columns.resource >= before.resource
    assert screen_lines(listed)[0].startswith("file.created")
    assert "times hidden" in pane_state(running)
    await running.pilot.press("t")
    shown = format_time(make_event(0).occurred, date.today())
    assert screen_lines(listed)[0].startswith(shown)


async def test_w_and_t_in_the_logs_pane_and_the_run_detail(tmp_path: Path) -> None:
    async with open_panes(tmp_path, (160, 40)) as panes:
        name = "a-rather-long-name-" * 8
        await panes.source.start_run("greet", {"name": name, "lines": 3})
        log = panes.app.main.query_one(FollowLog)
        await panes.until(lambda: len(log.records) == 3, "the run's lines")
        assert log.line_count == 3
        state = panes.app.main.query_one("#logs-state")

        await panes.pilot.press("5", "w")
        assert log.line_count > 3 and "wrap" in str(state.render())
        width = log.scrollable_content_region.width
        assert all(len(line) <= width for line in log.lines)
        continued = log.lines[1]
        assert continued.startswith(" " * 18) and continued.strip()  # under the message

        await panes.pilot.press("w", "t")
        assert log.line_count == 3 and "times hidden" in str(state.render())
        assert all(line.startswith("INFO     hello") for line in log.lines)

        await panes.pilot.press("4", "enter")
        await panes.until(lambda: isinstance(panes.app.screen, RunDetailScreen), "the detail")
        detail_log = panes.app.screen.query_one(RunLog)
        await panes.until(lambda: len(detail_log.records) == 3, "the detail's lines")
        assert detail_log.lines[0][2] == ":"  # HH:MM:SS.mmm
        await panes.pilot.press("t")
        assert detail_log.lines[0].startswith("INFO")
        await panes.pilot.press("w")
        assert detail_log.line_count > 3


@pytest.mark.parametrize(
    ("line", "indent", "width", "shown"),
    [
        ("12:00 INFO  short", 12, 40, ["12:00 INFO  short"]),
        ("12:00 INFO  one\ntwo", 12, None, ["12:00 INFO  one", "            two"]),
        ("12:00 INFO  aa bbbb cccc dddd", 11, 23, ["12:00 INFO  aa bbbb", "           cccc dddd"]),
        ("12:00 INFO  aa bbbb cccc dddd", 12, 23, ["12:00 INFO  aa bbbb", "cccc dddd"]),
        (
            "INFO xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            5,
            20,
            ["INFO xxxxxxxxxxxxxxx", "     xxxxxxxxxxxxxxx"],
        ),
        ("INFO ab", 15, 10, ["INFO ab"]),  # too narrow to wrap: left as it is
        ("", 4, 30, [""]),
    ],
)
def test_log_lines_continue_under_the_message(
    line: str, indent: int, width: int | None, shown: list[str]
) -> None:
    assert log_screen_lines(line, indent, width) == shown


def test_wrapped_cells_fill_their_columns_line_by_line() -> None:
    columns = Columns(time=5, event=4, resource=6, labels=0)
    assert wrapped_lines(("12:00", "abcdefg", "xy", "labels"), columns) == [
        ("12:00 ", "abcd ", "xy     ", ""),
        ("      ", "efg  ", "       ", ""),
    ]
    assert row_height(("12:00", "abcdefg", "0123456789abc", ""), columns) == 3
    assert row_height(("", "", "", ""), columns) == 1
    labels = Columns(time=0, event=0, resource=0, labels=12)
    assert [line[3] for line in wrapped_lines(("", "", "", "name=a  size=512"), labels)] == [
        "name=a       ",  # at the spaces, not inside a label
        "size=512     ",
    ]


def test_row_lines_follow_rows_added_below_and_dropped_above() -> None:
    lines = RowLines()
    lines.rebuild([1, 3, 2])
    assert lines.total == 6
    assert [lines.span(row) for row in range(3)] == [(0, 1), (1, 4), (4, 6)]
    assert [lines.row_at(line) for line in range(6)] == [
        (0, 0), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1),
    ]  # fmt: skip
    assert lines.drop(2) == 4
    lines.append([5])
    assert (lines.total, len(lines)) == (7, 2)
    assert lines.span(0) == (0, 2) and lines.span(1) == (2, 7)
    assert lines.row_at(3) == (1, 1)
    assert lines.drop(2) == 7 and lines.total == 0


async def test_wrapped_rows_stay_in_step_while_old_events_fall_off(settings: Settings) -> None:
    """A paused, wrapped list whose oldest events fall off keeps the selected event in view."""
    engine = Engine(settings)
    app = EvtuiApp(LocalSource(engine), capacity=4)
    async with app.run_test(size=WIDE) as pilot:
        running = Running(app, engine, pilot)
        await running.until(lambda: subscribed(engine), "the app to subscribe")
        long = make_event(0).model_copy(update={"resource": {"prefect.resource.id": LONG}})
        await running.ingest([long, make_event(1), make_event(2), make_event(3)])
        listed = running.events
        await pilot.press("w", "k")
        selected = listed.selected
        assert selected is not None and selected.event.id == make_event(2).id
        await running.ingest([make_event(4), make_event(5)])
        assert listed.buffer.rows[0].event.id == make_event(2).id
        assert len(listed._lines) == len(listed.buffer) == 4
        assert listed._lines.total == listed.virtual_size.height == 4  # the tall row is gone
        assert listed.selected is not None and listed.selected.event.id == make_event(2).id
        assert "+2 new" in pane_state(running)
        assert any("report-2.csv" in line for line in screen_lines(listed))


async def test_a_log_scrolled_back_stays_in_place_when_times_or_wrap_change() -> None:
    class OneLog(App[None]):
        def compose(self) -> ComposeResult:
            yield RunLog(1_000, id="run-log")

    app = OneLog()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(RunLog)
        at = "2024-05-01T12:00:00+00:00"
        log.add({"ts": at, "level": "INFO", "message": f"line {n}"} for n in range(100))
        await pilot.pause()
        log.auto_scroll = False
        log.scroll_to(y=45, animate=False, immediate=True)
        await pilot.press("t")
        assert not log.show_time and log.lines[0] == "INFO     line 0"
        assert log.scroll_y == 45
        await pilot.press("t")
        assert log.show_time and log.scroll_y == 45
