"""The SQLite schema as an ordered list of migrations.

`PRAGMA user_version` records how many migrations a file has had. Opening a file applies the
missing ones in order, each in its own transaction, so a file from any earlier evtui version
upgrades in place and a new file is built by the very same steps.
"""

from __future__ import annotations

import aiosqlite

MIGRATIONS: list[str] = [
    # 1: events and the resources they involve (reference §5.1). Times are integer
    # microseconds since the epoch, UTC, so ranges and ordering are plain integer compares.
    # `event_resources` has a row per primary (role "") and related resource; by resource id
    # it indexes only the related rows, since the primary's id is indexed on `events`
    # (migration 3): every index a row joins is paid for on each insert.
    """
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        occurred INTEGER NOT NULL,
        event TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        resource TEXT NOT NULL,
        related_resource_ids TEXT NOT NULL,
        related TEXT NOT NULL,
        payload TEXT NOT NULL,
        received INTEGER NOT NULL,
        recorded INTEGER NOT NULL,
        follows TEXT
    );
    CREATE INDEX ix_events_occurred ON events (occurred);
    CREATE INDEX ix_events_event_occurred ON events (event, occurred);
    CREATE TABLE event_resources (
        occurred INTEGER NOT NULL,
        resource_id TEXT NOT NULL,
        resource_role TEXT NOT NULL,
        resource TEXT NOT NULL,
        event_id TEXT NOT NULL
    );
    CREATE INDEX ix_event_resources_related_occurred
        ON event_resources (resource_id, occurred) WHERE resource_role != '';
    CREATE INDEX ix_event_resources_event_id ON event_resources (event_id);
    CREATE INDEX ix_event_resources_role ON event_resources (resource_role, occurred);
    """,
    # 2: small durable key/value facts about this store (e.g. its identity, cursors of
    # sources), kept apart from events so retention never touches them.
    """
    CREATE TABLE store_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
    """,
    # 3: one resource's events in time order straight from an index; the most common query
    # (and the `resource.id` filter) would otherwise scan every event in the time range.
    """
    CREATE INDEX ix_events_resource_occurred ON events (resource_id, occurred);
    """,
    # 4: webhooks defined through the API or CLI. The definition is the JSON of the pydantic
    # model in `evtui/webhooks/`, so adding a field to a webhook needs no migration.
    """
    CREATE TABLE webhooks (
        slug TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL
    );
    """,
    # 5: flow runs (`evtui/store/runs.py`): a row per run with its latest state, its state
    # history, the task runs inside it and its log lines. Runs are listed newest first, by
    # flow or by state, and found by the event that caused them (lineage); logs are read by
    # run in `seq` order, which is also their primary key.
    """
    CREATE TABLE flow_runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        flow TEXT NOT NULL,
        parameters TEXT NOT NULL,
        state TEXT NOT NULL,
        state_message TEXT,
        cause_kind TEXT NOT NULL,
        cause_event_id TEXT,
        automation_id TEXT,
        rerun_of TEXT,
        created INTEGER NOT NULL,
        started INTEGER,
        ended INTEGER,
        attempt INTEGER NOT NULL,
        retries INTEGER NOT NULL
    );
    CREATE INDEX ix_flow_runs_created ON flow_runs (created);
    CREATE INDEX ix_flow_runs_flow_created ON flow_runs (flow, created);
    CREATE INDEX ix_flow_runs_state_created ON flow_runs (state, created);
    CREATE INDEX ix_flow_runs_cause_event
        ON flow_runs (cause_event_id) WHERE cause_event_id IS NOT NULL;
    CREATE TABLE flow_run_states (
        pos INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        run_id TEXT NOT NULL,
        state TEXT NOT NULL,
        ts INTEGER NOT NULL,
        message TEXT
    );
    CREATE INDEX ix_flow_run_states_run ON flow_run_states (run_id, pos);
    CREATE TABLE task_runs (
        pos INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        flow_run_id TEXT NOT NULL,
        task TEXT NOT NULL,
        state TEXT NOT NULL,
        started INTEGER,
        ended INTEGER,
        message TEXT
    );
    CREATE INDEX ix_task_runs_flow_run ON task_runs (flow_run_id, pos);
    CREATE TABLE run_logs (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        level TEXT NOT NULL,
        stream TEXT NOT NULL,
        logger TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    """,
    # 6: automations (`evtui/automations/store.py`). The definition is the JSON of the
    # pydantic model, Prefect's shape, so a new trigger or action field needs no migration.
    # Names are not unique (as in Prefect) but indexed: automations as code apply by name.
    # `source` is 'api' or the file that defines the automation (`evtui/automations/
    # folder.py`), and `source_digest` the digest of the definition last applied from that
    # file, so an unchanged file is not applied again over a pause made since.
    """
    CREATE TABLE automations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        source TEXT NOT NULL,
        source_digest TEXT,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL
    );
    CREATE INDEX ix_automations_name ON automations (name);
    """,
    # 7: trigger state (`evtui/automations/buckets.py`): the counting window of each
    # (automation, trigger, bucket key) and the latest firing of each child of a composite
    # trigger, so a restart forgets nothing. The evaluator holds this state in memory and
    # writes the rows it changed once per batch of events; rows are only read back whole at
    # start-up, so no index beyond the keys is needed. The evaluator's cursor (the last event
    # `seq` it evaluated) is a `store_meta` row committed in the same transaction.
    """
    CREATE TABLE automation_buckets (
        automation_id TEXT NOT NULL,
        trigger_id TEXT NOT NULL,
        bucket_key TEXT NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        count INTEGER NOT NULL,
        last_event TEXT,
        PRIMARY KEY (automation_id, trigger_id, bucket_key)
    ) WITHOUT ROWID;
    CREATE TABLE automation_child_firings (
        automation_id TEXT NOT NULL,
        parent_trigger_id TEXT NOT NULL,
        child_trigger_id TEXT NOT NULL,
        firing TEXT NOT NULL,
        PRIMARY KEY (automation_id, parent_trigger_id, child_trigger_id)
    ) WITHOUT ROWID;
    """,
    # 8: firings and the actions they ran (`evtui/automations/firings.py`). An action's
    # idempotency key (automation, firing, action) is its primary key, so a redelivered or
    # replayed firing can never run an action twice.
    """
    CREATE TABLE automation_firings (
        id TEXT PRIMARY KEY,
        automation_id TEXT NOT NULL,
        trigger_id TEXT NOT NULL,
        state TEXT NOT NULL,
        occurred INTEGER NOT NULL,
        triggering_event_id TEXT,
        firing TEXT NOT NULL
    );
    CREATE INDEX ix_automation_firings_automation ON automation_firings (automation_id, occurred);
    CREATE INDEX ix_automation_firings_event
        ON automation_firings (triggering_event_id) WHERE triggering_event_id IS NOT NULL;
    CREATE TABLE automation_actions (
        idempotency_key TEXT PRIMARY KEY,
        firing_id TEXT NOT NULL,
        automation_id TEXT NOT NULL,
        action_index INTEGER NOT NULL,
        action_type TEXT NOT NULL,
        state TEXT NOT NULL,
        started INTEGER NOT NULL,
        ended INTEGER,
        result TEXT
    );
    CREATE INDEX ix_automation_actions_firing ON automation_actions (firing_id, action_index);
    """,
    # 9: where each polled source (`evtui/sources/sql_poll/`) has got to: the cursor value of
    # the last row whose event is committed, as tagged JSON (`{"int": 42}`, `{"datetime":
    # "..."}`) so it is bound back with its type. Written only after the events are stored.
    """
    CREATE TABLE source_cursors (
        source TEXT PRIMARY KEY,
        cursor TEXT NOT NULL,
        updated INTEGER NOT NULL
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The file was written by a newer evtui; opening it could corrupt it."""


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the file up to `target`; returns the version it had before."""
    before = await schema_version(conn)
    if before > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the database has schema version {before}, newer than this evtui "
            f"understands ({SCHEMA_VERSION}); upgrade evtui or use another --db"
        )
    for version in range(before, target):
        script = MIGRATIONS[version]
        await conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version + 1};\nCOMMIT;")
    return before
