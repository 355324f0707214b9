"""`run-flow` (and `run-deployment`): rendered parameters, real flow runs, failures, loops."""

from __future__ import annotations

from actions_helpers import (
    Acting,
    acting_fixture,  # noqa: F401 (the `acting` fixture)
    firing_of,
)


async def test_parameters_keep_their_native_types_and_event_id_works(acting: Acting) -> None:
    auto = await acting.automation(
        [
            acting.record_action(
                value={"id": "{{ event.id }}", "file": "{{ event.payload }}"},
                count="{{ event.payload.rows }}",
            )
        ]
    )
    cause = await acting.event(payload={"rows": 3, "path": "/in/a.csv"})
    firing = firing_of(auto, cause)
    await acting.fire(firing)

    assert await acting.recorded() == {
        "value": {"id": str(cause.id), "file": {"rows": 3, "path": "/in/a.csv"}},
        "count": 3,
    }
    [action] = await acting.actions(firing)
    run = await acting.engine.runner.runs.get_run(action.result["flow_run_id"])
    assert run is not None and run.parameters["count"] == 3


async def test_a_render_error_fails_the_action_with_the_reason(acting: Acting) -> None:
    auto = await acting.automation([acting.record_action(count="{{ event.payload.rows // 0 }}")])
    firing = firing_of(auto, await acting.event(payload={"rows": 3}))
    await acting.fire(firing)

    [failed] = await acting.events("evtui.action.failed")
    assert failed.payload["reason"].startswith("template error in parameters:")
    assert "division" in failed.payload["reason"]
    assert failed.payload["template_error"]
    assert await acting.events("evtui.flow-run.") == []
    [action] = await acting.actions(firing)
    assert action.state == "failed"
    assert action.result["reason"] == failed.payload["reason"]


async def test_run_deployment_runs_the_flow_it_names(acting: Acting) -> None:
    parameters = {"out": str(acting.out), "count": 7}
    auto = await acting.automation(
        [{"type": "run-deployment", "deployment_id": "record/default", "parameters": parameters}]
    )
    await acting.fire(firing_of(auto, await acting.event()))
    assert await acting.recorded() == {"value": None, "count": 7}


async def test_a_run_of_this_automation_does_not_trigger_it_again(acting: Acting) -> None:
    """Loop protection at fire time: a non-final state of a run this automation started."""
    auto = await acting.automation([acting.record_action()])
    creator = {
        "prefect.resource.id": f"evtui.automation.{auto.id}",
        "prefect.resource.role": "creator",
    }
    run = {"prefect.resource.id": "evtui.flow-run.0190c0de-0000-7000-8000-000000000001"}

    looping = await acting.event("evtui.flow-run.Running", resource=run, related=[creator])
    await acting.fire(firing_of(auto, looping))
    [failed] = await acting.events("evtui.action.failed")
    assert failed.payload["reason"].startswith("loop protection: evtui.flow-run.Running")
    assert not acting.out.exists()

    finished = await acting.event("evtui.flow-run.Completed", resource=run, related=[creator])
    await acting.fire(firing_of(auto, finished))
    assert await acting.recorded() == {"value": None, "count": 0}
