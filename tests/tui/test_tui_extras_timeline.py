"""`T`: the last hour's runs as bars over a time axis; enter opens a run; bars of running runs
grow with the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_tui_panes import Panes, open_panes
from textual.app import App

from evtui.tui.commands import selection_commands
from evtui.tui.screens.main import MainScreen
from evtui.tui.screens.run_detail import RunDetailScreen
from evtui.tui.screens.runs_timeline import RunsTimeline, RunsTimelineScreen
from evtui.tui.widgets.runs_pane import RunsPane
from evtui.tui.widgets.timeline_rows import (
    TimelineLayout,
    axis,
    by_flow,
    cell_states,
    flow_row,
    in_last_hour,
    row,
    summary,
    ticks,
)

NOW = datetime(2024, 5, 1, 13, 5, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def run(state: str, started: timedelta | None, ended: timedelta | None = None) -> dict[str, Any]:
    """A run that started and ended that long before `NOW` (None: not yet)."""
    return {
        "id": state,
        "flow": "greet",
        "name": "quiet-otter",
        "state": state,
        "started": (NOW - started).isoformat() if started is not None else None,
        "ended": (NOW - ended).isoformat() if ended is not None else None,
    }


def plain(state: str, started: timedelta | None, ended: timedelta | None, now: datetime) -> str:
    layout = TimelineLayout.for_width(100)
    return row(App(), run(state, started, ended), layout, now).plain


def test_ticks_mark_each_ten_minutes_of_local_time(utc: None) -> None:
    marks = ticks(NOW, 60)  # one cell a minute, from 12:05 to 13:05
    assert [(cell, mark.strftime("%H:%M")) for cell, mark in marks] == [
        (5, "12:10"),
        (15, "12:20"),
        (25, "12:30"),
        (35, "12:40"),
        (45, "12:50"),
        (55, "13:00"),
    ]


def test_the_axis_puts_clock_times_over_their_marks_and_now_at_the_end(utc: None) -> None:
    layout = TimelineLayout.for_width(100)
    line = axis(layout, NOW)
    assert len(line) == 100
    assert line.startswith("STATE      RUN")
    assert line.endswith("now")
    bar_start = 100 - layout.bar
    for cell, mark in ticks(NOW, layout.bar)[:-1]:  # the last one would run into "now"
        assert line[bar_start + cell :].startswith(mark.strftime("%H:%M"))


def test_a_row_shows_state_run_duration_and_a_bar_where_it_ran(utc: None) -> None:
    text = plain("Completed", 30 * MINUTE, 20 * MINUTE, NOW)
    assert text.startswith("Completed  greet/quiet-otter")
    assert "10 min 00 s" in text
    bar = text[-TimelineLayout.for_width(100).bar :]
    assert bar.count("█") == pytest.approx(len(bar) / 6, abs=1)  # ten minutes of sixty
    assert bar.rstrip().endswith("┆") and "█" not in bar[-len(bar) // 3 :]
    assert "waiting" in plain("Pending", None, None, NOW)
    assert "█" not in plain("Pending", None, None, NOW)


def test_a_running_run_grows_with_the_clock(utc: None) -> None:
    before = plain("Running", 5 * MINUTE, None, NOW)
    later = plain("Running", 5 * MINUTE, None, NOW + 10 * MINUTE)
    assert before.count("█") < later.count("█")
    assert before.endswith("█") and later.endswith("█")
    assert "5 min 00 s" in before and "15 min 00 s" in later


def test_only_the_last_hour_is_shown() -> None:
    assert in_last_hour(run("Running", 3 * 60 * MINUTE), NOW)
    assert in_last_hour(run("Pending", None), NOW)
    assert in_last_hour(run("Completed", 90 * MINUTE, 59 * MINUTE), NOW)
    assert not in_last_hour(run("Completed", 90 * MINUTE, 61 * MINUTE), NOW)
    runs = [run("Running", MINUTE), run("Failed", MINUTE, MINUTE), run("Completed", MINUTE, MINUTE)]
    assert summary(runs) == "3 runs in the last hour · 1 running · 1 failed"
    assert summary([]).startswith("No runs in the last hour")


def test_a_flow_row_draws_all_its_runs_and_shows_live_and_failed_ones_first() -> None:
    first = run("Completed", 50 * MINUTE, 40 * MINUTE) | {"id": "a"}
    failed = run("Failed", 35 * MINUTE, 20 * MINUTE) | {"id": "b"}
    running = run("Running", 25 * MINUTE) | {"id": "c", "flow": "other"}
    states = cell_states([first, failed], NOW, 60)
    assert states[10:21] == ["Completed"] * 11 and states[25:41] == ["Failed"] * 16
    assert states[21:25] == [None] * 4 and states[41:] == [None] * 19
    assert cell_states([failed, running], NOW, 60)[35:41] == ["Running"] * 6  # overlap
    assert list(by_flow([running, failed, first])) == ["other", "greet"]
    layout = TimelineLayout.for_width(100)
    text = flow_row(App(), [failed, first], layout, NOW).plain
    assert text.startswith("Failed     greet ") and "2 runs" in text
    assert text[-layout.bar :].count("█") > row(App(), failed, layout, NOW).plain.count("█")
    assert axis(layout, NOW, flows=True).startswith("STATE      FLOW")


def timeline_rows(panes: Panes) -> list[str]:
    rows = panes.app.screen.query_one(RunsTimeline)
    return [str(rows.get_option_at_index(i).prompt) for i in range(rows.option_count)]


async def test_t_shows_runs_as_bars_and_enter_opens_one(tmp_path: Path) -> None:
    async with open_panes(tmp_path, (100, 30)) as panes:
        release = tmp_path / "release"
        held = await panes.source.start_run("hold", {"release": str(release)})
        await panes.source.start_run("greet", {"name": "ada"})
        table = panes.app.main.query_one(RunsPane).table
        await panes.until(lambda: table.row_count == 2, "both runs in the Runs pane")
        assert "runs: timeline" in [title for title, _, _ in selection_commands(panes.app.main)]

        await panes.pilot.press("T")
        screen = panes.app.screen
        assert isinstance(screen, RunsTimelineScreen)
        summary_line = screen.query_one("#timeline-summary")
        await panes.until(lambda: len(timeline_rows(panes)) == 2, "two rows")
        await panes.until(lambda: "1 running" in str(summary_line.render()), "the held run")
        held_row = next(r for r in timeline_rows(panes) if held["name"] in r)
        assert held_row.startswith("Running") and held_row.endswith("█")
        assert str(screen.query_one("#timeline-axis").render()).rstrip().endswith("now")

        release.touch()
        await panes.until(lambda: "running" not in str(summary_line.render()), "the end")
        await panes.until(
            lambda: all(r.startswith("Completed") for r in timeline_rows(panes)), "both completed"
        )
        await panes.pilot.press("j", "k", "enter")
        await panes.until(lambda: isinstance(panes.app.screen, RunDetailScreen), "the run detail")
        assert panes.app.screen.run_id == (await panes.source.runs())[0]["id"]
        await panes.pilot.press("escape")
        assert panes.app.screen is screen

        await panes.pilot.press("f")
        await panes.until(lambda: len(timeline_rows(panes)) == 2, "a row per flow")
        assert sorted(r.split()[1] for r in timeline_rows(panes)) == ["greet", "hold"]
        await panes.pilot.press("g")
        top_flow = timeline_rows(panes)[0].split()[1]
        await panes.pilot.press("enter")
        await panes.until(lambda: isinstance(panes.app.screen, RunDetailScreen), "the detail")
        newest = next(r for r in await panes.source.runs() if r["flow"] == top_flow)
        assert panes.app.screen.run_id == newest["id"]
        await panes.pilot.press("escape", "escape")
        assert isinstance(panes.app.screen, MainScreen)
