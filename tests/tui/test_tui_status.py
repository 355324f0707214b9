"""The status line: address, rate, totals, write queue and drops, in 80 columns."""

from __future__ import annotations

from evtui.tui.widgets.status_bar import count, format_status


def test_a_busy_engine_fits_eighty_columns() -> None:
    line = format_status(
        {
            "address": "127.0.0.1:4200",
            "events_per_second": 15_512.4,
            "stored_total": 1_234_567,
            "write_queue": 1500,
            "write_lag_seconds": 0.0213,
            "subscribers": [{"name": "tui", "dropped": 3}, {"name": "ws", "dropped": 4}],
        }
    ).plain
    assert line == (
        "● 127.0.0.1:4200 │ 15,512 ev/s │ 1.23M stored │ queue 1,500 lag 0.02s │ drops 7"
    )
    assert len(line) <= 80


def test_an_engine_without_a_receiver_says_so() -> None:
    line = format_status({"address": "not listening", "events_per_second": 0.42}).plain
    assert line.startswith("○ not listening │ 0.4 ev/s │ 0 stored")


def test_watched_folders_come_last() -> None:
    stats = {"address": "127.0.0.1:4200", "watching": ["inbox/*.csv", "/data/**/*.json"]}
    line = format_status(stats).plain
    assert line.endswith("drops 0 │ watching inbox/*.csv, /data/**/*.json")


def test_an_idle_engine_leaves_room_beside_the_sparkline() -> None:
    """At 80 columns the narrow sparkline leaves 64: an idle line shows its drops within it."""
    stats = {"address": "127.0.0.1:4200", "stored_total": 123_456, "watching": ["inbox/*.csv"]}
    line = format_status(stats).plain
    assert line.startswith("● 127.0.0.1:4200 │ 0.0 ev/s │ 123,456 stored │ queue 0 │ drops 0 │")
    assert len(line.split(" │ watching")[0]) <= 64


def test_totals_keep_their_width() -> None:
    assert [count(n) for n in (0, 999_999, 1_000_000, 12_345_678, 123_456_789)] == [
        "0",
        "999,999",
        "1M",
        "12.3M",
        "123M",
    ]


def test_database_sources_show_their_total_lag_and_how_many_fail() -> None:
    healthy = {"name": "shop", "kind": "postgresql", "lag": 1200, "delivered": 5, "error": None}
    down = {"name": "crm", "kind": "postgresql", "lag": None, "delivered": 0, "error": "x"}
    stats = {"address": "127.0.0.1:4200", "db_sources": [healthy], "watching": ["inbox/*.csv"]}
    assert format_status(stats).plain.endswith("drops 0 │ db lag 1,200 │ watching inbox/*.csv")
    stats["db_sources"] = [healthy, down]
    assert "│ db lag 1,200, 1 failing │" in format_status(stats).plain
    assert "db lag" not in format_status({"address": "127.0.0.1:4200"}).plain
