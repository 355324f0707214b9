"""The `/` filter: names by glob or word, `resource:` by id, case ignored."""

from __future__ import annotations

import pytest
from tui_helpers import make_event

from evtui.tui.matching import parse_filter


@pytest.mark.parametrize("text", ["", "   ", "resource:"])
def test_blank_filters_select_everything(text: str) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "name", "shown"),
    [
        ("file.*", "file.created", True),
        ("file.*", "prefect.file.created", False),
        ("FILE.*", "file.created", True),
        ("Completed", "prefect.flow-run.Completed", True),
        ("completed", "prefect.flow-run.Completed", True),
        ("prefect.*.Completed", "prefect.flow-run.Completed", True),
        ("prefect.*.Completed", "prefect.flow-run.Running", False),
        ("file.?reated", "file.created", True),
        ("file.[cm]*", "file.modified", True),
        ("file.[cm]*", "file.deleted", False),
        ("file.created prefect.*", "prefect.flow-run.Running", True),
        ("file.created prefect.*", "other.thing", False),
    ],
)
def test_event_names(text: str, name: str, shown: bool) -> None:
    matcher = parse_filter(text)
    assert matcher is not None
    assert matcher(make_event(1, name)) is shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("resource:file./data/in/*", True),
        ("resource:prefect.flow-run.*", False),
        ("RESOURCE:*REPORT-1.csv", True),
        ("resource:report-1", True),
        ("resource:report-2", False),
        ("resource:report-2 resource:report-1", True),
        ("file.* resource:report-1", True),
        ("prefect.* resource:report-1", False),
    ],
)
def test_resource_ids(text: str, shown: bool) -> None:
    matcher = parse_filter(text)
    assert matcher is not None
    assert matcher(make_event(1, "file.created")) is shown


def test_the_typed_text_is_kept_for_display() -> None:
    matcher = parse_filter("  file.*   resource:x ")
    assert matcher is not None
    assert matcher.text == "file.*   resource:x"
