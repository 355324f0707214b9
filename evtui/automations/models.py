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

Validation errors carry clean paths (`trigger.triggers.1.within`, `actions.0.flow`): unions are
resolved by validators rather than pydantic's tagged unions, whose tags would appear in paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union
from uuid import UUID, uuid4

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from evtui.automations.matching import name_matches
from evtui.automations.payload import check_payload_conditions
from evtui.events import RESOURCE_ID, UtcDatetime
from evtui.labels import labels_match

PROACTIVE_MINIMUM_WITHIN = timedelta(seconds=10)
"""Prefect's floor for Proactive windows; a Proactive `within` of 0 means this."""

RELATED_PREFIX = "related:"
"""`for_each` labels of the form `related:<role>:<label>` read a related resource's label."""


def _seconds(value: timedelta) -> int | float:
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


Seconds = Annotated[timedelta, PlainSerializer(_seconds, return_type=int | float, when_used="json")]
"""A duration that JSON gives as a number of seconds, as Prefect's API does."""


def _error_at(loc: tuple[str | int, ...], value: Any, kind: str, message: str) -> ValidationError:
    """A validation error at a path inside the value being validated.

    Raised from a before-validator, pydantic prefixes the field's own path, so the user sees
    e.g. `actions.2.type` rather than the whole action.
    """
    error = PydanticCustomError(kind, message)
    return ValidationError.from_exception_data(
        "Automation", [{"type": error, "loc": loc, "input": value}]
    )


# ----------------------------------------------------------------------------- resources


