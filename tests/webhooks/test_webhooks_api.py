"""`/api/webhooks`: create, read, replace, delete; config-file webhooks; persistence."""

from __future__ import annotations

import httpx
import pytest

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.webhooks import PRESETS, WebhookConfigError, WebhookStore, parse_config
from evtui.webhooks.presets import PRESET_MAPPERS

TEMPLATE = '{"event": "x.y", "resource": {"prefect.resource.id": "x.{{ body.n }}"}}'


async def test_create_read_replace_delete(http):
    created = await http.put(
        "/api/webhooks/orders", json={"template": TEMPLATE, "secret": "s", "description": "shop"}
    )
    assert created.status_code == 201
    shown = created.json()
    assert shown["slug"] == "orders"
    assert shown["has_secret"] is True
    assert shown["signature"] == "X-Hub-Signature-256: sha256=<hex>"
    assert "secret" not in shown
    assert shown["source"] == "api"
    assert shown["path"] == "/hooks/orders"

    replaced = await http.post("/api/webhooks", json={"slug": "orders", "preset": "github"})
    assert replaced.status_code == 200
    assert replaced.json()["preset"] == "github"
    assert replaced.json()["template"] is None
    assert replaced.json()["created"] == shown["created"]

    listed = (await http.get("/api/webhooks")).json()
    assert [hook["slug"] for hook in listed] == ["orders"]
    assert (await http.get("/api/webhooks/orders")).json()["preset"] == "github"

    assert (await http.delete("/api/webhooks/orders")).status_code == 204
    assert (await http.get("/api/webhooks/orders")).status_code == 404
    assert (await http.delete("/api/webhooks/orders")).status_code == 404
    assert (await http.post("/hooks/orders", json={})).status_code == 404


@pytest.mark.parametrize(
    ("definition", "loc", "reason"),
    [
        ({}, ["body"], "give either a template or a preset"),
        ({"preset": "s3", "template": TEMPLATE}, ["body"], "not both"),
        ({"preset": "ftp"}, ["body", "preset"], "'cloudevents', 's3', 'gcs' or 'github'"),
        ({"preset": "s3", "signature_header": "X-Sig"}, ["body"], "need a secret"),
        ({"preset": "s3", "colour": "red"}, ["body", "colour"], "Extra inputs"),
        (
            {"preset": "s3", "resource_labels": {"prefect.resource.id": "x"}},
            ["body", "resource_labels"],
            "may not set 'prefect.resource.id'",
        ),
    ],
)
async def test_invalid_definitions_name_the_field(http, definition, loc, reason):
    response = await http.put("/api/webhooks/hook", json=definition)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == loc
    assert reason in error["msg"]


async def test_a_slug_must_be_url_safe(http):
    response = await http.put("/api/webhooks/a%20b", json={"preset": "s3"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "slug"]


async def test_webhooks_survive_a_restart(tmp_path):
    settings = Settings(db=tmp_path / "kept.db", port=0)
    first = Engine(settings, serve_http=False)
    async with first:
        store = WebhookStore(first.store)
        await store.load()
        await store.put(parse_config([{"slug": "kept", "preset": "gcs", "secret": "s"}])[0])
    second = Engine(settings, serve_http=False)
    async with second:
        store = WebhookStore(second.store)
        await store.load()
        [kept] = store.all()
    assert kept.webhook.preset == "gcs"
    assert kept.webhook.secret == "s"
    assert kept.source == "api"


async def test_config_webhooks_are_listed_and_read_only(start_engine):
    engine = await start_engine(webhooks=[{"slug": "from-file", "preset": "s3"}])
    base = engine.api_url.removesuffix("/api")
    async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
        [hook] = (await http.get("/api/webhooks")).json()
        replace = await http.put("/api/webhooks/from-file", json={"preset": "gcs"})
        delete = await http.delete("/api/webhooks/from-file")
    assert hook["slug"] == "from-file"
    assert hook["source"] == "config"
    assert replace.status_code == 409
    assert delete.status_code == 409
    assert "config file" in delete.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"slug": "ok", "preset": "s3"}, {"slug": "bad", "preset": "ftp"}],
            "webhooks[1] (slug 'bad'): preset: Input should be",
        ),
        ([{"preset": "s3"}], "webhooks[0]: slug: Field required"),
        (
            [{"slug": "t", "template": "{{ body. }}"}],
            "webhooks[0] (slug 't'): template: line 1:",
        ),
        (
            [{"slug": "twice", "preset": "s3"}, {"slug": "twice", "preset": "gcs"}],
            "webhooks[1] (slug 'twice'): slug: 'twice' is defined twice",
        ),
    ],
)
def test_config_errors_name_the_entry_and_field(entries, message):
    with pytest.raises(WebhookConfigError) as raised:
        parse_config(entries)
    assert str(raised.value).startswith(message)


def test_every_preset_has_a_mapping():
    assert set(PRESETS) == set(PRESET_MAPPERS)
