"""Detail screens over a real chain (event → firing → run → emitted event → firing → run):
what a user sees on each, and the keys that walk the chain both ways."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from details_helpers import Chain, DetailsApp, chain_in
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static
from tui_helpers import subscribed, until

from evtui.engine import Engine
from evtui.tui.messages import OpenEvent, OpenFiring, OpenRun
from evtui.tui.screens.chain import LinkPicker
from evtui.tui.screens.detail import EventDetailScreen
from evtui.tui.screens.firing_detail import FiringDetailScreen
from evtui.tui.screens.lineage import LineageScreen
from evtui.tui.screens.run_detail import RunDetailScreen
from evtui.tui.widgets.explain import ExplainTable
from evtui.tui.widgets.run_log import RunLog


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return chain_in(tmp_path_factory.mktemp("chain"))


@pytest.fixture
async def pilot(chain: Chain) -> AsyncIterator[Pilot]:
    engine = Engine(chain.settings, serve_http=False)
    app = DetailsApp(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: subscribed(engine), "the app to start")
        yield pilot


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def text_of(pilot: Pilot, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def opened(pilot: Pilot, screen_type: type, ident: str) -> None:
    """Wait until the top screen is a `screen_type` about `ident`, with its data shown."""

    def shown() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, screen_type):
            return False
        if isinstance(screen, EventDetailScreen):
            return screen.event_id == ident and screen.explained
        if isinstance(screen, RunDetailScreen):
            return screen.run_id == ident and screen.run is not None and screen.lineage is not None
        assert isinstance(screen, FiringDetailScreen)
        return screen.firing_id == ident and screen.firing is not None

    await until(pilot, shown, f"{screen_type.__name__} of {ident}")


async def test_event_detail_explains_each_automation(pilot: Pilot, chain: Chain) -> None:
    pilot.app.post_message(OpenEvent(chain.event))
    await opened(pilot, EventDetailScreen, chain.event)
    explain = rows(pilot.app.screen.query_one(ExplainTable))
    assert [row[:2] for row in explain] == [
        ["fired", "audit"],
        ["fired", "load csv"],
        ["not matched", "never"],
        ["not matched", "report"],
    ]
    assert chain.firing.split("-")[0] in explain[1][2]
    assert "nothing.happens" in explain[2][2]
    assert "4, 2 fired" in text_of(pilot, "#detail-explain")
    assert "file.created" in text_of(pilot, "#detail-title")

    await pilot.press("tab", "tab", "tab", "down", "enter")  # JSON, labels, related, explain
    await opened(pilot, FiringDetailScreen, chain.firing)


async def test_run_detail_shows_states_tasks_parameters_cause_and_logs(
    pilot: Pilot, chain: Chain
) -> None:
    pilot.app.post_message(OpenRun(chain.run))
    await opened(pilot, RunDetailScreen, chain.run)
    screen = pilot.app.screen
    states = [row[0] for row in rows(screen.query_one("#run-states", DataTable))]
    assert states[0] == "Scheduled" and states[-1] == "Completed" and "Running" in states
    [task] = rows(screen.query_one("#run-tasks", DataTable))
    assert task[:2] == ["count_rows", "Completed"]
    assert "report-0.csv" in screen.query_one("#run-parameters").text
    cause = text_of(pilot, "#run-cause")
    assert "started by an automation" in cause
    assert "firing of load csv" in cause and "event file.created" in cause
    assert "load/" in text_of(pilot, "#run-title") and "Completed" in text_of(pilot, "#run-title")

    log = screen.query_one(RunLog)
    await until(pilot, lambda: any("bad row" in line for line in log.lines), "the log lines")
    levels = {line.split()[1] for line in log.lines}
    assert {"INFO", "WARNING", "ERROR"} <= levels

    await pilot.press("slash", *"slow", "enter")
    assert log.match_line is not None and "slow disk" in log.lines[log.match_line]
    assert "/slow: 1 of 1" in str(screen.query_one("#run-log-heading").render())
    assert log.has_focus
    await pilot.press("escape")
    assert not isinstance(pilot.app.screen, RunDetailScreen)


async def test_run_detail_follows_a_running_run_to_its_end(pilot: Pilot, chain: Chain) -> None:
    run = await pilot.app.source.start_run("chatty", {"lines": 30, "pause": 0.02})
    pilot.app.post_message(OpenRun(run["id"]))
    await until(pilot, lambda: isinstance(pilot.app.screen, RunDetailScreen), "the run detail")
    screen = pilot.app.screen
    log = screen.query_one(RunLog)

    def finished() -> bool:
        return screen.run is not None and screen.run["state"] == "Completed" and screen.lineage

    await until(pilot, finished, "the run to complete on screen", deadline=30)
    await until(pilot, lambda: log.line_count >= 30, "every line")
    said = [line.split(maxsplit=2)[2] for line in log.lines if " line " in line]
    assert said == [f"line {i}" for i in range(30)]
    states = [row[0] for row in rows(screen.query_one("#run-states", DataTable))]
    assert states[-2:] == ["Running", "Completed"]
    heading = screen.query_one("#run-log-heading")
    assert "live" not in str(heading.render())

    await pilot.press("slash", *"line 2", "enter")  # line 2, line 20 ... line 29
    assert "/line 2: 1 of 11" in str(heading.render())
    await pilot.press("n")
    assert "2 of 11" in str(heading.render())
    await pilot.press("N", "N")
    assert "11 of 11" in str(heading.render())
    assert log.lines[log.match_line].endswith("line 29")


async def test_firing_detail_shows_the_bucket_and_action_results(
    pilot: Pilot, chain: Chain
) -> None:
    pilot.app.post_message(OpenFiring(chain.firing))
    await opened(pilot, FiringDetailScreen, chain.firing)
    screen = pilot.app.screen
    assert "load csv" in text_of(pilot, "#firing-title")
    trigger = dict((row[0], row[1]) for row in rows(screen.query_one("#firing-trigger")))
    assert trigger["count"] == "1" and trigger["bucket key"] == "(one bucket: no for_each)"
    [event] = rows(screen.query_one("#firing-events", DataTable))
    assert event[1:] == ["file.created", "file./data/in/report-0.csv", chain.event]
    [action] = rows(screen.query_one("#firing-actions", DataTable))
    assert action[1:3] == ["run-flow", "executed"]
    assert action[5] == f"run {chain.run.split('-')[0]} of load"
    assert '"path": "report-0.csv"' in screen.query_one("#firing-results").text


async def test_brackets_walk_the_chain_forward_and_back(pilot: Pilot, chain: Chain) -> None:
    pilot.app.post_message(OpenEvent(chain.event))
    await opened(pilot, EventDetailScreen, chain.event)
    steps = [
        (FiringDetailScreen, chain.firing),
        (RunDetailScreen, chain.run),
        (EventDetailScreen, chain.emitted),
        (FiringDetailScreen, chain.second_firing),
        (RunDetailScreen, chain.second_run),
    ]
    await pilot.press("right_square_bracket")
    await until(pilot, lambda: isinstance(pilot.app.screen, LinkPicker), "a choice of firings")
    choices = pilot.app.screen.query_one(OptionList)
    labels = [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]
    assert [label.split(" · ")[0] for label in labels] == ["firing of audit", "firing of load csv"]
    await pilot.press("down", "enter")
    for screen_type, ident in steps:
        await opened(pilot, screen_type, ident)
        await pilot.press("right_square_bracket")
    await until(pilot, lambda: pilot.app._notifications, "the nothing-caused notice")
    assert "Nothing was caused by this run" in str(list(pilot.app._notifications)[-1].message)

    backwards = [
        (FiringDetailScreen, chain.second_firing),
        (EventDetailScreen, chain.emitted),
        (RunDetailScreen, chain.run),
        (FiringDetailScreen, chain.firing),
        (EventDetailScreen, chain.event),
    ]
    for screen_type, ident in backwards:
        await pilot.press("left_square_bracket")
        await opened(pilot, screen_type, ident)


async def test_lineage_draws_the_tree_and_opens_a_node(pilot: Pilot, chain: Chain) -> None:
    pilot.app.post_message(OpenRun(chain.run))
    await opened(pilot, RunDetailScreen, chain.run)
    await pilot.press("l")
    await until(pilot, lambda: isinstance(pilot.app.screen, LineageScreen), "the lineage")
    tree = pilot.app.screen.query_one(OptionList)
    await until(pilot, lambda: tree.option_count == 6, "the lineage rows")
    lines = [str(tree.get_option_at_index(i).prompt) for i in range(tree.option_count)]
    assert lines[0].startswith("↑ event file.created")
    assert lines[1].startswith("↑ firing of load csv")
    assert lines[2].startswith("● run load/")
    assert lines[3].startswith("└ event table.loaded")
    assert lines[4].startswith("  └ firing of report")
    assert lines[5].startswith("    └ run report/")
    assert tree.highlighted == 2

    await pilot.press("down", "down", "down", "enter")
    await opened(pilot, RunDetailScreen, chain.second_run)


@pytest.mark.parametrize(
    ("request_type", "title", "says"),
    [
        (OpenEvent, "#detail-title", "is not stored"),
        (OpenRun, "#run-title", "no flow run with id"),
        (OpenFiring, "#firing-title", "no firing with id"),
    ],
)
async def test_an_unknown_id_is_named_on_its_screen(
    pilot: Pilot, request_type: type, title: str, says: str
) -> None:
    unknown = "0190c0de-0000-7000-8000-00000000dead"
    pilot.app.post_message(request_type(unknown))

    def refused() -> bool:
        found = pilot.app.screen.query(title)
        return bool(found) and says in str(found.first().render())

    await until(pilot, refused, f"{request_type.__name__} refused")
    assert unknown in text_of(pilot, title)
