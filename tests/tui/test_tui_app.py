"""The TUI as a user meets it: a real engine, events arriving over HTTP or ingest, keys."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from textual import events
from tui_helpers import WIDE, Running, make_event, screen_lines, subscribed, until

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.store import Store
from evtui.tui.app import EvtuiApp
from evtui.tui.screens.detail import EventDetailScreen
from evtui.tui.screens.help import HelpScreen
from evtui.tui.source import LocalSource
from evtui.tui.widgets.status_bar import StatusBar


def state_line(running: Running) -> str:
    return str(running.app.query_one("#event-state").render())


async def test_events_sent_over_http_appear_newest_last(running: Running) -> None:
    events = [make_event(i) for i in range(3)]
    body = "[" + ",".join(e.model_dump_json() for e in events) + "]"
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{running.engine.api_url}/events",
            content=body,
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 204
    await running.until(lambda: len(running.events.buffer) == 3, "three rows")
    lines = [line for line in screen_lines(running.events) if line.strip()]
    assert [line.split()[3] for line in lines] == [
        "file./data/in/report-0.csv",
        "file./data/in/report-1.csv",
        "file./data/in/report-2.csv",
    ]
    assert running.events.selected.event.id == events[-1].id
    status = running.app.query_one(StatusBar)
    await running.until(lambda: "3 stored" in str(status.render()), "the status bar count")
    assert running.engine.address in str(status.render())


async def test_stored_events_show_at_start(settings: Settings) -> None:
    async with Engine(settings, serve_http=False) as engine:
        await engine.ingest([make_event(i) for i in range(5)])
    engine = Engine(settings, serve_http=False)
    app = EvtuiApp(LocalSource(engine))
    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: len(app.query_one("EventList").buffer) == 5, "stored rows")


async def test_moving_up_pauses_counts_new_and_end_resumes(running: Running) -> None:
    await running.ingest([make_event(i) for i in range(60)])
    events = running.events
    assert events.following
    assert screen_lines(events)[-1].split()[3] == "file./data/in/report-59.csv"

    await running.pilot.press("k")
    assert not events.following
    assert events.selected.event.id == make_event(58).id
    await running.ingest([make_event(i) for i in range(60, 65)])
    await running.until(lambda: "+5 new" in state_line(running), "the +5 new marker")
    assert "report-64" not in "\n".join(screen_lines(events))
    assert events.selected.event.id == make_event(58).id

    await running.pilot.press("end")
    assert events.following
    assert "new" not in state_line(running)
    assert "following" in state_line(running)
    assert screen_lines(events)[-1].split()[3] == "file./data/in/report-64.csv"
    assert events.selected.event.id == make_event(64).id

    await running.pilot.press("g")
    assert events.selected.event.id == make_event(0).id
    await running.pilot.press("j", "j")
    assert events.selected.event.id == make_event(2).id
    await running.pilot.press("G")
    assert events.following


async def test_mouse_wheel_up_pauses_and_clicks_select_then_open(running: Running) -> None:
    await running.ingest([make_event(i) for i in range(10)])
    events_list = running.events
    events_list.post_message(events.MouseScrollUp(events_list, 5, 2, 0, -1, 0, False, False, False))
    await running.until(lambda: not events_list.following, "the wheel to pause following")

    await running.pilot.click(events_list, offset=(5, 2))
    assert events_list.selected.event.id == make_event(2).id
    assert not isinstance(running.app.screen, EventDetailScreen)
    await running.pilot.click(events_list, offset=(5, 2))
    await running.until(lambda: isinstance(running.app.screen, EventDetailScreen), "the detail")


async def test_filter_applies_live_to_the_buffer_and_new_events(running: Running) -> None:
    names = ["prefect.flow-run.Completed", "file.created"]
    await running.ingest([make_event(i, names[i % 2]) for i in range(10)])
    await running.pilot.press("slash", *"file.*")
    await running.until(lambda: len(running.events.buffer) == 5, "five matching rows")
    assert {s.event.event for s in running.events.buffer.rows} == {"file.created"}
    assert "filter file.*" in state_line(running)
    assert "5 of 10 events" in state_line(running)

    await running.pilot.press("enter")
    assert not running.app.query_one("#event-filter").display
    assert running.app.focused is running.events
    await running.ingest([make_event(10, "prefect.flow-run.Running"), make_event(11)])
    assert [s.event.id for s in running.events.buffer.rows][-1] == make_event(11).id
    assert len(running.events.buffer) == 6

    await running.pilot.press("slash")
    await running.pilot.press(*"resource:*report-3*")
    await running.until(lambda: len(running.events.buffer) == 1, "the resource filter")
    assert running.events.buffer.rows[0].event.id == make_event(3).id

    await running.pilot.press("escape")
    await running.until(lambda: len(running.events.buffer) == 12, "every row back")
    assert "filter" not in state_line(running)


async def test_keys_typed_in_a_burst_after_slash_reach_the_filter(running: Running) -> None:
    """A terminal delivers a fast typist's (or a paste's) keys together: none may be lost."""
    await running.ingest([make_event(1, "file.created"), make_event(2, "prefect.flow-run.x")])
    burst = [("slash", "/"), ("c", "c"), ("r", "r"), ("e", "e"), ("a", "a"), ("enter", "\r")]
    for key, character in [*burst, ("k", "k")]:
        running.app.post_message(events.Key(key, character))
    await running.until(lambda: running.events.filter_text == "crea", "the filter")
    await running.until(lambda: not running.events.following, "k to reach the list")
    assert running.app.focused is running.events
    assert not running.app.query_one("#event-filter").display
    assert [s.event.id for s in running.events.buffer.rows] == [make_event(1).id]


async def test_enter_shows_the_event_in_full_and_escape_returns(running: Running) -> None:
    await running.ingest([make_event(i, size="1024") for i in range(3)])
    await running.pilot.press("k", "enter")
    screen = running.app.screen
    assert isinstance(screen, EventDetailScreen)
    assert screen.stored.event.id == make_event(1).id
    assert str(make_event(1).id) in screen.json
    assert '"size": "1024"' in screen.json
    labels = screen.query_one("#detail-labels")
    assert labels.row_count == 3
    assert [str(c) for c in labels.get_row_at(2)] == ["size", "1024"]
    related = screen.query_one("#detail-related")
    assert [str(c) for c in related.get_row_at(0)] == [
        "flow",
        "prefect.flow.etl",
        "prefect.resource.name=etl",
    ]
    assert [str(c) for c in related.get_row_at(1)] == ["tag", "prefect.tag.nightly", ""]

    await running.pilot.press("escape")
    assert not isinstance(running.app.screen, EventDetailScreen)
    assert running.events.selected.event.id == make_event(1).id


async def test_help_lists_every_binding_by_id(running: Running) -> None:
    await running.pilot.press("question_mark")
    screen = running.app.screen
    assert isinstance(screen, HelpScreen)
    ids = {row.id for row in screen.rows}
    assert {"events.follow", "events.open", "events.filter", "app.quit", "app.help"} <= ids
    follow = next(row for row in screen.rows if row.id == "events.follow")
    assert follow.keys == "end G"
    await running.pilot.press("escape")
    assert not isinstance(running.app.screen, HelpScreen)


async def test_ctrl_q_quits_and_stops_the_engine_after_committing(settings: Settings) -> None:
    engine = Engine(settings)
    app = EvtuiApp(LocalSource(engine))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: subscribed(engine), "the engine to start")
        pending = engine.submit([make_event(i) for i in range(100)])
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, "the app to exit")
    assert app.return_code == 0
    assert pending.done() and pending.result().stored == 100
    assert engine.receiver is None
    async with Store(settings.db) as store:
        assert await store.count_events() == 100


async def test_busy_port_exits_with_a_message_not_a_traceback(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = EvtuiApp(LocalSource(Engine(settings.model_copy(update={"port": port}))))
        await asyncio.wait_for(app.run_async(headless=True, size=(80, 24)), 20)
    assert app.return_code == 1
    error = capsys.readouterr().err
    assert f"127.0.0.1:{port} is already in use" in error
    assert "Traceback" not in error


async def test_a_flood_keeps_only_the_newest_rows(settings: Settings) -> None:
    engine = Engine(settings, serve_http=False)
    app = EvtuiApp(LocalSource(engine), capacity=500)
    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: subscribed(engine), "the engine to start")
        for start in range(0, 5000, 1000):
            await engine.ingest([make_event(i) for i in range(start, start + 1000)])
        events = app.query_one("EventList")
        await until(pilot, lambda: events.buffer.last_seq == 5000, "the last event")
        assert len(events.buffer) == 500
        assert events.buffer.rows[0].event.id == make_event(4500).id
        assert screen_lines(events)[-1].split()[3] == "file./data/in/report-4999.csv"
