"""`POST /api/automations/filter`: Prefect's body (sort, limit, offset, `automations` filter).

Field for field Prefect's `AutomationFilter` (id `any_`, name `any_`, created `before_`, tags
`all_` / `any_` / `is_null_`, each group combined by its `operator`), so `prefect automation ls` and
Prefect's client (`read_automations`, `read_automations_by_name`) get the same answers here.
As in FastAPI, a `null` field means its default: Prefect's client sends `"sort": null`.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from evtui.automations.models import Automation
from evtui.events import UtcDatetime

Operator = Literal["and_", "or_"]


class AutomationSort(StrEnum):
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _combine(operator: Operator, checks: list[bool]) -> bool:
    if not checks:
        return True
    return all(checks) if operator == "and_" else any(checks)


class AutomationFilterId(_Strict):
    any_: list[UUID] | None = Field(None, description="ids, any of which matches")

    def includes(self, automation: Automation) -> bool:
        return self.any_ is None or automation.id in self.any_


class AutomationFilterName(_Strict):
    any_: list[str] | None = Field(None, description="names, any of which matches exactly")

    def includes(self, automation: Automation) -> bool:
        return self.any_ is None or automation.name in self.any_


class AutomationFilterCreated(_Strict):
    before_: UtcDatetime | None = Field(None, description="created at or before this time")

    def includes(self, automation: Automation) -> bool:
        return self.before_ is None or automation.created <= self.before_


class AutomationFilterTags(_Strict):
    operator: Operator = "and_"
    all_: list[str] | None = Field(None, description="has every one of these tags")
    any_: list[str] | None = Field(None, description="has at least one of these tags")
    is_null_: bool | None = Field(None, description="true: has no tags; false: has some")

    def includes(self, automation: Automation) -> bool:
        tags = set(automation.tags)
        checks = []
        if self.all_ is not None:
            checks.append(set(self.all_) <= tags)
        if self.any_ is not None:
            checks.append(bool(set(self.any_) & tags))
        if self.is_null_ is not None:
            checks.append(not tags if self.is_null_ else bool(tags))
        return _combine(self.operator, checks)


class AutomationFilter(_Strict):
    operator: Operator = "and_"
    id: AutomationFilterId | None = None
    name: AutomationFilterName | None = None
    created: AutomationFilterCreated | None = None
    tags: AutomationFilterTags | None = None

    def includes(self, automation: Automation) -> bool:
        groups = (self.id, self.name, self.created, self.tags)
        parts = [part for part in groups if part is not None]
        return _combine(self.operator, [part.includes(automation) for part in parts])


class AutomationQuery(_Strict):
    """The body of `POST /api/automations/filter`; every field optional."""

    sort: AutomationSort | None = Field(None, description="default NAME_ASC")
    limit: int | None = Field(None, ge=0, description="default: all")
    offset: int | None = Field(None, ge=0)
    automations: AutomationFilter | None = None

    def apply(self, automations: Sequence[Automation]) -> list[Automation]:
        chosen = [
            a for a in automations if self.automations is None or self.automations.includes(a)
        ]
        sort = self.sort or AutomationSort.NAME_ASC
        if sort is AutomationSort.NAME_ASC:
            chosen.sort(key=lambda a: (a.name, a.created))
        elif sort is AutomationSort.NAME_DESC:
            chosen.sort(key=lambda a: (a.name, a.created), reverse=True)
        elif sort is AutomationSort.CREATED_DESC:
            chosen.sort(key=lambda a: a.created, reverse=True)
        else:
            chosen.sort(key=lambda a: a.updated, reverse=True)
        start = self.offset or 0
        end = None if self.limit is None else start + self.limit
        return chosen[start:end]
