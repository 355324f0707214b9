"""S3 event notifications, posted directly or inside an SNS envelope (peers.md §11.2).

S3 cannot call an arbitrary URL itself: an HTTP endpoint hears of a bucket through an SNS
topic subscription (or a relay that forwards the S3 JSON as is). So the body is either the S3
message (`{"Records": [...]}` or S3's `s3:TestEvent`) or an SNS message whose `Message` is that
JSON as a string. SNS first sends a `SubscriptionConfirmation`, which the receiver answers by
visiting its `SubscribeURL` (see `evtui.webhooks.sns`).

One event per record: `ObjectCreated:*` → `file.created`, `ObjectRemoved:*` and lifecycle
expirations → `file.deleted`, anything else `s3.<eventName>`; resource `s3://bucket/key` with
the key URL-decoded (S3 sends it form-encoded, `+` for a space). The id is derived from bucket,
key and `sequencer`, which S3 sets for every PUT and DELETE and which is the same on a
redelivery, so the event is stored once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field

from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE
from evtui.webhooks.presets.common import parse_model, stable_id
from evtui.webhooks.request import HookRequest, Mapped, mapping_error, parse_json

TEST_EVENT = "s3:TestEvent"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class S3Bucket(_Loose):
    name: str = Field(min_length=1)
    arn: str | None = None


class S3Object(_Loose):
    key: str = Field(min_length=1)
    size: int | None = None
    e_tag: str | None = Field(default=None, alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")
    sequencer: str | None = None


class S3Entity(_Loose):
    bucket: S3Bucket
    object: S3Object


class S3Record(_Loose):
    event_name: str = Field(alias="eventName", min_length=1)
    event_time: datetime | None = Field(default=None, alias="eventTime")
    aws_region: str | None = Field(default=None, alias="awsRegion")
    s3: S3Entity


class S3Message(_Loose):
    records: list[dict[str, Any]] = Field(alias="Records")


class SnsMessage(_Loose):
    type: str = Field(alias="Type")
    message_id: str | None = Field(default=None, alias="MessageId")
    topic_arn: str | None = Field(default=None, alias="TopicArn")
    message: str = Field(default="", alias="Message")
    subscribe_url: str | None = Field(default=None, alias="SubscribeURL")
    timestamp: str | None = Field(default=None, alias="Timestamp")


def map_request(request: HookRequest) -> Mapped:
    body = request.json()
    if not isinstance(body, dict):
        raise mapping_error(422, ["body"], "expected a JSON object (S3 or SNS message)")
    if "Type" in body:
        return _from_sns(parse_model(SnsMessage, body, ["body"]))
    return _from_s3(body, ["body"], sns=None)


def _from_sns(sns: SnsMessage) -> Mapped:
    if sns.type == "SubscriptionConfirmation":
        if not sns.subscribe_url:
            raise mapping_error(422, ["body", "SubscribeURL"], "missing from the confirmation")
        return Mapped(confirm_url=sns.subscribe_url, confirm_topic=sns.topic_arn)
    if sns.type == "UnsubscribeConfirmation":
        return Mapped(note=f"unsubscribed from {sns.topic_arn}")
    if sns.type != "Notification":
        raise mapping_error(422, ["body", "Type"], f"unknown SNS message type {sns.type!r}")
    message = parse_json(sns.message, ["body", "Message"])
    if not isinstance(message, dict):
        raise mapping_error(422, ["body", "Message"], "expected an S3 event message (an object)")
    envelope = {"message_id": sns.message_id, "topic_arn": sns.topic_arn}
    return _from_s3(message, ["body", "Message"], sns=envelope)


def _from_s3(message: dict[str, Any], loc: list[str | int], sns: dict[str, Any] | None) -> Mapped:
    if message.get("Event") == TEST_EVENT:
        return Mapped(note=f"{TEST_EVENT} for bucket {message.get('Bucket')} acknowledged")
    records = parse_model(S3Message, message, loc).records
    events = [
        _event(parse_model(S3Record, raw, [*loc, "Records", index]), raw, sns)
        for index, raw in enumerate(records)
    ]
    return Mapped(events=events)


def event_name(s3_event: str) -> str:
    if s3_event.startswith("ObjectCreated:"):
        return "file.created"
    if s3_event.startswith(("ObjectRemoved:", "LifecycleExpiration:Delete")):
        return "file.deleted"
    return f"s3.{s3_event}"


def _event(record: S3Record, raw: dict[str, Any], sns: dict[str, Any] | None) -> dict[str, Any]:
    bucket = record.s3.bucket.name
    obj = record.s3.object
    key = unquote_plus(obj.key)
    labels = {
        RESOURCE_ID: f"s3://{bucket}/{key}",
        RESOURCE_NAME: key.rsplit("/", 1)[-1] or key,
        "s3.bucket": bucket,
        "s3.key": key,
    }
    optional = {
        "s3.size": obj.size,
        "s3.etag": obj.e_tag,
        "s3.region": record.aws_region,
        "s3.version-id": obj.version_id,
        "s3.sequencer": obj.sequencer,
    }
    labels.update({name: str(value) for name, value in optional.items() if value is not None})
    if obj.sequencer:
        event_id = stable_id("s3", bucket, key, obj.sequencer)
    else:
        # Events without a sequencer (restores, tagging, ...): the record itself is the key,
        # which a redelivery repeats byte for byte once parsed.
        event_id = stable_id("s3-record", json.dumps(raw, sort_keys=True))
    payload: dict[str, Any] = {"record": raw}
    if sns is not None:
        payload["sns"] = sns
    mapped: dict[str, Any] = {
        "id": event_id,
        "event": event_name(record.event_name),
        "resource": labels,
        "related": [
            {RESOURCE_ID: f"s3://{bucket}", RESOURCE_ROLE: "bucket", RESOURCE_NAME: bucket}
        ],
        "payload": payload,
    }
    if record.event_time is not None:
        mapped["occurred"] = record.event_time
    return mapped
