"""`evtui webhooks list|add|show|rm` against a real server, as a user types them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from evtui import cli
from evtui.engine import Engine

Run = Callable[..., Awaitable[tuple[int, str, str]]]


@pytest.fixture
def run(engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch) -> Run:
    """Run `evtui ...` pointed at the engine (in a thread: the server shares this loop)."""

    async def run_(*argv: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(cli.main, [*argv, "--api-url", engine.api_url])
        out, err = capsys.readouterr()
        return code, out, err

    return run_


async def test_add_show_list_remove(run: Run, engine: Engine, http, events, tmp_path):
    template = tmp_path / "order.j2"
    template.write_text(
        '{"event": "shop.order", "resource": {"prefect.resource.id": "o.{{ body.id }}"}}'
    )

    code, out, _ = await run(
        "webhooks", "add", "orders", "--template", str(template), "--description", "shop orders",
        "--label", "team=sales",
    )  # fmt: skip
    assert code == 0
    url = engine.api_url.removesuffix("/api") + "/hooks/orders"
    assert out.splitlines() == ["created webhook orders", f"POST to {url}"]

    code, out, _ = await run("webhooks", "add", "gh", "--preset", "github", "--secret", "s3")
    assert code == 0

    code, out, _ = await run("webhooks", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["SLUG", "MAPPING", "STATE", "SIGNED", "SOURCE", "DESCRIPTION"]
    assert lines[1].split() == ["gh", "preset", "github", "enabled", "yes", "api"]
    assert lines[2].split() == ["orders", "template", "enabled", "no", "api", "shop", "orders"]

    code, out, _ = await run("webhooks", "show", "gh")
    assert code == 0
    assert f"POST to      {engine.api_url.removesuffix('/api')}/hooks/gh" in out
    assert "signature    X-Hub-Signature-256: sha256=<hex>" in out

    response = await http.post("/hooks/orders", json={"id": 7})
    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["resource"] == {"prefect.resource.id": "o.7", "team": "sales"}

    code, out, _ = await run("webhooks", "rm", "orders")
    assert (code, out) == (0, "removed webhook orders\n")
    code, out, _ = await run("webhooks", "list", "--json")
    assert '"slug": "gh"' in out and "orders" not in out


async def test_errors_are_one_line(run: Run):
    code, _, err = await run("webhooks", "add", "bad", "--template", "missing.j2")
    assert code == 2
    assert err.strip().startswith("evtui: error: --template: no file 'missing.j2'")

    code, _, err = await run("webhooks", "add", "bad", "--template", '{"event": "{{ x. }}"}')
    assert code == 2
    assert "body.template: line 1:" in err
    assert len(err.strip().splitlines()) == 1

    code, _, err = await run("webhooks", "rm", "nope")
    assert code == 2
    assert "no webhook 'nope'" in err
