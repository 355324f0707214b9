"""GitHub webhooks (peers.md §11.4): one event per delivery.

Name `github.<X-GitHub-Event>`, followed by `.<action>` when the body has a top-level `action`
(`github.pull_request.opened`, `github.push`): automations can then match one action or, with a
prefix, all of them. The resource is the repository (`github.repository.<owner/name>`), else the
organization, installation or hook for deliveries without one (e.g. `installation`); the sender
and the organization are related resources. `X-GitHub-Delivery` is the same when GitHub
redelivers, so the event id is derived from it (stored once) and it is kept in the payload.
Deliveries may be `application/json` or form-encoded with the JSON in `payload`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE
from evtui.webhooks.presets.common import stable_id
from evtui.webhooks.request import HookRequest, Mapped, mapping_error, parse_json

EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"


def map_request(request: HookRequest) -> Mapped:
    kind = request.headers.get(EVENT_HEADER)
    if not kind:
        raise mapping_error(422, ["header", EVENT_HEADER], "missing: not a GitHub delivery")
    body = _body(request)
    delivery = request.headers.get(DELIVERY_HEADER)
    action = body.get("action")
    name = f"github.{kind}.{action}" if isinstance(action, str) and action else f"github.{kind}"
    related = [
        _account(body[role], role) for role in ("sender", "organization") if _has(body, role)
    ]
    event: dict[str, Any] = {
        "event": name,
        "resource": _resource(body, request),
        "related": related,
        "payload": {
            "github": {
                "event": kind,
                "action": action,
                "delivery": delivery,
                "hook_id": request.headers.get("X-GitHub-Hook-ID"),
            },
            "body": body,
        },
    }
    if delivery:
        event["id"] = stable_id("github", delivery)
    return Mapped(events=[event])


def _body(request: HookRequest) -> dict[str, Any]:
    if request.content_type == "application/x-www-form-urlencoded":
        form = parse_qs(request.text())
        if "payload" not in form:
            raise mapping_error(422, ["body", "payload"], "missing from the form-encoded delivery")
        body = parse_json(form["payload"][0], ["body", "payload"])
    else:
        body = request.json()
    if not isinstance(body, dict):
        raise mapping_error(422, ["body"], "expected a JSON object")
    return body


def _has(body: dict[str, Any], key: str) -> bool:
    return isinstance(body.get(key), dict)


def _resource(body: dict[str, Any], request: HookRequest) -> dict[str, str]:
    if _has(body, "repository") and body["repository"].get("full_name"):
        repository = body["repository"]
        labels = {
            RESOURCE_ID: f"github.repository.{repository['full_name']}",
            RESOURCE_NAME: repository["full_name"],
        }
        if repository.get("id") is not None:
            labels["github.repository.id"] = str(repository["id"])
        return labels
    if _has(body, "organization") and body["organization"].get("login"):
        login = body["organization"]["login"]
        return {RESOURCE_ID: f"github.organization.{login}", RESOURCE_NAME: login}
    if _has(body, "installation") and body["installation"].get("id") is not None:
        return {RESOURCE_ID: f"github.installation.{body['installation']['id']}"}
    hook = request.headers.get("X-GitHub-Hook-ID") or body.get("hook_id") or request.slug
    return {RESOURCE_ID: f"github.hook.{hook}"}


def _account(account: dict[str, Any], role: str) -> dict[str, str]:
    login = str(account.get("login") or account.get("id") or "unknown")
    kind = "organization" if role == "organization" else "user"
    return {RESOURCE_ID: f"github.{kind}.{login}", RESOURCE_ROLE: role, RESOURCE_NAME: login}
