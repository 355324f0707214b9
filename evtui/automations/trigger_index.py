"""The enabled automations as the evaluator needs them: event triggers found by event name.

Evaluating an event against every trigger of every automation would check each one's labels
and payload. Like Prefect's `find_interested_triggers`, triggers are indexed by the name
patterns of `expect` and `after` (every name when `expect` is empty), so an event only meets
the triggers that could count or arm on it; the answer per event name is cached, since a
system sees few distinct names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from evtui.automations import matching

if TYPE_CHECKING:
    from evtui.automations.models import Automation

CACHE_LIMIT = 4096


def posture(trigger: Any) -> str:
    value = trigger.posture
    return str(getattr(value, "value", value))


def is_event_trigger(trigger: Any) -> bool:
    return trigger.type == "event"


def expected_firings(composite: Any) -> int:
    """How many child firings a composite needs (Prefect's `num_expected_firings`)."""
    if composite.type == "sequence":
        return len(composite.triggers)
    if composite.require == "any":
        return 1
    if composite.require == "all":
        return len(composite.triggers)
    return int(composite.require)


def composite_ready(composite: Any, child_trigger_ids: list[UUID]) -> bool:
    """`child_trigger_ids` in firing order: enough for a compound, in declared order for a
    sequence."""
    if composite.type == "sequence":
        return child_trigger_ids == [child.id for child in composite.triggers]
    return len(child_trigger_ids) >= expected_firings(composite)


@dataclass(frozen=True, eq=False)
class LoadedTrigger:
    """An event trigger of an enabled automation, with what evaluation asks of it often."""

    automation: Automation
    trigger: Any
    position: int
    """Load order: candidates are evaluated in the order automations and triggers were
    given, so that ties (one event firing two children of a sequence) are deterministic."""
    proactive: bool
    within: timedelta
    sorted_for_each: tuple[str, ...]

    @property
    def immediate(self) -> bool:
        return not self.proactive and self.within == timedelta(0)

    anchor: tuple[str, tuple[str, ...]] | None = None
    """A label of `match` and the literal prefixes its patterns start with, when every
    pattern is positive with a prefix: an event whose label value starts with none of them
    cannot match, and that check is far cheaper than matching all the labels."""

    def could_match(self, labels: Mapping[str, str]) -> bool:
        """A necessary condition for `match` (False: it certainly fails)."""
        if self.anchor is None:
            return True
        value = labels.get(self.anchor[0])
        return value is not None and value.startswith(self.anchor[1])

    names: dict[tuple[str, str], bool] = field(default_factory=dict)
    """`expect`/`after` answers per event name, remembered: names repeat endlessly."""

    def starts_after(self, name: str) -> bool:
        answer = self.names.get(("after", name))
        if answer is None:
            after = self.trigger.after
            answer = self.names[("after", name)] = bool(after) and matching.name_matches(
                after, name
            )
        return answer

    def expects(self, name: str) -> bool:
        answer = self.names.get(("expect", name))
        if answer is None:
            expect = self.trigger.expect
            answer = self.names[("expect", name)] = not expect or matching.name_matches(
                expect, name
            )
        return answer


class TriggerIndex:
    """Event triggers of the enabled automations and the composites above them."""

    def __init__(self, automations: Iterable[Automation]) -> None:
        self.automations: dict[UUID, Automation] = {}
        self.triggers: list[LoadedTrigger] = []
        self.parents: dict[UUID, Any] = {}
        """Trigger id -> the composite it belongs to (absent for a root trigger)."""
        self._exact: dict[str, list[LoadedTrigger]] = {}
        self._globbed: list[tuple[str, LoadedTrigger]] = []
        self._every: list[LoadedTrigger] = []
        self._cache: dict[str, list[LoadedTrigger]] = {}
        for automation in automations:
            if automation.enabled:
                self._add(automation)

    def _add(self, automation: Automation) -> None:
        self.automations[automation.id] = automation
        for trigger in automation.trigger.all_triggers():
            for child in getattr(trigger, "triggers", None) or ():
                self.parents[child.id] = trigger
            if not is_event_trigger(trigger):
                continue
            loaded = LoadedTrigger(
                automation=automation,
                trigger=trigger,
                position=len(self.triggers),
                proactive=posture(trigger) == "Proactive",
                within=trigger.within,
                sorted_for_each=tuple(sorted(trigger.for_each)),
                anchor=_anchor(trigger.match),
            )
            self.triggers.append(loaded)
            if not trigger.expect:
                self._every.append(loaded)
                continue
            for pattern in {*trigger.expect, *trigger.after}:
                if "*" in pattern:
                    self._globbed.append((pattern, loaded))
                else:
                    self._exact.setdefault(pattern, []).append(loaded)

    def candidates(self, name: str) -> list[LoadedTrigger]:
        """Triggers whose `expect` or `after` names could match `name`, in load order."""
        found = self._cache.get(name)
        if found is None:
            chosen = {t.position: t for t in self._exact.get(name, ())}
            chosen.update((t.position, t) for t in self._every)
            for pattern, loaded in self._globbed:
                if loaded.position not in chosen and matching.name_matches([pattern], name):
                    chosen[loaded.position] = loaded
            found = [chosen[position] for position in sorted(chosen)]
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[name] = found
        return found

    def trigger_ids(self, automation: Automation) -> set[UUID]:
        return {t.id for t in automation.trigger.all_triggers()}


def _anchor(match: Any) -> tuple[str, tuple[str, ...]] | None:
    for label, patterns in match.items():
        listed = [patterns] if isinstance(patterns, str) else list(patterns)
        prefixes = tuple(pattern.split("*", 1)[0] for pattern in listed)
        if listed and all(prefixes) and not any(p.startswith("!") for p in listed):
            return label, prefixes
    return None
