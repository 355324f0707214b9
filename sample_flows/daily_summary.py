"""Downstream of `process_new_file`: chained on its `custom.file_processed` event.

It rebuilds the `daily_summary` table of the warehouse from the `loads` ledger that
`process_new_file` keeps: per day, how many files arrived and how many rows were loaded or
rejected. By hand:

    evtui run daily_summary
"""

from __future__ import annotations

import sqlite3

from evtui import flow, get_run_logger


@flow(name="daily_summary")
def daily_summary(warehouse: str = "warehouse.db") -> list[dict[str, object]]:
    """Recompute the per-day totals; returns them, newest day first."""
    logger = get_run_logger()
    with sqlite3.connect(warehouse) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS loads (file TEXT, tbl TEXT, rows INTEGER,"
            " rejected INTEGER, loaded_at TEXT)"
        )
        db.execute("DROP TABLE IF EXISTS daily_summary")
        db.execute(
            "CREATE TABLE daily_summary AS SELECT substr(loaded_at, 1, 10) AS day,"
            " count(*) AS files, sum(rows) AS rows, sum(rejected) AS rejected"
            " FROM loads GROUP BY day"
        )
        days = db.execute(
            "SELECT day, files, rows, rejected FROM daily_summary ORDER BY day DESC"
        ).fetchall()
    for day, files, rows, rejected in days:
        logger.info("%s: %d files, %d rows loaded, %d rejected", day, files, rows, rejected)
    return [{"day": d, "files": f, "rows": r, "rejected": x} for d, f, r, x in days]
