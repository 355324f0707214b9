"""`evtui db install-triggers|uninstall-triggers`: the outbox, its trigger function, the triggers.

Everything lives in the schema `evtui`: `evtui.install` (one row, readable by all: a random id
naming this outbox, so event ids stay unique even if the outbox is dropped and installed
again), `evtui.outbox` (one row per committed change) and `evtui.capture()`, the row trigger
that fills it. A change is written by the same transaction that makes it, so it is in the
outbox exactly when it is committed; `pg_notify` only wakes the listener, which reads the
outbox itself.

The trigger gets the row size cap and the primary-key columns as arguments, worked out once
here, so it does no catalog lookups per row. Row triggers see inserts, updates and deletes; a
`TRUNCATE` changes no rows one by one and is not captured. The function is `SECURITY DEFINER`:
roles that write the watched tables need no rights on the outbox. Install and uninstall each
run in one transaction and can be repeated: a second install recreates the triggers (and the
function if it changed), a second uninstall finds nothing to remove.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

SCHEMA = "evtui"
TRIGGER = "evtui_capture"
CHANNEL = "evtui_outbox"
DEFAULT_ROW_CAP = 8000
"""Bytes of row JSON kept in the outbox; a larger row is delivered as its key only."""
MAX_ROW_CAP = 1_000_000
"""Events stay under evtui's 1.5 MB event limit with room for the rest of the event."""

_TABLES_DDL = """
CREATE SCHEMA IF NOT EXISTS evtui;
CREATE TABLE IF NOT EXISTS evtui.install (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    installed timestamptz NOT NULL DEFAULT now(),
    one_row boolean NOT NULL DEFAULT true UNIQUE CHECK (one_row)
);
INSERT INTO evtui.install DEFAULT VALUES ON CONFLICT (one_row) DO NOTHING;
GRANT SELECT ON evtui.install TO PUBLIC;
CREATE TABLE IF NOT EXISTS evtui.outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_schema text NOT NULL,
    table_name text NOT NULL,
    operation text NOT NULL,
    key json NOT NULL,
    old_key json,
    changed text[] NOT NULL,
    row json,
    truncated boolean NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""

_CAPTURE_BODY = """
DECLARE
    cap integer := TG_ARGV[0]::integer;
    image json;
    old_image jsonb;
    changed text[];
    key json;
    old_key json;
    size integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        image := row_to_json(OLD);
    ELSE
        image := row_to_json(NEW);
    END IF;
    SELECT json_object_agg(k.name, image -> k.name ORDER BY k.position) INTO key
    FROM unnest(TG_ARGV[1:TG_NARGS - 1]) WITH ORDINALITY AS k(name, position);
    IF TG_OP = 'UPDATE' THEN
        old_image := to_jsonb(OLD);
        SELECT coalesce(array_agg(n.key), '{}') INTO changed
        FROM json_each(image) AS n
        WHERE n.value::jsonb IS DISTINCT FROM old_image -> n.key;
        SELECT json_object_agg(k.name, old_image -> k.name ORDER BY k.position) INTO old_key
        FROM unnest(TG_ARGV[1:TG_NARGS - 1]) WITH ORDINALITY AS k(name, position);
    ELSE
        SELECT array_agg(k) INTO changed FROM json_object_keys(image) AS k;
    END IF;
    size := octet_length(image::text);
    INSERT INTO evtui.outbox
        (table_schema, table_name, operation, key, old_key, changed, row, truncated)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, lower(TG_OP), key, old_key, coalesce(changed, '{}'),
            CASE WHEN size <= cap THEN image END, size > cap);
    PERFORM pg_notify('evtui_outbox', '');
    RETURN NULL;
END
"""

_FUNCTION_DDL = (
    "CREATE OR REPLACE FUNCTION evtui.capture() RETURNS trigger LANGUAGE plpgsql "
    "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $capture$"
    + _CAPTURE_BODY
    + "$capture$"
)


class InstallError(RuntimeError):
    """Installing or removing failed; the message names the table and the reason."""


@dataclass(frozen=True)
class Table:
    """A table resolved on the server: its schema, name and primary-key columns."""

    schema: str
    name: str
    key: tuple[str, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def identifier(self) -> sql.Composable:
        return sql.Identifier(self.schema, self.name)


@dataclass
class UninstallReport:
    removed_triggers: list[str] = field(default_factory=list)
    dropped_outbox: bool = False
    discarded_changes: int = 0
    """Outbox rows not yet delivered when the outbox was dropped."""


def resolve_table(conn: psycopg.Connection, name: str, *, need_key: bool = True) -> Table:
    """Find `name` the way a query would (`search_path`); raise naming it when it won't do."""
    found = conn.execute(
        """
        SELECT n.nspname, c.relname, c.relkind,
               array(SELECT a.attname::text
                     FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                     ORDER BY k.position)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
        WHERE c.oid = to_regclass(%s)
        """,
        (name,),
    ).fetchone()
    if found is None:
        raise InstallError(f"table {name!r} does not exist (looked up on the search_path)")
    schema, relname, kind, key = found
    if kind not in ("r", "p"):
        raise InstallError(f"{schema}.{relname} is not a table (only tables have row triggers)")
    if need_key and not key:
        raise InstallError(
            f"table {schema}.{relname} has no primary key: each change is named by its key; "
            f"add one (ALTER TABLE {schema}.{relname} ADD PRIMARY KEY (...))"
        )
    return Table(schema, relname, tuple(key))


