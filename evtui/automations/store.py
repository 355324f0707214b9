"""Where automations live: the `automations` table, mirrored in memory.

Every part of evtui that reads automations (the evaluator on each event, the API, the TUI)
reads the in-memory copy, which is filled at start by `load` and moved only after a change has
committed (`store.transact`), so what a reader sees is always what is on disk.

Each change is announced twice, as Prefect does it and for evtui's own parts:
- as an event, `evtui.automation.created|updated|deleted` on resource `evtui.automation.<id>`
  with the automation's JSON as payload (Prefect's `prefect.automation.*` events), so the
  feed, lineage and other automations see it;
- to the listeners (`add_listener`), in process, so the evaluator reloads at once.

Saving validates beyond the model: every Jinja template in the actions must compile, so a
template error is refused on save with its field path, line and message, not at fire time.
Trigger ids are regenerated on every create and update, as Prefect's server does.
"""

from __future__ import annotations

import inspect
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID, uuid4

from pydantic import ValidationError

from evtui.automations import templating
from evtui.automations.export import SERVER_FIELDS
from evtui.automations.models import (
    Automation,
    AutomationCreate,
    PauseAutomation,
    ResumeAutomation,
    RunDeployment,
    RunFlow,
)
from evtui.events import RESOURCE_ID, RESOURCE_NAME, Event, FieldError, field_errors, now_utc
from evtui.store.rows import from_micros, to_micros

if TYPE_CHECKING:
    from evtui.engine import Engine

log = logging.getLogger(__name__)

ChangeKind = Literal["created", "updated", "deleted"]
API_SOURCE = "api"
"""`source` of automations made through the API or the CLI (else a file's path)."""
ACTION_LISTS = ("actions", "actions_on_trigger", "actions_on_resolve")


@dataclass(frozen=True)
class AutomationChange:
    """What a listener hears: the automation as it is now (as it was, when deleted)."""

    kind: ChangeKind
    automation: Automation


Listener = Callable[[AutomationChange], "Awaitable[None] | None"]


@dataclass(frozen=True)
class Origin:
    """Where an automation's definition comes from: `api`, or a file and what it last said."""

    source: str = API_SOURCE
    digest: str | None = None

    @property
    def is_file(self) -> bool:
        return self.source != API_SOURCE


