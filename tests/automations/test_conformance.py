"""Conformance table: Prefect's trigger semantics (reference §2.4-2.7) as event timelines.

Each case names the part of the reference it checks. Times are seconds from an arbitrary
origin; the evaluator's clock ticks every second (a `sweep`, as the live service does) unless
the case says otherwise, and an event is evaluated when it occurs unless it says `now=`.
"""

from __future__ import annotations

import pytest
from conformance import Case, E, F, Sweep, describe, expected_rows, run_case

SHUFFLED = [7, 3, 9, 1, 0, 4, 8, 2, 6, 5] * 5


def event_trigger(**fields) -> dict:
    return {"type": "event", "posture": "Reactive", **fields}


def related(role: str, resource_id: str, **labels: str) -> dict[str, str]:
    return {"prefect.resource.id": resource_id, "prefect.resource.role": role, **labels}


CASES = [
    # -- §2.4 label matching ---------------------------------------------------------------
    Case(
        "label glob with * anywhere",
        event_trigger(expect=["file.created"], match={"evtui.file.name": "data-*.csv"}),
        [
            E(0, "file.created", labels={"evtui.file.name": "data-1.csv"}),
            E(1, "file.created", labels={"evtui.file.name": "data-1.txt"}),
            E(2, "file.created", labels={"evtui.file.name": "x-data-1.csv"}),
        ],
        [F(0, "file.created@0")],
        source="§2.4 value patterns",
    ),
    Case(
        "leading ! negates the whole pattern",
        event_trigger(expect=["deploy"], match={"env": "!dev-*"}),
        [
            E(0, "deploy", labels={"env": "prod-1"}),
            E(1, "deploy", labels={"env": "dev-1"}),
        ],
        [F(0, "deploy@0")],
        source="§2.4 value patterns",
    ),
    Case(
        "a missing label never matches, even a negated pattern",
        event_trigger(expect=["deploy"], match={"env": "!dev-*"}),
        [E(0, "deploy"), E(1, "deploy", labels={"other": "x"})],
        [],
        source="§2.4 value patterns",
    ),
    Case(
        "patterns in a list are OR'd",
        event_trigger(expect=["deploy"], match={"env": ["prod", "staging"]}),
        [
            E(0, "deploy", labels={"env": "prod"}),
            E(1, "deploy", labels={"env": "staging"}),
            E(2, "deploy", labels={"env": "dev"}),
        ],
        [F(0, "deploy@0"), F(1, "deploy@1")],
        source="§2.4 lists and objects",
    ),
    Case(
        "a positive and a negative pattern in one list: the positive one wins",
        event_trigger(expect=["deploy"], match={"env": ["dev-*", "!dev-x"]}),
        [E(0, "deploy", labels={"env": "dev-x"})],
        [F(0, "deploy@0")],
        source="§2.4 lists and objects (negative matching)",
    ),
    Case(
        "labels of one object are AND'd",
        event_trigger(expect=["deploy"], match={"env": "prod", "team": "data"}),
        [
            E(0, "deploy", labels={"env": "prod", "team": "data"}),
            E(1, "deploy", labels={"env": "prod", "team": "web"}),
        ],
        [F(0, "deploy@0")],
        source="§2.4 lists and objects",
    ),
    Case(
        "an empty match matches every resource",
        event_trigger(expect=["deploy"], match={}),
        [E(0, "deploy", resource="a"), E(1, "deploy", resource="b")],
        [F(0, "deploy@0"), F(1, "deploy@1")],
        source="§2.4 lists and objects",
    ),
    Case(
        "match_related object: one related resource must carry all its labels",
        event_trigger(
            expect=["run.done"],
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": "etl"},
        ),
        [
            E(0, "run.done", related=[related("flow", "f1", **{"prefect.resource.name": "etl"})]),
            E(
                1,
                "run.done",
                related=[
                    related("flow", "f2", **{"prefect.resource.name": "other"}),
                    related("tag", "t1", **{"prefect.resource.name": "etl"}),
                ],
            ),
        ],
        [F(0, "run.done@0")],
        source="§2.4 match_related (single object)",
    ),
    Case(
        "match_related list: each object satisfied, by different resources",
        event_trigger(
            expect=["run.done"],
            match_related=[
                {"prefect.resource.role": "flow"},
                {"prefect.resource.role": "tag", "prefect.resource.id": "tag.prod"},
            ],
        ),
        [
            E(0, "run.done", related=[related("flow", "f1"), related("tag", "tag.prod")]),
            E(1, "run.done", related=[related("flow", "f1")]),
        ],
        [F(0, "run.done@0")],
        source="§2.4 match_related (list: AND across items)",
    ),
    Case(
        "an empty match_related is satisfied without related resources",
        event_trigger(expect=["ping"], match_related={}),
        [E(0, "ping")],
        [F(0, "ping@0")],
        source="§2.4 match_related",
    ),
    Case(
        "negation across related resources is not an exclusion",
        event_trigger(
            expect=["run.done"],
            match_related={"prefect.resource.id": "!tag.dev", "prefect.resource.role": "tag"},
        ),
        [
            E(0, "run.done", related=[related("tag", "tag.dev"), related("tag", "tag.x")]),
            E(1, "run.done", related=[related("tag", "tag.dev")]),
        ],
        [F(0, "run.done@0")],
        source="§2.4 match_related (negation)",
    ),
    # -- §2.5 event names --------------------------------------------------------------------
    Case(
        "expect globs match the whole name, * at least one character",
        event_trigger(expect=["file.*"]),
        [E(0, "file.created"), E(1, "file."), E(2, "myfile.created"), E(3, "file.moved")],
        [F(0, "file.created@0"), F(3, "file.moved@3")],
        source="§2.5",
    ),
    Case(
        "an empty expect counts every event",
        event_trigger(),
        [E(0, "a.b"), E(1, "c")],
        [F(0, "a.b@0"), F(1, "c@1")],
        source="§2.3 expect default, §2.5",
    ),
    Case(
        "a disabled automation is not evaluated",
        event_trigger(expect=["ping"]),
        [E(0, "ping")],
        [],
        enabled=False,
        source="§2.1 enabled",
    ),
    # -- §2.6 reactive -----------------------------------------------------------------------
    Case(
        "immediate: fires once per matching event",
        event_trigger(expect=["ping"]),
        [E(0, "ping"), E(0, "ping", tag="second"), E(5, "ping")],
        [F(0, "ping@0"), F(0, "second"), F(5, "ping@5")],
        source="§2.6 worked semantics row 1",
    ),
    Case(
        "immediate: 50 shuffled events give 50 firings",
        event_trigger(expect=["burst"]),
        [E(t, "burst", tag=f"b{i}") for i, t in enumerate(SHUFFLED)],
        [F(t, f"b{i}") for i, t in sorted(enumerate(SHUFFLED), key=lambda item: item[1])],
        ticks=False,
        source="§2.6 worked semantics row 1 (#11199)",
    ),
    Case(
        "threshold N within W fires as soon as the count reaches N",
        event_trigger(expect=["err"], threshold=3, within=60),
        [E(0, "err"), E(10, "err"), E(20, "err")],
        [F(20, "err@20", count=3)],
        source="§2.6 worked semantics row 2",
    ),
    Case(
        "at most one firing per window; the next window starts at the old end",
        event_trigger(expect=["err"], threshold=2, within=60),
        [E(0, "err"), E(1, "err"), E(5, "err"), E(30, "err"), E(61, "err"), E(62, "err")],
        [F(1, "err@1"), F(62, "err@62")],
        source="§2.6 worked semantics row 2",
    ),
    Case(
        "an event past the window starts the next window and counts there",
        event_trigger(expect=["err"], threshold=3, within=60),
        [E(0, "err"), E(10, "err"), E(70, "err"), E(80, "err"), E(90, "err")],
        [F(90, "err@90")],
        source="§2.6 evaluate step 6",
    ),
    Case(
        "debounce: threshold 1 within W fires on the first event, then waits out the window",
        event_trigger(expect=["push"], threshold=1, within=60),
        [E(0, "push"), E(10, "push"), E(50, "push"), E(65, "push"), E(100, "push")],
        [F(0, "push@0"), F(65, "push@65")],
        source="§2.6 worked semantics row 3",
    ),
    Case(
        "event from the future: a late-window event fires in the next window (#15343)",
        event_trigger(expect=["tick"], threshold=1, within=10),
        [E(0, "tick"), E(25, "tick")],
        [F(0, "tick@0"), F(25, "tick@25")],
        source="§2.6 evaluate step 6 (#15343)",
    ),
    Case(
        "the first window is back-dated 15 minutes for out-of-order events",
        event_trigger(expect=["err"], threshold=2, within=10),
        [E(1000, "err"), E(950, "err", now=1001)],
        [F(1001, "err@950")],
        ticks=False,
        source="§2.6 reactive step b",
    ),
    Case(
        "an event older than the back-dated start is ignored",
        event_trigger(expect=["err"], threshold=2, within=10),
        [E(1000, "err"), E(99, "err", now=1001)],
        [],
        ticks=False,
        source="§2.6 evaluate step 1",
    ),
    Case(
        "threshold > 1 with within 0 counts until the sweep, about 60 s",
        event_trigger(expect=["err"], threshold=2),
        [E(0, "err"), E(30, "err"), E(40, "err"), E(140, "err")],
        [F(30, "err@30")],
        until=150,
        source="§2.6 worked semantics row 5",
    ),
    Case(
        "threshold > 1 with within 0: the bucket is swept 60 s after the first event",
        event_trigger(expect=["err"], threshold=2),
        [E(0, "err"), E(61, "err"), E(62, "err")],
        [F(62, "err@62")],
        source="§2.6 worked semantics row 5, sweep",
    ),
    Case(
        "after: disarmed until the after event, then needs arming again",
        event_trigger(after=["job.started"], expect=["job.failed"], within=60),
        [E(0, "job.failed"), E(10, "job.started"), E(12, "job.failed"), E(14, "job.failed")],
        [F(12, "job.failed@12")],
        source="§2.6 worked semantics row 4",
    ),
    Case(
        "after: an expect event after the armed window closed does not fire",
        event_trigger(after=["job.started"], expect=["job.failed"], within=60),
        [E(0, "job.started"), E(70, "job.failed")],
        [],
        source="§2.6 worked semantics row 4",
    ),
    Case(
        "after with within 0: the expect event must come within about a minute",
        event_trigger(after=["a"], expect=["b"]),
        [E(0, "a"), E(30, "b"), E(100, "a"), E(200, "b")],
        [F(30, "b@30")],
        source="§2.6 worked semantics row 6",
    ),
    Case(
        "same event in after and expect never reacts to the first one",
        event_trigger(after=["x"], expect=["x"], within=60),
        [E(0, "x"), E(10, "x"), E(20, "x"), E(30, "x")],
        [F(10, "x@10"), F(30, "x@30")],
        source="§2.6 reactive step a (-1 initial count)",
    ),
    Case(
        "same event in after and expect reacts once the threshold is met",
        event_trigger(after=["x"], expect=["x"], threshold=2, within=60),
        [E(0, "x"), E(1, "x"), E(2, "x")],
        [F(2, "x@2")],
        source="§2.6 reactive step a (-1 initial count)",
    ),
    Case(
        "for_each: a bucket per resource",
        event_trigger(expect=["err"], threshold=2, within=60, for_each=["prefect.resource.id"]),
        [
            E(0, "err", resource="r1"),
            E(1, "err", resource="r2"),
            E(2, "err", resource="r1"),
            E(3, "err", resource="r2"),
        ],
        [
            F(2, "err@2", labels={"prefect.resource.id": "r1"}),
            F(3, "err@3", labels={"prefect.resource.id": "r2"}),
        ],
        source="§2.6 worked semantics row for_each",
    ),
    Case(
        "for_each: a missing label groups under ''",
        event_trigger(expect=["err"], threshold=2, within=60, for_each=["color"]),
        [E(0, "err", resource="r1"), E(1, "err", resource="r2")],
        [F(1, "err@1", labels={"color": ""})],
        source="§2.6 bucketing key",
    ),
    Case(
        "for_each over a related resource's label (related:<role>:<label>)",
        event_trigger(
            expect=["run.failed"],
            threshold=2,
            within=60,
            for_each=["related:flow:prefect.resource.name"],
        ),
        [
            E(0, "run.failed", related=[related("flow", "f1", **{"prefect.resource.name": "a"})]),
            E(1, "run.failed", related=[related("flow", "f2", **{"prefect.resource.name": "b"})]),
            E(2, "run.failed", related=[related("flow", "f1", **{"prefect.resource.name": "a"})]),
        ],
        [F(2, "run.failed@2", labels={"related:flow:prefect.resource.name": "a"})],
        source="§2.3 for_each, §2.6 bucketing key",
    ),
    Case(
        "for_each with two labels: the key is every label's value",
        event_trigger(expect=["err"], threshold=2, within=60, for_each=["team", "env"]),
        [
            E(0, "err", labels={"env": "prod", "team": "a"}),
            E(1, "err", labels={"env": "dev", "team": "a"}),
            E(2, "err", labels={"env": "prod", "team": "a"}),
        ],
        [F(2, "err@2", labels={"env": "prod", "team": "a"})],
        source="§2.6 bucketing key (sorted for_each)",
    ),
    Case(
        "a redelivered event (same id) is evaluated once",
        event_trigger(expect=["ping"]),
        [E(0, "ping"), E(1, "ping", tag="copy", same_as="ping@0")],
        [F(0, "ping@0")],
        source="§1.4 triggers consumer seen-cache",
    ),
    # -- §1.6 causal ordering ------------------------------------------------------------------
    Case(
        "a follower evaluated before its leader waits for it",
        event_trigger(after=["a"], expect=["b"], within=60),
        [E(0, "a", now=2), E(1, "b", follows="a@0", now=1)],
        [F(2, "b@1")],
        ticks=False,
        source="§1.6 server ordering gate",
    ),
    Case(
        "without follows the same order loses the expect event",
        event_trigger(after=["a"], expect=["b"], within=60),
        [E(0, "a", now=2), E(1, "b", now=1)],
        [],
        ticks=False,
        source="§1.6 (only order of processing is affected)",
    ),
    Case(
        "a follower whose leader never comes is evaluated after 15 minutes",
        event_trigger(expect=["b"]),
        [E(1, "b", tag="orphan", follows="never sent"), Sweep(899), Sweep(901)],
        [F(901, "orphan")],
        ticks=False,
        source="§1.6 lost followers",
    ),
    # -- §2.6 proactive ------------------------------------------------------------------------
    Case(
        "proactive after/expect per resource: fires when the expected event never comes",
        {
            "type": "event",
            "posture": "Proactive",
            "after": ["run.Running"],
            "expect": ["run.Completed"],
            "for_each": ["prefect.resource.id"],
            "threshold": 1,
            "within": 30,
        },
        [
            E(0, "run.Running", resource="run1"),
            E(5, "run.Running", resource="run2", tag="run2 running"),
            E(10, "run.Completed", resource="run1"),
        ],
        [F(35, "run2 running", labels={"prefect.resource.id": "run2"})],
        until=80,
        source="§2.6 worked semantics (stuck in Running)",
    ),
    Case(
        "proactive without after or for_each: fires every window with too few events",
        {"type": "event", "posture": "Proactive", "expect": ["beat"], "within": 10},
        [],
        [F(10, None), F(20, None), F(30, None)],
        until=35,
        source="§2.6 worked semantics (rolling windows)",
    ),
    Case(
        "proactive rolling windows: events keep it quiet; silence fires at the next check",
        {"type": "event", "posture": "Proactive", "expect": ["beat"], "within": 10},
        [E(2, "beat"), E(12, "beat"), E(22, "beat")],
        [F(50, None)],
        until=55,
        source="§2.6 proactive path steps 1-4 (next run after a satisfied window)",
    ),
    Case(
        "proactive threshold: fewer than N events in the window fires",
        {"type": "event", "posture": "Proactive", "expect": ["beat"], "threshold": 2, "within": 10},
        [E(3, "beat")],
        [F(10, "beat@3", count=1)],
        until=12,
        source="§2.6 meets = count < threshold",
    ),
    Case(
        "proactive heartbeat: each heartbeat restarts the window",
        {
            "type": "event",
            "posture": "Proactive",
            "after": ["hb"],
            "expect": ["hb"],
            "for_each": ["prefect.resource.id"],
            "within": 10,
        },
        [E(0, "hb"), E(5, "hb"), E(12, "hb"), E(20, "hb")],
        [F(30, "hb@20")],
        until=60,
        source="§2.6 evaluate step 5 (heartbeat), zombie detection",
    ),
    Case(
        "proactive heartbeat never fires while heartbeats keep coming",
        {
            "type": "event",
            "posture": "Proactive",
            "after": ["hb"],
            "expect": ["hb"],
            "within": 10,
        },
        [E(t, "hb") for t in range(0, 61, 5)],
        [],
        until=69,
        source="§2.6 worked semantics (heartbeats)",
    ),
    Case(
        "proactive for_each without after: per-key windows, then repeating",
        {
            "type": "event",
            "posture": "Proactive",
            "expect": ["beat"],
            "for_each": ["prefect.resource.id"],
            "threshold": 2,
            "within": 10,
        },
        [E(0, "beat", resource="r1"), E(1, "beat", resource="r2"), E(3, "beat", resource="r1")],
        [
            F(11, "beat@1", labels={"prefect.resource.id": "r2"}),
            F(21, None, labels={"prefect.resource.id": "r2"}),
        ],
        until=25,
        source="§2.6 proactive path, evaluate step 6",
    ),
    Case(
        "proactive: a late expect event after the window fires reactively",
        {"type": "event", "posture": "Proactive", "after": ["a"], "expect": ["b"], "within": 10},
        [E(0, "a"), E(12, "b")],
        [F(12, "b@12")],
        ticks=False,
        source="§2.6 evaluate steps 2-4 with an event past the end",
    ),
    Case(
        "proactive: a window that ended while nothing ran fires at the next sweep",
        {"type": "event", "posture": "Proactive", "after": ["a"], "expect": ["b"], "within": 10},
        [E(0, "a"), Sweep(100)],
        [F(100, "a@0")],
        ticks=False,
        source="§2.6 proactive path step 3 (issue 5 point 2: start-up)",
    ),
    Case(
        "proactive windows are judged behind real time by the events clock",
        {"type": "event", "posture": "Proactive", "after": ["a"], "expect": ["b"], "within": 10},
        [E(0, "a", now=5)],
        [F(15, "a@0")],
        until=20,
        source="§2.6 reactive step 1 (events clock offset)",
    ),
    # -- §2.7 composites -------------------------------------------------------------------------
    Case(
        "compound all: fires once every child has fired",
        {
            "type": "compound",
            "require": "all",
            "within": None,
            "triggers": [event_trigger(expect=["a"]), event_trigger(expect=["b"])],
        },
        [E(0, "a"), E(5, "b"), E(6, "b")],
        [F(5, "b@5", events=["a@0", "b@5"], count=2)],
        source="§2.7",
    ),
    Case(
        "compound any: every child firing fires the parent at once",
        {
            "type": "compound",
            "require": "any",
            "within": None,
            "triggers": [event_trigger(expect=["a"]), event_trigger(expect=["b"])],
        },
        [E(0, "a"), E(5, "b")],
        [F(0, "a@0"), F(5, "b@5")],
        source="§2.7 step 1 (needs exactly 1)",
    ),
    Case(
        "compound require 2 of 3",
        {
            "type": "compound",
            "require": 2,
            "within": None,
            "triggers": [
                event_trigger(expect=["a"]),
                event_trigger(expect=["b"]),
                event_trigger(expect=["c"]),
            ],
        },
        [E(0, "a"), E(3, "c"), E(4, "b")],
        [F(3, "c@3", events=["a@0", "c@3"])],
        source="§2.7 require int",
    ),
    Case(
        "compound within: child firings older than within are forgotten",
        {
            "type": "compound",
            "require": "all",
            "within": 10,
            "triggers": [event_trigger(expect=["a"]), event_trigger(expect=["b"])],
        },
        [E(0, "a"), E(15, "b"), E(20, "a")],
        [F(20, "a@20", events=["b@15", "a@20"])],
        source="§2.7 step 2.2",
    ),
    Case(
        "compound keeps only the latest firing of each child",
        {
            "type": "compound",
            "require": "all",
            "within": None,
            "triggers": [event_trigger(expect=["a"]), event_trigger(expect=["b"])],
        },
        [E(0, "a"), E(1, "a"), E(2, "b")],
        [F(2, "b@2", events=["a@1", "b@2"])],
        source="§2.7 step 2.3",
    ),
    Case(
        "sequence: children must fire in the declared order",
        {
            "type": "sequence",
            "within": None,
            "triggers": [event_trigger(expect=["a"]), event_trigger(expect=["b"])],
        },
        [E(0, "b"), E(1, "a"), E(2, "b")],
        [F(2, "b@2", events=["a@1", "b@2"])],
        source="§2.7 step 2.5 (sequence order)",
    ),
    Case(
        "sequence within: a too-old first step does not count",
        {
            "type": "sequence",
            "within": 10,
            "triggers": [event_trigger(expect=["a"]), event_trigger(expect=["b"])],
        },
        [E(0, "a"), E(20, "b")],
        [],
        source="§2.7 within",
    ),
    Case(
        "nested composite: a sequence inside a compound any",
        {
            "type": "compound",
            "require": "any",
            "within": None,
            "triggers": [
                {
                    "type": "sequence",
                    "within": None,
                    "triggers": [event_trigger(expect=["a"]), event_trigger(expect=["b"])],
                },
                event_trigger(expect=["c"]),
            ],
        },
        [E(0, "b"), E(1, "a"), E(2, "b"), E(3, "c")],
        [F(2, "b@2", events=["a@1", "b@2"]), F(3, "c@3")],
        source="§2.7 step 3 (nested composites)",
    ),
    Case(
        "a composite child with a threshold fires the parent when it is met",
        {
            "type": "compound",
            "require": "all",
            "within": 60,
            "triggers": [
                event_trigger(expect=["a"], threshold=2, within=60),
                event_trigger(expect=["b"]),
            ],
        },
        [E(0, "a"), E(1, "b"), E(2, "a")],
        [F(2, "a@2")],
        source="§2.7 with §2.6 children",
    ),
    # -- evtui extension: match_payload (issue 5 point 3) ---------------------------------------
    Case(
        "match_payload: only CSV files larger than 1 KB",
        event_trigger(
            expect=["file.created"],
            match={"evtui.file.name": "*.csv"},
            match_payload={"size": {"gt": 1024}},
        ),
        [
            E(0, "file.created", labels={"evtui.file.name": "a.csv"}, payload={"size": 4096}),
            E(1, "file.created", labels={"evtui.file.name": "b.csv"}, payload={"size": 10}),
            E(2, "file.created", labels={"evtui.file.name": "c.txt"}, payload={"size": 4096}),
        ],
        [F(0, "file.created@0")],
        source="issue 5 point 3",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_conformance(case: Case) -> None:
    fired, tags = run_case(case)
    assert describe(fired, tags, case) == expected_rows(case), case.source


def test_the_table_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
