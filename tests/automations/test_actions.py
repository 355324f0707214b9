"""The action runner on a real engine: what a firing stores and emits, in which order, once."""

from __future__ import annotations

from actions_helpers import (
    Acting,
    acting_fixture,  # noqa: F401 (the `acting` fixture)
    action_runner,
    firing_of,
    hook_server,
    until,
)

from evtui.automations.action_events import firing_event_id
from evtui.automations.firings import INTERRUPTED, idempotency_key

FIRED = ("evtui.automation.triggered", "evtui.automation.resolved")
"""Announcements of firings (not the automation's created/updated events)."""


async def test_a_firing_is_announced_then_each_action_is_triggered_and_executed(
    acting: Acting,
) -> None:
    emit = {
        "type": "emit-event",
        "event": {
            "event": "custom.noticed",
            "resource": {"prefect.resource.id": "custom.{{ event.resource.id }}"},
            "payload": {"size": "{{ event.payload.size }}"},
        },
    }
    auto = await acting.automation([{"type": "do-nothing"}, emit])
    cause = await acting.event(payload={"size": 2048})
    firing = firing_of(auto, cause, labels={"evtui.file.name": "a.csv"})
    await acting.fire(firing)

    events = await acting.events(*FIRED, "evtui.action.", "custom.")
    assert [e.event for e in events] == [
        "evtui.automation.triggered",
        "evtui.action.triggered",
        "evtui.action.executed",
        "evtui.action.triggered",
        "custom.noticed",
        "evtui.action.executed",
    ]
    announced, trig0, done0, trig1, emitted, done1 = events
    assert announced.resource["prefect.resource.id"] == f"evtui.automation.{auto.id}"
    assert announced.resource["prefect.resource.name"] == "test automation"
    assert {
        "prefect.resource.id": f"prefect.event.{cause.id}",
        "prefect.resource.role": "triggering-event",
    } in announced.related
    assert any(r["prefect.resource.role"] == "trigger" for r in announced.related)
    assert announced.payload["triggering_labels"] == {"evtui.file.name": "a.csv"}
    assert announced.payload["bucket_key"] == "[]"
    assert announced.payload["count"] == 1
    assert announced.payload["trigger_id"] == str(auto.trigger.id)
    assert announced.follows == cause.id
    # the chain: action.triggered follows the announcement, each outcome its triggered
    assert trig0.follows == announced.id and done0.follows == trig0.id
    assert trig1.follows == announced.id and done1.follows == trig1.id
    assert [e.payload["action_index"] for e in (trig0, done0, trig1, done1)] == [0, 0, 1, 1]
    assert done1.payload["action_type"] == "emit-event"
    # the emitted event: rendered (a single expression keeps its type), related, follows
    assert emitted.resource["prefect.resource.id"] == "custom.file.inbox.a.csv"
    assert emitted.payload == {"size": 2048}
    roles = {r["prefect.resource.role"]: r["prefect.resource.id"] for r in emitted.related}
    assert roles["automation"] == f"evtui.automation.{auto.id}"
    assert roles["triggering-event"] == f"prefect.event.{cause.id}"
    assert emitted.follows == cause.id

    stored = await acting.runner.firings.firings_for_event(str(cause.id))
    assert [f.id for f in stored] == [str(firing.id)]
    assert stored[0].detail["event_id"] == str(announced.id)
    actions = await acting.actions(firing)
    assert [(a.action_index, a.action_type, a.state) for a in actions] == [
        (0, "do-nothing", "executed"),
        (1, "emit-event", "executed"),
    ]
    assert actions[1].result["event_id"] == str(done1.id)


async def test_a_failing_action_does_not_stop_the_next(acting: Acting) -> None:
    auto = await acting.automation(
        [{"type": "run-flow", "flow": "no_such_flow"}, acting.record_action()]
    )
    cause = await acting.event()
    firing = firing_of(auto, cause)
    await acting.fire(firing)

    outcomes = await acting.events("evtui.action.executed", "evtui.action.failed")
    assert [e.event for e in outcomes] == ["evtui.action.failed", "evtui.action.executed"]
    assert "no flow named 'no_such_flow'" in outcomes[0].payload["reason"]
    assert await acting.recorded() == {"value": None, "count": 0}
    actions = await acting.actions(firing)
    assert [a.state for a in actions] == ["failed", "executed"]
    run = await acting.engine.runner.runs.get_run(actions[1].result["flow_run_id"])
    assert run is not None
    cause_of_run = (run.cause.kind, run.cause.event_id, run.cause.automation_id)
    assert cause_of_run == ("automation", str(cause.id), str(auto.id))
    assert outcomes[1].related[0] == {
        "prefect.resource.id": f"evtui.flow-run.{run.id}",
        "prefect.resource.role": "target",
        "prefect.resource.name": run.name,
    }


