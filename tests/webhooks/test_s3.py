"""The `s3` preset with AWS's published examples: S3 event message, SNS notification envelope,
SNS subscription confirmation and the S3 test event."""

from __future__ import annotations

import copy
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from evtui.engine import Engine
from evtui.webhooks.sns import SubscriptionConfirmer

S3_MESSAGE = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-west-2",
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "172.16.0.1"},
            "responseElements": {
                "x-amz-request-id": "C3D13FE58DE4C810",
                "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {
                    "name": "amzn-s3-demo-bucket",
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": "arn:aws:s3:::amzn-s3-demo-bucket",
                },
                "object": {
                    "key": "HappyFace.jpg",
                    "size": 1024,
                    "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                    "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                    "sequencer": "0055AED6DCD90281E5",
                },
            },
        }
    ]
}
"""AWS's example message (S3 user guide, "Event message structure")."""

TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2014-10-13T15:57:02.089Z",
    "Bucket": "amzn-s3-demo-bucket",
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}

TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic"
SNS_HEADERS = {
    "x-amz-sns-topic-arn": TOPIC,
    "Content-Type": "text/plain; charset=UTF-8",
    "User-Agent": "Amazon Simple Notification Service Agent",
}


def sns_notification(message: dict) -> dict:
    """AWS's example HTTP notification (SNS guide), carrying `message` as its Message."""
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Subject": "Amazon S3 Notification",
        "Message": json.dumps(message),
        "Timestamp": "2012-05-02T00:54:06.655Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEw6JRN...",
        "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
        + TOPIC
        + ":c9135db0-26c4-47ec-8998-413945fb5a96",
    }


def subscription_confirmation(subscribe_url: str) -> dict:
    """AWS's example SubscriptionConfirmation (SNS guide), with its SubscribeURL replaced."""
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": subscribe_url,
        "Timestamp": "2012-04-26T20:45:04.751Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQv"
        "i2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6"
        "jI9b5+gLPoBc1Q=",
        "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
    }


