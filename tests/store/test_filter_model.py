"""The EventFilter request schema: Prefect's keys, defaults, and clear errors for anything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from evtui.events import field_errors, now_utc
from evtui.filters import EventFilter, EventOrder, parse_text_query


def errors_of(body: dict) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        EventFilter.model_validate(body)
    return [str(error) for error in field_errors(caught.value)]


def test_defaults_look_back_180_days_from_the_start_of_today_until_now() -> None:
    before = now_utc()
    event_filter = EventFilter()
    start_of_today = datetime.combine(before.date(), datetime.min.time(), tzinfo=UTC)
    assert event_filter.occurred.since == start_of_today - timedelta(days=180)
    assert before <= event_filter.occurred.until <= now_utc()
    assert event_filter.order is EventOrder.DESC


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bogus": 1}, "bogus"),
        ({"event": {"names": ["x"]}}, "event.names"),
        ({"resource": {"ids": ["x"]}}, "resource.ids"),
        ({"related": {"rol": ["x"]}}, "related.0.rol"),
        ({"related": [{}, {"label": {}}]}, "related.1.label"),
        ({"any_resource": {"role": ["x"]}}, "any_resource.0.role"),
        ({"occurred": {"from": "2024-01-01T00:00:00Z"}}, "occurred.from"),
        ({"text": {"query": "x", "mode": "regex"}}, "text.mode"),
    ],
)
def test_unknown_keys_are_refused_by_name(body: dict, field: str) -> None:
    assert errors_of(body) == [f"{field}: Extra inputs are not permitted"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"order": "NEWEST"}, "order"),
        ({"id": {"id": ["not-a-uuid"]}}, "id.id.0"),
        ({"occurred": {"since": "yesterday"}}, "occurred.since"),
        ({"text": {"query": "x" * 201}}, "text.query"),
        ({"text": {"query": "ends with a lone backslash\\"}}, "text.query"),
        ({"related": {"resources_in_roles": [["only-an-id"]]}}, "related.0.resources_in_roles.0"),
        ({"resource": {"labels": {"env": 3}}}, "resource.labels.env"),
    ],
)
def test_bad_values_name_the_field(body: dict, field: str) -> None:
    assert any(error.startswith(f"{field}") for error in errors_of(body)), errors_of(body)


def test_one_related_object_means_a_list_of_one() -> None:
    one = EventFilter.model_validate({"related": {"role": ["tag"]}})
    listed = EventFilter.model_validate({"related": [{"role": ["tag"]}]})
    assert one.related == listed.related
    assert EventFilter.model_validate({"any_resource": {"id": ["x"]}}).any_resource is not None


def test_naive_times_are_utc_and_the_filter_round_trips_through_json() -> None:
    event_filter = EventFilter.model_validate(
        {"occurred": {"since": "2026-01-01T00:00:00", "until": "2026-01-02T00:00:00+02:00"}}
    )
    assert event_filter.occurred.since == datetime(2026, 1, 1, tzinfo=UTC)
    assert event_filter.occurred.until == datetime(2026, 1, 1, 22, tzinfo=UTC)
    again = EventFilter.model_validate_json(event_filter.model_dump_json())
    assert again == event_filter


@pytest.mark.parametrize(
    ("query", "include", "exclude", "required"),
    [
        ("error", ["error"], [], []),
        ("Error WARN", ["error", "warn"], [], []),
        ("error -debug !trace +prod", ["error"], ["debug", "trace"], ["prod"]),
        ('"connection timeout" retry', ["connection timeout", "retry"], [], []),
        ('-"dry run" +"eu west"', [], ["dry run"], ["eu west"]),
        ('say "he said \\"hi\\""', ["say", 'he said "hi"'], [], []),
        ("can't #tag", ["can't", "#tag"], [], []),
        ("- + ! x", ["x"], [], []),
        ('"unclosed phrase', ["unclosed phrase"], [], []),
        ("   ", [], [], []),
    ],
)
def test_text_queries_split_like_a_shell(
    query: str, include: list[str], exclude: list[str], required: list[str]
) -> None:
    terms = parse_text_query(query)
    assert (list(terms.include), list(terms.exclude), list(terms.required)) == (
        include,
        exclude,
        required,
    )
