"""`call-webhook` against a real HTTP server on 127.0.0.1: what is sent and what is recorded."""

from __future__ import annotations

import json

from actions_helpers import (
    Acting,
    acting_fixture,  # noqa: F401 (the `acting` fixture)
    firing_of,
    hook_server,
)

from evtui.automations.webhook_call import BODY_EXCERPT


async def test_the_request_is_rendered_and_the_answer_recorded(acting: Acting) -> None:
    async with hook_server() as hooks:
        auto = await acting.automation(
            [
                {
                    "type": "call-webhook",
                    "method": "PUT",
                    "url": hooks.url + "/ok?file={{ event.payload.name }}",
                    "headers": {"X-Event": "{{ event.id }}"},
                    "body": {"size": "{{ event.payload.size }}", "auto": "{{ automation.name }}"},
                },
                {"type": "call-webhook", "url": hooks.url + "/ok", "body": "raw {{ event.event }}"},
            ]
        )
        cause = await acting.event(payload={"name": "a.csv", "size": 10})
        firing = firing_of(auto, cause)
        await acting.fire(firing)

    first, second = hooks.received
    assert (first["method"], first["query"]) == ("PUT", "file=a.csv")
    assert first["headers"]["x-event"] == str(cause.id)
    assert json.loads(first["body"]) == {"size": 10, "auto": "test automation"}
    assert (second["method"], second["body"]) == ("POST", "raw file.created")
    done = await acting.events("evtui.action.executed")
    assert [e.payload["status_code"] for e in done] == [200, 200]
    assert json.loads(done[1].payload["response_body"]) == {"got": "raw file.created"}
    [recorded, _] = await acting.actions(firing)
    assert recorded.result["status_code"] == 200


async def test_an_error_status_or_a_timeout_fails_and_the_next_action_still_runs(
    acting: Acting,
) -> None:
    async with hook_server() as hooks:
        auto = await acting.automation(
            [
                {"type": "call-webhook", "url": hooks.url + "/fail"},
                {"type": "call-webhook", "url": hooks.url + "/slow", "timeout": 0.2},
                {"type": "call-webhook", "url": "http://127.0.0.1:1/refused"},
                {"type": "call-webhook", "url": hooks.url + "/ok"},
            ]
        )
        firing = firing_of(auto, await acting.event())
        await acting.fire(firing)

    outcomes = await acting.events("evtui.action.executed", "evtui.action.failed")
    assert [e.event.rsplit(".", 1)[1] for e in outcomes] == [
        "failed",
        "failed",
        "failed",
        "executed",
    ]
    status, timeout, refused, _ok = (e.payload for e in outcomes)
    assert status["reason"] == f"POST {hooks.url}/fail answered HTTP 500"
    assert status["status_code"] == 500
    assert len(status["response_body"]) == BODY_EXCERPT
    assert status["response_body_truncated"] is True
    assert timeout["reason"] == f"POST {hooks.url}/slow: no answer within 0.2 s"
    assert refused["reason"].startswith("POST http://127.0.0.1:1/refused failed:")
    recorded = (await acting.actions(firing))[0]
    assert recorded.result["status_code"] == 500
    assert len(recorded.result["response_body"]) == BODY_EXCERPT
