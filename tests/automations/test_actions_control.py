"""Actions on automations and runs (pause, resume, cancel) and the per-automation rate cap."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from actions_helpers import (
    Acting,
    acting_fixture,  # noqa: F401 (the `acting` fixture)
    action_runner,
    firing_of,
    until,
)

from evtui.flows.records import RunCause


async def test_pause_and_resume_automations(acting: Acting) -> None:
    other = await acting.automation([{"type": "do-nothing"}], name="other", enabled=False)
    resume = {"type": "resume-automation", "source": "selected", "automation_id": str(other.id)}
    auto = await acting.automation([resume, {"type": "pause-automation", "source": "inferred"}])
    await acting.fire(firing_of(auto, await acting.event()))

    automations = acting.engine.automations
    assert automations.get(other.id).enabled is True
    assert automations.get(auto.id).enabled is False
    done = await acting.events("evtui.action.executed")
    assert [e.payload["enabled"] for e in done] == [True, False]
    assert done[0].related[0]["prefect.resource.id"] == f"evtui.automation.{other.id}"
    assert done[1].related[0]["prefect.resource.id"] == f"evtui.automation.{auto.id}"


async def test_cancel_a_run_by_template_or_inferred_from_the_event(
    tmp_path: Path, acting: Acting
) -> None:
    runner = acting.engine.runner
    held = [
        await runner.submit("hold", {"release": str(tmp_path / "never")}, RunCause("api"))
        for _ in range(2)
    ]
    by_template = await acting.automation(
        [
            {
                "type": "cancel-flow-run",
                "source": "selected",
                "flow_run_id": "{{ event.payload.run }}",
            }
        ]
    )
    inferred = await acting.automation([{"type": "cancel-flow-run"}], name="inferred")
    naming_the_run = await acting.event(payload={"run": held[0].id})
    about_the_run = await acting.event(
        "evtui.flow-run.Running", resource={"prefect.resource.id": f"evtui.flow-run.{held[1].id}"}
    )
    await acting.fire(firing_of(by_template, naming_the_run), firing_of(inferred, about_the_run))

    for run in held:

        async def cancelled(run_id: str = run.id) -> bool:
            stored = await runner.runs.get_run(run_id)
            return stored is not None and stored.state == "Cancelled"

        await until(cancelled, timeout=20)
    done = await acting.events("evtui.action.executed")
    assert sorted(e.payload["flow_run_id"] for e in done) == sorted(r.id for r in held)


async def test_cancelling_nothing_fails_with_the_reason(acting: Acting) -> None:
    auto = await acting.automation([{"type": "cancel-flow-run"}])
    await acting.fire(firing_of(auto, await acting.event()))
    [failed] = await acting.events("evtui.action.failed")
    assert failed.payload["reason"] == (
        "no flow run to cancel: none given and none in the triggering event"
    )


async def test_the_rate_cap_pauses_a_runaway_automation(
    acting: Acting, caplog: pytest.LogCaptureFixture
) -> None:
    runner = action_runner(acting.engine, limit=3, seconds=60)
    auto = await acting.automation([{"type": "do-nothing"}])
    cause = await acting.event()
    firings = [firing_of(auto, cause) for _ in range(5)]
    with caplog.at_level(logging.WARNING, logger="evtui.automations.actions"):
        for firing in firings:
            await runner.execute(firing)
        await runner.idle()

    assert acting.engine.automations.get(auto.id).enabled is False
    reason = "rate cap: 3 firings in 60 s"
    assert runner.is_rate_capped(auto.id) == reason
    [paused] = await acting.events("evtui.automation.paused")
    assert paused.payload["reason"] == reason
    assert paused.resource["prefect.resource.id"] == f"evtui.automation.{auto.id}"
    assert reason in caplog.text
    assert len(await acting.events("evtui.action.executed")) == 3
    for firing in firings[3:]:
        [skipped] = await runner.firings.actions_for_firing(str(firing.id))
        assert (skipped.state, skipped.result) == ("skipped", {"reason": reason})
    assert len(await runner.firings.firings_for_automation(str(auto.id))) == 5

    await acting.engine.automations.set_enabled(auto.id, True)
    assert runner.is_rate_capped(auto.id) is None
