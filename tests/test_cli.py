"""The `evtui` command as a user types it: real processes, real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from evtui.cli import event_query, parse_since
from tests.conftest import ServeProcess


def evtui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evtui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_version() -> None:
    result = evtui("version")
    assert result.returncode == 0
    assert result.stdout.startswith("evtui 0.1.0")


def test_emit_then_list_events(serve: ServeProcess) -> None:
    url = ["--api-url", serve.api_url]
    emitted = evtui(
        "emit", "file.created", "--resource-id", "file./data/a.csv",
        "--label", "name=a.csv", "--payload", '{"size": 1200}',
        "--related", '{"prefect.resource.id": "folder./data", "prefect.resource.role": "folder"}',
        *url,
    )  # fmt: skip
    assert emitted.returncode == 0, emitted.stderr
    event_id = emitted.stdout.strip()
    port = serve.api_url.rsplit(":", 1)[1].split("/")[0]
    other = evtui("--port", port, "emit", "other.thing", "--resource-id", "x.1")
    assert other.returncode == 0, other.stderr  # the engine's --port also aims the client

    listed = evtui("events", "--json", "--name", "file.*", *url)
    assert listed.returncode == 0, listed.stderr
    events = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [e["id"] for e in events] == [event_id]
    assert events[0]["payload"] == {"size": 1200}
    assert events[0]["related"][0]["prefect.resource.role"] == "folder"

    text = evtui("events", "--resource", "file.*.csv", "--since", "1h", *url)
    assert "file.created  file./data/a.csv  name=a.csv" in text.stdout
    assert "other.thing" not in text.stdout


def test_events_follow_prints_new_events_as_they_arrive(serve: ServeProcess) -> None:
    follower = subprocess.Popen(
        [sys.executable, "-m", "evtui", "events", "--follow", "--json", "--name", "live.*",
         "--api-url", serve.api_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(follower.stdout.readline, "")))
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not lines and time.monotonic() < deadline:
            evtui("emit", "live.tick", "--resource-id", "clock", "--api-url", serve.api_url)
            evtui("emit", "dead.tick", "--resource-id", "clock", "--api-url", serve.api_url)
        assert lines, "evtui events --follow printed nothing"
        assert all(json.loads(line)["event"] == "live.tick" for line in lines)
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        reader.join(timeout=10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["emit", "x", "--resource-id", "a", "--payload", "[1"], "--payload: not valid JSON"),
        (["emit", "x", "--resource-id", "a", "--payload", "[1]"], "--payload: expected an object"),
        (["emit", "x", "--resource-id", "a", "--label", "oops"], "--label: expected KEY=VALUE"),
        (["emit", "x", "--resource-id", ""], "resource: must have a non-empty"),
        (["events", "--since", "last tuesday"], "--since: 'last tuesday' is neither"),
        (["serve", "--host", "0.0.0.0"], "requires an API token"),
        (["serve", "--port", "99999"], "port (command line): Input should be less than"),
        (
            ["emit", "x", "--resource-id", "a", "--api-url", "http://127.0.0.1:9/api"],
            "could not deliver to http://127.0.0.1:9/api/events: connection refused",
        ),
    ],
)
def test_user_errors_are_one_line_without_traceback(args: list[str], message: str) -> None:
    result = evtui(*args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("evtui: error: "), result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_busy_port_is_a_clear_error(serve: ServeProcess) -> None:
    port = serve.api_url.rsplit(":", 1)[1].split("/")[0]
    result = evtui("serve", "--port", port, "--db", str(serve.db.parent / "other.db"))
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_stops_cleanly_on_sigterm_after_committing(serve: ServeProcess) -> None:
    for n in range(5):
        evtui("emit", "bye", "--resource-id", f"r.{n}", "--api-url", serve.api_url)
    assert serve.stop() == 0
    import sqlite3

    with sqlite3.connect(serve.db) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 5


def test_since_accepts_durations_and_timestamps() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert parse_since("10m", now) == now - timedelta(minutes=10)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("1.5d", now) == now - timedelta(days=1.5)
    assert parse_since("2026-11-01T00:00:00") == datetime(2026, 11, 1, tzinfo=UTC)


def test_globs_become_the_narrowest_server_filter() -> None:
    query, keep = event_query("file.*", "s3.bucket.*")
    assert query == {
        "event": {"prefix": ["file."]},
        "resource": {"labels": {"prefect.resource.id": ["s3.bucket.*"]}},
    }
    assert keep({"event": "file.created", "resource": {"prefect.resource.id": "s3.bucket.a"}})
    assert not keep({"event": "filex", "resource": {"prefect.resource.id": "s3.bucket.a"}})
    exact, _ = event_query("file.created", None)
    assert exact == {"event": {"name": ["file.created"]}}
    middle, keep_middle = event_query("file.*.done", None)
    assert middle == {"event": {"prefix": ["file."]}}
    assert not keep_middle({"event": "file.x.started", "resource": {}})