async def test_the_same_firing_twice_runs_its_actions_once(acting: Acting) -> None:
    auto = await acting.automation([acting.record_action()])
    firing = firing_of(auto, await acting.event())
    await acting.fire(firing, firing)
    # a restarted runner (fresh memory) given the same firing again
    again = action_runner(acting.engine)
    await again.execute(firing)
    await again.idle()

    await acting.recorded()
    names = [e.event for e in await acting.events(*FIRED, "evtui.action.")]
    assert names == [
        "evtui.automation.triggered",
        "evtui.action.triggered",
        "evtui.action.executed",
    ]
    [action] = await acting.actions(firing)
    assert action.idempotency_key == idempotency_key(auto.id, firing.id, 0)
    assert len(await acting.events("evtui.flow-run.Scheduled")) == 1


async def test_actions_on_trigger_and_on_resolve_see_the_announcement_as_event(
    acting: Acting,
) -> None:
    template = {
        "event": "custom.seen",
        "resource": {"prefect.resource.id": "custom.seen"},
        "payload": {"name": "{{ event.event }}", "id": "{{ event.id }}"},
    }
    emit = {"type": "emit-event", "event": template}
    auto = await acting.automation(
        [{"type": "do-nothing"}], actions_on_trigger=[emit], actions_on_resolve=[emit]
    )
    cause = await acting.event()
    triggered = firing_of(auto, cause)
    resolved = firing_of(auto, cause, state="Resolved")
    await acting.fire(triggered, resolved)

    announcements = await acting.events(*FIRED)
    assert [e.event for e in announcements] == [
        "evtui.automation.triggered",
        "evtui.automation.resolved",
    ]
    seen = await acting.events("custom.seen")
    assert [e.payload for e in seen] == [
        {"name": "evtui.automation.triggered", "id": str(announcements[0].id)},
        {"name": "evtui.automation.resolved", "id": str(announcements[1].id)},
    ]
    for firing in (triggered, resolved):
        actions = await acting.actions(firing)
        assert [(a.action_index, a.action_type) for a in actions] == [
            (0, "do-nothing"),
            (1, "emit-event"),
        ]


async def test_evaluation_never_waits_and_each_automation_keeps_its_order(acting: Acting) -> None:
    runner = acting.runner
    async with hook_server() as hooks:
        slow = await acting.automation(
            [{"type": "call-webhook", "url": f"{hooks.url}/slow", "timeout": 30}]
        )
        quick = await acting.automation([{"type": "do-nothing"}])
        cause = await acting.event()
        first, second = firing_of(slow, cause), firing_of(slow, cause)
        for firing in (first, second, firing_of(quick, cause)):
            await runner.execute(firing)

        # execute returned while the webhook hangs; the other automation acts meanwhile
        async def first_waits() -> bool:
            return [a.state for a in await acting.actions(first)] == ["running"]

        async def quick_done() -> bool:
            return bool(await acting.events("evtui.action.executed"))

        await until(first_waits)
        await until(quick_done)
        assert await acting.actions(second) == []
        hooks.release()
        await runner.idle()
        for firing in (first, second):
            assert [a.state for a in await acting.actions(firing)] == ["executed"]


async def test_a_restart_finishes_the_firings_a_stop_cut_short(acting: Acting) -> None:
    auto = await acting.automation([{"type": "do-nothing"}, acting.record_action()])
    cut_short, never_started = firing_of(auto, await acting.event()), firing_of(auto, None)
    # as a process that stopped would leave them: both stored, the first mid-way its action 0
    firings = acting.runner.firings
    for firing in (cut_short, never_started):
        assert await firings.record_firing(firing, str(firing_event_id(firing)))
    key = idempotency_key(auto.id, cut_short.id, 0)
    assert await firings.claim_action(key, cut_short, 0, "do-nothing", cut_short.occurred)

    restarted = action_runner(acting.engine)
    await restarted.start()
    await restarted.idle()

    first, second = await acting.actions(cut_short)
    assert (first.state, first.result) == ("failed", {"reason": INTERRUPTED})
    assert second.state == "executed"
    assert [a.state for a in await acting.actions(never_started)] == ["executed", "executed"]
    assert len(await acting.events(*FIRED)) == 2
    assert await acting.recorded() == {"value": None, "count": 0}
