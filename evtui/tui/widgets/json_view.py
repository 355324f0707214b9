"""JSON shown highlighted, for events, parameters and action results.

Highlighted by Rich (Pygments), not `TextArea`: its tree-sitter JSON grammar corrupts memory
with tree-sitter 0.26 (py-tree-sitter issue #472), and a read-only view needs no editor.
"""

from __future__ import annotations

import json
from typing import Any

from rich.syntax import Syntax
from textual.widgets import Static


def json_text(value: Any) -> str:
    """Indented JSON of a JSON-able value (anything else is shown by `str`)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


class JsonView(Static):
    """A read-only, highlighted, word-wrapped JSON document."""

    DEFAULT_CSS = """
    JsonView { height: auto; }
    """

    def __init__(self, value: Any = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""
        """The JSON shown, as text (what `y` copies)."""
        if value is not None:
            self.show(value)

    def show(self, value: Any) -> None:
        """Show `value`; a string is taken as JSON already written."""
        self.text = value if isinstance(value, str) else json_text(value)
        self.update(Syntax(self.text, "json", theme="ansi_dark", word_wrap=True))
