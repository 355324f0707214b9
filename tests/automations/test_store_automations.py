"""AutomationStore: create, read, update, pause, delete; change events; a restart keeps all."""

from __future__ import annotations

from uuid import uuid4

import pytest
from automation_helpers import CSV, change_events, spec

from evtui.automations.models import AutomationCreate
from evtui.automations.store import (
    AutomationChange,
    AutomationNotFound,
    AutomationStore,
    InvalidAutomation,
    Origin,
)
from evtui.engine import Engine
from evtui.settings import Settings


@pytest.fixture
async def automations(engine: Engine) -> AutomationStore:
    store = AutomationStore(engine)
    await store.load()
    return store


async def test_create_read_update_pause_delete_each_emit_an_event(automations, engine):
    created = await automations.create(spec())
    assert created.name == "csv to warehouse"
    assert automations.get(created.id) == created
    assert automations.by_name("csv to warehouse") == [created]
    assert automations.all() == [created]
    assert automations.origin(created.id) == Origin("api")

    updated = await automations.update(created.id, spec(description="now documented"))
    assert updated.id == created.id
    assert updated.created == created.created
    assert updated.updated > created.updated
    assert updated.trigger.id != created.trigger.id, "trigger ids are new on every save"

    paused = await automations.set_enabled(created.id, False)
    assert paused.enabled is False
    assert paused.trigger.id == updated.trigger.id, "a pause keeps the trigger's identity"

    deleted = await automations.delete(created.id)
    assert deleted.id == created.id
    assert automations.get(created.id) is None
    assert automations.all() == []

    events = await change_events(engine)
    assert [name for name, _ in events] == [
        "evtui.automation.created",
        "evtui.automation.updated",
        "evtui.automation.updated",
        "evtui.automation.deleted",
    ]
    assert events[0][1] == created.model_dump(mode="json")
    assert events[1][1]["description"] == "now documented"
    assert events[2][1]["enabled"] is False
    [stored] = [s for s in await engine.store.latest(10) if s.event.event.endswith("created")]
    assert stored.event.resource == {
        "prefect.resource.id": f"evtui.automation.{created.id}",
        "prefect.resource.name": "csv to warehouse",
    }


async def test_trigger_ids_are_regenerated_on_create_like_prefect(automations):
    sent = AutomationCreate.model_validate(
        {
            **CSV,
            "trigger": {
                "type": "compound",
                "require": "all",
                "within": 60,
                "triggers": [
                    {**CSV["trigger"], "id": "00000000-0000-0000-0000-000000000001"},
                    {**CSV["trigger"], "expect": ["file.deleted"]},
                ],
            },
        }
    )
    created = await automations.create(sent)
    sent_ids = {trigger.id for trigger in sent.trigger.all_triggers()}
    saved_ids = {trigger.id for trigger in created.trigger.all_triggers()}
    assert len(saved_ids) == 3
    assert not sent_ids & saved_ids


async def test_listeners_hear_each_change_after_it_is_saved(automations):
    heard: list[tuple[str, bool]] = []

    async def listener(change: AutomationChange) -> None:
        heard.append((change.kind, automations.get(change.automation.id) is not None))

    def broken(change: AutomationChange) -> None:
        raise RuntimeError("a failing listener does not stop the others")

    automations.add_listener(broken)
    automations.add_listener(listener)
    created = await automations.create(spec())
    await automations.update(created.id, spec(name="renamed"))
    await automations.delete(created.id)
    assert heard == [("created", True), ("updated", True), ("deleted", False)]


async def test_a_restart_keeps_every_automation(tmp_path):
    settings = Settings(db=tmp_path / "events.db", port=0)
    async with Engine(settings) as engine:
        store = AutomationStore(engine)
        await store.load()
        first = await store.create(spec())
        second = await store.create(spec(name="other", tags=["x"]), Origin("/a.yaml", "d1"))
        await store.set_enabled(first.id, False)
        before = store.all()
    async with Engine(settings) as engine:
        store = AutomationStore(engine)
        await store.load()
        assert store.all() == before
        assert store.get(first.id).enabled is False
        assert store.origin(second.id) == Origin("/a.yaml", "d1")


async def test_template_errors_are_refused_with_path_and_line(automations, engine):
    bad = spec(
        actions=[
            {"type": "do-nothing"},
            {"type": "run-flow", "flow": "f", "parameters": {"x": "ok", "y": "{{ event.id "}},
        ]
    )
    with pytest.raises(InvalidAutomation) as caught:
        await automations.create(bad)
    [error] = caught.value.errors
    assert error.path == "actions.1.parameters.y"
    assert error.msg.startswith("line 1: ")
    assert automations.all() == []
    assert await change_events(engine) == []


async def test_missing_automations_are_reported(automations):
    missing = uuid4()
    with pytest.raises(AutomationNotFound):
        await automations.update(missing, spec())
    with pytest.raises(AutomationNotFound):
        await automations.set_enabled(missing, True)
    with pytest.raises(AutomationNotFound):
        await automations.delete(missing)


async def test_enabling_is_validated_again(automations):
    """Prefect's PATCH validates the whole automation: a paused run loop stays paused."""
    looping = spec(
        enabled=False,
        trigger={"type": "event", "posture": "Reactive", "expect": ["evtui.flow-run.Running"]},
    )
    saved = await automations.create(looping)
    with pytest.raises(InvalidAutomation) as caught:
        await automations.set_enabled(saved.id, True)
    assert caught.value.errors[0].loc[:2] == ["actions", 0]
    assert automations.get(saved.id).enabled is False
