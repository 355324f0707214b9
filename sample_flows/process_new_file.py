"""The canonical evtui scenario: a CSV lands, it is loaded into a warehouse, evtui is told.

Triggered by `file.created` (the file watcher or a bucket webhook), or by hand:

    evtui run process_new_file -p path=sample_flows/data/sales.csv

The warehouse is a SQLite file. Every row is checked before loading; rows that fail are kept in
the `rejected_rows` table with their line number and reason (never silently dropped), and the
count is in the `custom.file_processed` event that downstream flows chain on.
"""

from __future__ import annotations

import csv
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from evtui import emit_event, flow, get_run_logger, task


@dataclass
class CheckedRows:
    """The rows of one CSV, split into those that load and those that do not."""

    columns: list[str]
    good: list[list[str]] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    """(line number, reason, raw line) per rejected row."""


def table_name(path: Path) -> str:
    """A safe SQL identifier from the file name: `Sales 2024-01.csv` -> `sales_2024_01`."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", path.stem).strip("_").lower() or "data"
    return f"t_{name}" if name[0].isdigit() else name


@task
def read_and_check(path: Path) -> CheckedRows:
    """Every row needs as many fields as the header and no empty field."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise ValueError(f"{path.name} is empty: a header row is required")
        checked = CheckedRows([c.strip() or f"column_{i + 1}" for i, c in enumerate(header)])
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                reason = f"expected {len(header)} fields, found {len(row)}"
                checked.rejected.append((line, reason, ",".join(row)))
            elif empty := [checked.columns[i] for i, value in enumerate(row) if not value.strip()]:
                checked.rejected.append((line, f"empty {', '.join(empty)}", ",".join(row)))
            else:
                checked.good.append([value.strip() for value in row])
    return checked


@task
def load(checked: CheckedRows, source: Path, warehouse: Path) -> str:
    """Replace the file's table with its good rows and record the load, in one transaction."""
    table = table_name(source)
    columns = ", ".join(f'"{c}"' for c in checked.columns)
    marks = ", ".join("?" for _ in checked.columns)
    with sqlite3.connect(warehouse) as db:
        db.execute(f'DROP TABLE IF EXISTS "{table}"')
        db.execute(f'CREATE TABLE "{table}" ({columns})')
        db.executemany(f'INSERT INTO "{table}" VALUES ({marks})', checked.good)
        db.execute(
            "CREATE TABLE IF NOT EXISTS loads (file TEXT, tbl TEXT, rows INTEGER,"
            " rejected INTEGER, loaded_at TEXT)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS rejected_rows (file TEXT, line INTEGER, reason TEXT,"
            " raw TEXT)"
        )
        db.execute("DELETE FROM rejected_rows WHERE file = ?", (source.name,))
        db.executemany(
            "INSERT INTO rejected_rows VALUES (?, ?, ?, ?)",
            [(source.name, line, reason, raw) for line, reason, raw in checked.rejected],
        )
        db.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, ?)",
            (
                source.name,
                table,
                len(checked.good),
                len(checked.rejected),
                datetime.now(UTC).isoformat(),
            ),
        )
    return table


@task
def move_to_processed(path: Path, processed_dir: Path) -> Path:
    """Move the file out of the inbox so it is not processed twice."""
    processed_dir.mkdir(parents=True, exist_ok=True)
    target = processed_dir / path.name
    return Path(shutil.move(path, target))


@flow(name="process_new_file", log_prints=True)
def process_new_file(
    path: str, warehouse: str = "warehouse.db", processed_dir: str | None = None
) -> dict[str, object]:
    """Load a CSV into the warehouse, move it to `processed/`, emit `custom.file_processed`."""
    logger = get_run_logger()
    source = Path(path).expanduser().resolve()
    if not source.is_file():
        raise FileNotFoundError(f"no such file: {source}")
    checked = read_and_check(source)
    for line, reason, _raw in checked.rejected:
        logger.warning("%s line %d rejected: %s", source.name, line, reason)
    table = load(checked, source, Path(warehouse))
    moved = move_to_processed(source, Path(processed_dir or source.parent / "processed"))
    print(f"loaded {len(checked.good)} rows of {source.name} into {table}")
    summary: dict[str, object] = {
        "file": source.name,
        "table": table,
        "rows": len(checked.good),
        "rejected": len(checked.rejected),
        "warehouse": str(Path(warehouse).resolve()),
        "moved_to": str(moved),
    }
    emit_event(
        "custom.file_processed",
        resource={
            "prefect.resource.id": f"file.{source.name}",
            "prefect.resource.name": source.name,
        },
        payload=summary,
    )
    return summary
