"""Matching, case by case from the reference: labels (§2.4), names (§2.5), payloads, buckets."""

from __future__ import annotations

from typing import Any

import pytest

from evtui.automations.matching import (
    bucket_key,
    covers,
    labels_match,
    name_matches,
    triggering_labels,
    why_not,
)
from evtui.automations.models import AutomationCreate, EventTrigger
from evtui.events import RESOURCE_ID, RESOURCE_ROLE, Event

FILE = {RESOURCE_ID: "evtui.file.inbox/a.csv", "evtui.file.name": "a.csv", "env": "dev-1"}


@pytest.mark.parametrize(
    ("spec", "labels", "expected"),
    [
        ({}, FILE, True),  # an empty specification matches every resource
        ({}, {RESOURCE_ID: "x"}, True),
        ({"evtui.file.name": "a.csv"}, FILE, True),
        ({"evtui.file.name": "b.csv"}, FILE, False),
        ({"evtui.file.name": "*.csv"}, FILE, True),  # `*` at the start
        ({RESOURCE_ID: "evtui.file.*"}, FILE, True),  # at the end
        ({RESOURCE_ID: "evtui.*/a.csv"}, FILE, True),  # in the middle
        ({RESOURCE_ID: "*inbox*"}, FILE, True),  # on both sides
        ({"evtui.file.name": "*"}, FILE, True),
        ({"evtui.file.name": "*.tsv"}, FILE, False),
        ({"evtui.file.name": "A.CSV"}, FILE, False),  # case-sensitive
        ({"evtui.file.name": "a.csv*"}, FILE, True),  # `*` may match nothing
        ({"evtui.file.name": "!b.csv"}, FILE, True),  # negation
        ({"evtui.file.name": "!a.csv"}, FILE, False),
        ({"evtui.file.name": "!*.csv"}, FILE, False),
        ({"missing": "*"}, FILE, False),  # a missing label never matches ...
        ({"missing": "!x"}, FILE, False),  # ... not even negated
        ({"evtui.file.name": ["*.tsv", "*.csv"]}, FILE, True),  # a list is OR'd
        ({"evtui.file.name": ["*.tsv", "*.json"]}, FILE, False),
        ({"evtui.file.name": []}, FILE, False),  # an empty list matches nothing
        ({"env": ["dev-*", "!dev-1"]}, FILE, True),  # mixing +/- in a list is ineffective
        ({"evtui.file.name": "*.csv", "env": "dev-*"}, FILE, True),  # labels are AND'd
        ({"evtui.file.name": "*.csv", "env": "prod-*"}, FILE, False),
        ({"evtui.file.name": "*.csv", "missing": "*"}, FILE, False),
        ({"evtui.file.name": "a?csv"}, FILE, False),  # `?` is literal in evtui
        ({"evtui.file.name": "[a].csv"}, {**FILE, "evtui.file.name": "[a].csv"}, True),
    ],
)
def test_labels_match(spec, labels, expected):
    assert labels_match(spec, labels) is expected


@pytest.mark.parametrize(
    ("patterns", "name", "expected"),
    [
        (["file.created"], "file.created", True),
        (["file.created"], "file.created.more", False),  # the whole name
        (["file.*"], "file.created", True),
        (["file.*"], "file.", False),  # `*` needs at least one character
        (["*.created"], "file.created", True),
        (["file.*.done"], "file.x.y.done", True),
        (["prefect.flow-run.*"], "prefect.flow-run.Completed", True),
        (["prefect.flow-run.*"], "prefect.flow-run", False),
        (["a", "b.*"], "b.c", True),  # OR'd
        ([], "anything", False),
        (["File.created"], "file.created", False),
        (["file?created"], "file.created", False),
    ],
)
def test_name_matches(patterns, name, expected):
    assert name_matches(patterns, name) is expected


def trigger(**fields: Any) -> EventTrigger:
    loaded = AutomationCreate.model_validate(
        {"name": "t", "trigger": fields, "actions": []}
    ).trigger
    assert isinstance(loaded, EventTrigger)
    return loaded


