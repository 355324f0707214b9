"""Actions as data: what an automation does when it fires (reference §3.1).

Part of `evtui.automations.models` (import from there). evtui's own `run-flow`, `emit-event`
and `call-webhook` (a request written on the action) sit beside Prefect's `run-deployment`
(mapped onto a flow by name), `pause-automation`, `resume-automation`, `cancel-flow-run` and
`do-nothing`. Prefect actions evtui cannot do are refused at `actions.N.type` with the reason.
Fields listed in an action's `template_fields` are Jinja templates (`evtui.automations.templating`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union, get_args
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from evtui.automations.trigger_models import Seconds, error_at

# ----------------------------------------------------------------------------- actions


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str

    template_fields: ClassVar[tuple[str, ...]] = ()
    """Fields whose strings are Jinja templates, rendered when the action runs (and checked
    with `templating.check` when the automation is saved)."""


class DoNothing(_Action):
    """Records that the automation fired and does nothing else."""

    type: Literal["do-nothing"] = "do-nothing"


class RunFlow(_Action):
    """Runs an evtui flow by name; parameter values are templates (§3.3, §5 of the issue)."""

    type: Literal["run-flow"] = "run-flow"
    flow: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)

    template_fields: ClassVar[tuple[str, ...]] = ("parameters",)

    @property
    def flow_name(self) -> str:
        return self.flow


class RunDeployment(_Action):
    """Prefect's `run-deployment`, mapped onto the evtui flow it names (see module docstring).

    `parameters: null` runs the flow with its defaults, as Prefect does with a deployment's.
    `schedule_after` delays the run, as in Prefect's debounce pattern.
    """

    type: Literal["run-deployment"] = "run-deployment"
    source: Literal["selected", "inferred"] = "selected"
    deployment_id: UUID | str | None = None
    parameters: dict[str, Any] | None = None
    job_variables: dict[str, Any] | None = None
    schedule_after: Seconds = Field(default=timedelta(0), ge=timedelta(0))
    flow: str | None = Field(default=None, min_length=1, validate_default=True)
    """evtui extension: the flow to run; takes precedence over a `deployment_id` name."""

    template_fields: ClassVar[tuple[str, ...]] = ("parameters",)

    @field_validator("source")
    @classmethod
    def _selected_only(cls, source: str) -> str:
        if source == "inferred":
            raise ValueError(
                "evtui has no deployments to infer from the event; use source 'selected' and "
                "name the flow with `flow: <flow name>`"
            )
        return source

    @field_validator("job_variables")
    @classmethod
    def _no_infrastructure(cls, job_variables: dict[str, Any] | None) -> dict[str, Any] | None:
        if job_variables:
            raise ValueError(
                "evtui runs flows in local subprocesses and has no work pools; remove "
                "job_variables (or leave it null or empty)"
            )
        return job_variables

    @field_validator("flow")
    @classmethod
    def _names_a_flow(cls, flow: str | None, info: ValidationInfo) -> str | None:
        if flow is not None or info.data.get("source") != "selected":
            return flow
        deployment = info.data.get("deployment_id")
        if isinstance(deployment, str) and _deployment_flow(deployment):
            return flow
        shown = f"deployment {deployment} is a Prefect deployment id; " if deployment else ""
        raise ValueError(
            f"{shown}evtui runs flows by name: add `flow: <flow name>` or set deployment_id "
            "to '<flow>/<deployment>'"
        )

    @property
    def flow_name(self) -> str:
        if self.flow:
            return self.flow
        return _deployment_flow(str(self.deployment_id)) or ""


def _deployment_flow(deployment: str) -> str | None:
    """`process_file/default` -> `process_file`; None when it is not such a name."""
    flow, slash, name = deployment.partition("/")
    return flow if slash and flow and name else None


class EmitEvent(_Action):
    """Emits an event; its fields are templates (`event`, `resource`, `related`, `payload`)."""

    type: Literal["emit-event"] = "emit-event"
    event: dict[str, Any]

    template_fields: ClassVar[tuple[str, ...]] = ("event",)

    @field_validator("event")
    @classmethod
    def _event_shape(cls, event: dict[str, Any]) -> dict[str, Any]:
        allowed = {"event", "resource", "related", "payload"}
        unknown = sorted(set(event) - allowed)
        if unknown:
            raise ValueError(
                f"unknown keys {unknown}; an emitted event has event, resource, related and "
                "payload (evtui sets its id, time and follows)"
            )
        missing = [key for key in ("event", "resource") if key not in event]
        if missing:
            raise ValueError(f"missing {' and '.join(missing)}")
        return event


class CallWebhook(_Action):
    """Sends an HTTP request; `url`, `headers` and `body` are templates.

    Prefect names a Webhook block instead; evtui has no blocks, so the request is written on
    the action. A body that is an object or a list is sent as JSON, a string as it is.
    """

    type: Literal["call-webhook"] = "call-webhook"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds to wait for the response."""
    block_document_id: Any = Field(default=None, exclude=True)
    payload: Any = Field(default=None, exclude=True)

    template_fields: ClassVar[tuple[str, ...]] = ("url", "headers", "body")

    @field_validator("block_document_id", mode="before")
    @classmethod
    def _no_blocks(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "evtui has no blocks: write the request on the action instead "
                "(url, and optionally method, headers, body)"
            )

    @field_validator("payload", mode="before")
    @classmethod
    def _body_not_payload(cls, value: Any) -> None:
        if value is not None:
            raise ValueError("evtui calls this field `body`")


