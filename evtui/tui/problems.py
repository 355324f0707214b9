"""What is broken right now, from the engine's stats, so the TUI can say so once.

A flow file that no longer imports, an automation file that no longer parses, a database
source that cannot connect: evtui keeps running around each of them, which is right, but the
user has to hear about it without reading `/api/stats`. `ProblemWatch` turns each stats
snapshot into the problems that are new (or changed) and those that went away, so the app
notifies each problem once and says when it is fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def current_problems(stats: Mapping[str, Any]) -> dict[str, str]:
    """Every problem in a stats snapshot: where it is -> what is wrong."""
    found: dict[str, str] = {}
    for path, error in (stats.get("flow_file_errors") or {}).items():
        found[f"flow file {path}"] = str(error)
    for path, error in (stats.get("automation_file_errors") or {}).items():
        found[f"automation file {path}"] = str(error)
    for source in stats.get("db_sources") or ():
        if source.get("error"):
            found[f"{source.get('kind', 'database')} source {source.get('name')}"] = source["error"]
    return found


@dataclass
class ProblemWatch:
    """The problems last seen; `update` says what to announce."""

    known: dict[str, str] = field(default_factory=dict)

    def update(self, stats: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
        """(new or changed problems, places whose problem is gone) since the last snapshot."""
        now = current_problems(stats)
        fresh = {place: error for place, error in now.items() if self.known.get(place) != error}
        gone = [place for place in self.known if place not in now]
        self.known = now
        return fresh, gone
