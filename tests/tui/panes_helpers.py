"""What the pane and source tests share: a flows folder, an automation that runs one of its
flows for each `file.created` event, and settings for an engine over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_helpers import RETENTION_DAYS

from evtui.settings import Settings

FLOWS = """
from pathlib import Path

from evtui import flow, get_run_logger


@flow
def greet(name: str = "world", lines: int = 2):
    logger = get_run_logger()
    for index in range(lines):
        logger.info("hello %s %d", name, index)
    return name


@flow
def hold(release: str):
    import time
    while not Path(release).exists():
        time.sleep(0.02)
"""

GREET_ON_FILE: dict[str, Any] = {
    "name": "greet new files",
    "trigger": {
        "type": "event",
        "posture": "Reactive",
        "expect": ["file.created"],
        "threshold": 1,
        "within": 0,
    },
    "actions": [
        {
            "type": "run-flow",
            "flow": "greet",
            "parameters": {"name": "{{ event.resource['prefect.resource.name'] }}"},
        }
    ],
}
"""Runs `greet` once per `file.created` event, named after the event's resource."""

COUNT_TWO: dict[str, Any] = {
    "name": "two reports in an hour",
    "trigger": {
        "type": "event",
        "posture": "Reactive",
        "expect": ["report.ready"],
        "threshold": 2,
        "within": 3600,
    },
    "actions": [{"type": "do-nothing"}],
}
"""Counts `report.ready` events: one leaves it counting 1 of 2."""


def flow_settings(tmp_path: Path, **fields: Any) -> Settings:
    folder = tmp_path / "flows"
    folder.mkdir(exist_ok=True)
    (folder / "pane_flows.py").write_text(FLOWS)
    return Settings(
        db=tmp_path / "e.db", port=0, flows=[folder], retention_days=RETENTION_DAYS, **fields
    )
