"""Flow runs, their state history, task runs and log lines in the SQLite file.

Reads go through the store's reader connection; every write is one `store.transact` call, so
runs share the file's single writer with events. Log lines arrive in batches (one transaction
for many lines, from many runs) and each run keeps only its newest `keep` lines: when older
ones make way, a note record in the first kept place says how many were dropped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from evtui.flows.records import FlowRun, LogRecord, RunCause, StateRecord, TaskRun
from evtui.store.rows import from_micros, to_micros
from evtui.store.store import Store

RUN_COLUMNS = (
    "id, name, flow, parameters, state, state_message, cause_kind, cause_event_id,"
    " automation_id, rerun_of, created, started, ended, attempt, retries"
)
UPSERT_RUN = f"""
    INSERT INTO flow_runs ({RUN_COLUMNS}) VALUES ({", ".join("?" * 15)})
    ON CONFLICT (id) DO UPDATE SET state = excluded.state,
        state_message = excluded.state_message, started = excluded.started,
        ended = excluded.ended, attempt = excluded.attempt
"""
INSERT_STATE = "INSERT INTO flow_run_states (id, run_id, state, ts, message) VALUES (?, ?, ?, ?, ?)"
UPSERT_TASK = """
    INSERT INTO task_runs (id, flow_run_id, task, state, started, ended, message)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET state = excluded.state, started = excluded.started,
        ended = excluded.ended, message = excluded.message
"""
INSERT_LOG = (
    "INSERT OR REPLACE INTO run_logs (run_id, seq, ts, level, stream, logger, message)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
LOG_COLUMNS = "seq, run_id, ts, level, stream, logger, message"


def _micros(moment: Any) -> int | None:
    return to_micros(moment) if moment is not None else None


def _moment(micros: int | None) -> Any:
    return from_micros(micros) if micros is not None else None


def _run_row(run: FlowRun) -> tuple:
    return (
        run.id,
        run.name,
        run.flow,
        json.dumps(run.parameters),
        run.state,
        run.state_message,
        run.cause.kind,
        run.cause.event_id,
        run.cause.automation_id,
        run.cause.rerun_of,
        to_micros(run.created),
        _micros(run.started),
        _micros(run.ended),
        run.attempt,
        run.retries,
    )


def _run_from_row(row: Sequence[Any]) -> FlowRun:
    id_, name, flow, parameters, state, message, kind, event_id, automation_id, rerun_of = row[:10]
    created, started, ended, attempt, retries = row[10:]
    return FlowRun(
        id=id_,
        name=name,
        flow=flow,
        parameters=json.loads(parameters),
        state=state,
        state_message=message,
        cause=RunCause(kind, event_id, automation_id, rerun_of),
        created=from_micros(created),
        started=_moment(started),
        ended=_moment(ended),
        attempt=attempt,
        retries=retries,
    )


def dropped_note(run_id: str, dropped: int, keep: int, ts: Any) -> LogRecord:
    """The record standing in for a run's dropped lines: its `seq` is their count."""
    return LogRecord(
        seq=dropped,
        run_id=run_id,
        ts=ts,
        level="WARNING",
        stream="evtui",
        logger="evtui.runner",
        message=f"{dropped} earlier log lines dropped (a run keeps its last {keep})",
    )


def _log_row(record: LogRecord) -> tuple:
    return (
        record.run_id,
        record.seq,
        to_micros(record.ts),
        record.level,
        record.stream,
        record.logger,
        record.message,
    )


def _write_logs(conn: sqlite3.Connection, records: Sequence[LogRecord], keep: int) -> None:
    """Insert a batch, then trim each run past `keep` records (the note counts as one).

    A run with lines 1..L over the bound keeps lines L-keep+2..L and the note at seq
    L-keep+1, which says that many lines were dropped. Lines that would be trimmed at once
    are not inserted at all.
    """
    last: dict[str, LogRecord] = {}
    for record in records:
        last[record.run_id] = record
    cut = {run_id: record.seq - keep + 1 for run_id, record in last.items() if record.seq > keep}
    conn.executemany(INSERT_LOG, [_log_row(r) for r in records if r.seq > cut.get(r.run_id, 0)])
    for run_id, dropped in cut.items():
        conn.execute("DELETE FROM run_logs WHERE run_id = ? AND seq <= ?", (run_id, dropped))
        conn.execute(INSERT_LOG, _log_row(dropped_note(run_id, dropped, keep, last[run_id].ts)))


