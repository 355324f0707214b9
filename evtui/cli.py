"""The `evtui` command: the TUI, `serve` (headless) and small client commands.

User errors print one line naming what is wrong and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evtui import __version__
from evtui.client import ApiClient, DeliveryError
from evtui.events import Event, field_errors
from evtui.settings import ENV_PREFIX, Settings, SettingsError, load_settings
from evtui.sources.sql_poll.flags import add_watch_sql_flags

PREFECT_COMPATIBILITY = "Prefect 3 events API"


class UsageError(ValueError):
    """A command-line value is wrong; the message says which and why."""


# -- argument parsing ------------------------------------------------------------------------


def _engine_options() -> argparse.ArgumentParser:
    """Flags accepted before or after the command (`evtui --port 5 serve` = `evtui serve --port 5`).

    `SUPPRESS` keeps a subcommand's unset flag from overwriting the value given before it.
    """
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parent.add_argument_group("engine")
    group.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    group.add_argument("--port", type=int, help="port to listen on (default 4200)")
    group.add_argument("--db", type=Path, help="SQLite file (default: in the user data dir)")
    group.add_argument("--api-key", help="require this token on every endpoint but health")
    group.add_argument("--config", type=Path, help="TOML config file")
    group.add_argument(
        "--flows",
        type=Path,
        action="append",
        metavar="DIR",
        help="folder of @flow files (repeatable; default ./sample_flows if present)",
    )
    group.add_argument("--theme", help="TUI theme by name (remembered once chosen)")
    group.add_argument(
        "--automations",
        type=Path,
        action="append",
        metavar="DIR",
        help="folder of automation files, YAML or JSON (repeatable; default "
        "./sample_flows/automations if present)",
    )
    group.add_argument(
        "--watch",
        action="append",
        metavar="DIR[:PATTERN]",
        help="emit file.created/modified/deleted for files in DIR (repeatable)",
    )
    group.add_argument(
        "--watch-db",
        action="append",
        metavar="URL",
        help="emit db.row.inserted/updated/deleted for changes in a PostgreSQL database "
        "(postgresql://USER@HOST/DB; repeatable, each followed by --tables)",
    )
    group.add_argument(
        "--tables",
        action="append",
        metavar="A,B",
        help="the tables the preceding --watch-db delivers (triggers from `evtui db "
        "install-triggers`)",
    )
    add_watch_sql_flags(group)
    return parent


def _client_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parent.add_argument_group("connection")
    group.add_argument(
        "--api-url",
        help=f"evtui API URL (default ${ENV_PREFIX}API_URL, else from the settings: "
        "http://127.0.0.1:4200/api)",
    )
    group.add_argument("--api-key", help=f"API token (default ${ENV_PREFIX}API_KEY)")
    group.add_argument("--config", type=Path, help="TOML config file")
    return parent


def build_parser() -> argparse.ArgumentParser:
    engine, client = _engine_options(), _client_options()
    parser = argparse.ArgumentParser(
        prog="evtui",
        parents=[engine],
        description="Event-driven scheduling for Python data flows. Without a command, "
        "opens the terminal UI with the embedded engine.",
    )
    parser.add_argument(
        "--connect",
        metavar="URL",
        help="attach the TUI to a running `evtui serve` (e.g. http://host:4200) instead of "
        "starting an engine; with --api-key if it requires one",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "serve",
        parents=[engine],
        help="run the engine headless (logs to stderr)",
        description="Run the same engine as the TUI, without a terminal UI.",
    )
    emit = commands.add_parser("emit", parents=[client], help="send one event")
    emit.add_argument("name", help="event name, e.g. file.created")
    emit.add_argument("--resource-id", required=True, help="prefect.resource.id of the resource")
    emit.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="resource label"
    )
    emit.add_argument("--related", help="related resources: a JSON object or list of objects")
    emit.add_argument("--payload", help="payload: a JSON object")
    events = commands.add_parser("events", parents=[client], help="list or follow stored events")
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    events.add_argument("--since", help="e.g. 10m, 2h, 3d or an ISO timestamp")
    events.add_argument("--name", help="event-name glob, e.g. 'file.*'")
    events.add_argument("--resource", help="resource-id glob, e.g. 'file.*.csv'")
    events.add_argument("--limit", type=int, default=50, help="newest N when --since is absent")
    events.add_argument("--json", action="store_true", help="one JSON event per line")
    commands.add_parser("version", help="print the version")
    for register in _command_groups():
        register(commands, client)
    return parser


def _command_groups() -> list[Callable[[Any, argparse.ArgumentParser], None]]:
    """Modules that add their own subcommands (each sets `handler` on its parsers).

    A group's `register(commands, client_options)` adds parsers to `commands`, passing
    `client_options` as a parent to those that talk to a running evtui.
    """
    from evtui.commands import automations, db, runs, webhooks

    return [runs.register, webhooks.register, automations.register, db.register]


def _flag(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, None)


def _engine_settings(args: argparse.Namespace) -> Settings:
    names = ("host", "port", "db", "api_key", "flows", "automations", "watch", "theme")
    flags = {name: _flag(args, name) for name in names}
    flags["watch_db"] = _watch_db(_flag(args, "watch_db"), _flag(args, "tables"))
    flags["watch_sql"] = _flag(args, "watch_sql")
    return load_settings(flags, config_file=_flag(args, "config"))


def _watch_db(urls: list[str] | None, tables: list[str] | None) -> list[dict[str, str]] | None:
    """Pair each `--watch-db URL` with its `--tables`, in the order given."""
    if not urls and not tables:
        return None
    if len(urls or []) != len(tables or []):
        raise UsageError("--watch-db: give --tables A,B after each --watch-db URL")
    return [
        {"url": url, "tables": names} for url, names in zip(urls or [], tables or [], strict=True)
    ]


def client_for(args: argparse.Namespace) -> ApiClient:
    """A client for the engine the settings describe (`--port` etc. count), or `--api-url`."""
    settings = _engine_settings(args)
    url = _flag(args, "api_url") or os.environ.get(ENV_PREFIX + "API_URL") or settings.api_url
    return ApiClient(url, settings.api_key)


# -- commands --------------------------------------------------------------------------------


def run_tui(args: argparse.Namespace) -> int:
    from evtui.engine import Engine
    from evtui.tui.app import EvtuiApp

    url = _flag(args, "connect")
    settings = _engine_settings(args)
    if url:
        from evtui.tui.remote_source import RemoteSource

        source: Any = RemoteSource(url, settings.api_key)
    else:
        source = Engine(settings)
    app = EvtuiApp(source, theme=settings.theme, keys=settings.keys)
    app.run()
    return app.return_code or 0


def run_serve(args: argparse.Namespace) -> int:
    settings = _engine_settings(args)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        import uvloop

        runner: Callable[..., Any] = uvloop.run
    except ImportError:  # uvloop is optional on platforms without it
        runner = asyncio.run
    runner(_serve(settings))
    return 0


async def _serve(settings: Settings) -> None:
    from evtui.engine import Engine

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    engine = Engine(settings)
    await engine.start()
    log = logging.getLogger("evtui.serve")
    log.info("evtui %s receiving events on %s (db %s)", __version__, engine.api_url, settings.db)
    try:
        await stop.wait()
    finally:
        log.info("stopping: committing what was acknowledged")
        await engine.stop()
        log.info("stopped; %d events stored", engine.store.stats.total)


def run_emit(args: argparse.Namespace) -> int:
    labels = dict(key_value(item, "--label") for item in args.label)
    resource = {"prefect.resource.id": args.resource_id, **labels}
    related = json_arg(args.related, "--related", (dict, list)) if args.related else []
    payload = json_arg(args.payload, "--payload", (dict,)) if args.payload else {}
    try:
        event = Event(
            event=args.name,
            resource=resource,
            related=[related] if isinstance(related, dict) else related,
            payload=payload,
        )
    except ValidationError as error:
        raise UsageError("; ".join(str(e) for e in field_errors(error))) from None
    with client_for(args) as client:
        client.post_events([event])
    print(event.id)
    return 0


def run_events(args: argparse.Namespace) -> int:
    query, keep = event_query(args.name, args.resource)
    since = parse_since(args.since) if args.since else None
    show = _printer(args.json)
    with client_for(args) as client:
        if since is not None:
            query["occurred"] = {"since": since.isoformat()}
            query["order"] = "ASC"
            shown = (e for e in client.filter_events(query) if keep(e))
        else:
            query["order"] = "DESC"
            newest = []
            for event in client.filter_events(query):
                if keep(event):
                    newest.append(event)
                    if len(newest) >= args.limit:
                        break
            shown = reversed(newest)
        last_id = None
        for event in shown:
            show(event)
            last_id = event["id"]
        if args.follow:
            asyncio.run(_follow(client, query, keep, show, last_id))
    return 0


async def _follow(
    client: ApiClient,
    query: dict[str, Any],
    keep: Callable[[dict[str, Any]], bool],
    show: Callable[[dict[str, Any]], None],
    last_id: str | None,
) -> None:
    """Stream new events over `/api/events/out` with Prefect's handshake."""
    from websockets.asyncio.client import connect

    url = re.sub(r"^http", "ws", client.api_url) + "/events/out"
    live_filter = {k: v for k, v in query.items() if k not in ("occurred", "order")}
    async with connect(url, subprotocols=["prefect"]) as socket:  # type: ignore[list-item]
        token = client.api_key
        await socket.send(json.dumps({"type": "auth", "token": token}))
        reply = json.loads(await socket.recv())
        if reply.get("type") != "auth_success":
            raise DeliveryError(f"{url} refused the subscription: {reply}")
        await socket.send(json.dumps({"type": "filter", "filter": live_filter, "backfill": False}))
        async for message in socket:
            frame = json.loads(message)
            event = frame.get("event")
            if frame.get("type") == "event" and event and event["id"] != last_id and keep(event):
                show(event)


