"""The `github` preset with a delivery shaped like GitHub's documented example (an issue opened)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from evtui.engine import Engine
from evtui.webhooks import sign

SECRET = "It's a Secret to Everybody"
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

ISSUE_OPENED = {
    "action": "opened",
    "issue": {
        "url": "https://api.github.com/repos/octocat/Hello-World/issues/1347",
        "number": 1347,
        "title": "Found a bug",
        "user": {"login": "octocat", "id": 1},
    },
    "repository": {
        "id": 1296269,
        "full_name": "octocat/Hello-World",
        "owner": {"login": "octocat", "id": 1},
    },
    "sender": {"login": "octocat", "id": 1},
}


def delivery_headers(body: bytes, event: str = "issues", delivery: str = DELIVERY) -> dict:
    """The headers of GitHub's documented delivery example."""
    return {
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": "sha256=" + sign(SECRET, body),
        "User-Agent": "GitHub-Hookshot/044aadd",
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Hook-ID": "292430182",
        "X-GitHub-Hook-Installation-Target-ID": "79929171",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
    }


async def test_an_issue_opened_delivery(http, engine: Engine, add, events):
    await add(http, "gh", preset="github", secret=SECRET)
    body = json.dumps(ISSUE_OPENED).encode()

    response = await http.post("/hooks/gh", content=body, headers=delivery_headers(body))

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["event"] == "github.issues.opened"
    assert event["resource"] == {
        "prefect.resource.id": "github.repository.octocat/Hello-World",
        "prefect.resource.name": "octocat/Hello-World",
        "github.repository.id": "1296269",
    }
    assert event["related"][0] == {
        "prefect.resource.id": "github.user.octocat",
        "prefect.resource.role": "sender",
        "prefect.resource.name": "octocat",
    }
    assert event["related"][-1]["evtui.webhook.signature"] == "verified"
    assert event["payload"]["github"] == {
        "event": "issues",
        "action": "opened",
        "delivery": DELIVERY,
        "hook_id": "292430182",
    }
    assert event["payload"]["body"] == ISSUE_OPENED


async def test_a_redelivery_is_stored_once(http, engine: Engine, add, events):
    await add(http, "gh", preset="github", secret=SECRET)
    body = json.dumps(ISSUE_OPENED).encode()

    first = await http.post("/hooks/gh", content=body, headers=delivery_headers(body))
    again = await http.post("/hooks/gh", content=body, headers=delivery_headers(body))

    assert first.json()["stored"] == 1
    assert again.json() | {"ids": None} == {
        "ids": None,
        "stored": 0,
        "duplicates": 1,
        "signature": "verified",
    }
    assert again.json()["ids"] == first.json()["ids"]
    assert len(await events(engine)) == 1


async def test_a_ping_has_no_action_and_form_encoding_works(http, engine: Engine, add, events):
    await add(http, "gh", preset="github")
    ping = {"zen": "Keep it logically awesome.", "hook_id": 292430182, **ISSUE_OPENED}
    del ping["action"]
    body = urlencode({"payload": json.dumps(ping)}).encode()
    headers = delivery_headers(body, event="ping", delivery="d-2")
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    response = await http.post("/hooks/gh", content=body, headers=headers)

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["event"] == "github.ping"
    assert event["payload"]["body"]["zen"] == "Keep it logically awesome."
    assert event["related"][-1]["evtui.webhook.signature"] == "none"


async def test_a_request_without_the_event_header_is_422(http, engine: Engine, add):
    await add(http, "gh", preset="github")

    response = await http.post("/hooks/gh", json=ISSUE_OPENED)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "X-GitHub-Event"]
    assert engine.store.stats.total == 0
