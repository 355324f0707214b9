"""Command-line flags for polled sources: `--watch-sql URL` and the settings that follow it.

    evtui serve --watch-sql sqlite:///warehouse.db --query "SELECT * FROM orders
        WHERE id > :cursor" --cursor id --every 5s --watch-sql postgresql://... --query ...

Each `--watch-sql` starts an entry; `--query`, `--cursor`, `--every`, `--key`, `--name`,
`--event` and `--start` fill in the entry of the `--watch-sql` before them, so several sources
can be given on one line. The entries are the same dicts as `[[watch_sql]]` tables in the
config file, checked by `SqlPollSpec` when the engine starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

DESTINATION = "watch_sql"
SETTINGS = {
    "--query": ("SQL", "the polled query, with a :cursor parameter"),
    "--cursor": ("COLUMN", "result column that only grows (an id, updated_at)"),
    "--every": ("DURATION", "time between polls, e.g. 5s, 500ms, 2m (default 5s)"),
    "--key": ("COLUMNS", "result columns that identify a row (default: the cursor column)"),
    "--name": ("NAME", "the source's name (default: the database's name)"),
    "--event": ("NAME", "event name (default db.row.polled)"),
    "--start": ("VALUE", "cursor value to begin after (default: rows there now are skipped)"),
}


def _start_value(text: str) -> int | float | str:
    """`--start 0` is the number 0 (as `start = 0` in TOML), anything else stays text: a
    text cursor bound against an untyped SQLite expression never compares below a number."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


class _WatchSql(argparse.Action):
    """`--watch-sql URL` starts an entry; each other flag sets one setting of the last one."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        entries = list(getattr(namespace, DESTINATION, None) or [])
        setting = self.dest.removeprefix("sql_")
        if self.dest == DESTINATION:
            entries.append({"url": values})
        elif not entries:
            parser.error(f"{option_string}: give it after the --watch-sql URL it belongs to")
        elif setting in entries[-1]:
            parser.error(f"{option_string}: given twice for --watch-sql {entries[-1]['url']}")
        else:
            entries[-1][setting] = values
        setattr(namespace, DESTINATION, entries)


def add_watch_sql_flags(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--watch-sql",
        action=_WatchSql,
        metavar="URL",
        help="poll a query (sqlite:///PATH or postgresql://USER@HOST/DB) and emit "
        "db.row.polled for rows past its cursor (repeatable; --query and --cursor follow)",
    )
    for flag, (metavar, text) in SETTINGS.items():
        group.add_argument(
            flag,
            action=_WatchSql,
            dest="sql_" + flag.removeprefix("--"),
            type=_start_value if flag == "--start" else str,
            metavar=metavar,
            help=f"--watch-sql: {text}",
        )