# -- helpers ---------------------------------------------------------------------------------


def event_query(
    name_glob: str | None, resource_glob: str | None
) -> tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]:
    """A server filter as narrow as the API allows, plus the exact glob check for the rest."""
    query: dict[str, Any] = {}
    if name_glob:
        literal = re.split(r"[*?\[]", name_glob, maxsplit=1)[0]
        if literal == name_glob:
            query["event"] = {"name": [name_glob]}
        elif literal:
            query["event"] = {"prefix": [literal]}
    if resource_glob:
        query["resource"] = {"labels": {"prefect.resource.id": [resource_glob]}}

    def keep(event: dict[str, Any]) -> bool:
        if name_glob and not fnmatch.fnmatchcase(event["event"], name_glob):
            return False
        resource_id = event["resource"].get("prefect.resource.id", "")
        return not resource_glob or fnmatch.fnmatchcase(resource_id, resource_glob)

    return query, keep


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`10m`, `2h`, `3d`, `1w` ago, or an ISO-8601 timestamp (naive means UTC)."""
    match = _DURATION.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since: {text!r} is neither a duration like 10m, 2h, 3d nor an ISO timestamp"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def key_value(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"{option}: expected KEY=VALUE, got {text!r}")
    return key, value


def json_arg(text: str, option: str, kinds: tuple[type, ...]) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{option}: not valid JSON ({error.msg} at column {error.colno})"
        ) from None
    if not isinstance(value, kinds):
        wanted = " or ".join("an object" if k is dict else "a list" for k in kinds)
        raise UsageError(f"{option}: expected {wanted}, got {type(value).__name__}")
    return value


def _printer(as_json: bool) -> Callable[[dict[str, Any]], None]:
    def show(event: dict[str, Any]) -> None:
        if as_json:
            print(json.dumps(event, separators=(",", ":")), flush=True)
            return
        occurred = datetime.fromisoformat(event["occurred"]).astimezone()
        resource = event["resource"]
        labels = " ".join(f"{k}={v}" for k, v in resource.items() if k != "prefect.resource.id")
        line = f"{occurred:%Y-%m-%d %H:%M:%S.%f}"[:-3]
        print(
            f"{line}  {event['event']}  {resource['prefect.resource.id']}  {labels}".rstrip(),
            flush=True,
        )

    return show


def run_version(args: argparse.Namespace) -> int:
    print(f"evtui {__version__} ({PREFECT_COMPATIBILITY})")
    return 0


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: run_tui,
    "serve": run_serve,
    "emit": run_emit,
    "events": run_events,
    "version": run_version,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        handler = COMMANDS.get(args.command) or args.handler
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except (UsageError, SettingsError, DeliveryError) as error:
        print(f"evtui: error: {error}", file=sys.stderr)
        return 2
    except _startup_errors() as error:
        print(f"evtui: error: {error}", file=sys.stderr)
        return 1


def _startup_errors() -> tuple[type[BaseException], ...]:
    from evtui.server.receiver import ReceiverError
    from evtui.store.schema import SchemaTooNew

    return (ReceiverError, SchemaTooNew)
