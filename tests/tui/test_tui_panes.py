"""The main screen as a user meets it: a real engine with flows and automations, keys pressed,
what each pane shows asserted."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from panes_helpers import COUNT_TWO, GREET_ON_FILE, flow_settings
from textual.pilot import Pilot
from textual.widgets import TextArea
from tui_helpers import make_event, until

from evtui.engine import Engine
from evtui.tui.app import EvtuiApp
from evtui.tui.screens.confirm import ConfirmScreen
from evtui.tui.screens.main import MainScreen
from evtui.tui.screens.run_detail import RunDetailScreen
from evtui.tui.screens.run_flow import RunFlowScreen
from evtui.tui.source import LocalSource
from evtui.tui.widgets.automations_pane import AutomationsPane
from evtui.tui.widgets.event_list import EventList
from evtui.tui.widgets.event_pane import EventPane
from evtui.tui.widgets.firings_pane import FiringsPane
from evtui.tui.widgets.logs_pane import FollowLog, LogsPane
from evtui.tui.widgets.runs_pane import RunsPane
from evtui.tui.widgets.timeline_rows import timeline


@dataclass
class Panes:
    app: EvtuiApp
    engine: Engine
    source: LocalSource
    pilot: Pilot

    async def until(self, condition: Any, what: str) -> None:
        await until(self.pilot, condition, what, deadline=20)

    def rows(self, pane: type[Any]) -> list[list[str]]:
        table = self.app.main.query_one(pane).table
        return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]

    async def runs_in(self, *states: str) -> list[dict[str, Any]]:
        return [r for r in await self.source.runs() if r["state"] in states]


@contextlib.asynccontextmanager
async def open_panes(tmp_path: Path, size: tuple[int, int]) -> AsyncIterator[Panes]:
    engine = Engine(flow_settings(tmp_path), serve_http=False)
    source = LocalSource(engine)
    app = EvtuiApp(source)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: engine.registry.get("greet") is not None, "the flows")
        await until(pilot, lambda: bool(app.main.query(EventList)), "the panes")
        yield Panes(app, engine, source, pilot)


@pytest.fixture
async def panes(tmp_path: Path) -> AsyncIterator[Panes]:
    async with open_panes(tmp_path, (160, 40)) as opened:
        yield opened


async def test_a_triggered_run_shows_in_every_pane(panes: Panes) -> None:
    await panes.source.save_automation(GREET_ON_FILE)
    resource = {
        "prefect.resource.id": "file./in/report-1.csv",
        "prefect.resource.name": "report-1.csv",
    }
    await panes.source.emit({"event": "file.created", "resource": resource})

    def completed() -> bool:
        rows = panes.rows(RunsPane)
        return len(rows) == 1 and rows[0][0] == "Completed"

    await panes.until(completed, "the run to show as Completed")
    [run] = panes.rows(RunsPane)
    assert run[1] == "greet"
    assert run[5] == "⚡ greet new files"
    [firing] = panes.rows(FiringsPane)
    assert firing[1:] == ["greet new files", "run-flow ✓", "file.created"]
    [automation] = panes.rows(AutomationsPane)
    assert automation[:2] == ["greet new files", "armed"]
    assert automation[2].split()[0] == "1"
    log = panes.app.main.query_one(FollowLog)
    await panes.until(lambda: any("hello report-1.csv 1" in line for line in log.lines), "logs")
    state = panes.app.main.query_one("#logs-state")
    await panes.until(lambda: "(ended)" in str(state.render()), "the log to end with the run")


async def test_a_counting_automation_shows_n_of_threshold_and_time_left(panes: Panes) -> None:
    await panes.source.save_automation(COUNT_TWO)
    await panes.source.emit({"event": "report.ready", "resource": {"prefect.resource.id": "r"}})

    def counting() -> bool:
        rows = panes.rows(AutomationsPane)
        return bool(rows) and rows[0][1].startswith("counting 1/2 · ")

    await panes.until(counting, "counting 1/2")
    assert panes.rows(AutomationsPane)[0][1].endswith(" left")


async def test_number_keys_focus_panes_and_tab_cycles(panes: Panes) -> None:
    main = panes.app.main
    await panes.until(lambda: isinstance(panes.app.focused, EventList), "the events focused")
    await panes.pilot.press("2")
    assert panes.app.focused is main.query_one(AutomationsPane).table
    await panes.pilot.press("4")
    assert panes.app.focused is main.query_one(RunsPane).table
    await panes.pilot.press("5")
    assert isinstance(panes.app.focused, FollowLog)
    await panes.pilot.press("tab")
    assert isinstance(panes.app.focused, EventList)
    await panes.pilot.press("shift+tab")
    assert isinstance(panes.app.focused, FollowLog)
    await panes.pilot.press("3")
    assert main.active_pane is main.query_one(FiringsPane)
    assert not main.narrow


async def test_a_small_terminal_collapses_the_panes_into_tabs(tmp_path: Path) -> None:
    async with open_panes(tmp_path, (80, 24)) as panes:
        main = panes.app.main
        assert isinstance(main, MainScreen) and main.narrow
        assert main.query_one("#pane-tabs").display
        shown = [pane for pane in main.panes if pane.display]
        assert shown == [main.query_one(EventPane)]
        await panes.pilot.press("4")
        assert [pane for pane in main.panes if pane.display] == [main.query_one(RunsPane)]
        assert main.query_one("#pane-tabs").active == "tab-4"
        await panes.pilot.resize_terminal(160, 40)
        await panes.until(lambda: not main.narrow, "the wide layout")
        assert all(pane.display for pane in main.panes)


async def test_c_cancels_and_r_reruns_the_selected_run(panes: Panes, tmp_path: Path) -> None:
    release = tmp_path / "release"
    started = await panes.source.start_run("hold", {"release": str(release)})
    table = panes.app.main.query_one(RunsPane).table
    await panes.until(lambda: table.row_count == 1, "the run")
    await panes.until(lambda: panes.rows(RunsPane)[0][0] == "Running", "the run to start running")
    await panes.pilot.press("4", "c")
    await panes.until(lambda: panes.rows(RunsPane)[0][0] == "Cancelled", "the cancel")

    await panes.pilot.press("r")
    await panes.until(lambda: table.row_count == 2, "the rerun")
    rerun = (await panes.source.runs())[0]
    assert rerun["cause"]["rerun_of"] == started["id"]
    release.touch()
    await panes.until(lambda: panes.rows(RunsPane)[0][0] == "Completed", "the rerun to end")


async def test_enter_on_a_run_opens_its_detail(panes: Panes) -> None:
    await panes.source.start_run("greet", {"name": "ada"})
    table = panes.app.main.query_one(RunsPane).table
    await panes.until(lambda: table.row_count == 1, "the run")
    await panes.pilot.press("4", "enter")
    await panes.until(lambda: isinstance(panes.app.screen, RunDetailScreen), "the run detail")


async def test_space_toggles_and_d_deletes_after_a_yes(panes: Panes) -> None:
    saved = await panes.source.save_automation(COUNT_TWO)
    await panes.until(lambda: len(panes.rows(AutomationsPane)) == 1, "the automation")
    await panes.pilot.press("2", "space")
    await panes.until(lambda: panes.rows(AutomationsPane)[0][1] == "disabled", "disabled")
    await panes.pilot.press("space")
    await panes.until(lambda: panes.rows(AutomationsPane)[0][1] == "armed", "enabled again")

    await panes.pilot.press("d")
    assert isinstance(panes.app.screen, ConfirmScreen)
    await panes.pilot.press("n")
    assert not isinstance(panes.app.screen, ConfirmScreen)
    assert [a["id"] for a in await panes.source.automations()] == [saved["id"]]
    await panes.pilot.press("d", "y")
    await panes.until(lambda: not panes.rows(AutomationsPane), "the row to go")
    assert await panes.source.automations() == []


async def test_shift_r_replays_the_selected_event(panes: Panes) -> None:
    await panes.engine.ingest([make_event(1), make_event(2)])
    events = panes.app.main.query_one(EventList)
    await panes.until(lambda: len(events.buffer) == 2, "the events")
    await panes.pilot.press("1", "k", "R")

    def replayed() -> bool:
        return any(s.event.follows == make_event(1).id for s in events.buffer.rows)

    await panes.until(replayed, "the replay of the selected event")


async def test_s_toggles_following_in_the_events_and_logs_panes(panes: Panes) -> None:
    events = panes.app.main.query_one(EventList)
    await panes.pilot.press("1", "s")
    assert not events.following
    await panes.pilot.press("s")
    assert events.following
    log = panes.app.main.query_one(FollowLog)
    await panes.pilot.press("5", "s")
    assert not log.following
    await panes.pilot.press("end")
    assert log.following


async def test_run_a_flow_shows_bad_parameters_inline_and_stays_open(panes: Panes) -> None:
    await panes.pilot.press("x")
    await panes.until(lambda: isinstance(panes.app.screen, RunFlowScreen), "the form")
    form = panes.app.screen
    parameters = form.query_one(TextArea)
    parameters.text = "nme=ada"
    await panes.pilot.press("ctrl+s")
    error = str(form.query_one("#run-flow-error").render())
    assert "parameter 'nme': greet takes no such parameter (it takes name, lines)" in error
    assert panes.app.screen is form

    parameters.text = '{"name": "ada", '
    await panes.pilot.press("ctrl+s")
    assert "parameters: not valid JSON" in str(form.query_one("#run-flow-error").render())
    assert panes.app.screen is form

    parameters.text = "name=ada\nlines=1"
    await panes.pilot.press("ctrl+s")
    await panes.until(lambda: panes.app.screen is not form, "the form to close")
    [run] = await panes.source.runs()
    assert (run["flow"], run["parameters"]) == ("greet", {"name": "ada", "lines": 1})
    assert run["cause"]["kind"] == "manual"
    await panes.until(lambda: bool(panes.rows(RunsPane)), "the run in the pane")


def test_the_runs_timeline_places_each_run_in_the_last_hour() -> None:
    now = datetime(2024, 5, 1, 13, tzinfo=UTC)

    def run(start: timedelta, end: timedelta | None) -> dict[str, Any]:
        ended = (now - end).isoformat() if end is not None else None
        return {"started": (now - start).isoformat(), "ended": ended}

    minutes = timedelta(minutes=1)
    assert timeline(run(30 * minutes, 20 * minutes), now) == "······███···"
    assert timeline(run(2 * minutes, None), now) == "···········█"
    assert timeline(run(3 * 60 * minutes, None), now) == "████████████"
    assert timeline(run(3 * 60 * minutes, 2 * 60 * minutes), now) == "············"
    assert timeline({"started": None}, now) == "············"


async def test_scrolling_up_in_the_logs_pauses_and_counts_new_lines(panes: Panes) -> None:
    run = await panes.source.start_run("greet", {"name": "ada", "lines": 60})
    log = panes.app.main.query_one(FollowLog)
    await panes.until(lambda: log.line_count >= 60, "the run's lines")
    assert log.scroll_y == log.max_scroll_y
    await panes.pilot.press("5", "k")
    assert not log.following
    at = "2024-05-01T13:00:00+00:00"
    log.add([{"ts": at, "level": "INFO", "message": m} for m in ("one more", "and another")])
    state = panes.app.main.query_one("#logs-state")
    await panes.until(lambda: "+2 new" in str(state.render()), "the +2 new marker")
    assert log.scroll_y < log.max_scroll_y
    await panes.pilot.press("G")
    assert log.following
    assert "new" not in str(state.render())
    assert run["id"] == panes.app.main.query_one(LogsPane).run_id
