"""Automation models: Prefect's JSON loads unchanged, and bad input names the field and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from evtui.automations.models import (
    Automation,
    AutomationCreate,
    CallWebhook,
    CancelFlowRun,
    CompoundTrigger,
    EventTrigger,
    RunDeployment,
    SequenceTrigger,
)
from evtui.events import RESOURCE_ID, field_errors

# The "stuck in Running" automation of Prefect's docs (concepts/event-triggers), as
# `GET /api/automations/{id}` returns it: server fields, a typed trigger, within in seconds.
PREFECT_EXPORT: dict[str, Any] = {
    "id": "1b7a2f3c-7d7e-4a4d-9f59-0f6a3f1d2c11",
    "created": "2026-05-01T10:00:00Z",
    "updated": "2026-05-02T10:00:00Z",
    "name": "Cancel runs stuck in Running",
    "description": "Runs that start and never finish within 30 minutes",
    "enabled": True,
    "tags": ["ops"],
    "trigger": {
        "type": "event",
        "id": "6d2b0c85-0f3a-4e7b-a1f4-4f7b1a8e0d22",
        "match": {"prefect.resource.id": "prefect.flow-run.*"},
        "match_related": {},
        "after": ["prefect.flow-run.Running"],
        "expect": ["prefect.flow-run.Completed", "prefect.flow-run.Failed"],
        "for_each": ["prefect.resource.id"],
        "posture": "Proactive",
        "threshold": 1,
        "within": 1800.0,
    },
    "actions": [{"type": "cancel-flow-run"}],
    "actions_on_trigger": [],
    "actions_on_resolve": [],
}

# What Prefect's client sends for a deployment trigger turned automation (owner_resource set).
PREFECT_CLIENT_CREATE: dict[str, Any] = {
    "name": "on-upload__automation_1",
    "description": "",
    "enabled": True,
    "tags": [],
    "trigger": {
        "type": "event",
        "match": {"prefect.resource.id": "s3.bucket.*", "bucket": ["raw", "landing"]},
        "match_related": [{"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.a"}],
        "after": [],
        "expect": ["object.created"],
        "for_each": ["related:flow:prefect.resource.id"],
        "posture": "Reactive",
        "threshold": 3,
        "within": 60,
    },
    "actions": [
        {
            "type": "run-deployment",
            "source": "selected",
            "deployment_id": "ingest/nightly",
            "parameters": {"key": "{{ event.payload.key }}"},
            "job_variables": None,
            "schedule_after": 0,
        }
    ],
    "actions_on_trigger": [],
    "actions_on_resolve": [],
    "owner_resource": "prefect.deployment.6d2b0c85-0f3a-4e7b-a1f4-4f7b1a8e0d22",
}


def errors(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        AutomationCreate.from_document(document)
    return {error.path: error.msg for error in field_errors(caught.value)}


def automation(trigger: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {"name": "a", "trigger": trigger or {}, "actions": [{"type": "do-nothing"}], **fields}


def test_a_prefect_export_loads_unchanged_and_round_trips():
    stored = Automation.model_validate(PREFECT_EXPORT)
    trigger = stored.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.within == timedelta(minutes=30)
    assert trigger.posture == "Proactive"
    assert isinstance(stored.actions[0], CancelFlowRun) and stored.actions[0].inferred
    dumped = json.loads(stored.model_dump_json())
    for key in ("id", "name", "description", "enabled", "tags", "actions_on_resolve"):
        assert dumped[key] == PREFECT_EXPORT[key]
    assert dumped["trigger"]["within"] == 1800
    assert {k: dumped["trigger"][k] for k in PREFECT_EXPORT["trigger"]} == {
        **PREFECT_EXPORT["trigger"],
        "within": 1800,
    }
    assert Automation.model_validate_json(stored.model_dump_json()) == stored


def test_an_export_becomes_a_definition_without_its_server_fields():
    definition = AutomationCreate.from_document(PREFECT_EXPORT)
    assert "id" not in definition.model_dump()
    stored = Automation.build(definition, uuid4(), datetime.now(UTC), datetime.now(UTC))
    assert stored.definition() == definition
    assert stored.trigger_by_id(stored.trigger.id) is stored.trigger


def test_prefect_clients_create_body_is_accepted():
    created = AutomationCreate.model_validate(PREFECT_CLIENT_CREATE)
    action = created.actions[0]
    assert isinstance(action, RunDeployment) and action.flow_name == "ingest"
    trigger = created.trigger
    assert isinstance(trigger, EventTrigger)
    assert isinstance(trigger.match_related, list)
    assert trigger.for_each == ["related:flow:prefect.resource.id"]
    assert json.loads(created.model_dump_json())["owner_resource"].startswith("prefect.deployment")


def test_unknown_keys_are_named_on_create_and_ignored_on_stored_automations():
    assert errors({**automation(), "colour": "red"}) == {"colour": "Extra inputs are not permitted"}
    assert Automation.model_validate({**PREFECT_EXPORT, "workspace": "w"}).name


@pytest.mark.parametrize(
    ("trigger", "kind"),
    [
        ({}, EventTrigger),
        ({"expect": ["x"], "posture": "Reactive"}, EventTrigger),
        ({"triggers": [{}], "require": "any"}, CompoundTrigger),
        ({"triggers": [{}, {}]}, SequenceTrigger),
        ({"type": "compound", "triggers": [{}], "require": 1}, CompoundTrigger),
    ],
)
def test_triggers_without_type_are_told_apart_like_prefects_client(trigger, kind):
    loaded = AutomationCreate.model_validate(automation(trigger)).trigger
    assert type(loaded) is kind
    assert json.loads(loaded.model_dump_json())["type"] == kind.model_fields["type"].default


def test_an_explicit_type_wins_over_the_fields_present():
    found = errors(automation({"type": "sequence", "triggers": [{}], "require": "all"}))
    assert found == {"trigger.require": "Extra inputs are not permitted"}


def test_composites_nest_and_list_their_triggers_depth_first():
    trigger = AutomationCreate.model_validate(
        automation(
            {
                "triggers": [
                    {"expect": ["a"]},
                    {"triggers": [{"expect": ["b"]}, {"expect": ["c"]}]},
                ],
                "require": "all",
                "within": 120,
            }
        )
    ).trigger
    assert isinstance(trigger, CompoundTrigger)
    assert trigger.num_expected_firings == 2
    assert [type(t).__name__ for t in trigger.all_triggers()] == [
        "CompoundTrigger",
        "EventTrigger",
        "SequenceTrigger",
        "EventTrigger",
        "EventTrigger",
    ]
    assert [t.expect for t in trigger.event_triggers()] == [["a"], ["b"], ["c"]]
    before = {t.id for t in trigger.all_triggers()}
    trigger.reset_ids()
    assert before.isdisjoint(t.id for t in trigger.all_triggers())


@pytest.mark.parametrize(
    ("within", "expected"),
    [
        (0, timedelta(seconds=10)),
        (None, timedelta(seconds=10)),
        (10, timedelta(seconds=10)),
        (3600, timedelta(hours=1)),
        ("PT1M", timedelta(minutes=1)),
    ],
)
def test_proactive_windows_are_at_least_ten_seconds(within, expected):
    trigger: dict[str, Any] = {"posture": "Proactive"}
    if within is not None:
        trigger["within"] = within
    loaded = AutomationCreate.model_validate(automation(trigger)).trigger
    assert isinstance(loaded, EventTrigger) and loaded.within == expected


@pytest.mark.parametrize(
    ("trigger", "path", "reason"),
    [
        ({"posture": "Proactive", "within": 5}, "trigger.within", "at least 10 seconds"),
        ({"within": None}, "trigger.within", "not null"),
        ({"within": -1}, "trigger.within", "greater than or equal to 0"),
        ({"posture": "Metric"}, "trigger.type", "metric triggers are Prefect Cloud only"),
        ({"type": "event", "posture": "Metric"}, "trigger.posture", "Prefect Cloud"),
        ({"type": "metric"}, "trigger.type", "metric triggers are Prefect Cloud only"),
        ({"type": "clock"}, "trigger.type", "'clock' is not a trigger type"),
        ({"threshold": 0}, "trigger.threshold", "greater than or equal to 1"),
        ({"treshold": 2}, "trigger.treshold", "Extra inputs are not permitted"),
        ({"expect": ["!a.b"]}, "trigger.expect", "cannot be negated"),
        ({"for_each": ["related:flow"]}, "trigger.for_each", "related:<role>:<label>"),
        ({"match": {"n": 1}}, "trigger.match", "label 'n'"),
        ({"match_related": [{}, {"n": [2]}]}, "trigger.match_related.1", "label 'n'"),
        ({"match_payload": {"size": {"over": 3}}}, "trigger.match_payload", "unknown comparison"),
        ({"match_payload": {"a..b": "x"}}, "trigger.match_payload", "dotted path"),
        ({"triggers": [{}], "require": 2}, "trigger.require", "from 1 to 1"),
        ({"triggers": [], "require": "any"}, "trigger.triggers", "at least 1"),
        ({"triggers": [{"within": "soon"}]}, "trigger.triggers.0.within", "duration"),
    ],
)
def test_bad_triggers_name_the_field_and_the_reason(trigger, path, reason):
    found = errors(automation(trigger))
    assert path in found, found
    assert reason in found[path]


WEBHOOK = {"type": "call-webhook", "url": "http://x"}
DEPLOYMENT = {"type": "run-deployment"}
ID = str(uuid4())
INFERRED = {"type": "resume-automation", "source": "inferred"}


@pytest.mark.parametrize(
    ("action", "path", "reason"),
    [
        ({"type": "send-notification", "block_document_id": ID}, "type", "notification"),
        ({"type": "pause-work-pool", "source": "inferred"}, "type", "work pools"),
        ({"type": "teleport"}, "type", "run-flow, run-deployment"),
        ({"flow": "f"}, "type", "is required"),
        ({**DEPLOYMENT, "deployment_id": ID}, "flow", "by name"),
        (DEPLOYMENT, "flow", "add `flow: <flow name>`"),
        ({**DEPLOYMENT, "source": "inferred"}, "source", "no deployments"),
        ({**DEPLOYMENT, "flow": "f", "job_variables": {"image": "x"}}, "job_variables", "pools"),
        ({"type": "run-flow"}, "flow", "Field required"),
        ({"type": "run-flow", "flow": ""}, "flow", "at least 1 character"),
        ({"type": "call-webhook", "block_document_id": ID}, "block_document_id", "no blocks"),
        ({**WEBHOOK, "payload": "{}"}, "payload", "`body`"),
        ({**WEBHOOK, "timeout": 0}, "timeout", "greater than 0"),
        ({**WEBHOOK, "method": "BREW"}, "method", "'GET'"),
        ({"type": "emit-event", "event": {"event": "x"}}, "event", "missing resource"),
        ({"type": "emit-event", "event": {"event": "x", "resource": {}, "id": 1}}, "event", "'id'"),
        ({"type": "pause-automation"}, "automation_id", "required"),
        ({**INFERRED, "automation_id": ID}, "automation_id", "not allowed"),
        ({"type": "cancel-flow-run", "source": "selected"}, "flow_run_id", "required"),
    ],
)  # fmt: skip
def test_bad_actions_name_the_field_and_the_reason(action, path, reason):
    found = errors({**automation(), "actions": [{"type": "do-nothing"}, action]})
    assert f"actions.1.{path}" in found, found
    assert reason in found[f"actions.1.{path}"]


@pytest.mark.parametrize(
    ("action", "flow"),
    [
        ({"type": "run-deployment", "flow": "process_file"}, "process_file"),
        ({"type": "run-deployment", "deployment_id": "process_file/default"}, "process_file"),
        ({"type": "run-deployment", "deployment_id": str(uuid4()), "flow": "f"}, "f"),
        ({"type": "run-flow", "flow": "g", "parameters": {"n": "{{ event.payload.n }}"}}, "g"),
    ],
)
def test_run_actions_name_the_flow_they_run(action, flow):
    loaded = AutomationCreate.model_validate(automation(actions=[action])).actions[0]
    assert loaded.flow_name == flow  # type: ignore[union-attr]


def test_webhook_actions_keep_their_request_and_leave_prefects_fields_out_of_exports():
    action = AutomationCreate.model_validate(
        automation(actions=[{"type": "call-webhook", "url": "http://h/{{ event.id }}"}])
    ).actions[0]
    assert isinstance(action, CallWebhook)
    assert action.model_dump() == {
        "type": "call-webhook",
        "method": "POST",
        "url": "http://h/{{ event.id }}",
        "headers": {},
        "body": None,
        "timeout": 10.0,
    }


@pytest.mark.parametrize(
    ("trigger", "loops"),
    [
        ({"expect": ["evtui.flow-run.Running"]}, True),
        ({"expect": ["prefect.flow-run.*"], "match": {RESOURCE_ID: "prefect.flow-run.*"}}, True),
        ({"expect": ["evtui.flow-run.Pending"], "match": {"evtui.flow.name": "upstream"}}, False),
        ({"expect": ["evtui.flow-run.Completed"]}, False),
        ({"expect": ["evtui.flow-run.Running"], "posture": "Proactive", "within": 60}, False),
    ],
)  # fmt: skip
def test_run_loops_are_refused_like_prefect(trigger, loops):
    document = automation(trigger, actions=[{"type": "run-flow", "flow": "f"}])
    if loops:
        assert "starts runs forever" in errors(document)["actions.0"]
    else:
        AutomationCreate.model_validate(document)
    AutomationCreate.model_validate({**document, "enabled": False})
