"""Lineage: what caused a flow run, and what the run caused, as one chain a TUI can draw.

Nothing here is stored specially. A run records its cause (`RunCause.event_id`, or
`rerun_of`); every event a run emits carries the run as a related resource
(`evtui.flow-run.<id>`, role `flow-run`); and the run store answers which runs an event caused.
Lineage walks those links both ways, with bounded depth and a seen-set, so a loop (a flow whose
event triggers the same flow) ends instead of spinning.

The JSON shape (`Lineage.to_json`, served by `GET /api/flow-runs/{id}/lineage`)::

    {
      "run": {...run...},
      "upstream": [node, ...],     # oldest cause first; the last node directly caused "run"
      "downstream": [node, ...],   # depth-first, pre-order: draw each node indented by depth
      "truncated": false           # true when a depth or size bound cut the walk short
    }

Every node is one of::

    {"kind": "event",  "id": "<event id>",  "event": {...event...} | null, ...}
    {"kind": "firing", "id": "<firing id>", "firing": {...automation firing...}, ...}
    {"kind": "run",    "id": "<run id>",    "run":   {...run...}, ...}

`"event": null` means the event is known by id (a run's cause) but no longer stored
(retention deleted it). Reading the chain needs no edge list, the kinds say what each link is:

- upstream, read left to right: event → firing means "made this automation fire", firing →
  run means "started" (its run-flow action), event → run means "caused" (a run started for an
  event without a stored firing), run → event means "emitted", run → run means "was rerun as"
  (a rerun's cause is its original run).
- downstream nodes have `"parent"` (the id of the node above them, the root run's id at depth
  1) and `"depth"` (1 for what the root run emitted directly). An event's children are the
  firings it caused (or the runs, where no firing is stored); a firing's children are the runs
  it started; a run's children are the events it emitted, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from evtui.events import RESOURCE_ID, RESOURCE_ROLE, Event
from evtui.filters import EventFilter, EventNameFilter, OccurredFilter, RelatedFilter
from evtui.flows.errors import RunNotFound

if TYPE_CHECKING:
    from evtui.automations.firings import FiringRecord
    from evtui.engine import Engine
    from evtui.flows.records import FlowRun

MAX_DEPTH = 8
"""Links followed in each direction: deep enough for real pipelines, bounded for loops."""
MAX_NODES = 500
"""Downstream nodes at most: a run that fans out into thousands of events is summarised."""
RUN_RESOURCE_PREFIX = "evtui.flow-run."
FLOW_RUN_ROLE = "flow-run"
OWN_EVENT_PREFIXES = ["evtui.flow-run.", "evtui.task-run."]
"""A run's state events and its task runs' events are the run itself, not what it emitted."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class LineageNode:
    """One event, firing or run in the chain (the field named like its kind is set)."""

    kind: str
    id: str
    event: Event | None = None
    run: FlowRun | None = None
    firing: FiringRecord | None = None
    parent: str | None = None
    depth: int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind, "id": self.id}
        if self.kind == "run":
            assert self.run is not None
            body["run"] = self.run.to_json()
        elif self.kind == "firing":
            assert self.firing is not None
            body["firing"] = self.firing.to_json()
        else:
            body["event"] = self.event.model_dump(mode="json") if self.event else None
        if self.depth is not None:
            body["parent"] = self.parent
            body["depth"] = self.depth
        return body


@dataclass
class Lineage:
    """A run with its causes (upstream) and its consequences (downstream)."""

    run: FlowRun
    upstream: list[LineageNode] = field(default_factory=list)
    downstream: list[LineageNode] = field(default_factory=list)
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run.to_json(),
            "upstream": [node.to_json() for node in self.upstream],
            "downstream": [node.to_json() for node in self.downstream],
            "truncated": self.truncated,
        }


def related_run_ids(event: Event) -> list[str]:
    """Ids of the runs related to `event` in the role `flow-run` (the run that emitted it)."""
    return [
        related[RESOURCE_ID].removeprefix(RUN_RESOURCE_PREFIX)
        for related in event.related
        if related.get(RESOURCE_ROLE) == FLOW_RUN_ROLE
        and related[RESOURCE_ID].startswith(RUN_RESOURCE_PREFIX)
    ]


def emitting_run_id(event: Event) -> str | None:
    """The id of the run that emitted `event`, if a run did."""
    return next(iter(related_run_ids(event)), None)


async def lineage(engine: Engine, run_id: str) -> Lineage:
    """The chain around one run; raises `RunNotFound` when there is no such run."""
    run = await engine.runner.runs.get_run(run_id)
    if run is None:
        raise RunNotFound(run_id)
    result = Lineage(run)
    result.upstream, cut_up = await _upstream(engine, run)
    result.downstream, cut_down = await _downstream(engine, run)
    result.truncated = cut_up or cut_down
    return result


