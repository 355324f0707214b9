"""Every EventFilter criterion, checked twice on one table of cases: as SQL over stored events
and in memory (`EventFilter.matches`), which the live stream uses. Both must give the same answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from store_helpers import make_event, related

from evtui.events import ReceivedEvent
from evtui.filters import EventFilter
from evtui.store import Store

D1 = related("prefect.deployment.d1", "deployment", {"prefect.resource.name": "etl/prod"})
D2 = related("prefect.deployment.d2", "deployment", {"prefect.resource.name": "etl/dev"})
NIGHTLY = related("prefect.tag.nightly", "tag")
DEV_TAG = related("prefect.tag.dev", "tag")

CORPUS: dict[str, ReceivedEvent] = {
    "created1": make_event(
        "acme.order.created",
        {
            "prefect.resource.id": "acme.order.1",
            "prefect.resource.name": "Order One",
            "env": "prod",
            "region": "eu-west",
        },
        related=[D1, NIGHTLY],
        payload={"note": "Connection Timeout after 30s"},
        ago=timedelta(minutes=8),
    ),
    "paid2": make_event(
        "acme.order.paid",
        {"prefect.resource.id": "acme.order.2", "env": "dev"},
        related=[D2, DEV_TAG],
        payload={"amount": 10},
        ago=timedelta(minutes=7),
    ),
    "shipped1": make_event(
        "acme.order.shipped",
        {"prefect.resource.id": "acme.order.1", "env": "prod", "region": "us-east"},
        related=[related("prefect.flow-run.f1", "flow-run"), D1],
        payload={"carrier": "DHL express"},
        ago=timedelta(minutes=6),
    ),
    "completed": make_event(
        "prefect.flow-run.Completed",
        {"prefect.resource.id": "prefect.flow-run.f1", "prefect.resource.name": "brave-fox"},
        related=[related("prefect.flow.x", "flow"), D2, DEV_TAG],
        payload={"state": "ok"},
        ago=timedelta(minutes=5),
    ),
    "failed": make_event(
        "prefect.flow-run.Failed",
        {"prefect.resource.id": "prefect.flow-run.f2", "prefect.name": "calm-owl"},
        payload={"error": "disk full"},
        ago=timedelta(minutes=4),
    ),
    "weird": make_event(
        "weird[name]?.evt*",
        {"prefect.resource.id": "s3://bucket/a?b[1].csv", "path": "dir/*.csv"},
        related=[related("prefect.tag.x", "tag")],
        ago=timedelta(minutes=3),
    ),
    "old": make_event(
        "acme.order.created",
        {"prefect.resource.id": "acme.order.3", "env": "staging"},
        ago=timedelta(days=2),
    ),
    "odd_labels": make_event(
        "misc.odd",
        {
            "prefect.resource.id": "misc.1",
            "prefect.resource.role": "sneaky",
            'say "hi"': "yes",
            "back\\slash": "ok",
            "café": "crème",
        },
        ago=timedelta(minutes=2),
    ),
}
ALL = set(CORPUS)


def ids(*names: str) -> list[str]:
    return [str(CORPUS[name].id) for name in names]


CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("everything by default", {}, ALL),
    (
        "occurred is inclusive on both ends",
        {
            "occurred": {
                "since": CORPUS["old"].occurred.isoformat(),
                "until": CORPUS["old"].occurred.isoformat(),
            }
        },
        {"old"},
    ),
    (
        "occurred excludes what is outside",
        {"occurred": {"since": CORPUS["failed"].occurred.isoformat()}},
        {"failed", "weird", "odd_labels"},
    ),
    (
        "event prefix",
        {"event": {"prefix": ["acme.order."]}},
        {"created1", "paid2", "shipped1", "old"},
    ),
    (
        "event prefixes are OR'd, exclusions AND'd",
        {
            "event": {
                "prefix": ["acme.", "prefect."],
                "exclude_prefix": ["acme.order.p", "prefect.flow-run.F"],
            }
        },
        {"created1", "shipped1", "old", "completed"},
    ),
    ("event prefix is literal", {"event": {"prefix": ["acme.order.*"]}}, set()),
    ("event prefix with glob characters", {"event": {"prefix": ["weird[name]?"]}}, {"weird"}),
    (
        "event names",
        {"event": {"name": ["acme.order.created", "prefect.flow-run.Failed"]}},
        {"created1", "old", "failed"},
    ),
    (
        "event name exclusion",
        {"event": {"exclude_name": ["acme.order.created"]}},
        ALL - {"created1", "old"},
    ),
    ("an empty list asks nothing", {"event": {"name": []}, "resource": {"id": []}}, ALL),
    ("resource id", {"resource": {"id": ["acme.order.1"]}}, {"created1", "shipped1"}),
    (
        "resource ids are OR'd",
        {"resource": {"id": ["acme.order.1", "acme.order.2"]}},
        {"created1", "paid2", "shipped1"},
    ),
    (
        "resource id prefix",
        {"resource": {"id_prefix": ["prefect.flow-run."]}},
        {"completed", "failed"},
    ),
    ("label", {"resource": {"labels": {"env": "prod"}}}, {"created1", "shipped1"}),
    (
        "label values are OR'd",
        {"resource": {"labels": {"env": ["prod", "dev"]}}},
        {"created1", "paid2", "shipped1"},
    ),
    (
        "negated label: missing never matches",
        {"resource": {"labels": {"env": "!prod"}}},
        {"paid2", "old"},
    ),
    (
        "label wildcard",
        {"resource": {"labels": {"env": "*"}}},
        {"created1", "paid2", "shipped1", "old"},
    ),
    ("wildcard at the start", {"resource": {"labels": {"region": "*-west"}}}, {"created1"}),
    ("wildcard in the middle", {"resource": {"labels": {"region": "u*t"}}}, {"shipped1"}),
    ("labels are AND'd", {"resource": {"labels": {"env": "prod", "region": "us-*"}}}, {"shipped1"}),
    ("an empty value list matches nothing", {"resource": {"labels": {"env": []}}}, set()),
    ("an empty specification matches all", {"resource": {"labels": {}}}, ALL),
    (
        "id label glob",
        {"resource": {"labels": {"prefect.resource.id": "acme.order.*"}}},
        {"created1", "paid2", "shipped1", "old"},
    ),
    (
        "negated id label",
        {"resource": {"labels": {"prefect.resource.id": "!acme.order.*"}}},
        {"completed", "failed", "weird", "odd_labels"},
    ),
    (
        "? and [] are literal",
        {"resource": {"labels": {"prefect.resource.id": "s3://bucket/a?b[1].csv"}}},
        {"weird"},
    ),
    (
        "? is not a wildcard",
        {"resource": {"labels": {"prefect.resource.id": "s3://bucket/aXb[1].csv"}}},
        set(),
    ),
    (
        "[] is not a class",
        {"resource": {"labels": {"prefect.resource.id": "s3://bucket/a?b1.csv"}}},
        set(),
    ),
    (
        "glob around brackets",
        {"resource": {"labels": {"prefect.resource.id": "s3://*[1].csv"}}},
        {"weird"},
    ),
    ("a literal star in a value", {"resource": {"labels": {"path": "dir/*.csv"}}}, {"weird"}),
    (
        "the primary resource has no role",
        {"resource": {"labels": {"prefect.resource.role": "*"}}},
        set(),
    ),
    ("name label", {"resource": {"labels": {"prefect.resource.name": "Order*"}}}, {"created1"}),
    (
        "a label with a quote in its name",
        {"resource": {"labels": {'say "hi"': "y*"}}},
        {"odd_labels"},
    ),
    (
        "a label with a backslash in its name",
        {"resource": {"labels": {"back\\slash": "ok"}}},
        {"odd_labels"},
    ),
    ("non-ASCII labels", {"resource": {"labels": {"café": "crè*"}}}, {"odd_labels"}),
    ("related id", {"related": {"id": ["prefect.deployment.d1"]}}, {"created1", "shipped1"}),
    ("related role", {"related": {"role": ["tag"]}}, {"created1", "paid2", "completed", "weird"}),
    (
        "one object holds on one related resource",
        {"related": {"role": ["tag"], "id": ["prefect.deployment.d1"]}},
        set(),
    ),
    (
        "a list of objects is AND'd, each on any related resource",
        {
            "related": [
                {"role": ["tag"], "id": ["prefect.tag.dev"]},
                {"id": ["prefect.deployment.d2"]},
            ]
        },
        {"paid2", "completed"},
    ),
    (
        "related ids are OR'd",
        {"related": {"id": ["prefect.tag.nightly", "prefect.flow.x"]}},
        {"created1", "completed"},
    ),
    (
        "resources in roles",
        {"related": {"resources_in_roles": [["prefect.deployment.d1", "deployment"]]}},
        {"created1", "shipped1"},
    ),
    (
        "resources in the wrong role",
        {"related": {"resources_in_roles": [["prefect.deployment.d1", "tag"]]}},
        set(),
    ),
    (
        "resources in roles are OR'd",
        {
            "related": {
                "resources_in_roles": [
                    ["prefect.deployment.d1", "deployment"],
                    ["prefect.flow.x", "flow"],
                ]
            }
        },
        {"created1", "shipped1", "completed"},
    ),
    (
        "related role label glob",
        {"related": {"labels": {"prefect.resource.role": "flow*"}}},
        {"shipped1", "completed"},
    ),
    (
        "related name label",
        {"related": {"labels": {"prefect.resource.name": "etl/p*"}}},
        {"created1", "shipped1"},
    ),
    ("related excludes the primary resource", {"related": {"id": ["acme.order.1"]}}, set()),
    (
        "the role '' is the primary resource",
        {"related": {"role": [""], "id": ["acme.order.1"]}},
        {"created1", "shipped1"},
    ),
    ("an empty related object asks nothing", {"related": {}}, ALL),
    (
        "negation across related resources is not exclusion",
        {
            "related": {
                "labels": {
                    "prefect.resource.id": "!prefect.tag.dev",
                    "prefect.resource.role": "tag",
                }
            }
        },
        {"created1", "weird"},
    ),
    (
        "related with a resource id (probing each candidate's resources)",
        {
            "resource": {"id": ["acme.order.1", "acme.order.2"]},
            "related": {"id": ["prefect.deployment.d1"]},
        },
        {"created1", "shipped1"},
    ),
    (
        "related with event ids",
        {
            "id": {"id": ids("created1", "paid2")},
            "related": {"role": ["tag"], "id": ["prefect.tag.dev"]},
        },
        {"paid2"},
    ),
    (
        "any resource: primary or related",
        {"any_resource": {"id": ["prefect.flow-run.f1"]}},
        {"shipped1", "completed"},
    ),
    (
        "any resource id prefix",
        {"any_resource": {"id_prefix": ["prefect.flow"]}},
        {"shipped1", "completed", "failed"},
    ),
    (
        "any resource labels",
        {"any_resource": {"labels": {"prefect.resource.name": "brave-*"}}},
        {"completed"},
    ),
    (
        "any resource list is AND'd",
        {"any_resource": [{"id": ["prefect.deployment.d2"]}, {"labels": {"env": "dev"}}]},
        {"paid2"},
    ),
    (
        "any resource: one resource meets all",
        {"any_resource": {"id": ["acme.order.1"], "labels": {"region": "us-*"}}},
        {"shipped1"},
    ),
    (
        "any resource role and name on the same resource",
        {
            "any_resource": {
                "labels": {
                    "prefect.resource.role": "deployment",
                    "prefect.resource.name": "etl/prod",
                }
            }
        },
        {"created1", "shipped1"},
    ),
    (
        "any resource with a resource id",
        {"resource": {"id": ["prefect.flow-run.f1"]}, "any_resource": {"id": ["prefect.tag.dev"]}},
        {"completed"},
    ),
    ("event ids", {"id": {"id": ids("paid2", "failed")}}, {"paid2", "failed"}),
    ("text is case-insensitive", {"text": {"query": "TIMEOUT"}}, {"created1"}),
    ("text terms are OR'd", {"text": {"query": "timeout disk"}}, {"created1", "failed"}),
    ("text exclusion", {"text": {"query": "acme -dhl"}}, {"created1", "paid2", "old"}),
    ("text exclusion with !", {"text": {"query": "!dhl"}}, ALL - {"shipped1"}),
    ("text required terms", {"text": {"query": "+acme +prod"}}, {"created1", "shipped1"}),
    ("text phrase", {"text": {"query": '"connection timeout"'}}, {"created1"}),
    ("text phrase is one term", {"text": {"query": '"timeout connection"'}}, set()),
    ("text excluded phrase", {"text": {"query": '-"dhl express"'}}, ALL - {"shipped1"}),
    ("text hyphen inside a term", {"text": {"query": "brave-fox"}}, {"completed"}),
    ("text searches labels and related", {"text": {"query": "etl/dev"}}, {"paid2", "completed"}),
    ("text with an apostrophe and a hash", {"text": {"query": "can't #1"}}, set()),
    ("text with an unclosed quote", {"text": {"query": '"disk fu'}}, {"failed"}),
    ("an empty text query asks nothing", {"text": {"query": "  "}}, ALL),
    (
        "everything at once",
        {
            "event": {"prefix": ["acme."]},
            "resource": {"labels": {"env": "prod"}},
            "related": [{"role": ["deployment"]}, {"role": ["tag"]}],
            "any_resource": {"id_prefix": ["prefect.tag."]},
            "text": {"query": "+timeout"},
        },
        {"created1"},
    ),
]


@pytest.mark.parametrize(("case", "body", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_sql_and_memory_agree(
    store: Store, case: str, body: dict[str, Any], expected: set[str]
) -> None:
    await store.write(list(CORPUS.values()))
    event_filter = EventFilter.model_validate(body)
    names = {str(event.id): name for name, event in CORPUS.items()}

    stored, total = await store.query_events(event_filter, limit=50)
    assert {names[str(s.event.id)] for s in stored} == expected
    assert total == len(expected)

    in_memory = {name for name, event in CORPUS.items() if event_filter.matches(event)}
    assert in_memory == expected
    read_back = {
        names[str(s.event.id)] for s in await store.events_after(0) if event_filter.matches(s.event)
    }
    assert read_back == expected


async def test_related_criteria_look_only_at_the_queried_time_range(store: Store) -> None:
    """The resource subqueries are scoped to `occurred` like the events themselves."""
    await store.write(list(CORPUS.values()))
    recent = {"since": CORPUS["paid2"].occurred.isoformat()}
    event_filter = EventFilter.model_validate(
        {"occurred": recent, "related": {"id": ["prefect.deployment.d1"]}}
    )
    stored, total = await store.query_events(event_filter, limit=50)
    assert [s.event.id for s in stored] == [CORPUS["shipped1"].id]
    assert total == 1