class _AutomationAction(_Action):
    source: Literal["selected", "inferred"] = "selected"
    automation_id: UUID | None = Field(default=None, validate_default=True)
    """The automation to act on (selected); inferred: the first `prefect.automation.*` or
    `evtui.automation.*` resource of the triggering event."""

    @field_validator("automation_id")
    @classmethod
    def _id_iff_selected(cls, automation_id: UUID | None, info: ValidationInfo) -> UUID | None:
        selected = info.data.get("source") == "selected"
        if selected and automation_id is None:
            raise ValueError("is required when source is 'selected'")
        if not selected and automation_id is not None:
            raise ValueError("is not allowed when source is 'inferred'")
        return automation_id


class PauseAutomation(_AutomationAction):
    type: Literal["pause-automation"] = "pause-automation"


class ResumeAutomation(_AutomationAction):
    type: Literal["resume-automation"] = "resume-automation"


class CancelFlowRun(_Action):
    """Cancels a flow run: `flow_run_id` (a template), or else, as Prefect does, the run named
    by the firing's `prefect.resource.id` bucket label, or the event's first flow-run resource.
    """

    type: Literal["cancel-flow-run"] = "cancel-flow-run"
    source: Literal["selected", "inferred"] = "inferred"
    flow_run_id: str | None = Field(default=None, min_length=1, validate_default=True)

    template_fields: ClassVar[tuple[str, ...]] = ("flow_run_id",)

    @field_validator("flow_run_id")
    @classmethod
    def _id_iff_selected(cls, flow_run_id: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("source") == "selected" and flow_run_id is None:
            raise ValueError("is required when source is 'selected'")
        return flow_run_id

    @property
    def inferred(self) -> bool:
        return self.flow_run_id is None


Action = Union[  # noqa: UP007
    RunFlow,
    RunDeployment,
    EmitEvent,
    CallWebhook,
    PauseAutomation,
    ResumeAutomation,
    CancelFlowRun,
    DoNothing,
]

_ACTIONS: dict[str, type[_Action]] = {
    model.model_fields["type"].default: model for model in get_args(Action)
}
SUPPORTED_ACTIONS = tuple(_ACTIONS)

PREFECT_ONLY_ACTIONS = {
    "pause-deployment": "evtui has no deployments",
    "resume-deployment": "evtui has no deployments",
    "change-flow-run-state": "evtui runs change state only by running",
    "delete-flow-run": "evtui keeps every run's record",
    "suspend-flow-run": "evtui runs cannot be suspended",
    "resume-flow-run": "evtui runs cannot be suspended",
    "pause-work-pool": "evtui has no work pools",
    "resume-work-pool": "evtui has no work pools",
    "pause-work-queue": "evtui has no work queues",
    "resume-work-queue": "evtui has no work queues",
    "send-notification": "evtui has no notification blocks; use call-webhook",
    "send-email-notification": "evtui sends no email; use call-webhook",
    "declare-incident": "incidents are Prefect Cloud only",
}


def _validate_action(value: Any) -> Any:
    if isinstance(value, _Action):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"expected an action object with a type, not {value!r}")
    kind = value.get("type")
    model = _ACTIONS.get(kind) if isinstance(kind, str) else None
    if model is None:
        supported = ", ".join(SUPPORTED_ACTIONS)
        if kind is None:
            message = f"is required; evtui supports {supported}"
        elif kind in PREFECT_ONLY_ACTIONS:
            reason = PREFECT_ONLY_ACTIONS[str(kind)]
            message = (
                f"{kind!r} is a Prefect action evtui cannot do ({reason}); "
                f"evtui supports {supported}"
            )
        else:
            message = f"{kind!r} is not an action type; evtui supports {supported}"
        raise error_at(("type",), kind, "action_type", message)
    return model.model_validate(value)


if TYPE_CHECKING:
    ActionTypes = Action
else:
    ActionTypes = Annotated[Action, BeforeValidator(_validate_action)]
    """An action of any supported type, chosen by its `type`."""