class RunStore:
    """The runs tables: the runner writes, the API, CLI and TUI read."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- writing --------------------------------------------------------------------------

    async def record_state(self, run: FlowRun, state: StateRecord) -> None:
        """Save the run as it is now (inserting it the first time) and append its new state."""
        state_row = (state.id, run.id, state.state, to_micros(state.ts), state.message)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(UPSERT_RUN, _run_row(run))
            conn.execute(INSERT_STATE, state_row)

        await self.store.transact(work)

    async def record_task(self, task: TaskRun) -> None:
        row = (
            task.id,
            task.flow_run_id,
            task.task,
            task.state,
            _micros(task.started),
            _micros(task.ended),
            task.message,
        )
        await self.store.transact(lambda conn: conn.execute(UPSERT_TASK, row))

    async def append_logs(self, records: Sequence[LogRecord], keep: int) -> None:
        """Store a batch of log lines (any runs, each run's in `seq` order) in one commit."""
        if records:
            await self.store.transact(lambda conn: _write_logs(conn, records, keep))

    # -- reading --------------------------------------------------------------------------

    async def _runs(self, sql: str, params: Sequence[Any]) -> list[FlowRun]:
        async with self.store.reader.execute(sql, params) as cursor:
            return [_run_from_row(tuple(row)) for row in await cursor.fetchall()]

    async def list_runs(
        self,
        *,
        flow: str | None = None,
        states: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[FlowRun]:
        """Runs newest first, optionally of one flow and in some states."""
        where, params = [], []
        if flow is not None:
            where.append("flow = ?")
            params.append(flow)
        if states:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return await self._runs(
            f"SELECT {RUN_COLUMNS} FROM flow_runs {clause}"
            " ORDER BY created DESC, id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )

    async def get_run(self, run_id: str) -> FlowRun | None:
        found = await self._runs(f"SELECT {RUN_COLUMNS} FROM flow_runs WHERE id = ?", [run_id])
        return found[0] if found else None

    async def unfinished_runs(self) -> list[FlowRun]:
        """Runs not in a final state, oldest first (after a restart: the ones cut short)."""
        return await self._runs(
            f"SELECT {RUN_COLUMNS} FROM flow_runs WHERE state NOT IN"
            " ('Completed', 'Failed', 'Crashed', 'Cancelled', 'TimedOut') ORDER BY created",
            [],
        )

    async def runs_caused_by(self, event_ids: list[str]) -> list[FlowRun]:
        """Runs whose cause is one of these events, oldest first."""
        if not event_ids:
            return []
        return await self._runs(
            f"SELECT {RUN_COLUMNS} FROM flow_runs WHERE cause_event_id IN"
            " (SELECT value FROM json_each(?)) ORDER BY created",
            [json.dumps(event_ids)],
        )

    async def task_runs(self, run_id: str) -> list[TaskRun]:
        async with self.store.reader.execute(
            "SELECT id, flow_run_id, task, state, started, ended, message FROM task_runs"
            " WHERE flow_run_id = ? ORDER BY pos",
            (run_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            TaskRun(id_, run, task, state, _moment(started), _moment(ended), message)
            for id_, run, task, state, started, ended, message in rows
        ]

    async def states(self, run_id: str) -> list[StateRecord]:
        async with self.store.reader.execute(
            "SELECT id, state, ts, message FROM flow_run_states WHERE run_id = ? ORDER BY pos",
            (run_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [StateRecord(id_, state, from_micros(ts), msg) for id_, state, ts, msg in rows]

    async def logs(self, run_id: str, after: int = 0, limit: int = 1000) -> list[LogRecord]:
        """A run's log records with `seq` past `after`, in order."""
        async with self.store.reader.execute(
            f"SELECT {LOG_COLUMNS} FROM run_logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (run_id, after, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            LogRecord(seq, run, from_micros(ts), level, stream, logger, message)
            for seq, run, ts, level, stream, logger, message in rows
        ]