async def _upstream(engine: Engine, run: FlowRun) -> tuple[list[LineageNode], bool]:
    """Causes, nearest first while walking, returned oldest first."""
    chain: list[LineageNode] = []
    seen = {run.id}
    current = run
    for _ in range(MAX_DEPTH):
        cause = current.cause
        parent_id = cause.rerun_of
        if parent_id is None and cause.event_id:
            firing = await _firing_of(engine, current)
            if firing is not None:
                chain.append(LineageNode("firing", firing.id, firing=firing))
            stored = await engine.store.get_event(cause.event_id)
            event = stored.event if stored else None
            chain.append(LineageNode("event", cause.event_id, event=event))
            parent_id = emitting_run_id(event) if event else None
        if parent_id is None or parent_id in seen:
            return chain[::-1], False
        parent = await engine.runner.runs.get_run(parent_id)
        if parent is None:
            return chain[::-1], False
        seen.add(parent_id)
        chain.append(LineageNode("run", parent.id, run=parent))
        current = parent
    return chain[::-1], True


async def _downstream(engine: Engine, root: FlowRun) -> tuple[list[LineageNode], bool]:
    """Events the run emitted, firings and runs they caused, and so on: a pre-order tree.

    Walks level by level (one events query for all runs of a level, one runs query for all
    events of a level), then orders the nodes depth-first so each follows its parent.
    """
    children: dict[str, list[LineageNode]] = {}
    depth_of = {root.id: 0}
    seen = {root.id}
    runs = [root]
    count = 0

    def add(node: LineageNode, parent: str) -> None:
        nonlocal count
        node.parent, node.depth = parent, depth_of[parent] + 1
        depth_of[node.id] = node.depth
        children.setdefault(parent, []).append(node)
        seen.add(node.id)
        count += 1

    for _ in range(MAX_DEPTH // 2):  # each pass: run -> events -> (firings ->) runs
        events = await _emitted_events(engine, runs, MAX_NODES - count + 1)
        for event, parent in events:
            if str(event.id) not in seen:
                add(LineageNode("event", str(event.id), event=event), parent)
        event_ids = [str(event.id) for event, _ in events]
        caused = await engine.runner.runs.runs_caused_by(event_ids) if event_ids else []
        runs = []
        for run in sorted(caused, key=lambda r: r.created):
            cause_id = run.cause.event_id
            if run.id in seen or cause_id is None or cause_id not in depth_of:
                continue
            parent = cause_id
            firing = await _firing_of(engine, run)
            if firing is not None:
                if firing.id not in seen:
                    add(LineageNode("firing", firing.id, firing=firing), cause_id)
                parent = firing.id
            add(LineageNode("run", run.id, run=run), parent)
            runs.append(run)
        if count > MAX_NODES or not runs:
            break
    truncated = count > MAX_NODES or (bool(runs) and bool(await _emitted_events(engine, runs, 1)))
    ordered: list[LineageNode] = []
    _preorder(root.id, children, ordered)
    return ordered[:MAX_NODES], truncated


async def _firing_of(engine: Engine, run: FlowRun) -> FiringRecord | None:
    """The automation firing that started `run`: its automation's firing on the cause event."""
    cause = run.cause
    if cause.automation_id is None or cause.event_id is None:
        return None
    firings = await engine.actions.firings.firings_for_event(cause.event_id)
    return next((f for f in firings if f.automation_id == str(cause.automation_id)), None)


def _preorder(node_id: str, children: dict[str, list[LineageNode]], out: list[LineageNode]) -> None:
    for child in children.get(node_id, ()):
        out.append(child)
        _preorder(child.id, children, out)


async def _emitted_events(
    engine: Engine, runs: list[FlowRun], limit: int
) -> list[tuple[Event, str]]:
    """Events emitted by any of `runs`, oldest first, each with the id of the run that did."""
    query = EventFilter(
        occurred=OccurredFilter(since=_EPOCH),
        event=EventNameFilter(exclude_prefix=OWN_EVENT_PREFIXES),
        related=[
            RelatedFilter(id=[RUN_RESOURCE_PREFIX + run.id for run in runs], role=[FLOW_RUN_ROLE])
        ],
        order="ASC",
    )
    stored, _ = await engine.store.query_events(query, limit)
    wanted = {run.id for run in runs}
    found = []
    for item in stored:
        run_id = next((r for r in related_run_ids(item.event) if r in wanted), None)
        if run_id is not None:
            found.append((item.event, run_id))
    return found