def install_triggers(
    conn: psycopg.Connection, tables: list[str], row_cap: int = DEFAULT_ROW_CAP
) -> list[Table]:
    """Create the outbox and function (if missing) and (re)create the triggers, all or none."""
    if not 0 <= row_cap <= MAX_ROW_CAP:
        raise InstallError(f"row cap {row_cap}: expected 0 to {MAX_ROW_CAP:,} bytes")
    with conn.transaction():
        resolved = [resolve_table(conn, name) for name in tables]
        try:
            _install_outbox(conn)
        except psycopg.errors.InsufficientPrivilege as error:
            raise InstallError(
                f"cannot set up the schema {SCHEMA} (outbox, trigger function): "
                f"{error.diag.message_primary} (connect as a role with CREATE on the database)"
            ) from None
        for table in resolved:
            arguments = sql.SQL(", ").join(sql.Literal(str(v)) for v in (row_cap, *table.key))
            try:
                conn.execute(
                    sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                        sql.Identifier(TRIGGER), table.identifier
                    )
                )
                conn.execute(
                    sql.SQL(
                        "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} "
                        "FOR EACH ROW EXECUTE FUNCTION evtui.capture({})"
                    ).format(sql.Identifier(TRIGGER), table.identifier, arguments)
                )
            except psycopg.errors.InsufficientPrivilege as error:
                raise InstallError(
                    f"cannot add a trigger to table {table.qualified}: "
                    f"{error.diag.message_primary} (connect as the table's owner)"
                ) from None
    return resolved


def _install_outbox(conn: psycopg.Connection) -> None:
    """Create what is missing; replace the function only when this evtui's differs.

    Skipping what is already in place (looked up in the catalogs, which anyone may read) lets
    a table's owner add its trigger to an outbox that someone with more rights installed.
    """
    outbox = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'evtui' AND c.relname = 'outbox'"
    ).fetchone()
    if outbox is None:
        conn.execute(_TABLES_DDL)
    current = conn.execute(
        "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'evtui' AND p.proname = 'capture' AND p.pronargs = 0"
    ).fetchone()
    if current is None or current[0] != _CAPTURE_BODY:
        conn.execute(_FUNCTION_DDL)


def triggered_tables(conn: psycopg.Connection) -> list[str]:
    """Tables (schema.name) carrying evtui's trigger."""
    rows = conn.execute(
        """
        SELECT n.nspname || '.' || c.relname
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.tgname = %s
        ORDER BY 1
        """,
        (TRIGGER,),
    ).fetchall()
    return [row[0] for row in rows]


def uninstall_triggers(
    conn: psycopg.Connection, tables: list[str] | None = None
) -> UninstallReport:
    """Remove the triggers from `tables` (all when None); drop the outbox once none remain."""
    report = UninstallReport()
    with conn.transaction():
        targets = triggered_tables(conn)
        if tables:
            named = {resolve_table(conn, name, need_key=False).qualified for name in tables}
            targets = [qualified for qualified in targets if qualified in named]
        for qualified in targets:
            schema, name = qualified.split(".", 1)
            try:
                conn.execute(
                    sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                        sql.Identifier(TRIGGER), sql.Identifier(schema, name)
                    )
                )
            except psycopg.errors.InsufficientPrivilege as error:
                raise InstallError(
                    f"cannot remove the trigger from table {qualified}: "
                    f"{error.diag.message_primary} (connect as the table's owner)"
                ) from None
            report.removed_triggers.append(qualified)
        installed = conn.execute("SELECT to_regclass('evtui.outbox')").fetchone()
        if installed is None or installed[0] is None or triggered_tables(conn):
            return report
        counted = conn.execute("SELECT count(*) FROM evtui.outbox").fetchone()
        report.discarded_changes = counted[0] if counted else 0
        conn.execute("DROP SCHEMA evtui CASCADE")
        report.dropped_outbox = True
    return report