class InvalidAutomation(ValueError):
    """The automation cannot be saved; `errors` name each field (relative to the automation)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class AutomationNotFound(LookupError):
    def __init__(self, automation_id: UUID) -> None:
        super().__init__(f"no automation {automation_id}")
        self.automation_id = automation_id


def automation_resource_id(automation_id: UUID | str) -> str:
    return f"evtui.automation.{automation_id}"


def template_errors(spec: AutomationCreate) -> list[FieldError]:
    """Every template in the actions that would fail to compile, with its path and line."""
    errors = []
    for field in ACTION_LISTS:
        for index, action in enumerate(getattr(spec, field)):
            for problem in templating.check(action.model_dump(mode="json")):
                line = f"line {problem.line}: " if problem.line is not None else ""
                loc: list[str | int] = [field, index]
                if problem.path:
                    loc.append(problem.path)  # dotted; label keys have dots of their own
                errors.append(FieldError(loc=loc, msg=f"{line}{problem.message}"))
    return errors


def build(spec: AutomationCreate, automation_id: UUID, created: datetime) -> Automation:
    """The automation `spec` describes, with new trigger ids; raises `InvalidAutomation`.

    Beyond the model (which refuses run loops, reference §2.11), every template in the actions
    must compile. The model leaves that to saving so a stored automation always loads.
    """
    errors = template_errors(spec)
    if errors:
        raise InvalidAutomation(errors)
    definition = spec.model_copy(deep=True)
    definition.trigger.reset_ids()
    try:
        return Automation.build(definition, automation_id, created, now_utc())
    except ValidationError as error:
        raise InvalidAutomation(field_errors(error)) from None


def related_resource_ids(automation: Automation) -> set[str]:
    """The resources the automation acts on or belongs to (Prefect's related-to relation):
    its owner, the flows its actions run, the automations they pause or resume."""
    related = {automation.owner_resource} if automation.owner_resource else set()
    for field in ACTION_LISTS:
        for action in getattr(automation, field):
            if isinstance(action, RunFlow | RunDeployment):
                related.add(f"evtui.flow.{action.flow_name}")
            elif isinstance(action, PauseAutomation | ResumeAutomation) and action.automation_id:
                related.add(automation_resource_id(action.automation_id))
    return related


class AutomationStore:
    """The automations, on disk and in memory; `load` once the engine's store is open."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._automations: dict[UUID, Automation] = {}
        self._origins: dict[UUID, Origin] = {}
        self._listeners: list[Listener] = []

    # -- reading --------------------------------------------------------------------------

    async def load(self) -> None:
        automations: dict[UUID, Automation] = {}
        origins: dict[UUID, Origin] = {}
        async with self._engine.store.reader.execute(
            "SELECT id, definition, source, source_digest, created, updated FROM automations"
        ) as cursor:
            rows = await cursor.fetchall()
        for automation_id, definition, source, digest, created, updated in rows:
            try:
                automation = Automation.model_validate(
                    {
                        **json.loads(definition),
                        "id": automation_id,
                        "created": from_micros(created),
                        "updated": from_micros(updated),
                    }
                )
            except (ValidationError, ValueError) as error:
                log.error(
                    "automation %s in the database is not valid; ignored: %s", automation_id, error
                )
                continue
            automations[automation.id] = automation
            origins[automation.id] = Origin(source, digest)
        self._automations = automations
        self._origins = origins

    def all(self) -> list[Automation]:
        """Every automation, by name (then oldest first)."""
        return sorted(self._automations.values(), key=lambda a: (a.name, a.created))

    def get(self, automation_id: UUID) -> Automation | None:
        return self._automations.get(automation_id)

    def by_name(self, name: str) -> list[Automation]:
        """Automations called `name`, oldest first (names are not unique, as in Prefect)."""
        return [automation for automation in self.all() if automation.name == name]

    def origin(self, automation_id: UUID) -> Origin:
        return self._origins.get(automation_id, Origin())

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(change)` after each change has committed (sync or async)."""
        self._listeners.append(listener)

    # -- writing --------------------------------------------------------------------------

    async def create(self, spec: AutomationCreate, origin: Origin | None = None) -> Automation:
        """Save a new automation (fresh id and trigger ids); raises `InvalidAutomation`."""
        automation = build(spec, uuid4(), now_utc())
        origin = origin or Origin()
        await self._engine.store.transact(lambda conn: _insert(conn, automation, origin))
        return await self._changed("created", automation, origin)

    async def update(
        self, automation_id: UUID, spec: AutomationCreate, origin: Origin | None = None
    ) -> Automation:
        """Replace an automation's definition (new trigger ids); keeps its origin unless given."""
        current = self._require(automation_id)
        automation = build(spec, automation_id, current.created)
        origin = origin or self.origin(automation_id)
        return await self._replace(automation, origin)

    async def set_enabled(self, automation_id: UUID, enabled: bool) -> Automation:
        """Pause or resume; the whole automation is validated again, as Prefect's PATCH does.

        Trigger ids are kept, so a pause does not lose the trigger's identity.
        """
        current = self._require(automation_id)
        try:
            AutomationCreate.model_validate(
                {**current.definition().model_dump(), "enabled": enabled}
            )
        except ValidationError as error:
            raise InvalidAutomation(field_errors(error)) from None
        automation = current.model_copy(update={"enabled": enabled, "updated": now_utc()})
        return await self._replace(automation, self.origin(automation_id))

    async def delete(self, automation_id: UUID) -> Automation:
        """Remove an automation; returns it as it was."""
        automation = self._require(automation_id)

        def remove(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM automations WHERE id = ?", (str(automation_id),)
            ).rowcount

        if not await self._engine.store.transact(remove):
            raise AutomationNotFound(automation_id)
        return await self._changed("deleted", automation, self.origin(automation_id))

    async def _replace(self, automation: Automation, origin: Origin) -> Automation:
        def write(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE automations SET name = ?, definition = ?, source = ?,"
                " source_digest = ?, updated = ? WHERE id = ?",
                (
                    automation.name,
                    _definition(automation),
                    origin.source,
                    origin.digest,
                    to_micros(automation.updated),
                    str(automation.id),
                ),
            ).rowcount

        if not await self._engine.store.transact(write):
            raise AutomationNotFound(automation.id)
        return await self._changed("updated", automation, origin)

    def _require(self, automation_id: UUID) -> Automation:
        automation = self._automations.get(automation_id)
        if automation is None:
            raise AutomationNotFound(automation_id)
        return automation

    async def _changed(
        self, kind: ChangeKind, automation: Automation, origin: Origin
    ) -> Automation:
        """Mirror a committed change, tell the listeners, then emit the change's event."""
        if kind == "deleted":
            self._automations.pop(automation.id, None)
            self._origins.pop(automation.id, None)
        else:
            self._automations[automation.id] = automation
            self._origins[automation.id] = origin
        change = AutomationChange(kind, automation)
        for listener in self._listeners:
            try:
                outcome = listener(change)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                log.exception("automation listener %r failed on %s", listener, kind)
        event = Event(
            event=f"evtui.automation.{kind}",
            resource={
                RESOURCE_ID: automation_resource_id(automation.id),
                RESOURCE_NAME: automation.name,
            },
            payload=automation.model_dump(mode="json"),
        )
        try:
            await self._engine.ingest([event])
        except Exception as error:
            log.error(
                "could not store the event for automation %s %s: %s", automation.id, kind, error
            )
        return automation


def _definition(automation: Automation) -> str:
    return automation.model_dump_json(exclude=set(SERVER_FIELDS))


def _insert(conn: sqlite3.Connection, automation: Automation, origin: Origin) -> None:
    conn.execute(
        "INSERT INTO automations (id, name, definition, source, source_digest, created, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            str(automation.id),
            automation.name,
            _definition(automation),
            origin.source,
            origin.digest,
            to_micros(automation.created),
            to_micros(automation.updated),
        ),
    )
