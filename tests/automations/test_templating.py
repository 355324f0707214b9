"""Action templates: native values, Prefect's names, the sandbox, the caps, errors with lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from evtui.automations.firing import Firing
from evtui.automations.models import Automation
from evtui.automations.templating import (
    MAX_OUTPUT,
    TemplateError,
    TemplateProblem,
    check,
    context_for,
    render,
)
from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event

AUTOMATION = Automation.model_validate(
    {
        "id": str(uuid4()),
        "created": "2026-01-01T00:00:00Z",
        "updated": "2026-01-01T00:00:00Z",
        "name": "process csv",
        "trigger": {"expect": ["file.created"], "for_each": ["evtui.file.name"]},
        "actions": [{"type": "run-flow", "flow": "process_new_file"}],
    }
)
EVENT = Event(
    event="file.created",
    occurred=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    resource={
        RESOURCE_ID: "evtui.file.inbox/a.csv",
        RESOURCE_NAME: "a.csv",
        "evtui.file.path": "/inbox/a.csv",
        "evtui.file.name": "a.csv",
    },
    related=[
        {
            RESOURCE_ID: "evtui.flow-run.r1",
            RESOURCE_ROLE: "run",
            RESOURCE_NAME: "brave-otter",
            "evtui.flow.name": "ingest",
            "prefect.state-name": "Running",
            "prefect.state-type": "RUNNING",
        }
    ],
    payload={"size": 2048, "rows": [1, 2, 3], "meta": {"owner": "ana", "ok": True}, "none": None},
)
FIRING = Firing(
    id=uuid4(),
    automation=AUTOMATION,
    trigger_id=AUTOMATION.trigger.id,
    state="Triggered",
    occurred=datetime(2026, 3, 4, 5, 6, 8, tzinfo=UTC),
    triggering_event=EVENT.receive(),
    triggering_events=[EVENT.receive()],
    triggering_labels={"evtui.file.name": "a.csv"},
    bucket_key='["a.csv"]',
    count=1,
)
CONTEXT = context_for(AUTOMATION, FIRING, EVENT)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ event.id }}", str(EVENT.id)),
        ("{{ event.payload.size }}", 2048),  # a number stays a number
        ("{{ event.payload.size * 2 }}", 4096),
        ("{{ event.payload.rows }}", [1, 2, 3]),
        ("{{ event.payload.meta }}", {"owner": "ana", "ok": True}),
        ("{{ event.payload.meta.ok }}", True),
        ("{{ event.payload.none }}", None),
        ("{{ event.payload.missing }}", None),  # undefined is null, as a value
        ("  {{ event.payload.size }}\n", 2048),  # surrounding whitespace aside
        ("{{- event.payload.size -}}", 2048),
        ("size {{ event.payload.size }}", "size 2048"),  # text around: a string
        ("{{ event.payload.size }}{{ event.payload.size }}", "20482048"),
        ("[{{ event.payload.missing }}]", "[]"),  # undefined renders empty, as in Prefect
        ("{{ event.payload.missing.deeper }}", None),
        ("{{ event.resource.id }}", "evtui.file.inbox/a.csv"),
        ("{{ event.resource.name }}", "a.csv"),
        ("{{ event.resource['evtui.file.path'] }}", "/inbox/a.csv"),
        ("{{ event.related[0].role }}", "run"),
        ("{{ event.event }}", "file.created"),
        ("{{ event.occurred }}", "2026-03-04T05:06:07+00:00"),
        ("{{ event.occurred.year }}", 2026),
        ("{{ automation.name }}", "process csv"),
        ("{{ automation.id }}", str(AUTOMATION.id)),
        ("{{ firing.id }}", str(FIRING.id)),
        ("{{ firing.triggering_labels['evtui.file.name'] }}", "a.csv"),
        ("{{ labels['evtui.file.name'] }}", "a.csv"),
        ("{{ events | length }}", 1),
        ("{{ flow_run.id }}/{{ flow_run.state.name }}", "r1/Running"),
        ("{{ deployment.name }}", None),  # Prefect's names evtui lacks are undefined
        ("{{ event.payload | tojson }}", '{"size": 2048, "rows": [1, 2, 3], "meta": '
         '{"owner": "ana", "ok": true}, "none": null}'),
        ("{% for r in event.payload.rows %}{{ r }},{% endfor %}", "1,2,3,"),
        ("no template", "no template"),
        ("{ not: a template }", "{ not: a template }"),
    ],
    ids=lambda value: value if isinstance(value, str) and "{" in value else "",
)  # fmt: skip
def test_render_keeps_native_types_and_sees_prefects_names(template, expected):
    assert render(template, CONTEXT) == expected


def test_render_walks_objects_and_lists_and_keeps_other_values():
    parameters = {
        "path": "{{ event.resource['evtui.file.path'] }}",
        "sizes": ["{{ event.payload.size }}", 1, None, {"deep": "{{ event.payload.meta }}"}],
        "flag": False,
    }
    assert render(parameters, CONTEXT) == {
        "path": "/inbox/a.csv",
        "sizes": [2048, 1, None, {"deep": {"owner": "ana", "ok": True}}],
        "flag": False,
    }


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        ({"__prefect_kind": "none", "value": {"a": 1}}, {"a": 1}),
        ({"__prefect_kind": "jinja", "template": "{{ event.payload.size }}"}, "2048"),
        ({"__prefect_kind": "json", "value": '{"a": [1]}'}, {"a": [1]}),
        (
            {
                "__prefect_kind": "json",
                "value": {"__prefect_kind": "jinja", "template": "{{ event.payload | tojson }}"},
            },
            EVENT.payload,
        ),
    ],
)
def test_prefects_parameter_kinds_render_as_in_prefect(parameter, expected):
    assert render({"p": parameter}, CONTEXT) == {"p": expected}


def test_a_proactive_firing_without_an_event_renders_with_event_null():
    context = context_for(AUTOMATION, FIRING, None)
    assert context["event"] is None and context["flow_run"] is None
    assert render("{{ event.id }}", context) is None
    assert render("id={{ event.id }}", context) == "id="


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ event.__class__ }}",
        "{{ event.payload.__class__.__init__.__globals__ }}",
        "{{ event.resource.__class__.__base__ }}",
        "{{ range.__globals__ }}",
        "x {{ cycler.__init__.__globals__ }}",
        "{{ event.payload.rows.append(4) }}",  # the immutable sandbox: no mutation
        "{{ event.payload.meta.update({'owner': 'eve'}) }}",
    ],
)
def test_the_sandbox_refuses_escapes_and_mutation(template):
    with pytest.raises(TemplateError) as caught:
        render(template, CONTEXT)
    assert "unsafe" in caught.value.message or "sandbox" in caught.value.message
    assert EVENT.payload["rows"] == [1, 2, 3]


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ range(101) | list }}", "range() of 101 items; at most 100"),
        ("{{ 'x' * 20000000 }}", "at most 1000000"),
        ("{{ [0] * 20000000 }}", "at most 1000000"),
        ("{{ 10 ** 100000 }}", "exponent"),
        ("{{ 'x'.ljust(20000000) }}", "at most 1000000"),
        ("{{ 'x' | center(20000000) }}", "at most 1000000"),
        ("{% for i in range(100) %}{% for j in range(100) %}{{ 'y' * 200 }}{% endfor %}"
         "{% endfor %}", f"output is over {MAX_OUTPUT} characters"),
        ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursion"),
        ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
         "{{ f(40) }}", "template ran too long"),
        ("{% for a in range(9) %}{% for b in range(9) %}{% for c in range(9) %}{% endfor %}"
         "{% endfor %}{% endfor %}", "nested 3 deep; at most 2"),
        ("{% for a in [1] %}{% endfor %}" * 11, "11 for loops; at most 10"),
    ],
)  # fmt: skip
def test_runaway_templates_fail_with_a_reason(template, reason):
    with pytest.raises(TemplateError) as caught:
        render(template, CONTEXT)
    assert reason in caught.value.message


@pytest.mark.parametrize(
    ("template", "line", "reason"),
    [
        ("{{ event.id ", 1, "unexpected end of template"),
        ("first\nsecond {% if %}", 2, "Expected an expression"),
        ("a\nb\n{{ 1 / 0 }}", 3, "ZeroDivisionError"),
        ("\n\n{{ 1 / 0 }}", 3, "ZeroDivisionError"),
        ("{% for x in y %}", 1, "Unexpected end of template"),
        ("ok\n{{ event.payload.size | no_such_filter }}", 2, "No filter named 'no_such_filter'"),
    ],
)
def test_errors_say_what_and_on_which_line(template, line, reason):
    with pytest.raises(TemplateError) as caught:
        render(template, CONTEXT)
    assert caught.value.line == line
    assert reason in caught.value.message
    assert str(caught.value).startswith(f"line {line}: ")


def test_check_finds_problems_with_their_json_path_and_line_without_rendering():
    parameters: dict[str, Any] = {
        "ok": "{{ event.payload.size }} and {{ deployment.name }}",
        "typo": "{{ evnt.id }}",
        "nested": {"items": ["plain", "x\n{% for %}"]},
        "kind": {"__prefect_kind": "workspace_variable", "variable_name": "v"},
        "loops": "{% for a in [1] %}{% for b in [1] %}{% for c in [1] %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        "local": "{% set n = 1 %}{% for i in event.payload.rows %}{{ i + n }}{% endfor %}",
    }
    assert check(parameters) == [
        TemplateProblem(
            "typo",
            1,
            "unknown name 'evnt'; templates can use event, automation, firing, labels, events, "
            "flow_run",
        ),
        TemplateProblem(
            "nested.items.1", 2, "Expected an expression, got 'end of statement block'"
        ),
        TemplateProblem(
            "kind",
            None,
            "__prefect_kind 'workspace_variable' is not supported; evtui knows none, json, jinja",
        ),
        TemplateProblem("loops", 1, "for loops nested 3 deep; at most 2 are allowed"),
    ]
    assert check("{{ event.id }}") == []
    assert check(42) == []
