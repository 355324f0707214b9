"""The engine as both shells use it: start, ingest, subscribe, stop without losing anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evtui.engine import Engine, EventRate
from evtui.events import Event
from evtui.settings import Settings, SettingsError


def events(count: int, prefix: str = "e") -> list[Event]:
    return [
        Event(event=f"{prefix}.made", resource={"prefect.resource.id": f"r.{n}"})
        for n in range(count)
    ]


async def test_ingest_commits_then_publishes_in_order(tmp_path: Path) -> None:
    async with Engine(Settings(db=tmp_path / "e.db", port=0), serve_http=False) as engine:
        subscription = engine.subscribe("test")
        sent = events(50)
        outcome = await engine.ingest(sent)
        assert (outcome.stored, outcome.duplicates) == (50, 0)
        received = []
        while len(received) < 50:
            received.extend(await subscription.next_batch(engine.catch_up))
        assert [s.event.id for s in received] == [e.id for e in sent]
        assert [s.seq for s in received] == list(range(1, 51))
        again = await engine.ingest(sent[:10])
        assert (again.stored, again.duplicates) == (0, 10)
        assert engine.stats()["stored_total"] == 50


async def test_stop_flushes_everything_already_submitted(tmp_path: Path) -> None:
    engine = Engine(Settings(db=tmp_path / "e.db", port=0), serve_http=False)
    await engine.start()
    futures = [engine.submit(events(100, f"batch{n}")) for n in range(20)]
    await engine.stop()
    assert all(f.done() and f.result().stored == 100 for f in futures)
    async with Engine(Settings(db=tmp_path / "e.db", port=0), serve_http=False) as reopened:
        assert await reopened.store.count_events() == 2000
        assert reopened.bus.head == 2000  # new subscribers start after what is stored


async def test_receiver_listens_on_an_ephemeral_loopback_port(tmp_path: Path) -> None:
    async with Engine(Settings(db=tmp_path / "e.db", port=0)) as engine:
        host, port = engine.address.split(":")
        assert host == "127.0.0.1" and int(port) > 0
        assert engine.api_url == f"http://127.0.0.1:{port}/api"


async def test_watched_folders_feed_file_events_into_the_store(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = Settings(db=tmp_path / "e.db", port=0, watch=[f"{inbox}:*.csv"], settle_seconds=0.1)
    async with Engine(settings, serve_http=False) as engine:
        subscription = engine.subscribe("test")
        (inbox / "notes.txt").write_text("not a csv")
        (inbox / "sales.csv").write_text("a,b\n1,2\n")
        seen = await subscription.next_batch(engine.catch_up)
        assert [s.event.event for s in seen] == ["file.created"]
        assert seen[0].event.resource["evtui.file.name"] == "sales.csv"
        assert engine.stats()["watcher"]["emitted"] == 1


def test_a_missing_watched_folder_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^watch: .*nowhere"):
        Engine(Settings(db=tmp_path / "e.db", watch=[str(tmp_path / "nowhere")]))


def test_rate_counts_whole_seconds_over_the_window() -> None:
    rate = EventRate(window=5)
    for second in range(10):
        rate.add(100, now=1000 + second)
    assert rate.per_second(now=1010) == 100
    assert rate.per_second(now=1100) == 0


def test_engine_and_cli_never_import_textual() -> None:
    """The engine is headless: `evtui serve` must not pay for (or depend on) the TUI."""
    code = (
        "import sys, evtui, evtui.engine, evtui.cli, evtui.server.app, evtui.store;"
        "print('textual' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


async def test_in_a_checkout_the_samples_inbox_is_created_and_watched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sample_flows").mkdir()
    async with Engine(Settings(db=tmp_path / "e.db", port=0), serve_http=False) as engine:
        assert (tmp_path / "inbox").is_dir()
        assert engine.stats()["watching"] == ["inbox/*.csv"]


async def test_stats_name_flow_and_automation_files_that_do_not_load(tmp_path: Path) -> None:
    flows, automations = tmp_path / "flows", tmp_path / "automations"
    flows.mkdir()
    automations.mkdir()
    (flows / "broken.py").write_text("def oops(:\n")
    (automations / "broken.yaml").write_text("name: x\ntrigger: {type: event, treshold: 2}\n")
    settings = Settings(db=tmp_path / "e.db", port=0, flows=[flows], automations=[automations])
    async with Engine(settings, serve_http=False) as engine:
        stats = engine.stats()
        assert list(stats["flow_file_errors"]) == [str(flows / "broken.py")]
        assert "SyntaxError" in stats["flow_file_errors"][str(flows / "broken.py")]
        [(path, error)] = stats["automation_file_errors"].items()
        assert path == str(automations / "broken.yaml")
        assert "treshold" in error
