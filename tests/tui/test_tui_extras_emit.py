"""`E` emits a test event from a small form: a copy of the selected event, or a new one; every
problem shows under its field and the form stays open."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, TextArea
from tui_helpers import Running, make_event, until

from evtui.engine import Engine
from evtui.events import FieldError
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.commands import selection_commands
from evtui.tui.remote_source import RemoteSource
from evtui.tui.screens.emit_event import EmitEventScreen, EventForm, FormProblems, field_of
from evtui.tui.screens.runs_timeline import RunsTimeline
from evtui.tui.widgets.event_list import EventList


def notices(running: Running) -> list[str]:
    return [str(notification.message) for notification in running.app._notifications]


async def test_e_emits_a_copy_of_the_selected_event_with_a_new_id(running: Running) -> None:
    original = make_event(1, "orders.changed", size="512")
    await running.ingest([make_event(0), original, make_event(2)])
    await running.pilot.press("k", "E")
    form = running.app.screen
    assert isinstance(form, EmitEventScreen)
    assert form.query_one("#emit-name", Input).value == "orders.changed"
    assert form.query_one("#emit-resource", Input).value == "file./data/in/report-1.csv"
    labels = form.query_one("#emit-labels", TextArea).text
    assert labels == "prefect.resource.name=report-1.csv\nsize=512"
    assert form.query_one("#emit-payload", TextArea).text == '{\n  "index": 1\n}'

    await running.pilot.press("ctrl+s")
    await running.until(lambda: running.app.screen is not form, "the form to close")
    await running.until(lambda: len(running.events.buffer) == 4, "the copy in the stream")
    copy = running.events.buffer.rows[-1].event
    assert copy.id != original.id
    assert (copy.event, copy.resource, copy.payload) == (
        original.event,
        original.resource,
        original.payload,
    )
    assert any(f"id {copy.id}" in notice for notice in notices(running))


async def test_the_form_shows_each_problem_under_its_field_and_stays_open(
    running: Running,
) -> None:
    await running.pilot.press("E")
    form = running.app.screen
    assert isinstance(form, EmitEventScreen)
    assert form.query_one("#emit-name", Input).value == ""  # nothing selected: a blank form
    form.query_one("#emit-labels", TextArea).text = "size=512\nno equals sign"
    form.query_one("#emit-payload", TextArea).text = '{"amount": 12'
    await running.pilot.press("ctrl+s")
    assert form.problem_text("name") == "required, e.g. orders.created"
    assert form.problem_text("resource") == "required, e.g. orders.1042"
    assert form.problem_text("labels") == "line 2: expected key=value, got 'no equals sign'"
    assert form.problem_text("payload").startswith("not valid JSON: ")
    assert running.app.screen is form

    form.query_one("#emit-name", Input).value = "x" * 1100  # the source refuses it
    form.query_one("#emit-resource", Input).value = "orders.1042"
    form.query_one("#emit-labels", TextArea).text = "size=512"
    form.query_one("#emit-payload", TextArea).text = '{"amount": 1200}'
    await running.pilot.press("ctrl+s")
    await running.until(lambda: "at most 1024" in form.problem_text("name"), "the refusal")
    assert form.problem_text("payload") == ""
    assert running.app.screen is form

    form.query_one("#emit-name", Input).value = "orders.created"
    await running.pilot.press("ctrl+s")
    await running.until(lambda: running.app.screen is not form, "the form to close")
    await running.until(lambda: len(running.events.buffer) == 1, "the event in the stream")
    sent = running.events.buffer.rows[0].event
    assert sent.event == "orders.created"
    assert sent.resource == {"prefect.resource.id": "orders.1042", "size": "512"}
    assert sent.payload == {"amount": 1200}


async def test_esc_leaves_without_sending_and_the_palette_offers_emit(running: Running) -> None:
    assert "event: emit…" in [title for title, _, _ in selection_commands(running.app.main)]
    await running.pilot.press("E")
    assert isinstance(running.app.screen, EmitEventScreen)
    await running.pilot.press("escape")
    assert not isinstance(running.app.screen, EmitEventScreen)
    assert len(running.events.buffer) == 0


@pytest.mark.parametrize(
    ("form", "problems"),
    [
        (EventForm("a", "r", "k=v\n\n# note\n x = y "), None),
        (EventForm("a", "r", "=v"), {"labels": ["line 1: expected key=value, got '=v'"]}),
        (
            EventForm("a", "r", "prefect.resource.id=other"),
            {"labels": ["line 1: the resource id goes in the resource field"]},
        ),
        (
            EventForm("a", "r", payload="[1]"),
            {"payload": ['expected a JSON object, e.g. {"amount": 1200}']},
        ),
        (EventForm(" ", "r"), {"name": ["required, e.g. orders.created"]}),
    ],
)
def test_the_form_reads_labels_and_payload(
    form: EventForm, problems: dict[str, list[str]] | None
) -> None:
    if problems is None:
        event = form.event()
        assert event == {
            "event": "a",
            "resource": {"prefect.resource.id": "r", "k": "v", "x": "y"},
            "payload": {},
        }
    else:
        with pytest.raises(FormProblems) as found:
            form.event()
        assert found.value.problems == problems


@pytest.mark.parametrize(
    ("loc", "msg", "field"),
    [
        (["event"], "String should have at most 1024 characters", "name"),
        (["resource"], "must have a non-empty 'prefect.resource.id' label", "resource"),
        (["resource"], "has 600 labels; at most 500 are allowed", "labels"),
        (["resource", "size"], "Input should be a valid string", "labels"),
        (["payload"], "Input should be a valid dictionary", "payload"),
        ([], "cannot reach http://127.0.0.1:9/api", "form"),
    ],
)
def test_refusals_land_on_the_field_they_name(loc: list[str | int], msg: str, field: str) -> None:
    assert field_of(FieldError(loc=loc, msg=msg)) == field


async def test_over_a_remote_server_e_emits_and_t_shows_the_runs(tmp_path: Path) -> None:
    """The same keys attached to `evtui serve` over HTTP: the event reaches the server's store,
    and the server's runs are drawn in the timeline."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hello.py").write_text(
        "from evtui import flow\n\n\n@flow\ndef hello(n: int = 1):\n    return n\n"
    )
    settings = Settings(db=tmp_path / "e.db", port=0, flows=[flows], api_key="sesame")
    async with Engine(settings) as served:
        app = EvtuiApp(RemoteSource(served.api_url, api_key="sesame"))
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: bool(app.query(EventList)), "the panes")
            await pilot.press("E")
            form = app.screen
            assert isinstance(form, EmitEventScreen)
            form.query_one("#emit-name", Input).value = "orders.created"
            form.query_one("#emit-resource", Input).value = "orders.7"
            form.query_one("#emit-payload", TextArea).text = '{"amount": 1200}'
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.screen is not form, "the form to close")
            [stored] = await served.store.latest(1)
            assert (stored.event.event, stored.event.payload) == (
                "orders.created",
                {"amount": 1200},
            )

            run = await app.source.start_run("hello", {"n": 3})
            await until(pilot, lambda: any(r["id"] == run["id"] for r in app.main.runs), "the run")
            await pilot.press("T")
            rows = app.screen.query_one(RunsTimeline)
            await until(pilot, lambda: rows.option_count == 1, "the run in the timeline")
            assert f"hello/{run['name']}" in str(rows.get_option_at_index(0).prompt)