class ResourceSpecification(RootModel[dict[str, str | list[str]]]):
    """Label -> glob or list of globs (reference §2.4): labels AND'd, a list's globs OR'd.

    Behaves as a read-only mapping so `evtui.labels.labels_match` takes it directly.
    """

    @field_validator("root", mode="before")
    @classmethod
    def _patterns(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected an object of label -> pattern(s), not {value!r}")
        for label, patterns in value.items():
            is_list = isinstance(patterns, list) and all(isinstance(p, str) for p in patterns)
            if not (isinstance(patterns, str) or is_list):
                raise ValueError(
                    f"label {label!r}: expected a pattern or a list of patterns, not {patterns!r}"
                )
        return value

    def __getitem__(self, label: str) -> str | list[str]:
        return self.root[label]

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __contains__(self, label: object) -> bool:
        return label in self.root

    def items(self) -> Iterable[tuple[str, str | list[str]]]:
        return self.root.items()

    def get(self, label: str, default: Any = None) -> Any:
        return self.root.get(label, default)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Does this one resource satisfy every label?"""
        return labels_match(self.root, labels)

    def includes(self, resources: Iterable[Mapping[str, str]]) -> bool:
        """Does any of the resources satisfy it? An empty specification always does."""
        return not self.root or any(self.matches(resource) for resource in resources)

    def matches_every_resource_of_kind(self, prefix: str) -> bool:
        """Empty, or only `prefect.resource.id: <prefix>.*` (the loop check of §2.11)."""
        if not self.root:
            return True
        patterns = self.root.get(RESOURCE_ID)
        if len(self.root) != 1 or patterns is None:
            return False
        return f"{prefix}.*" in ([patterns] if isinstance(patterns, str) else patterns)


Mapping.register(ResourceSpecification)

_RelatedList = TypeAdapter(list[ResourceSpecification])


def _related_specifications(value: Any) -> Any:
    """`match_related` keeps the form it was given: one object, or a list AND'd across items."""
    if isinstance(value, list):
        return _RelatedList.validate_python(value)
    if isinstance(value, ResourceSpecification):
        return value
    return ResourceSpecification.model_validate(value)


MatchRelated = Annotated[
    ResourceSpecification | list[ResourceSpecification], BeforeValidator(_related_specifications)
]

# ----------------------------------------------------------------------------- triggers


class _Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID = Field(default_factory=uuid4)
    """Regenerated by the store on create and update, as Prefect's server does."""

    def all_triggers(self) -> list[Trigger]:
        """This trigger and every trigger below it, depth first, parents before children."""
        return [self]  # type: ignore[list-item]

    def event_triggers(self) -> list[EventTrigger]:
        return [t for t in self.all_triggers() if isinstance(t, EventTrigger)]

    def reset_ids(self) -> None:
        for trigger in self.all_triggers():
            trigger.id = uuid4()


def _name_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        if not pattern:
            raise ValueError("an event-name pattern cannot be empty")
        if pattern.startswith("!"):
            raise ValueError(
                f"{pattern!r}: event-name patterns cannot be negated with '!' "
                "(Prefect never matches such a pattern); list the names to expect instead"
            )
    return patterns


NamePatterns = Annotated[list[str], Field(default_factory=list)]


class EventTrigger(_Trigger):
    """Counts events that match, per `for_each` bucket, in windows of `within` (§2.3, §2.6)."""

    type: Literal["event"] = "event"
    match: ResourceSpecification = Field(default_factory=lambda: ResourceSpecification({}))
    """Labels of the event's primary resource."""
    match_related: MatchRelated = Field(default_factory=lambda: ResourceSpecification({}))
    """An object: some related resource has all its labels. A list: each object is satisfied,
    possibly by different related resources."""
    after: NamePatterns
    """Event-name globs that arm the trigger; empty: always armed."""
    expect: NamePatterns
    """Event-name globs that count toward `threshold`; empty: every event counts."""
    for_each: NamePatterns
    """Labels whose values split the counting into buckets (`related:<role>:<label>` allowed)."""
    posture: Literal["Reactive", "Proactive"] = "Reactive"
    threshold: int = Field(default=1, ge=1)
    within: Seconds = Field(default=timedelta(0), ge=timedelta(0), validate_default=True)
    match_payload: dict[str, Any] = Field(default_factory=dict)
    """evtui extension: dotted payload path -> condition (see `evtui.automations.payload`)."""

    _check_names = field_validator("after", "expect")(_name_patterns)
    _check_payload = field_validator("match_payload")(check_payload_conditions)

    @field_validator("for_each")
    @classmethod
    def _bucket_labels(cls, labels: list[str]) -> list[str]:
        for label in labels:
            if label.startswith(RELATED_PREFIX):
                role, _, related_label = label.removeprefix(RELATED_PREFIX).partition(":")
                if not role or not related_label:
                    raise ValueError(f"{label!r}: write related labels as related:<role>:<label>")
            elif not label:
                raise ValueError("a for_each label cannot be empty")
        return labels

    @field_validator("posture", mode="before")
    @classmethod
    def _not_metric(cls, posture: Any) -> Any:
        if posture == "Metric":
            raise ValueError(
                "Metric is the posture of Prefect Cloud's metric triggers; an event trigger is "
                "Reactive or Proactive"
            )
        return posture

    @field_validator("within", mode="before")
    @classmethod
    def _not_null(cls, within: Any) -> Any:
        if within is None:
            raise ValueError("must be a number of seconds (0 or more), not null")
        return within

    @field_validator("within")
    @classmethod
    def _proactive_minimum(cls, within: timedelta, info: ValidationInfo) -> timedelta:
        if info.data.get("posture") != "Proactive":
            return within
        if within == timedelta(0):
            return PROACTIVE_MINIMUM_WITHIN
        if within < PROACTIVE_MINIMUM_WITHIN:
            raise ValueError(
                "a Proactive trigger's window must be at least 10 seconds (0 means 10)"
            )
        return within

    @property
    def immediate(self) -> bool:
        """Reactive with no window: every matching event counts, whatever the bucket bounds."""
        return self.posture == "Reactive" and self.within == timedelta(0)

    def expects(self, event_name: str) -> bool:
        """Does this event count toward the threshold? An empty `expect` counts every event."""
        return not self.expect or name_matches(self.expect, event_name)

    def starts_after(self, event_name: str) -> bool:
        """Does this event arm the trigger? Never, when there is no `after`."""
        return bool(self.after) and name_matches(self.after, event_name)

    def meets_threshold(self, count: int) -> bool:
        if self.posture == "Reactive":
            return count >= self.threshold
        return count < self.threshold

    @property
    def related_specifications(self) -> list[ResourceSpecification]:
        """`match_related` as a list (an object is a list of one)."""
        related = self.match_related
        return related if isinstance(related, list) else [related]


class _CompositeTrigger(_Trigger):
    triggers: list[TriggerTypes] = Field(min_length=1)
    within: Seconds | None = Field(default=None, ge=timedelta(0))
    """How close together the children must fire; null: no limit."""

    def all_triggers(self) -> list[Trigger]:
        return [self, *(t for child in self.triggers for t in child.all_triggers())]  # type: ignore[list-item]

    @property
    def num_expected_firings(self) -> int:
        return len(self.triggers)


class CompoundTrigger(_CompositeTrigger):
    """Fires when `require` of its children have fired within `within` (§2.7)."""

    type: Literal["compound"] = "compound"
    require: int | Literal["any", "all"]

    @model_validator(mode="after")
    def _require_in_range(self) -> CompoundTrigger:
        if isinstance(self.require, int) and not 1 <= self.require <= len(self.triggers):
            raise _error_at(
                ("require",),
                self.require,
                "require_range",
                f"must be 'any', 'all' or a number from 1 to {len(self.triggers)} "
                "(the number of triggers)",
            )
        return self

    @property
    def num_expected_firings(self) -> int:
        if self.require == "any":
            return 1
        if self.require == "all":
            return len(self.triggers)
        return self.require


class SequenceTrigger(_CompositeTrigger):
    """Fires when all its children have fired, in the declared order, within `within`."""

    type: Literal["sequence"] = "sequence"

    @property
    def expected_firing_order(self) -> list[UUID]:
        return [trigger.id for trigger in self.triggers]


def trigger_discriminator(value: Any) -> str:
    """Prefect's: an explicit `type`, else `triggers` + `require` is compound, `triggers` alone
    a sequence, a Metric posture a metric trigger, anything else an event trigger."""
    if not isinstance(value, Mapping):
        return str(getattr(value, "type", "event"))
    if "type" in value:
        return str(value["type"])
    if "triggers" in value:
        return "compound" if "require" in value else "sequence"
    return "metric" if value.get("posture") == "Metric" else "event"


_TRIGGERS: dict[str, type[_Trigger]] = {
    "event": EventTrigger,
    "compound": CompoundTrigger,
    "sequence": SequenceTrigger,
}


def _validate_trigger(value: Any) -> Any:
    if isinstance(value, _Trigger):
        return value
    if not isinstance(value, Mapping):
        raise ValueError("expected a trigger object (type event, compound or sequence)")
    kind = trigger_discriminator(value)
    model = _TRIGGERS.get(kind)
    if model is None:
        reason = (
            "metric triggers are Prefect Cloud only"
            if kind == "metric"
            else f"{kind!r} is not a trigger type"
        )
        raise _error_at(
            ("type",), kind, "trigger_type", f"{reason}; evtui supports event, compound, sequence"
        )
    return model.model_validate(value)


Trigger = Union[EventTrigger, CompoundTrigger, SequenceTrigger]  # noqa: UP007
TriggerTypes = Annotated[Trigger, BeforeValidator(_validate_trigger)]
"""A trigger of any kind, told apart as Prefect does (see `trigger_discriminator`)."""

# ----------------------------------------------------------------------------- actions


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_fields: ClassVar[tuple[str, ...]] = ()
    """Fields whose strings are Jinja templates, rendered when the action runs."""


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
    model.model_fields["type"].default: model
    for model in (
        RunFlow,
        RunDeployment,
        EmitEvent,
        CallWebhook,
        PauseAutomation,
        ResumeAutomation,
        CancelFlowRun,
        DoNothing,
    )
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
        raise _error_at(("type",), kind, "action_type", message)
    return model.model_validate(value)


ActionTypes = Annotated[Action, BeforeValidator(_validate_action)]
"""An action of any supported type, chosen by its `type`."""

# ----------------------------------------------------------------------------- automations

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
                raise _error_at(
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


if TYPE_CHECKING:
    # For type checkers the unions are the plain classes; the validators only pick one.
    TriggerTypes = Trigger  # type: ignore[misc]
    ActionTypes = Action  # type: ignore[misc]

CompoundTrigger.model_rebuild()
SequenceTrigger.model_rebuild()
AutomationCreate.model_rebuild()
Automation.model_rebuild()
