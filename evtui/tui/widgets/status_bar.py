"""One line of engine health: where it listens, how fast events come, how far writes lag.

Fed from `Engine.stats()` on a timer (about twice a second), never per event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.content import Content
from textual.widgets import Static

SEPARATOR = (" │ ", "dim")


def count(value: int) -> str:
    """`999,999`, then `1.23M`: a total keeps its width as it grows."""
    if value < 1_000_000:
        return f"{value:,}"
    return f"{value / 1_000_000:.3g}M"


def format_status(stats: Mapping[str, Any]) -> Content:
    """The status line for a `stats()` dict; drops are summed over every subscriber.

    Compact enough for 80 columns at high rates and counts; the write lag shows only while
    events wait for a commit (idle, it is nothing to read); the watched folders come last,
    where a narrow terminal may cut them.
    """
    address = str(stats.get("address", ""))
    listening = address != "not listening"
    drops = sum(int(s.get("dropped", 0)) for s in stats.get("subscribers", ()))
    queued = int(stats.get("write_queue", 0))
    lag = float(stats.get("write_lag_seconds", 0.0))
    rate = float(stats.get("events_per_second", 0.0))
    parts: list[tuple[str, str] | str] = [
        ("● " if listening else "○ ", "$success" if listening else "$warning"),
        (address, "bold" if listening else "$warning"),
        SEPARATOR,
        f"{rate:,.{1 if rate < 10 else 0}f} ev/s",
        SEPARATOR,
        f"{count(int(stats.get('stored_total', 0)))} stored",
        SEPARATOR,
        (f"queue {queued:,} lag {lag:.2f}s", "$warning") if queued else "queue 0",
        SEPARATOR,
        (f"drops {drops:,}", "$warning" if drops else ""),
    ]
    db_sources = list(stats.get("db_sources", ()))
    if db_sources:
        parts += [SEPARATOR, db_segment(db_sources)]
    watching = list(stats.get("watching", ()))
    if watching:
        parts += [SEPARATOR, ("watching ", "dim"), ", ".join(watching)]
    return Content.assemble(*parts)


def db_segment(sources: list[Mapping[str, Any]]) -> tuple[str, str]:
    """`db lag N` over every database source (changes not yet delivered), and how many fail."""
    failing = sum(1 for source in sources if source.get("error"))
    lag = sum(int(source.get("lag") or 0) for source in sources)
    text = f"db lag {count(lag)}" + (f", {failing} failing" if failing else "")
    return text, "$error" if failing else "$warning" if lag else ""


class StatusBar(Static):
    """Shows the latest stats; `show` is called by the app's timer."""

    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Content.styled("starting…", "dim"), id=id)

    def show(self, stats: Mapping[str, Any]) -> None:
        self.update(format_status(stats), layout=False)
