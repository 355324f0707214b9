"""Template webhooks over a real server: the request in, the event out, or the reason why not."""

from __future__ import annotations

import httpx

from evtui.engine import Engine

ORDER_TEMPLATE = """
{
  "event": "shop.order.{{ body.status }}",
  "resource": {
    "prefect.resource.id": "shop.order.{{ body.order.id }}",
    "shop.customer": {{ body.order.customer | tojson }}
  },
  "payload": {
    "total": {{ body.order.total }},
    "source": {{ headers['X-Shop-Source'] | tojson }},
    "region": {{ query.region | tojson }},
    "method": "{{ method }}"
  }
}
"""


async def test_a_custom_template_maps_the_request_to_an_event(http, engine: Engine, add, events):
    await add(http, "orders", template=ORDER_TEMPLATE, resource_labels={"team": "sales"})
    body = {"status": "paid", "order": {"id": 42, "customer": "Kiki", "total": 9.5}}

    response = await http.post(
        "/hooks/orders?region=eu", json=body, headers={"x-shop-source": "web"}
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["stored"] == 1
    [event] = await events(engine)
    assert answer["ids"] == [event["id"]]
    assert event["event"] == "shop.order.paid"
    assert event["resource"] == {
        "prefect.resource.id": "shop.order.42",
        "shop.customer": "Kiki",
        "team": "sales",
    }
    assert event["payload"] == {"total": 9.5, "source": "web", "region": "eu", "method": "POST"}
    assert event["related"] == [
        {
            "prefect.resource.id": "evtui.webhook.orders",
            "prefect.resource.role": "webhook",
            "prefect.resource.name": "orders",
            "evtui.webhook.signature": "none",
        }
    ]


async def test_a_field_the_body_lacks_is_a_422_naming_it(http, engine: Engine, add, events):
    await add(http, "orders", template=ORDER_TEMPLATE)

    response = await http.post("/hooks/orders", json={"status": "paid"})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["template"]
    assert "'dict object' has no attribute 'order'" in error["msg"]
    assert "line 5" in error["msg"]
    assert await events(engine) == []


async def test_output_that_is_not_json_is_a_422_saying_where(http, add):
    await add(http, "broken", template='{"event": "x", "resource": {{ body.name }}}')

    response = await http.post("/hooks/broken", json={"name": "not quoted"})

    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"][0]["msg"]


async def test_an_invalid_event_is_a_422_naming_the_field(http, add):
    await add(http, "no-resource", template='{"event": "x", "resource": {"name": "y"}}')

    response = await http.post("/hooks/no-resource", content=b"")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["template", "resource"]
    assert "prefect.resource.id" in error["msg"]


async def test_a_template_syntax_error_refuses_the_definition(http):
    response = await http.put("/api/webhooks/bad", json={"template": '{"event": "{{ body. }}"'})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "template"]
    assert error["msg"].startswith("line 1:")


async def test_templates_cannot_reach_outside_the_sandbox(http, add):
    await add(
        http,
        "escape",
        template='{"event": "{{ body.__class__ }}", "resource": {"prefect.resource.id": "x"}}',
    )

    response = await http.post("/hooks/escape", json={})

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "rendering failed at line 1: access to attribute '__class__' of 'dict' object is unsafe."
    )


async def test_form_bodies_and_a_default_payload(http, engine: Engine, add, events):
    template = '{"event": "form.sent", "resource": {"prefect.resource.id": "form.{{ body.name }}"}}'
    await add(http, "form", template=template)

    response = await http.post("/hooks/form", data={"name": "kiki", "age": "3"})

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["resource"]["prefect.resource.id"] == "form.kiki"
    assert event["payload"]["method"] == "POST"
    assert event["payload"]["body"] == {"name": "kiki", "age": "3"}
    assert "authorization" not in event["payload"]["headers"]


async def test_a_template_may_render_several_events(http, engine: Engine, add, events):
    template = """[{% for item in body %}
      {"event": "item.seen", "resource": {"prefect.resource.id": "item.{{ item }}"}}
      {%- if not loop.last %},{% endif %}{% endfor %}]"""
    await add(http, "many", template=template)

    response = await http.post("/hooks/many", json=["a", "b", "c"])

    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 3
    ids = [e["resource"]["prefect.resource.id"] for e in await events(engine)]
    assert sorted(ids) == ["item.a", "item.b", "item.c"]


async def test_unknown_slug_is_404_and_disabled_is_409(http, add):
    await add(http, "off", preset="github", enabled=False)

    unknown = await http.post("/hooks/nope", json={})
    disabled = await http.post("/hooks/off", json={})

    assert unknown.status_code == 404
    assert unknown.json()["detail"] == [{"loc": ["path", "slug"], "msg": "no webhook 'nope'"}]
    assert disabled.status_code == 409
    assert "disabled" in disabled.json()["detail"][0]["msg"]


async def test_hooks_need_no_api_key_but_the_management_api_does(start_engine, add):
    engine = await start_engine(api_key="k3y")
    base = engine.api_url.removesuffix("/api")
    async with httpx.AsyncClient(base_url=base, trust_env=False) as anonymous:
        assert (await anonymous.get("/api/webhooks")).status_code == 401
        async with httpx.AsyncClient(
            base_url=base, trust_env=False, headers={"Authorization": "Bearer k3y"}
        ) as admin:
            await add(
                admin, "open", template='{"event": "x", "resource": {"prefect.resource.id": "y"}}'
            )
        response = await anonymous.post("/hooks/open", json={})
    assert response.status_code == 200, response.text
