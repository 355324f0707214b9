"""The editor's text fields and the definition they stand for, both ways, without a terminal."""

from __future__ import annotations

import pytest

from evtui.automations.action_models import SUPPORTED_ACTIONS
from evtui.automations.models import AutomationCreate
from evtui.events import FieldError
from evtui.tui.editor_draft import (
    ACTION_EXAMPLES,
    ActionForm,
    blank_definition,
    definition_of,
    definition_of_automation,
    field_of,
    form_of,
    format_duration,
    format_match,
    hidden_fields,
    is_form_editable,
    parse_duration,
    parse_match,
    problem_text,
)


@pytest.mark.parametrize(
    ("text", "seconds", "shown"),
    [
        ("", 0, "0"),
        ("0", 0, "0"),
        ("90", 90, "1m30s"),
        ("2.5", 2.5, "2.5"),
        ("90s", 90, "1m30s"),
        ("5m", 300, "5m"),
        ("1h30m", 5400, "1h30m"),
        ("1h 30m", 5400, "1h30m"),
        ("2d", 172_800, "2d"),
        ("1d1s", 86_401, "1d1s"),
    ],
)
def test_durations_read_and_shown(text: str, seconds: float, shown: str) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == shown
    assert parse_duration(shown) == seconds


@pytest.mark.parametrize("text", ["soon", "5x", "1h-", "m5"])
def test_a_duration_that_does_not_read_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration: write seconds, or e\.g\. 90s"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", {}),
        ("file.*", {"prefect.resource.id": "file.*"}),
        ("file.*, size=9*", {"prefect.resource.id": "file.*", "size": "9*"}),
        ("a.*, b.*", {"prefect.resource.id": ["a.*", "b.*"]}),
        (" env = prod ,env=dev", {"env": ["prod", "dev"]}),
    ],
)
def test_resource_match_items(text: str, match: dict) -> None:
    assert parse_match(text) == match
    assert parse_match(format_match(match)) == match


@pytest.mark.parametrize(
    ("loc", "field", "shown"),
    [
        (["name"], "name", "m"),
        (["trigger", "threshold"], "threshold", "m"),
        (["trigger", "expect", 0], "expect", "0: m"),
        (["trigger", "match_related"], "", "trigger.match_related: m"),
        (["actions", 1, "parameters", "path"], "actions.1", "parameters.path: m"),
        (["actions"], "", "actions: m"),
        ([], "", "m"),
    ],
)
def test_each_problem_goes_to_the_field_it_names(loc: list, field: str, shown: str) -> None:
    assert field_of(loc) == field
    assert problem_text(FieldError(loc=loc, msg="m")) == shown


STORED = {
    "id": "0190c0de-0000-7000-8000-000000000001",
    "created": "2024-05-01T12:00:00Z",
    "updated": "2024-05-01T12:00:00Z",
    "state": [],
    "fired": 3,
    "paused": None,
    "name": "orders",
    "description": "kept",
    "enabled": False,
    "tags": ["shop"],
    "trigger": {
        "type": "event",
        "id": "0190c0de-0000-7000-8000-0000000000ff",
        "expect": ["order.placed", "order.updated"],
        "after": ["shop.opened"],
        "match": {"prefect.resource.id": "order.*"},
        "match_related": {"prefect.resource.role": "customer"},
        "for_each": ["prefect.resource.id"],
        "posture": "Reactive",
        "threshold": 3,
        "within": 3600,
        "match_payload": {"amount": {"gt": 1000}},
    },
    "actions": [
        {"type": "run-flow", "flow": "flag", "parameters": {"order": "{{ event.resource.id }}"}},
        {"type": "call-webhook", "url": "https://example.com", "method": "POST"},
    ],
}


def test_a_stored_automation_round_trips_through_the_form() -> None:
    definition = definition_of_automation(STORED)
    assert set(definition) == {"name", "description", "enabled", "tags", "trigger", "actions"}
    assert "id" not in definition["trigger"]
    form = form_of(definition)
    assert (form.expect, form.within, form.threshold) == ("order.placed, order.updated", "1h", "3")
    assert form.match_payload == "amount:\n  gt: 1000"
    assert form.actions[0] == ActionForm("run-flow", "flag", "order: '{{ event.resource.id }}'")
    assert form.actions[1].body == "url: https://example.com\nmethod: POST"
    again, problems = definition_of(form, definition)
    assert problems == []
    assert again == definition  # after, match_related, description... kept as they were
    assert hidden_fields(definition) == [
        "description",
        "tags",
        "trigger.after",
        "trigger.match_related",
    ]
    assert hidden_fields(blank_definition("greet")) == []


def test_unreadable_text_is_named_at_the_definitions_locations() -> None:
    form = form_of(blank_definition("greet"))
    form.threshold, form.within, form.match_payload = "many", "soon", "- a list"
    form.actions[0].body = "path: [unclosed"
    _, problems = definition_of(form, blank_definition("greet"))
    assert [p.loc for p in problems] == [
        ["trigger", "threshold"],
        ["trigger", "within"],
        ["trigger", "match_payload"],
        ["actions", 0, "parameters"],
    ]
    assert problems[0].msg == "'many' is not a whole number"
    assert problems[3].msg.startswith("line 1, column 16: not valid YAML: expected ',' or ']'")


def test_an_empty_threshold_asks_for_a_number() -> None:
    form = form_of(blank_definition(None))
    form.threshold = " "
    _, [problem] = definition_of(form, blank_definition(None))
    assert (problem.loc, problem.msg) == (
        ["trigger", "threshold"],
        "give a whole number (1 or more)",
    )


def test_only_event_triggers_fit_the_form() -> None:
    assert is_form_editable(blank_definition(None))
    assert is_form_editable({"trigger": {"expect": ["a"]}})
    compound = {"trigger": {"type": "compound", "require": "all", "triggers": []}}
    assert not is_form_editable(compound)
    assert not is_form_editable({"trigger": {"triggers": []}})


@pytest.mark.parametrize("kind", SUPPORTED_ACTIONS)
def test_each_action_type_starts_from_an_example_that_saves(kind: str) -> None:
    action = {"type": kind, **ACTION_EXAMPLES[kind]}
    if kind == "run-flow":
        action["flow"] = "greet"
    definition = blank_definition(None) | {"name": "example", "actions": [action]}
    AutomationCreate.model_validate(definition)
