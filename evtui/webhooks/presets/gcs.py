"""Google Cloud Storage notifications delivered by a Pub/Sub push subscription (peers.md §11.3).

The push body wraps one Pub/Sub message: the notification is in its `attributes` (event type,
bucket, object, generation) and, with payload format `JSON_API_V1`, `data` is the base64 of the
object's JSON resource. `OBJECT_FINALIZE` → `file.created`, `OBJECT_DELETE` → `file.deleted`,
`OBJECT_METADATA_UPDATE` → `file.metadata_updated`, `OBJECT_ARCHIVE` → `file.archived`. A DELETE
or ARCHIVE that carries `overwrittenByGeneration` is the old half of an overwrite, not a removal:
it becomes `file.overwritten`, so automations on `file.deleted` do not fire when a file is
replaced. The id is derived from bucket, object, generation and event type: Pub/Sub delivers at
least once, and a redelivery is stored once.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE
from evtui.webhooks.presets.common import parse_model, stable_id
from evtui.webhooks.request import HookRequest, Mapped, mapping_error

EVENT_NAMES = {
    "OBJECT_FINALIZE": "file.created",
    "OBJECT_DELETE": "file.deleted",
    "OBJECT_METADATA_UPDATE": "file.metadata_updated",
    "OBJECT_ARCHIVE": "file.archived",
}
OVERWRITTEN = "file.overwritten"

_OBJECT_LABELS = {
    "size": "gcs.size",
    "contentType": "gcs.content-type",
    "md5Hash": "gcs.md5",
    "crc32c": "gcs.crc32c",
    "etag": "gcs.etag",
    "storageClass": "gcs.storage-class",
    "metageneration": "gcs.metageneration",
}


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Attributes(_Loose):
    event_type: str = Field(alias="eventType", min_length=1)
    bucket_id: str = Field(alias="bucketId", min_length=1)
    object_id: str = Field(alias="objectId", min_length=1)
    object_generation: str = Field(alias="objectGeneration", min_length=1)
    event_time: datetime | None = Field(default=None, alias="eventTime")
    overwritten_by: str | None = Field(default=None, alias="overwrittenByGeneration")


class PubsubMessage(_Loose):
    attributes: dict[str, str]
    data: str | None = None
    message_id: str | None = Field(default=None, alias="messageId")
    publish_time: datetime | None = Field(default=None, alias="publishTime")


class PushBody(_Loose):
    message: PubsubMessage
    subscription: str | None = None


def map_request(request: HookRequest) -> Mapped:
    push = parse_model(PushBody, request.json(), ["body"])
    message = push.message
    notice = parse_model(Attributes, message.attributes, ["body", "message", "attributes"])
    obj = _object_resource(message.data)
    name = EVENT_NAMES.get(notice.event_type, f"gcs.{notice.event_type}")
    if notice.overwritten_by and notice.event_type in ("OBJECT_DELETE", "OBJECT_ARCHIVE"):
        name = OVERWRITTEN
    bucket, path = notice.bucket_id, notice.object_id
    labels = {
        RESOURCE_ID: f"gs://{bucket}/{path}",
        RESOURCE_NAME: path.rsplit("/", 1)[-1] or path,
        "gcs.bucket": bucket,
        "gcs.object": path,
        "gcs.generation": notice.object_generation,
    }
    labels.update({label: str(obj[key]) for key, label in _OBJECT_LABELS.items() if key in obj})
    event: dict[str, Any] = {
        "id": stable_id("gcs", bucket, path, notice.object_generation, notice.event_type),
        "event": name,
        "resource": labels,
        "related": [
            {RESOURCE_ID: f"gs://{bucket}", RESOURCE_ROLE: "bucket", RESOURCE_NAME: bucket}
        ],
        "payload": {
            "object": obj or None,
            "attributes": message.attributes,
            "pubsub": {
                "message_id": message.message_id,
                "publish_time": message.publish_time.isoformat() if message.publish_time else None,
                "subscription": push.subscription,
            },
        },
    }
    occurred = notice.event_time or message.publish_time
    if occurred is not None:
        event["occurred"] = occurred
    return Mapped(events=[event])


def _object_resource(data: str | None) -> dict[str, Any]:
    """The object JSON of a `JSON_API_V1` notification; empty for payload format `NONE`."""
    if not data:
        return {}
    loc: list[str | int] = ["body", "message", "data"]
    try:
        decoded = json.loads(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        raise mapping_error(422, loc, "expected base64 of the object's JSON resource") from None
    if not isinstance(decoded, dict):
        raise mapping_error(422, loc, "expected the object's JSON resource (an object)")
    return decoded
