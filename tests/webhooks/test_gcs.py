"""The `gcs` preset with a Pub/Sub push message built as Google documents it: the push wrapper
(Pub/Sub guide, "Receive messages using push") around a Cloud Storage notification (attributes
and `JSON_API_V1` object resource, Cloud Storage guide, "Pub/Sub notifications")."""

from __future__ import annotations

import base64
import copy
import json

from evtui.engine import Engine

OBJECT = {
    "kind": "storage#object",
    "id": "travel-maps/Bali.jpg/1565374543394632",
    "selfLink": "https://www.googleapis.com/storage/v1/b/travel-maps/o/Bali.jpg",
    "name": "Bali.jpg",
    "bucket": "travel-maps",
    "generation": "1565374543394632",
    "metageneration": "1",
    "contentType": "image/jpeg",
    "timeCreated": "2019-08-09T18:15:43.394Z",
    "updated": "2019-08-09T18:15:43.394Z",
    "storageClass": "MULTI_REGIONAL",
    "timeStorageClassUpdated": "2019-08-09T18:15:43.394Z",
    "size": "40213",
    "md5Hash": "TPq6gFn3TiGH4VZ3FjpbHw==",
    "mediaLink": "https://www.googleapis.com/download/storage/v1/b/travel-maps/o/Bali.jpg"
    "?generation=1565374543394632&alt=media",
    "crc32c": "oMYtvw==",
    "etag": "CLjrgfmlu+QCEAE=",
}

PUSH = {
    "message": {
        "attributes": {
            "notificationConfig": "projects/_/buckets/travel-maps/notificationConfigs/1",
            "eventType": "OBJECT_FINALIZE",
            "payloadFormat": "JSON_API_V1",
            "bucketId": "travel-maps",
            "objectId": "Bali.jpg",
            "objectGeneration": "1565374543394632",
            "eventTime": "2019-08-09T18:15:43.394489Z",
        },
        "data": base64.b64encode(json.dumps(OBJECT).encode()).decode(),
        "messageId": "2070443601311540",
        "message_id": "2070443601311540",
        "publishTime": "2019-08-09T18:15:43.772Z",
        "publish_time": "2019-08-09T18:15:43.772Z",
    },
    "subscription": "projects/myproject/subscriptions/mysubscription",
}


def push(event_type: str, **attributes: str) -> dict:
    body = copy.deepcopy(PUSH)
    body["message"]["attributes"].update(eventType=event_type, **attributes)
    return body


async def test_an_object_finalize_notification(http, engine: Engine, add, events):
    await add(http, "gcs", preset="gcs")

    response = await http.post("/hooks/gcs", json=PUSH)

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["event"] == "file.created"
    assert event["occurred"] == "2019-08-09T18:15:43.394489Z"
    assert event["resource"] == {
        "prefect.resource.id": "gs://travel-maps/Bali.jpg",
        "prefect.resource.name": "Bali.jpg",
        "gcs.bucket": "travel-maps",
        "gcs.object": "Bali.jpg",
        "gcs.generation": "1565374543394632",
        "gcs.size": "40213",
        "gcs.content-type": "image/jpeg",
        "gcs.md5": "TPq6gFn3TiGH4VZ3FjpbHw==",
        "gcs.crc32c": "oMYtvw==",
        "gcs.etag": "CLjrgfmlu+QCEAE=",
        "gcs.storage-class": "MULTI_REGIONAL",
        "gcs.metageneration": "1",
    }
    assert event["payload"]["object"] == OBJECT
    assert event["payload"]["pubsub"]["subscription"] == PUSH["subscription"]


async def test_redelivery_of_a_generation_is_stored_once(http, engine: Engine, add, events):
    await add(http, "gcs", preset="gcs")
    redelivered = copy.deepcopy(PUSH)
    redelivered["message"]["messageId"] = "2070443601311999"

    first = await http.post("/hooks/gcs", json=PUSH)
    again = await http.post("/hooks/gcs", json=redelivered)
    new_generation = await http.post(
        "/hooks/gcs", json=push("OBJECT_FINALIZE", objectGeneration="2")
    )

    assert [r.json()["stored"] for r in (first, again, new_generation)] == [1, 0, 1]
    assert len(await events(engine)) == 2


async def test_event_types(http, engine: Engine, add, events):
    await add(http, "gcs", preset="gcs")
    bodies = [
        push("OBJECT_DELETE"),
        push("OBJECT_METADATA_UPDATE"),
        push("OBJECT_ARCHIVE"),
        push("OBJECT_DELETE", objectGeneration="1", overwrittenByGeneration="1565374543394632"),
    ]
    for body in bodies:
        assert (await http.post("/hooks/gcs", json=body)).status_code == 200

    names = [event["event"] for event in await events(engine)]

    assert names == ["file.deleted", "file.metadata_updated", "file.archived", "file.overwritten"]


async def test_payload_format_none_has_no_object(http, engine: Engine, add, events):
    await add(http, "gcs", preset="gcs")
    body = push("OBJECT_FINALIZE", payloadFormat="NONE")
    del body["message"]["data"]

    response = await http.post("/hooks/gcs", json=body)

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["payload"]["object"] is None
    assert "gcs.size" not in event["resource"]


async def test_missing_attributes_are_422_naming_them(http, engine: Engine, add):
    await add(http, "gcs", preset="gcs")
    body = copy.deepcopy(PUSH)
    del body["message"]["attributes"]["objectId"]

    response = await http.post("/hooks/gcs", json=body)

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "message", "attributes", "objectId"], "msg": "Field required"}
    ]
    assert engine.store.stats.total == 0