class FakeSns:
    """A loopback HTTP server standing in for SNS's confirmation endpoint."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.status = 200
        paths = self.paths
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(fake.status)
                self.send_header("Content-Type", "text/xml")
                self.end_headers()
                self.wfile.write(b"<ConfirmSubscriptionResponse/>")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_sns() -> Iterator[FakeSns]:
    server = FakeSns()
    yield server
    server.close()


async def test_the_aws_example_message_posted_directly(http, engine: Engine, add, events):
    await add(http, "bucket", preset="s3")

    response = await http.post("/hooks/bucket", json=S3_MESSAGE)

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["event"] == "file.created"
    assert event["occurred"].startswith("1970-01-01T00:00:00")
    assert event["resource"] == {
        "prefect.resource.id": "s3://amzn-s3-demo-bucket/HappyFace.jpg",
        "prefect.resource.name": "HappyFace.jpg",
        "s3.bucket": "amzn-s3-demo-bucket",
        "s3.key": "HappyFace.jpg",
        "s3.size": "1024",
        "s3.etag": "d41d8cd98f00b204e9800998ecf8427e",
        "s3.region": "us-west-2",
        "s3.version-id": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
        "s3.sequencer": "0055AED6DCD90281E5",
    }
    assert event["related"][0] == {
        "prefect.resource.id": "s3://amzn-s3-demo-bucket",
        "prefect.resource.role": "bucket",
        "prefect.resource.name": "amzn-s3-demo-bucket",
    }
    assert event["payload"]["record"] == S3_MESSAGE["Records"][0]


async def test_inside_an_sns_notification(http, engine: Engine, add, events):
    await add(http, "bucket", preset="s3")
    headers = {**SNS_HEADERS, "x-amz-sns-message-type": "Notification"}

    response = await http.post(
        "/hooks/bucket", content=json.dumps(sns_notification(S3_MESSAGE)), headers=headers
    )

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["resource"]["prefect.resource.id"] == "s3://amzn-s3-demo-bucket/HappyFace.jpg"
    assert event["payload"]["sns"] == {
        "message_id": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "topic_arn": TOPIC,
    }


async def test_a_duplicate_sequencer_is_stored_once(http, engine: Engine, add, events):
    """The same record directly and through SNS (a relay plus a redelivery): one event."""
    await add(http, "bucket", preset="s3")

    first = await http.post("/hooks/bucket", json=S3_MESSAGE)
    again = await http.post("/hooks/bucket", json=S3_MESSAGE)
    via_sns = await http.post("/hooks/bucket", json=sns_notification(S3_MESSAGE))

    assert [r.json()["stored"] for r in (first, again, via_sns)] == [1, 0, 0]
    assert len(await events(engine)) == 1


async def test_keys_are_url_decoded_and_removals_are_deletions(http, engine: Engine, add, events):
    await add(http, "bucket", preset="s3")
    message = copy.deepcopy(S3_MESSAGE)
    record = message["Records"][0]
    record["eventName"] = "ObjectRemoved:Delete"
    record["s3"]["object"] = {
        "key": "daily+reports/caf%C3%A9+menu.csv",
        "sequencer": "0055AED6DCD90281E6",
    }
    created = copy.deepcopy(S3_MESSAGE["Records"][0])
    message["Records"].insert(0, created)

    response = await http.post("/hooks/bucket", json=message)

    assert response.status_code == 200, response.text
    created_event, deleted = await events(engine)
    assert created_event["event"] == "file.created"
    assert deleted["event"] == "file.deleted"
    assert (
        deleted["resource"]["prefect.resource.id"]
        == "s3://amzn-s3-demo-bucket/daily reports/café menu.csv"
    )
    assert deleted["resource"]["prefect.resource.name"] == "café menu.csv"


async def test_the_s3_test_event_is_acknowledged_without_an_event(http, engine: Engine, add):
    await add(http, "bucket", preset="s3")

    direct = await http.post("/hooks/bucket", json=TEST_EVENT)
    via_sns = await http.post("/hooks/bucket", json=sns_notification(TEST_EVENT))

    for response in (direct, via_sns):
        assert response.status_code == 200, response.text
        assert response.json()["ids"] == []
        assert "s3:TestEvent" in response.json()["note"]
    assert engine.store.stats.total == 0


async def test_a_subscription_confirmation_visits_the_subscribe_url(
    http, engine: Engine, add, fake_sns: FakeSns
):
    engine.webhooks.confirmer = SubscriptionConfirmer(  # type: ignore[attr-defined]
        allow=lambda url: url.host == "127.0.0.1", trust_env=False
    )
    await add(http, "bucket", preset="s3")
    url = f"{fake_sns.url}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37"
    headers = {**SNS_HEADERS, "x-amz-sns-message-type": "SubscriptionConfirmation"}

    response = await http.post(
        "/hooks/bucket", content=json.dumps(subscription_confirmation(url)), headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"confirmed": True, "topic": TOPIC}
    assert fake_sns.paths == [f"/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37"]
    assert engine.store.stats.total == 0


async def test_a_subscribe_url_off_aws_is_not_visited(http, engine: Engine, add, fake_sns: FakeSns):
    await add(http, "bucket", preset="s3")

    response = await http.post(
        "/hooks/bucket",
        json=subscription_confirmation(f"{fake_sns.url}/?Action=ConfirmSubscription"),
    )

    assert response.status_code == 502
    assert "not an SNS endpoint" in response.json()["detail"][0]["msg"]
    assert fake_sns.paths == []


async def test_a_refused_confirmation_is_502(http, engine: Engine, add, fake_sns: FakeSns):
    engine.webhooks.confirmer = SubscriptionConfirmer(  # type: ignore[attr-defined]
        allow=lambda url: url.host == "127.0.0.1", trust_env=False
    )
    fake_sns.status = 403
    await add(http, "bucket", preset="s3")

    response = await http.post(
        "/hooks/bucket", json=subscription_confirmation(f"{fake_sns.url}/?Token=expired")
    )

    assert response.status_code == 502
    assert response.json()["detail"] == [
        {"loc": ["body", "SubscribeURL"], "msg": "SNS answered the confirmation with HTTP 403"}
    ]
    assert fake_sns.paths == ["/?Token=expired"]


async def test_a_record_missing_its_bucket_is_422_naming_it(http, engine: Engine, add):
    await add(http, "bucket", preset="s3")
    message = copy.deepcopy(S3_MESSAGE)
    del message["Records"][0]["s3"]["bucket"]["name"]

    response = await http.post("/hooks/bucket", json=message)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "Records", 0, "s3", "bucket", "name"]
    assert engine.store.stats.total == 0
