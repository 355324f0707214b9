"""Automations as code: files applied by name at start and on change; broken files; export."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from automation_helpers import CSV, change_events, eventually, spec

from evtui.automations.export import definition, to_yaml
from evtui.automations.folder import AutomationFileError, AutomationFolders, parse_file
from evtui.automations.store import AutomationStore, Origin
from evtui.engine import Engine

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, document: Any) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
async def automations(engine: Engine) -> AutomationStore:
    store = AutomationStore(engine)
    await store.load()
    return store


@pytest.fixture
async def folders(
    automations: AutomationStore, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """Start watchers on folders; all are stopped at the end."""
    started: list[AutomationFolders] = []

    async def start(*paths: Path) -> AutomationFolders:
        watcher = AutomationFolders(automations, list(paths), debounce_ms=50)
        await watcher.start()
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        await watcher.stop()


def names(automations: AutomationStore) -> list[str]:
    return [automation.name for automation in automations.all()]


async def test_files_are_applied_at_start_in_every_shape(automations, folders, tmp_path):
    inbox = tmp_path / "automations"
    inbox.mkdir()
    write(inbox / "one.yaml", CSV)
    write(inbox / "list.yml", [{**CSV, "name": "a"}, {**CSV, "name": "b"}])
    write(inbox / "prefect.yaml", {"automations": [{**CSV, "name": "c"}]})
    inspected = {
        **CSV,
        "name": "d",
        "id": "2f9b7c9e-3a7c-4a53-9d3f-0a0c6e1f3b11",
        "created": "2025-01-01T00:00:00Z",
        "updated": "2025-01-02T00:00:00Z",
    }
    (inbox / "inspect.json").write_text(json.dumps(inspected))
    (inbox / "_draft.yaml").write_text("name: [unfinished")
    (inbox / "notes.txt").write_text("not an automation")

    watcher = await folders(inbox)

    assert names(automations) == ["a", "b", "c", "csv to warehouse", "d"]
    assert watcher.errors() == {}
    [csv] = automations.by_name("csv to warehouse")
    origin = automations.origin(csv.id)
    assert origin.source == str(inbox / "one.yaml")
    assert origin.digest


async def test_applying_again_changes_nothing_and_keeps_a_pause(
    automations, folders, engine, tmp_path
):
    write(tmp_path / "csv.yaml", CSV)
    watcher = await folders(tmp_path)
    [csv] = automations.all()
    await automations.set_enabled(csv.id, False)
    before = await change_events(engine)

    applied = await watcher.sync()

    assert [(item.name, item.outcome) for item in applied] == [("csv to warehouse", "unchanged")]
    assert await change_events(engine) == before
    assert automations.get(csv.id).enabled is False


async def test_a_file_adopts_the_api_automation_of_its_name(automations, folders, tmp_path):
    made = await automations.create(spec(description="made by hand"))
    write(tmp_path / "csv.yaml", CSV)
    await folders(tmp_path)
    [adopted] = automations.all()
    assert adopted.id == made.id
    assert adopted.description == ""
    assert automations.origin(made.id).source == str(tmp_path / "csv.yaml")


async def test_changes_while_running_are_applied(automations, folders, engine, tmp_path):
    path = write(tmp_path / "csv.yaml", CSV)
    await folders(tmp_path)
    [original] = automations.all()

    write(path, {**CSV, "description": "edited"})
    edited = await eventually(
        lambda: [a for a in automations.all() if a.description == "edited"], "the edit"
    )
    assert edited[0].id == original.id

    write(tmp_path / "more.yaml", [{**CSV, "name": "second"}, {**CSV, "name": "third"}])
    await eventually(lambda: len(automations.all()) == 3, "the new file")

    write(tmp_path / "more.yaml", [{**CSV, "name": "second"}])
    await eventually(lambda: names(automations) == ["csv to warehouse", "second"], "the removal")

    path.unlink()
    await eventually(lambda: names(automations) == ["second"], "the deleted file")

    async def six_changes() -> list[str] | None:
        kinds = [name.rsplit(".", 1)[-1] for name, _ in await change_events(engine)]
        return kinds if len(kinds) >= 6 else None

    kinds = await eventually(six_changes, "the change events")
    assert kinds == ["created", "updated", "created", "created", "deleted", "deleted"]


async def test_a_broken_file_is_reported_and_changes_nothing(automations, folders, tmp_path):
    good = write(tmp_path / "good.yaml", CSV)
    mine = write(tmp_path / "mine.yaml", {**CSV, "name": "mine"})
    watcher = await folders(tmp_path)
    [kept] = automations.by_name("mine")

    mine.write_text("name: mine\ntrigger: [unclosed\n")
    await eventually(lambda: mine in watcher.errors(), "the syntax error")
    assert "line 3: not valid YAML" in watcher.errors()[mine]
    assert automations.by_name("mine") == [kept]

    write(mine, {**CSV, "name": "mine", "trigger": {**CSV["trigger"], "threshold": 0}})
    await eventually(lambda: "threshold" in watcher.errors().get(mine, ""), "the bad field")
    assert watcher.errors()[mine].startswith("trigger.threshold: ")

    bad_template = {"type": "run-flow", "flow": "f", "parameters": {"p": "{{ event.id "}}
    write(mine, [{**CSV, "name": "mine", "actions": [{"type": "do-nothing"}, bad_template]}])
    await eventually(lambda: "line 1" in watcher.errors().get(mine, ""), "the template error")
    assert watcher.errors()[mine].startswith("0.actions.1.parameters.p: line 1: ")

    mine.write_text("# nothing yet\n")
    await eventually(lambda: "empty" in watcher.errors().get(mine, ""), "the empty file")

    assert automations.by_name("mine") == [kept]
    assert [a.name for a in automations.all()] == ["csv to warehouse", "mine"]
    assert good not in watcher.errors()

    write(mine, {**CSV, "name": "mine", "description": "fixed"})
    await eventually(lambda: mine not in watcher.errors(), "the fix")
    assert automations.by_name("mine")[0].description == "fixed"


async def test_a_name_belongs_to_the_first_file(automations, folders, tmp_path):
    write(tmp_path / "a.yaml", CSV)
    write(tmp_path / "b.yaml", {**CSV, "description": "second claim"})
    watcher = await folders(tmp_path)
    [only] = automations.all()
    assert automations.origin(only.id).source == str(tmp_path / "a.yaml")
    assert watcher.errors() == {
        tmp_path / "b.yaml": f"name: automation 'csv to warehouse' is already defined in "
        f"{tmp_path / 'a.yaml'}"
    }


async def test_automations_of_files_removed_while_stopped_are_deleted(automations, tmp_path):
    path = write(tmp_path / "csv.yaml", CSV)
    await AutomationFolders(automations, [tmp_path]).sync()
    await automations.create(spec(name="by hand"))
    path.unlink()
    applied = await AutomationFolders(automations, [tmp_path]).sync()
    assert [(item.name, item.outcome) for item in applied] == [("csv to warehouse", "deleted")]
    assert names(automations) == ["by hand"]


async def test_a_missing_folder_is_reported(automations, tmp_path):
    watcher = AutomationFolders(automations, [tmp_path / "nowhere"])
    await watcher.sync()
    assert watcher.errors() == {tmp_path / "nowhere": "the automations folder does not exist"}


def test_parse_errors_name_the_file_and_the_path(tmp_path):
    path = tmp_path / "two.json"
    path.write_text(json.dumps([CSV, {**CSV, "colour": "red"}, CSV]))
    with pytest.raises(AutomationFileError) as caught:
        parse_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 1.colour: Extra inputs are not permitted")
    assert "2.name: 'csv to warehouse' is already the name of the automation at 0" in message


async def test_export_round_trips_to_the_same_file(automations, tmp_path):
    source = REPO / "sample_flows" / "automations"
    for path in sorted(source.glob("*.yaml")):
        for entry in parse_file(path):
            await automations.create(entry.spec, Origin(str(path)))
    exported = tmp_path / "all.yaml"
    exported.write_text(to_yaml(automations.all()))

    again = [entry.spec for entry in parse_file(exported)]
    assert [s.name for s in again] == names(automations)
    assert to_yaml(automations.all()) == exported.read_text()

    single = tmp_path / "one.yaml"
    single.write_text(to_yaml(automations.all()[:1]))
    [entry] = parse_file(single)
    await automations.update(automations.all()[0].id, entry.spec)
    assert to_yaml(automations.all()[:1]) == single.read_text()
    assert "id:" not in single.read_text()


async def test_export_with_server_fields_still_applies(automations, tmp_path):
    saved = await automations.create(spec())
    path = tmp_path / "full.yaml"
    path.write_text(to_yaml([saved], server_fields=True))
    assert f"id: {saved.id}" in path.read_text()
    [entry] = parse_file(path)
    assert definition(entry.spec) == definition(saved)
