"""Triggered by a row landing in a watched PostgreSQL `orders` table with an amount over 1000.

The automation `automations/flag_large_orders.yaml` runs it on `db.row.inserted` events from
`--watch-db ... --tables orders` (see README.md). It records the order in the warehouse's
`flagged_orders` table for someone to review, and emits `custom.order_flagged` on the order's
row, so the review queue is one event query away. By hand:

    evtui run flag_large_order -p order='{"id": 1, "customer": "ada", "amount": 1500}' \\
        -p resource=postgresql://localhost/shop/public.orders/1
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from evtui import emit_event, flow, get_run_logger


@flow(name="flag_large_order")
def flag_large_order(
    order: dict[str, object], resource: str, warehouse: str = "warehouse.db"
) -> dict[str, object]:
    """Keep the order (as the trigger saw it) in `flagged_orders`; returns what was kept."""
    logger = get_run_logger()
    flagged = {
        "order": resource,
        "amount": order.get("amount"),
        "customer": order.get("customer"),
        "flagged_at": datetime.now(UTC).isoformat(),
    }
    with sqlite3.connect(warehouse) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS flagged_orders (resource TEXT PRIMARY KEY, amount REAL,"
            " customer TEXT, row_json TEXT, flagged_at TEXT)"
        )
        db.execute(
            "INSERT OR REPLACE INTO flagged_orders VALUES (?, ?, ?, ?, ?)",
            (
                resource,
                order.get("amount"),
                order.get("customer"),
                json.dumps(order),
                flagged["flagged_at"],
            ),
        )
    logger.warning("order %s flagged for review: amount %s", resource, order.get("amount"))
    emit_event(
        "custom.order_flagged",
        resource={"prefect.resource.id": resource, "prefect.resource.name": resource},
        payload=flagged,
    )
    return flagged
