"""The `w` (wrap) and `t` (times) marks the Events and Logs panes add to their state lines.

Only a setting that differs from the default is named, so the line stays short and the user
sees at once why the view looks different from usual.
"""

from __future__ import annotations

Part = tuple[str, str]
"""Text and its `Content` style, for `Content.assemble`."""


def toggles(wrap: bool, show_time: bool) -> list[Part]:
    """`wrap` when long lines wrap, `times hidden` when the time column is off."""
    parts: list[Part] = []
    if wrap:
        parts += [("  │  ", "dim"), ("wrap", "bold $accent")]
    if not show_time:
        parts += [("  │  ", "dim"), ("times hidden", "bold $accent")]
    return parts
