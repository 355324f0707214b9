"""Durability: every acknowledged event survives a SIGKILL, stored exactly once."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import start_serve

SENDERS = 4
KILL_AFTER_ACKNOWLEDGED = 1500


def make_batch(sender: int, number: int) -> list[dict]:
    size = 1 + (number % 7)
    return [
        {
            "id": str(uuid.uuid4()),
            "occurred": "2026-11-26T10:00:00Z",
            "event": "crash.test",
            "resource": {"prefect.resource.id": f"sender.{sender}", "n": str(number)},
        }
        for _ in range(size)
    ]


def stored_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM events")]


def test_acknowledged_events_survive_sigkill_and_resends_are_stored_once(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    server = start_serve(db)
    acknowledged: list[str] = []
    attempted: list[list[dict]] = []
    lock = threading.Lock()
    killed = threading.Event()

    def send(sender: int) -> None:
        with httpx.Client(base_url=server.api_url, timeout=10) as client:
            number = 0
            while not killed.is_set():
                batch = make_batch(sender, number)
                number += 1
                with lock:
                    attempted.append(batch)
                try:
                    response = client.post("/events", json=batch)
                except httpx.HTTPError:
                    return
                if response.status_code == 204:
                    with lock:
                        acknowledged.extend(e["id"] for e in batch)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < KILL_AFTER_ACKNOWLEDGED and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # SIGKILL, mid-stream: senders still have requests in flight
    killed.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED

    restarted = start_serve(db)
    try:
        after_crash = stored_ids(db)
        assert len(after_crash) == len(set(after_crash))
        assert set(acknowledged) <= set(after_crash)

        with httpx.Client(base_url=restarted.api_url, timeout=10) as client:
            for batch in attempted:  # a client resending everything it is unsure of
                assert client.post("/events", json=batch).status_code == 204
    finally:
        assert restarted.stop() == 0

    final = stored_ids(db)
    everything = {e["id"] for batch in attempted for e in batch}
    assert len(final) == len(set(final)) == len(everything)
