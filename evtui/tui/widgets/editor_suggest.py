"""Completion for the editor's comma-separated fields, from what evtui has seen.

Textual's `Input` shows a suggestion as greyed text after the cursor (`right` or `end` takes
it). `SuggestLastItem` completes only the item being typed, the text after the last comma, from
values ordered most-seen first, so `file.cr` offers `file.created` and `a.b, file.cr` offers
`a.b, file.created`. Items written as `label=glob` are left alone (`labelled=False`): only the
bare items of the resource match are resource ids. `candidates` lists what else the item could
become, for a hint under the field.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.suggester import Suggester


class SuggestLastItem(Suggester):
    """Suggest the rest of the last item from `values` (case-sensitive, first match wins)."""

    def __init__(self, values: Iterable[str] = (), *, labelled: bool = True) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.values: list[str] = list(values)
        """Most likely first; replace the list as new values are learned."""
        self.labelled = labelled
        """Whether `label=value` items are completed too."""

    def candidates(self, value: str, limit: int) -> list[str]:
        """Up to `limit` known values the item being typed could become (all, before typing)."""
        typed = value.rpartition(",")[2].lstrip()
        if not self.labelled and "=" in typed:
            return []
        return [known for known in self.values if known.startswith(typed)][:limit]

    async def get_suggestion(self, value: str) -> str | None:
        head, comma, last = value.rpartition(",")
        typed = last.lstrip()
        if not typed:
            return None
        for known in self.candidates(value, len(self.values)):
            if known != typed:
                return f"{head}{comma}{last[: len(last) - len(typed)]}{known}"
        return None
