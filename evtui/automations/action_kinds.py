"""What each action type does (reference §3.1), given one firing.

Every action either returns an `ActionDone` (details for its `executed` event, and the resources
it acted on) or raises `ActionFailed` with a reason a user can act on; the runner turns that into
`evtui.action.failed`. Templates are rendered here, at fire time, with the context of the
firing; a render error fails the action with the template's message and line.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from evtui.automations import templating
from evtui.automations.action_events import (
    TARGET_ROLE,
    automation_related,
    automation_resource_id,
    triggering_related,
)
from evtui.automations.loop_guard import FLOW_RUN_EVENT_PREFIXES, run_flow_loop
from evtui.automations.webhook_call import call_webhook
from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event, ReceivedEvent
from evtui.flows.errors import RunAlreadyFinished, RunNotFound, UnknownFlow
from evtui.flows.records import RunCause
from evtui.flows.run_events import flow_run_resource_id

if TYPE_CHECKING:
    from evtui.automations.actions import ActionRunner
    from evtui.automations.firing import Firing

AUTOMATION_PREFIXES = ("evtui.automation.", "prefect.automation.")


class ActionFailed(Exception):
    """An expected failure: the action could not do its work, for `reason`."""

    def __init__(self, reason: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details or {}


@dataclass
class ActionDone:
    details: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ActionCall:
    """One action of one firing, with what it needs to run.

    `event` is what templates see as `event`: the triggering event for `actions`, the firing's
    own announcement for `actions_on_trigger`/`actions_on_resolve` (reference §3.3).
    """

    runner: ActionRunner
    firing: Firing
    announced: ReceivedEvent
    index: int
    action: Any
    event: ReceivedEvent | None

    @property
    def type(self) -> str:
        return str(self.action.type)

    def render(self, value: Any, name: str) -> Any:
        """`value` with its templates rendered; a render error fails the action."""
        context = templating.context_for(self.firing.automation, self.firing, self.event)
        try:
            return templating.render(value, context)
        except templating.TemplateError as error:
            raise ActionFailed(
                f"template error in {name}: {error}",
                {"template_error": str(error), "template_source": value},
            ) from None


async def perform(call: ActionCall) -> ActionDone:
    """Do the action; raises `ActionFailed` when it cannot."""
    handler = HANDLERS.get(call.type)
    if handler is None:
        raise ActionFailed(f"evtui cannot run actions of type {call.type!r}")
    return await handler(call)


async def do_nothing(call: ActionCall) -> ActionDone:
    return ActionDone()


async def run_flow(call: ActionCall) -> ActionDone:
    """Submit a run of the named flow with the rendered parameters.

    Also Prefect's `run-deployment`, mapped onto a flow by the model: `parameters: null` means
    the flow's defaults, and `schedule_after` waits before submitting. That wait holds this
    automation's queue (its later firings act after it), never the evaluator or another
    automation.
    """
    action = call.action
    flow = action.flow_name
    loop = run_flow_loop(call.firing, flow)
    if loop is not None:
        raise ActionFailed(loop)
    parameters = call.render(action.parameters or {}, "parameters")
    if not isinstance(parameters, dict):
        raise ActionFailed(f"parameters rendered to {type(parameters).__name__}, not an object")
    automation = call.firing.automation
    event = call.firing.triggering_event
    cause = RunCause(
        kind="automation",
        event_id=str(event.id) if event is not None else None,
        automation_id=str(automation.id),
    )
    delay = getattr(action, "schedule_after", None)
    if delay:
        await asyncio.sleep(delay.total_seconds())
    try:
        run = await call.runner.engine.runner.submit(flow, parameters, cause)
    except UnknownFlow as error:
        raise ActionFailed(str(error), {"flow": flow}) from None
    target = {
        RESOURCE_ID: flow_run_resource_id(run.id),
        RESOURCE_ROLE: TARGET_ROLE,
        RESOURCE_NAME: run.name,
    }
    return ActionDone({"flow": run.flow, "flow_run_id": run.id, "parameters": parameters}, [target])


async def emit_event(call: ActionCall) -> ActionDone:
    """Emit the rendered event, related to the automation and the triggering event."""
    rendered = call.render(call.action.event, "event")
    if not isinstance(rendered, dict):
        raise ActionFailed(f"event rendered to {type(rendered).__name__}, not an object")
    firing = call.firing
    cause = firing.triggering_event or call.announced
    try:
        built = Event.model_validate(rendered)
    except ValidationError as error:
        problems = "; ".join(
            f"event.{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
            for item in error.errors(include_url=False, include_input=False)
        )
        raise ActionFailed(f"the rendered event is not valid: {problems}") from None
    related = [
        *built.related,
        automation_related(firing.automation),
        *triggering_related(cause),
    ]
    emitted = built.model_copy(update={"related": related, "follows": built.follows or cause.id})
    await call.runner.engine.ingest([emitted])
    target = {RESOURCE_ID: f"prefect.event.{emitted.id}", RESOURCE_ROLE: TARGET_ROLE}
    return ActionDone({"emitted_event": emitted.model_dump(mode="json")}, [target])


def inferred_automation(call: ActionCall) -> uuid.UUID:
    """The automation an `inferred` pause or resume acts on: as in Prefect, the first
    automation among the event's resource and related resources (in `actions_on_trigger`
    that is this automation, whose announcement is the event); else this automation."""
    event = call.event
    resources = [event.resource, *event.related] if event is not None else []
    for labels in resources:
        for prefix in AUTOMATION_PREFIXES:
            if labels[RESOURCE_ID].startswith(prefix):
                with contextlib.suppress(ValueError):
                    return uuid.UUID(labels[RESOURCE_ID].removeprefix(prefix))
    return call.firing.automation.id


async def _set_enabled(call: ActionCall, enabled: bool) -> ActionDone:
    action = call.action
    automation_id = action.automation_id or inferred_automation(call)
    store = call.runner.engine.automations
    if store.get(automation_id) is None:
        raise ActionFailed(f"no automation {automation_id}")
    changed = await store.set_enabled(automation_id, enabled)
    target = {
        RESOURCE_ID: automation_resource_id(changed.id),
        RESOURCE_ROLE: TARGET_ROLE,
        RESOURCE_NAME: changed.name,
    }
    return ActionDone({"automation_id": str(changed.id), "enabled": enabled}, [target])


async def pause_automation(call: ActionCall) -> ActionDone:
    return await _set_enabled(call, False)


async def resume_automation(call: ActionCall) -> ActionDone:
    return await _set_enabled(call, True)


def inferred_flow_run(firing: Firing, event: ReceivedEvent | None) -> str | None:
    """The flow run an action without an explicit id acts on (reference §3.1): the firing's
    `prefect.resource.id` label if it names a run (works without an event), else the first
    run among the event's resource and related resources."""
    candidates = [firing.triggering_labels.get(RESOURCE_ID, "")]
    if event is not None:
        candidates += [event.resource[RESOURCE_ID], *(r[RESOURCE_ID] for r in event.related)]
    for resource_id in candidates:
        for prefix in FLOW_RUN_EVENT_PREFIXES:
            if resource_id.startswith(prefix):
                return resource_id.removeprefix(prefix)
    return None


