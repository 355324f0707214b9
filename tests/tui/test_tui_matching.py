"""The `/` filter: names by glob, free text, `resource:` by id, `label=value`, case ignored."""

from __future__ import annotations

import pytest
from tui_helpers import make_event

from evtui.tui.matching import parse_filter


@pytest.mark.parametrize("text", ["", "   ", "resource:", "size=", '""', '"', "size= resource:"])
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


EVENT = make_event(1, "orders.changed", size="512", **{"acme.region": "eu-west"})
"""Resource `file./data/in/report-1.csv`, labels name=report-1.csv, size=512, region=eu-west;
payload `{"index": 1}`."""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # free text: a word without wildcards, anywhere in name, resource, labels or payload
        ("changed", True),
        ("ORDERS", True),
        ("data/in", True),
        ("eu-west", True),
        ('"index: 1"', True),  # the payload is searched without JSON's double quotes
        ("index", True),
        ("nowhere", False),
        ('"orders.*"', False),  # quoted: the * is a character, not a wildcard
        ('"orders.changed"', True),
        ('"report-1.csv"', True),
        ('"report 1"', False),
        ('"index: 2"', False),
        ('"index": 2', True),  # two terms, `index:` and `2`, either is enough
        ('"unclosed quote: index', False),
        ('"index', True),
        # words and globs are alternatives
        ("nowhere orders.*", True),
        ("nowhere file.*", False),
        # labels: whole key or its last part; plain values are equal, globs match whole
        ("size=512", True),
        ("size=51", False),
        ("size=5*", True),
        ("SIZE=512", True),
        ("acme.region=eu-*", True),
        ("region=EU-WEST", True),
        ("region=us-*", False),
        ("name=report-?.csv", True),
        ("prefect.resource.id=file./data/*", True),
        ("colour=red", False),
        ("size=1 size=512", True),  # one key's values are alternatives
        ("size=512 region=us-*", True),  # labels are alternatives too
        ('name="report-1.csv"', True),
        # every kind given must match
        ("size=512 orders.*", True),
        ("size=512 file.*", False),
        ("size=512 resource:*report-1.csv", True),
        ("size=512 resource:report-2", False),
        ("changed resource:report-1 region=eu-west", True),
        ("changed resource:report-1 region=us-east", False),
        ("resource:", True),  # unfinished terms are ignored while typing
        ("orders.* size=", True),
    ],
)
def test_free_text_labels_and_combinations(text: str, shown: bool) -> None:
    matcher = parse_filter(text)
    assert matcher is None or matcher(EVENT) is shown


def test_an_event_without_payload_is_searched_by_name_and_resource() -> None:
    event = make_event(1, "orders.changed").model_copy(update={"payload": {}})
    matcher = parse_filter("index")
    assert matcher is not None and not matcher(event)
    matcher = parse_filter("report-1")
    assert matcher is not None and matcher(event)
