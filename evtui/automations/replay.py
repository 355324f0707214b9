"""Replaying a stored event: a new copy of it, sent through the current automations.

Prefect can re-run a flow but never re-deliver the event that caused it. A replay makes a new
event (new id, occurring now, so windows count it as it arrives) with the original's name,
resource, related resources and payload; `follows` points at the original, and the resource
label `evtui.replay-of` names it, so the feed, lineage and firings (`Firing.replay`) all show
that this is a replay. It goes through `engine.ingest` like any event, so it is stored and every
enabled automation evaluates it; being a new event, it gets new firings and so new actions
(the idempotency key is per firing), which is what asking for a replay means.
"""

from __future__ import annotations

from evtui.events import Event, ReceivedEvent, now_utc

REPLAY_LABEL = "evtui.replay-of"
"""Resource label of a replayed event: the id of the event it replays."""


def replay_of(original: ReceivedEvent | Event) -> Event:
    """The replay of `original`: same content, new id, now, `follows` and the replay label."""
    return Event(
        event=original.event,
        resource={**original.resource, REPLAY_LABEL: str(original.id)},
        related=[dict(related) for related in original.related],
        payload=original.payload,
        follows=original.id,
        occurred=now_utc(),
    )


def is_replay(event: Event) -> bool:
    return REPLAY_LABEL in event.resource