async def cancel_flow_run(call: ActionCall) -> ActionDone:
    """Cancel the rendered `flow_run_id`, or the run inferred from the firing."""
    template = getattr(call.action, "flow_run_id", None)
    run_id = call.render(template, "flow_run_id") if template else None
    if not run_id:
        run_id = inferred_flow_run(call.firing, call.event)
    if not run_id:
        raise ActionFailed("no flow run to cancel: none given and none in the triggering event")
    try:
        uuid.UUID(str(run_id))
    except ValueError:
        raise ActionFailed(f"flow_run_id {run_id!r} is not a flow run id") from None
    try:
        run = await call.runner.engine.runner.cancel(str(run_id))
    except (RunNotFound, RunAlreadyFinished) as error:
        raise ActionFailed(str(error)) from None
    target = {
        RESOURCE_ID: flow_run_resource_id(run.id),
        RESOURCE_ROLE: TARGET_ROLE,
        RESOURCE_NAME: run.name,
    }
    return ActionDone({"flow_run_id": run.id, "state": run.state}, [target])


async def webhook(call: ActionCall) -> ActionDone:
    action = call.action
    rendered = {
        "url": call.render(action.url, "url"),
        "headers": call.render(dict(action.headers or {}), "headers"),
        "body": call.render(action.body, "body"),
    }
    outcome = await call_webhook(
        call.runner.http,
        action.method,
        rendered["url"],
        rendered["headers"],
        rendered["body"],
        action.timeout,
    )
    if outcome.failure is not None:
        raise ActionFailed(outcome.failure, outcome.details)
    return ActionDone(outcome.details)


HANDLERS = {
    "do-nothing": do_nothing,
    "run-flow": run_flow,
    "run-deployment": run_flow,
    "emit-event": emit_event,
    "pause-automation": pause_automation,
    "resume-automation": resume_automation,
    "cancel-flow-run": cancel_flow_run,
    "call-webhook": webhook,
}
