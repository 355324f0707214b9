"""`evtui db install-triggers|uninstall-triggers`: prepare a PostgreSQL database for `--watch-db`.

These talk to the database, not to evtui: installing is a change to someone's schema, so evtui
never does it by itself, only when asked here. Both run in one transaction and can be repeated.
"""

from __future__ import annotations

import argparse
from typing import Any

from evtui.sources.postgres.spec import check_table_names, redact, split_tables


def register(commands: Any, client_options: argparse.ArgumentParser) -> None:
    group = commands.add_parser(
        "db",
        help="install or remove the triggers that turn row changes into events",
        description="Row changes reach evtui through an outbox table filled by triggers; "
        "these commands add them to a PostgreSQL database or remove them.",
    )
    actions = group.add_subparsers(dest="db_action", metavar="ACTION", required=True)

    install = actions.add_parser(
        "install-triggers",
        help="create the evtui outbox and add row triggers to tables",
        description="Create the schema evtui (outbox table, trigger function) if missing and "
        "add a row trigger to each table, in one transaction. Repeating it is harmless.",
    )
    install.add_argument("url", metavar="URL", help="postgresql://USER[:PASSWORD]@HOST[:PORT]/DB")
    install.add_argument(
        "--tables", required=True, metavar="A,B", help="tables to watch (schema.table or table)"
    )
    install.add_argument(
        "--row-cap",
        type=int,
        metavar="BYTES",
        help="largest row JSON carried in an event; larger rows carry only their key "
        "(default 8000)",
    )
    install.set_defaults(handler=install_command)

    uninstall = actions.add_parser(
        "uninstall-triggers",
        help="remove evtui's triggers (and the outbox once no trigger is left)",
        description="Remove evtui's row triggers from the tables given, or from every table; "
        "once none is left, drop the schema evtui with its outbox.",
    )
    uninstall.add_argument("url", metavar="URL", help="postgresql://USER[:PASSWORD]@HOST/DB")
    uninstall.add_argument("--tables", metavar="A,B", help="only these tables (default: all)")
    uninstall.set_defaults(handler=uninstall_command)


def install_command(args: argparse.Namespace) -> int:
    from evtui.cli import UsageError
    from evtui.sources.postgres.install import DEFAULT_ROW_CAP, MAX_ROW_CAP, install_triggers

    row_cap = DEFAULT_ROW_CAP if args.row_cap is None else args.row_cap
    if not 0 <= row_cap <= MAX_ROW_CAP:
        raise UsageError(f"--row-cap: expected 0 to {MAX_ROW_CAP:,} bytes, got {row_cap}")
    with _connect(args.url) as conn:
        tables = _run(args.url, lambda: install_triggers(conn, _tables(args.tables), row_cap))
    for table in tables:
        print(f"watching {table.qualified} (key {', '.join(table.key)})")
    print(
        f"changes go to evtui.outbox; start evtui with --watch-db {redact(args.url)} "
        f"--tables {','.join(t.qualified for t in tables)}"
    )
    return 0


def uninstall_command(args: argparse.Namespace) -> int:
    from evtui.sources.postgres.install import uninstall_triggers

    tables = _tables(args.tables) if args.tables else None
    with _connect(args.url) as conn:
        report = _run(args.url, lambda: uninstall_triggers(conn, tables))
    if not report.removed_triggers and not report.dropped_outbox:
        print(
            "nothing to remove: no evtui trigger on "
            + (", ".join(tables) if tables else "any table")
        )
        return 0
    for table in report.removed_triggers:
        print(f"removed the trigger from {table}")
    if report.dropped_outbox:
        lost = report.discarded_changes
        note = f" ({lost} undelivered changes discarded)" if lost else ""
        print(f"dropped the schema evtui and its outbox{note}")
    return 0


def _tables(text: str) -> list[str]:
    from evtui.cli import UsageError

    try:
        return check_table_names(split_tables(text))  # type: ignore[arg-type]
    except ValueError as error:
        raise UsageError(f"--tables: {error}") from None


def _connect(url: str) -> Any:
    import psycopg

    from evtui.client import DeliveryError

    try:
        return psycopg.connect(url, connect_timeout=10, application_name="evtui db")
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise DeliveryError(f"cannot connect to {redact(url)}: {reason}") from None


def _run(url: str, work: Any) -> Any:
    """`work()`, with the database's refusals as one-line errors naming the URL."""
    import psycopg

    from evtui.client import DeliveryError
    from evtui.sources.postgres.install import InstallError

    try:
        return work()
    except InstallError as error:
        raise DeliveryError(f"{redact(url)}: {error}") from None
    except psycopg.Error as error:
        detail = error.diag.message_primary or str(error).strip()
        raise DeliveryError(f"{redact(url)}: {detail}") from None
