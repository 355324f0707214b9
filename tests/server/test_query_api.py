"""Querying over HTTP like Prefect's clients: filter pages, next-page tokens and count-by."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from evtui.engine import Engine


def sent_at(moment: datetime, event, name: str = "acme.order.created", resource: str = "r.1"):
    return event(name=name, resource_id=resource, occurred=moment.isoformat())


@pytest.fixture
async def stored(api: httpx.AsyncClient, event) -> list[dict]:
    """Seven events a minute apart (oldest first): r.1 has four, r.2 three."""
    start = datetime.now(UTC) - timedelta(hours=1)
    events = [
        sent_at(start + timedelta(minutes=n), event, f"acme.order.e{n}", f"r.{1 + n % 2}")
        for n in range(7)
    ]
    response = await api.post("/events", json=events)
    assert response.status_code == 204
    return events


async def test_a_page_of_events_with_its_total(api: httpx.AsyncClient, stored: list[dict]) -> None:
    response = await api.post(
        "/events/filter", json={"filter": {"resource": {"id": ["r.1"]}}, "limit": 10}
    )
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 4
    assert page["next_page"] is None
    assert [e["id"] for e in page["events"]] == [stored[n]["id"] for n in (6, 4, 2, 0)]
    first = page["events"][0]
    assert set(first) == {
        "occurred",
        "event",
        "resource",
        "related",
        "payload",
        "id",
        "follows",
        "received",
    }
    assert first["resource"] == {"prefect.resource.id": "r.1"}


async def test_following_next_page_visits_every_event_once(
    engine: Engine, api: httpx.AsyncClient, stored: list[dict], event
) -> None:
    response = await api.post("/events/filter", json={"filter": {"order": "ASC"}, "limit": 3})
    page = response.json()
    seen = [e["id"] for e in page["events"]]
    assert page["total"] == 7
    base = engine.api_url.removesuffix("api")
    # events arriving meanwhile do not shift the pages: the token keeps the time range
    await api.post("/events", json=[event(name="late.arrival")])
    while page["next_page"]:
        assert page["next_page"].startswith(f"{base}api/events/filter/next?page-token=")
        response = await api.get(page["next_page"])
        assert response.status_code == 200
        page = response.json()
        seen.extend(e["id"] for e in page["events"])
    assert seen == [e["id"] for e in stored]


async def test_the_page_token_is_prefects_shape(api: httpx.AsyncClient, stored: list[dict]) -> None:
    page = (await api.post("/events/filter", json={"limit": 5})).json()
    token = parse_qs(urlsplit(page["next_page"]).query)["page-token"][0]
    inside = json.loads(base64.b64decode(base64.b64decode(token)))
    assert (inside["count"], inside["page_size"], inside["offset"]) == (7, 5, 5)
    assert inside["filter"]["order"] == "DESC"
    assert set(inside["filter"]["occurred"]) == {"since", "until"}


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        base64.b64encode(b"not base64 inside").decode(),
        base64.b64encode(base64.b64encode(b'{"filter": {}, "count": 1}')).decode(),
        base64.b64encode(
            base64.b64encode(b'{"filter": {"bogus": 1}, "count": 1, "page_size": 5, "offset": 5}')
        ).decode(),
    ],
)
async def test_a_bad_page_token_is_forbidden(api: httpx.AsyncClient, token: str) -> None:
    response = await api.get("/events/filter/next", params={"page-token": token})
    assert response.status_code == 403
    assert response.json() == {
        "detail": [{"loc": ["query", "page-token"], "msg": "not a page token this server issued"}]
    }


async def test_no_body_means_recent_events(api: httpx.AsyncClient, stored: list[dict]) -> None:
    response = await api.post("/events/filter")
    assert response.status_code == 200
    assert response.json()["total"] == 7


async def test_a_zero_limit_counts_only(api: httpx.AsyncClient, stored: list[dict]) -> None:
    page = (await api.post("/events/filter", json={"limit": 0})).json()
    assert page == {"events": [], "total": 7, "next_page": None}


async def test_distinct_resources(api: httpx.AsyncClient, stored: list[dict]) -> None:
    body = {"filter": {"resource": {"distinct": True}}}
    page = (await api.post("/events/filter", json=body)).json()
    assert page["total"] == 2
    assert [e["id"] for e in page["events"]] == [stored[6]["id"], stored[5]["id"]]


@pytest.mark.parametrize(
    ("body", "loc", "msg"),
    [
        ({"limit": 51}, ["body", "limit"], "Input should be less than or equal to 50"),
        ({"limit": -1}, ["body", "limit"], "Input should be greater than or equal to 0"),
        ({"filter": {"bogus": 1}}, ["body", "filter", "bogus"], "Extra inputs are not permitted"),
        (
            {"filter": {"related": {"role": "tag"}}},
            ["body", "filter", "related", 0, "role"],
            "Input should be a valid list",
        ),
        (
            {"filter": {"text": {"query": "x" * 201}}},
            ["body", "filter", "text", "query"],
            "String should have at most 200 characters",
        ),
    ],
)
async def test_a_bad_filter_request_names_the_field(
    api: httpx.AsyncClient, body: dict, loc: list, msg: str
) -> None:
    response = await api.post("/events/filter", json=body)
    assert response.status_code == 422
    assert {"loc": loc, "msg": msg} in response.json()["detail"]


async def test_count_by_event(api: httpx.AsyncClient, event) -> None:
    now = datetime.now(UTC)
    names = ["b", "a", "b", "c", "b", "a"]
    await api.post("/events", json=[sent_at(now, event, n) for n in names])
    response = await api.post("/events/count-by/event", json={"filter": {}})
    assert response.status_code == 200
    assert [(c["value"], c["label"], c["count"]) for c in response.json()] == [
        ("b", "b", 3),
        ("a", "a", 2),
        ("c", "c", 1),
    ]


async def test_count_by_resource(api: httpx.AsyncClient, stored: list[dict]) -> None:
    counts = (await api.post("/events/count-by/resource", json={"filter": {}})).json()
    assert [(c["value"], c["label"], c["count"]) for c in counts] == [
        ("r.1", "r.1", 4),
        ("r.2", "r.2", 3),
    ]


async def test_count_by_time_fills_empty_buckets(api: httpx.AsyncClient, event) -> None:
    day = datetime(2026, 3, 2, tzinfo=UTC)
    await api.post("/events", json=[sent_at(day + timedelta(hours=h), event) for h in (0, 0, 3)])
    body = {
        "filter": {
            "occurred": {"since": day.isoformat(), "until": (day + timedelta(hours=3)).isoformat()}
        },
        "time_unit": "hour",
    }
    counts = (await api.post("/events/count-by/time", json=body)).json()
    assert [(c["value"], c["count"]) for c in counts] == [("0", 2), ("1", 0), ("2", 0), ("3", 1)]
    assert counts[1] == {
        "value": "1",
        "label": "2026-03-02T01:00:00+00:00",
        "count": 0,
        "start_time": "2026-03-02T01:00:00Z",
        "end_time": "2026-03-02T01:59:59.999999Z",
    }
    by_day = (await api.post("/events/count-by/day", json=body)).json()
    assert [(c["label"], c["count"]) for c in by_day] == [("2026-03-02T00:00:00+00:00", 3)]


@pytest.mark.parametrize(
    ("path", "body", "loc", "msg"),
    [
        (
            "/events/count-by/weekday",
            {"filter": {}},
            ["path", "countable"],
            "Input should be 'day', 'time', 'event' or 'resource'",
        ),
        ("/events/count-by/event", {}, ["body", "filter"], "Field required"),
        (
            "/events/count-by/time",
            {"filter": {}, "time_unit": "fortnight"},
            ["body", "time_unit"],
            "Input should be 'week', 'day', 'hour', 'minute' or 'second'",
        ),
        (
            "/events/count-by/time",
            {"filter": {}, "time_interval": 0.001},
            ["body", "time_interval"],
            "Input should be greater than or equal to 0.01",
        ),
    ],
)
async def test_a_bad_count_request_names_the_field(
    api: httpx.AsyncClient, path: str, body: dict, loc: list, msg: str
) -> None:
    response = await api.post(path, json=body)
    assert response.status_code == 422
    assert {"loc": loc, "msg": msg} in response.json()["detail"]


async def test_more_than_a_thousand_buckets_is_refused(api: httpx.AsyncClient) -> None:
    body = {"filter": {}, "time_unit": "minute"}  # 180 days by the minute
    response = await api.post("/events/count-by/time", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "time_interval"]
    assert "at most 1000 are allowed" in error["msg"]
