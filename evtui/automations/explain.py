"""Why did (or didn't) this event fire an automation? One answer per automation.

For each automation: disabled, or paused by the rate cap (the action runner's answer); the
firing the event caused (from `automation_firings`); otherwise, per event trigger, the first
predicate that failed (`matching.why_not`: name, label and value, related, payload), or what
the trigger did with the event as its live bucket shows: not armed by `after`, armed until T,
or counted n of N in a window that ends at T. Prefect offers nothing like it (reference §9.8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evtui.automations import matching
from evtui.automations.firing import encode_key
from evtui.automations.trigger_index import posture
from evtui.events import ReceivedEvent, now_utc
from evtui.store.rows import from_micros

if TYPE_CHECKING:
    from evtui.automations.buckets import BucketStore
    from evtui.automations.models import Automation
    from evtui.automations.service import AutomationService
    from evtui.engine import Engine


class EventNotFound(LookupError):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"no stored event has id {event_id}")


async def explain(
    engine: Engine, event_id: str, service: AutomationService | None = None
) -> list[dict[str, Any]]:
    """An entry per automation: `status` (fired, disabled, paused, not_matched, not_armed,
    armed, counting, not_counted, pending) with a `reason` in words and per-trigger detail.

    `service` is the live evaluator whose buckets are read (default: the engine's)."""
    stored = await engine.store.get_event(str(event_id))
    if stored is None:
        raise EventNotFound(str(event_id))
    event = stored.event
    fired = await _firings_caused(engine, str(event.id))
    service = service or getattr(engine, "automation_service", None)
    evaluated = service is None or service.cursor >= stored.seq
    buckets = service.buckets if service is not None else None
    answers = []
    for automation in engine.automations.all():
        answer: dict[str, Any] = {
            "automation_id": str(automation.id),
            "name": automation.name,
            "enabled": automation.enabled,
            "paused": _rate_capped(engine, automation),
            "firings": fired.get(str(automation.id), []),
        }
        answer.update(_verdict(automation, event, answer, evaluated, buckets))
        answers.append(answer)
    return answers


def _verdict(
    automation: Automation,
    event: ReceivedEvent,
    answer: dict[str, Any],
    evaluated: bool,
    buckets: BucketStore | None,
) -> dict[str, Any]:
    triggers = [
        _trigger(automation, t, event, buckets) for t in automation.trigger.event_triggers()
    ]
    if answer["firings"]:
        return {"status": "fired", "reason": "this event fired it", "triggers": triggers}
    if answer["paused"]:
        return {"status": "paused", "reason": answer["paused"], "triggers": triggers}
    if not automation.enabled:
        return {"status": "disabled", "reason": "the automation is disabled", "triggers": triggers}
    if not evaluated:
        return {"status": "pending", "reason": "not evaluated yet", "triggers": triggers}
    first = next((t for t in triggers if t["status"] != "not_matched"), triggers[0])
    return {"status": first["status"], "reason": first["reason"], "triggers": triggers}


def _trigger(
    automation: Automation, trigger: Any, event: ReceivedEvent, buckets: BucketStore | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"trigger_id": str(trigger.id), "posture": posture(trigger)}
    why = matching.why_not(trigger, event)
    if why is not None:
        return {**entry, "status": "not_matched", "reason": why}
    key = matching.bucket_key(trigger, event)
    entry["key"] = list(key)
    bucket = buckets.get(automation.id, trigger.id, key) if buckets is not None else None
    arms = trigger.starts_after(event.event)
    counts = trigger.expects(event.event)
    if bucket is None:
        if trigger.after and not arms:
            return {
                **entry,
                "status": "not_armed",
                "reason": f"not armed: no {trigger.after!r} event opened a window for key "
                f"{encode_key(key)} (or its window has closed)",
            }
        return {
            **entry,
            "status": "not_counted" if counts else "armed",
            "reason": "matched, but no window is open for it now (it ended, or a firing closed it)",
        }
    count, threshold = max(bucket.count, 0), trigger.threshold
    ends = bucket.end.isoformat()
    left = max(0.0, (bucket.end - now_utc()).total_seconds())
    entry["bucket"] = {
        "count": count,
        "threshold": threshold,
        "start": bucket.start.isoformat(),
        "end": ends,
        "time_left": left,
    }
    if posture(trigger) == "Proactive":
        reason = (
            f"counted {count} of {threshold} in a window that ends at {ends}; it fires then "
            f"if fewer than {threshold} arrived"
        )
    elif arms and not counts:
        reason = f"armed the trigger: a window until {ends} for {trigger.expect!r}"
    else:
        reason = f"counted {count} of {threshold} in a window that ends at {ends}"
    return {**entry, "status": "armed" if arms and not counts else "counting", "reason": reason}


def _rate_capped(engine: Engine, automation: Automation) -> str | None:
    actions = getattr(engine, "actions", None)
    check = getattr(actions, "is_rate_capped", None)
    return check(automation.id) if check is not None else None


async def _firings_caused(engine: Engine, event_id: str) -> dict[str, list[dict[str, Any]]]:
    """Firings whose triggering event is this one, by automation id."""
    async with engine.store.reader.execute(
        "SELECT id, automation_id, trigger_id, occurred FROM automation_firings"
        " WHERE triggering_event_id = ? ORDER BY occurred",
        (event_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    found: dict[str, list[dict[str, Any]]] = {}
    for firing_id, automation_id, trigger_id, occurred in rows:
        found.setdefault(automation_id, []).append(
            {
                "id": firing_id,
                "trigger_id": trigger_id,
                "occurred": from_micros(occurred).isoformat(),
            }
        )
    return found
