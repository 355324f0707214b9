"""HMAC-SHA256 over the raw body: GitHub's test vector, and refusals that store nothing."""

from __future__ import annotations

import pytest

from evtui.engine import Engine
from evtui.webhooks import Webhook, sign, signature_header

SECRET = "It's a Secret to Everybody"
BODY = b"Hello, World!"
SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
"""GitHub's test vector (docs: "Validating webhook deliveries")."""

RAW_TEMPLATE = (
    '{"event": "test.signed", "resource": {"prefect.resource.id": "test.vector"},'
    ' "payload": {"text": {{ raw_body | tojson }}}}'
)


def test_githubs_test_vector() -> None:
    assert "sha256=" + sign(SECRET, BODY) == SIGNATURE


async def test_the_test_vector_verifies_and_is_recorded(http, engine: Engine, add, events):
    await add(http, "signed", template=RAW_TEMPLATE, secret=SECRET)

    response = await http.post(
        "/hooks/signed",
        content=BODY,
        headers={"X-Hub-Signature-256": SIGNATURE, "Content-Type": "text/plain"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["signature"] == "verified"
    [event] = await events(engine)
    assert event["payload"] == {"text": "Hello, World!"}
    assert event["related"][-1]["evtui.webhook.signature"] == "verified"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "this webhook requires a signature and none was sent"),
        ({"X-Hub-Signature-256": SIGNATURE.replace("757", "758")}, "does not match the body"),
        ({"X-Hub-Signature-256": SIGNATURE.removeprefix("sha256=")}, "must start with 'sha256='"),
    ],
)
async def test_missing_or_wrong_signatures_are_401_and_store_nothing(
    http, engine: Engine, add, events, headers, reason
):
    await add(http, "signed", template=RAW_TEMPLATE, secret=SECRET)

    response = await http.post("/hooks/signed", content=BODY, headers=headers)

    assert response.status_code == 401
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "X-Hub-Signature-256"]
    assert reason in error["msg"]
    assert engine.store.stats.total == 0
    assert await events(engine) == []


async def test_a_signature_over_other_bytes_is_refused(http, engine: Engine, add):
    """The digest covers the raw bytes: the same JSON re-serialised does not verify."""
    await add(http, "signed", template=RAW_TEMPLATE, secret=SECRET)
    signed = b'{"a": 1}'
    _, value = signature_header(Webhook(slug="x", template="{}", secret=SECRET), signed)

    response = await http.post(
        "/hooks/signed", content=b'{"a":1}', headers={"X-Hub-Signature-256": value}
    )

    assert response.status_code == 401
    assert engine.store.stats.total == 0


async def test_a_configured_header_prefix_and_encoding(http, engine: Engine, add, events):
    await add(
        http,
        "shopify",
        template=RAW_TEMPLATE,
        secret="s3cret",
        signature_header="X-Shopify-Hmac-Sha256",
        signature_encoding="base64",
    )

    good = await http.post(
        "/hooks/shopify",
        content=BODY,
        headers={"X-Shopify-Hmac-Sha256": sign("s3cret", BODY, "base64")},
    )
    github_style = await http.post(
        "/hooks/shopify", content=BODY, headers={"X-Hub-Signature-256": SIGNATURE}
    )

    assert good.status_code == 200, good.text
    assert github_style.status_code == 401
    assert github_style.json()["detail"][0]["loc"] == ["header", "X-Shopify-Hmac-Sha256"]
    assert len(await events(engine)) == 1


async def test_a_template_cannot_forge_the_verification_label(http, engine: Engine, add, events):
    template = (
        '{"event": "x", "resource": {"prefect.resource.id": "y"}, "related": [{'
        '"prefect.resource.id": "evtui.webhook.forged", "prefect.resource.role": "webhook",'
        '"evtui.webhook.signature": "verified"}]}'
    )
    await add(http, "forged", template=template)

    response = await http.post("/hooks/forged", json={})

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert [r["evtui.webhook.signature"] for r in event["related"]] == ["none"]
