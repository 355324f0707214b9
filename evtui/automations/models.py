"""Automations as data: Prefect 3's JSON, field for field (reference §2.1-2.3, 2.7, 3.1).

An automation exported from Prefect (`GET /api/automations/{id}`, `prefect automation inspect
--json`) loads unchanged: triggers without `type` are told apart with Prefect's discriminator,
`within` is seconds (or an ISO 8601 duration), a Proactive `within` of 0 becomes 10 s and one
under 10 s is refused. Where evtui cannot do what Prefect would, validation says so, naming the
field and what to write instead, rather than loading something that silently behaves
differently.

Deliberate differences, each to turn a silent surprise into an error or to spare boilerplate:
- `posture` defaults to Reactive, as in Prefect's client (its server requires the key); a
  composite's `within` defaults to null (no limit), also as in the client;
- triggers and actions refuse unknown keys (a typo such as `treshold` is named, not ignored),
  `Automation` itself ignores them like Prefect's, so exports from newer versions still load;
- `threshold` must be at least 1 and composites must have at least one child;
- event-name patterns in `expect`/`after` cannot start with `!`: Prefect's pre-filter treats
  the `!` literally, so such a pattern never matches there;
- `run-deployment` runs an evtui flow: evtui has no deployments, so the flow is named by an
  extra `flow` field or by a `deployment_id` of the form `<flow>/<deployment>` (Prefect's full
  deployment name); a bare deployment UUID, `source: inferred` and non-empty `job_variables`
  are refused with that advice;
- Prefect actions evtui cannot do (notifications, work pools, deployment pauses, flow-run
  state changes other than cancel) are refused at `actions.N.type`, listing what evtui does.

Validation errors carry clean paths (`trigger.triggers.1.within`, `actions.0.flow`). Triggers
live in `trigger_models`, actions in `action_models`; everything is importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evtui.automations.action_models import (
    PREFECT_ONLY_ACTIONS,
    SUPPORTED_ACTIONS,
    Action,
    ActionTypes,
    CallWebhook,
    CancelFlowRun,
    DoNothing,
    EmitEvent,
    PauseAutomation,
    ResumeAutomation,
    RunDeployment,
    RunFlow,
)
from evtui.automations.trigger_models import (
    PROACTIVE_MINIMUM_WITHIN,
    CompoundTrigger,
    EventTrigger,
    ResourceSpecification,
    Seconds,
    SequenceTrigger,
    Trigger,
    TriggerTypes,
    error_at,
    trigger_discriminator,
)
from evtui.events import UtcDatetime

__all__ = [
    "PREFECT_ONLY_ACTIONS",
    "PROACTIVE_MINIMUM_WITHIN",
    "SUPPORTED_ACTIONS",
    "Action",
    "ActionTypes",
    "Automation",
    "AutomationCreate",
    "CallWebhook",
    "CancelFlowRun",
    "CompoundTrigger",
    "DoNothing",
    "EmitEvent",
    "EventTrigger",
    "PauseAutomation",
    "ResourceSpecification",
    "ResumeAutomation",
    "RunDeployment",
    "RunFlow",
    "Seconds",
    "SequenceTrigger",
    "Trigger",
    "TriggerTypes",
    "trigger_discriminator",
]

_FLOW_RUN_KINDS = ("prefect.flow-run", "evtui.flow-run")
_LOOPING_STATES = ("Scheduled", "Pending", "Running", "*")
"""Every run passes through these states, so a trigger on them that starts a run loops."""


class _AutomationCore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    """Not unique (as in Prefect); automations as code apply by name."""
    description: str = ""
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    trigger: TriggerTypes
    actions: list[ActionTypes]
    """Run on every firing."""
    actions_on_trigger: list[ActionTypes] = Field(default_factory=list)
    actions_on_resolve: list[ActionTypes] = Field(default_factory=list)
    owner_resource: str | None = None
    """Prefect's client sends it (deployment-owned automations); kept, not acted on."""

    @model_validator(mode="after")
    def _prevent_run_loops(self) -> _AutomationCore:
        """Prefect's create-time loop check (§2.11), for evtui's flow-run events too.

        An enabled Reactive trigger on runs being scheduled, pending or running, whose action
        starts a run, loops forever unless `match` or `match_related` narrows which runs count.
        """
        trigger = self.trigger
        if not self.enabled or not isinstance(trigger, EventTrigger):
            return self
        looping = {f"{kind}.{state}" for kind in _FLOW_RUN_KINDS for state in _LOOPING_STATES}
        if trigger.posture != "Reactive" or not looping.intersection(trigger.expect):
            return self
        for index, action in enumerate(self.actions):
            if isinstance(action, RunFlow | RunDeployment) and self._every_run_counts(trigger):
                raise error_at(
                    ("actions", index),
                    action.type,
                    "run_loop",
                    "running a flow on every flow run being scheduled, pending or running "
                    "starts runs forever; narrow the trigger's match or match_related to "
                    "exclude the runs this action starts",
                )
        return self

    @staticmethod
    def _every_run_counts(trigger: EventTrigger) -> bool:
        def everything(specification: ResourceSpecification) -> bool:
            return any(specification.matches_every_resource_of_kind(k) for k in _FLOW_RUN_KINDS)

        return everything(trigger.match) and any(
            everything(related) for related in trigger.related_specifications
        )


class AutomationCreate(_AutomationCore):
    """What a client sends to create or replace an automation (unknown keys refused)."""

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> AutomationCreate:
        """Load an automation file or a Prefect export: server-assigned keys are dropped."""
        return cls.model_validate({k: v for k, v in document.items() if k not in _SERVER_ASSIGNED})


_SERVER_ASSIGNED = frozenset({"id", "created", "updated"})


class Automation(_AutomationCore):
    """A stored automation. Unknown keys are ignored, as Prefect's server model does."""

    model_config = ConfigDict(extra="ignore")

    id: UUID
    created: UtcDatetime
    updated: UtcDatetime

    @classmethod
    def build(
        cls, definition: AutomationCreate, id: UUID, created: datetime, updated: datetime
    ) -> Automation:
        return cls.model_validate(
            {**dict(definition), "id": id, "created": created, "updated": updated}
        )

    def definition(self) -> AutomationCreate:
        """The automation without its server-assigned fields."""
        fields = {name: getattr(self, name) for name in AutomationCreate.model_fields}
        return AutomationCreate.model_validate(fields)

    def trigger_by_id(self, trigger_id: UUID) -> Trigger | None:
        return next((t for t in self.trigger.all_triggers() if t.id == trigger_id), None)
