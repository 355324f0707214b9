"""With an API key set, everything but health requires it, over HTTP and websockets."""

from __future__ import annotations

import base64
import json

import pytest
from websockets.exceptions import ConnectionClosed

API_KEY = "s3cret-key"


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.fixture
async def keyed_engine(start_engine):
    return await start_engine(api_key=API_KEY)


@pytest.fixture
def keyed_api(keyed_engine, client_for):
    return client_for(keyed_engine)


async def test_health_needs_no_key(keyed_api):
    response = await keyed_api.get("/health")
    assert (response.status_code, response.json()) == (200, True)


@pytest.mark.parametrize("path", ["/stats", "/admin/version"])
async def test_other_endpoints_refuse_a_missing_key(keyed_api, path):
    response = await keyed_api.get(path)
    assert response.status_code == 401
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "Authorization"]
    assert "requires an API key" in error["msg"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {API_KEY}", f"bearer {API_KEY}", basic(API_KEY)],
    ids=["bearer", "lower-case scheme", "basic (PREFECT_API_AUTH_STRING)"],
)
async def test_the_key_is_accepted_as_bearer_or_basic(keyed_api, authorization):
    response = await keyed_api.get("/stats", headers={"Authorization": authorization})
    assert response.status_code == 200


WRONG_AUTHORIZATIONS = [
    "Bearer wrong",
    f"Bearer {API_KEY}x",
    basic("wrong"),
    basic(f"user:{API_KEY}"),
    "Basic !!!not-base64",
    f"Token {API_KEY}",
    API_KEY,
]


async def test_a_wrong_key_is_refused(keyed_api):
    for authorization in WRONG_AUTHORIZATIONS:
        response = await keyed_api.get("/stats", headers={"Authorization": authorization})
        assert response.status_code == 401, authorization
        assert "not valid" in response.json()["detail"][0]["msg"], authorization


async def test_posting_events_needs_the_key(keyed_engine, keyed_api, event):
    refused = await keyed_api.post("/events", json=[event()])
    assert refused.status_code == 401
    assert await keyed_engine.store.count_events() == 0
    accepted = await keyed_api.post(
        "/events", json=[event()], headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert accepted.status_code == 204
    assert await keyed_engine.store.count_events() == 1


@pytest.mark.parametrize("path", ["/events/in", "/events/out"])
async def test_websockets_authenticate_with_the_auth_message(keyed_engine, open_socket, path):
    await open_socket(keyed_engine, path, token=API_KEY)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "Auth required but no token provided"),
        ("wrong", "Invalid token"),
        (5, "Invalid token"),
    ],
)
@pytest.mark.parametrize("path", ["/events/in", "/events/out"])
async def test_a_websocket_without_the_right_token_is_closed_1008(
    keyed_engine, open_socket, path, token, reason
):
    websocket = await open_socket(keyed_engine, path, authenticate=False)
    await websocket.send(json.dumps({"type": "auth", "token": token}))
    with pytest.raises(ConnectionClosed) as closed:
        await websocket.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, reason)


async def test_legacy_mode_is_refused_when_a_key_is_set(keyed_engine, open_socket):
    websocket = await open_socket(keyed_engine, "/events/in", subprotocol=False)
    with pytest.raises(ConnectionClosed) as closed:
        await websocket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1002
    assert "subprotocol 'prefect'" in closed.value.rcvd.reason


async def test_queries_need_the_key(keyed_api):
    assert (await keyed_api.post("/events/filter", json={})).status_code == 401
    accepted = await keyed_api.post(
        "/events/filter", json={}, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert accepted.status_code == 200
    assert accepted.json()["events"] == []