def event(
    name: str = "file.created",
    resource: dict[str, str] | None = None,
    related: list[dict[str, str]] | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    return Event(
        event=name,
        resource=resource or FILE,
        related=related or [],
        payload=payload or {},
    )


FLOW = {RESOURCE_ID: "evtui.flow.etl", RESOURCE_ROLE: "flow", "team": "data"}
TAG_DEV = {RESOURCE_ID: "prefect.tag.dev", RESOURCE_ROLE: "tag"}
TAG_PROD = {RESOURCE_ID: "prefect.tag.prod", RESOURCE_ROLE: "tag"}


@pytest.mark.parametrize(
    ("match_related", "related", "expected"),
    [
        ({}, [], True),  # an empty object is satisfied even with no related resources
        ([], [], True),
        ({"team": "data"}, [], False),
        ({"team": "data"}, [FLOW], True),
        ({RESOURCE_ROLE: "flow", "team": "data"}, [FLOW], True),
        ({RESOURCE_ROLE: "tag", "team": "data"}, [FLOW, TAG_DEV], False),  # one has all
        ([{RESOURCE_ROLE: "tag"}, {"team": "data"}], [FLOW, TAG_DEV], True),  # list: each, by any
        ([{RESOURCE_ROLE: "tag"}, {"team": "ops"}], [FLOW, TAG_DEV], False),
        ({RESOURCE_ID: "!prefect.tag.dev", RESOURCE_ROLE: "tag"}, [TAG_DEV, TAG_PROD], True),
        ({RESOURCE_ID: "!prefect.tag.dev", RESOURCE_ROLE: "tag"}, [TAG_DEV], False),
    ],
)  # fmt: skip
def test_match_related_object_versus_list(match_related, related, expected):
    found = why_not(trigger(match_related=match_related), event(related=related))
    assert (found is None) is expected, found
    assert covers(trigger(match_related=match_related), event(related=related)) is expected


PAYLOAD = {"size": 2048, "name": "a.csv", "ok": True, "text_size": "512", "files": [{"n": 1}]}


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({"size": {"gt": 1024}}, True),
        ({"size": {">": 4096}}, False),
        ({"size": {"ge": 2048, "lt": 4096}}, True),
        ({"size": {"le": 100}}, False),
        ({"size": 2048}, True),  # a bare number is eq
        ({"size": {"ne": 2048}}, False),
        ({"text_size": {"lt": 1000}}, True),  # a number held as text compares as a number
        ({"name": {"gt": 1}}, False),  # not a number
        ({"name": "*.csv"}, True),
        ({"name": "!*.csv"}, False),
        ({"name": ["*.tsv", "*.csv"]}, True),
        ({"size": "20*"}, True),  # a non-string matches as its JSON text
        ({"ok": True}, True),
        ({"ok": False}, False),
        ({"files.0.n": 1}, True),  # lists by index
        ({"files.1.n": 1}, False),
        ({"files": "*"}, False),  # a structure is not matched by a pattern
        ({"missing": "!x"}, False),  # a missing path never matches
        ({"missing": {"ne": 1}}, False),
        ({"name": "*.csv", "size": {"gt": 1024}}, True),  # AND'd
        ({"name": "*.csv", "size": {"gt": 4096}}, False),
    ],
)
def test_match_payload(conditions, expected):
    found = why_not(trigger(match_payload=conditions), event(payload=PAYLOAD))
    assert (found is None) is expected, found


@pytest.mark.parametrize(
    ("fields", "happened", "reason"),
    [
        (
            {"expect": ["file.*"]},
            event("run.done"),
            "event name 'run.done' is not in expect ['file.*']",
        ),
        (
            {"expect": ["a"], "after": ["b"]},
            event("c"),
            "event name 'c' is not in expect or after ['a', 'b']",
        ),
        (
            {"match": {"evtui.file.name": "*.tsv"}},
            event(),
            "resource label 'evtui.file.name' is 'a.csv', not '*.tsv'",
        ),
        (
            {"match": {RESOURCE_ID: ["x.*", "y.*"]}},
            event(),
            "resource id is 'evtui.file.inbox/a.csv', not any of ['x.*', 'y.*']",
        ),
        ({"match": {"owner": "me"}}, event(), "resource has no label 'owner'"),
        (
            {"match_related": {"team": "ops"}},
            event(related=[FLOW]),
            "no related resource matches {'team': 'ops'}",
        ),
        (
            {"match_payload": {"size": {"gt": 1024}}},
            event(payload={"size": 10}),
            "payload 'size' is 10, not > 1024",
        ),
        ({"match_payload": {"size": {"gt": 1024}}}, event(), "payload has no 'size'"),
        (
            {"match_payload": {"name": "*.csv"}},
            event(payload={"name": "b.txt"}),
            "payload 'name' is 'b.txt', not '*.csv'",
        ),
        (
            {"match_payload": {"n": {"lt": 1}}},
            event(payload={"n": "x"}),
            "payload 'n' is 'x', not a number",
        ),
    ],
)
def test_why_not_names_the_first_failing_predicate(fields, happened, reason):
    assert why_not(trigger(**fields), happened) == reason


def test_why_not_checks_name_then_resource_then_related_then_payload():
    strict = trigger(
        expect=["file.created"],
        match={"evtui.file.name": "*.csv"},
        match_related={"team": "data"},
        match_payload={"size": {"gt": 1}},
    )
    assert why_not(strict, event("x")).startswith("event name")
    assert why_not(strict, event(resource={RESOURCE_ID: "r"})).startswith("resource has no")
    assert why_not(strict, event()).startswith("no related resource")
    assert why_not(strict, event(related=[FLOW])) == "payload has no 'size'"
    assert why_not(strict, event(related=[FLOW], payload={"size": 2})) is None


def test_after_events_pass_the_name_check_and_an_empty_expect_passes_everything():
    armed = trigger(after=["run.started"], expect=["run.done"])
    assert why_not(armed, event("run.started")) is None
    assert armed.starts_after("run.started") and not armed.expects("run.started")
    anything = trigger(after=["run.started"])
    assert why_not(anything, event("whatever")) is None
    assert anything.expects("whatever") and not trigger().starts_after("run.started")


@pytest.mark.parametrize(
    ("for_each", "related", "key"),
    [
        ([], [], ()),
        (["evtui.file.name"], [], ("a.csv",)),
        (["missing"], [], ("",)),  # a missing label groups under ""
        (["evtui.file.name", "env"], [], ("dev-1", "a.csv")),  # sorted by label
        (["related:flow:prefect.resource.id"], [FLOW], ("evtui.flow.etl",)),
        (["related:flow:team"], [TAG_DEV, FLOW], ("data",)),
        (["related:tag:prefect.resource.id"], [TAG_DEV, TAG_PROD], ("prefect.tag.dev",)),  # first
        (["related:flow:missing"], [FLOW, {**FLOW, "missing": "x"}], ("",)),  # only the first
        (["related:deployment:prefect.resource.id"], [FLOW], ("",)),
    ],
)  # fmt: skip
def test_bucket_key_from_for_each(for_each, related, key):
    bucketed = trigger(for_each=for_each)
    happened = event(related=related)
    assert bucket_key(bucketed, happened) == key
    assert triggering_labels(bucketed, happened) == dict(zip(sorted(for_each), key, strict=True))
