"""CloudEvents 1.0 over HTTP: structured, binary and batched mode (peers.md §11.1).

The mode comes from `Content-Type`: `application/cloudevents+json` is one whole event,
`application/cloudevents-batch+json` a JSON array of them, and any other request carrying
`ce-specversion` is binary mode (attributes in `ce-*` headers, the body is `data`). A JSON body
with a `specversion` member but a plain JSON content type is read as structured too, since
many senders label it so.

Mapping (derived from Prefect Cloud's `from_cloud_event`): event = `type`; resource =
`source`, joined with `subject` when there is one (a subject is only unique within its source);
occurred = `time`; id = uuid5 of `source` + `id`, the pair the spec names as a duplicate
marker; payload `data` (or `data_base64`) plus every other attribute under `cloudevents`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evtui.events import RESOURCE_ID, RESOURCE_NAME, FieldError, field_errors
from evtui.webhooks.presets.common import parse_model, stable_id
from evtui.webhooks.request import HookRequest, Mapped, MappingError, mapping_error, parse_json

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
HEADER_PREFIX = "ce-"


class CloudEvent(BaseModel):
    """The context attributes the spec requires, and the optional ones it defines."""

    model_config = ConfigDict(extra="allow")

    specversion: str = Field(pattern=r"^1\.0$")
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str | None = None
    time: datetime | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None


def map_request(request: HookRequest) -> Mapped:
    if request.content_type == BATCH:
        batch = request.json()
        if not isinstance(batch, list):
            raise mapping_error(422, ["body"], "a CloudEvents batch must be a JSON array")
        return Mapped(events=[_structured(item, ["body", i]) for i, item in enumerate(batch)])
    if request.content_type == STRUCTURED:
        return Mapped(events=[_structured(request.json(), ["body"])])
    if HEADER_PREFIX + "specversion" in request.headers:
        return Mapped(events=[_binary(request)])
    if request.content_type == "application/json":
        body = request.json()
        if isinstance(body, dict) and "specversion" in body:
            return Mapped(events=[_structured(body, ["body"])])
    raise mapping_error(
        415,
        ["header", "content-type"],
        f"not a CloudEvent: send {STRUCTURED}, {BATCH}, or binary mode with ce-* headers",
    )


def _structured(envelope: Any, loc: list[str | int]) -> dict[str, Any]:
    if not isinstance(envelope, dict):
        raise mapping_error(422, loc, "a structured CloudEvent must be a JSON object")
    attributes = {k: v for k, v in envelope.items() if k not in ("data", "data_base64")}
    event = parse_model(CloudEvent, attributes, loc)
    payload: dict[str, Any] = {}
    if "data" in envelope:
        payload["data"] = envelope["data"]
    if "data_base64" in envelope:
        payload["data_base64"] = envelope["data_base64"]
    return _event(event, attributes, payload)


def _binary(request: HookRequest) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for name, value in request.headers.items():
        if name.startswith(HEADER_PREFIX):
            attributes[name.removeprefix(HEADER_PREFIX)] = _header_value(name, value)
    if "datacontenttype" in attributes:
        raise mapping_error(
            422, ["header", "ce-datacontenttype"], "binary mode carries it as Content-Type"
        )
    if request.headers.get("content-type"):
        attributes["datacontenttype"] = request.headers["content-type"]
    try:
        event = CloudEvent.model_validate(attributes)
    except ValidationError as error:
        errors = [
            FieldError(loc=["header", f"{HEADER_PREFIX}{e.loc[0]}", *e.loc[1:]], msg=e.msg)
            for e in field_errors(error)
        ]
        raise MappingError(422, errors) from None
    return _event(event, attributes, _binary_data(request))


def _header_value(name: str, value: str) -> str:
    """Header values are percent-encoded UTF-8; invalid UTF-8 must be rejected."""
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise mapping_error(400, ["header", name], "percent-encoding is not valid UTF-8") from None


def _binary_data(request: HookRequest) -> dict[str, Any]:
    if not request.raw_body:
        return {}
    media = request.content_type
    if media == "application/json" or media.endswith("+json"):
        return {"data": parse_json(request.text(), ["body"])}
    if media.startswith("text/") or media in ("", "application/xml"):
        try:
            return {"data": request.raw_body.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"data_base64": base64.b64encode(request.raw_body).decode()}


def _event(
    event: CloudEvent, attributes: dict[str, Any], payload: dict[str, Any]
) -> dict[str, Any]:
    if "data_base64" in payload:
        try:
            base64.b64decode(payload["data_base64"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise mapping_error(422, ["body", "data_base64"], "not valid base64") from None
    resource_id = event.source
    if event.subject:
        resource_id = f"{event.source.rstrip('/')}/{event.subject}"
    resource = {
        RESOURCE_ID: resource_id,
        RESOURCE_NAME: event.subject or event.source,
        "cloudevents.source": event.source,
        "cloudevents.type": event.type,
    }
    if event.subject:
        resource["cloudevents.subject"] = event.subject
    mapped: dict[str, Any] = {
        "id": stable_id("cloudevents", event.source, event.id),
        "event": event.type,
        "resource": resource,
        "payload": {**payload, "cloudevents": attributes},
    }
    if event.time is not None:
        mapped["occurred"] = event.time
    return mapped
