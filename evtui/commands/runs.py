"""`evtui run`, `evtui runs`, `evtui logs`, `evtui flows`: flows and their runs from a shell.

Each command is a client of a running evtui (the TUI or `evtui serve`) over its REST API, so
what a script does here is exactly what the API allows. Times are shown in local time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from evtui.client import ApiClient

FULL_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
PREFIX_PAGE = 500
"""Runs fetched per request while resolving an id prefix."""


def register(commands: Any, client_options: argparse.ArgumentParser) -> None:
    run = commands.add_parser(
        "run",
        parents=[client_options],
        help="start a flow run",
        description="Start a run of FLOW. Each -p value is read as JSON when it parses "
        "(42, true, [1,2]) and as a string otherwise.",
    )
    run.add_argument("flow", help="flow name (see `evtui flows`)")
    run.add_argument(
        "-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter"
    )
    run.add_argument("--json-params", metavar="JSON", help="parameters as one JSON object")
    run.add_argument(
        "--wait", action="store_true", help="print the logs until the run ends; exit 1 unless "
        "it Completed",
    )  # fmt: skip
    run.set_defaults(handler=run_flow)

    runs = commands.add_parser("runs", parents=[client_options], help="list flow runs")
    runs.add_argument("--flow", help="only runs of this flow")
    runs.add_argument(
        "--state", action="append", metavar="STATE", help="only runs in this state (repeatable)"
    )
    runs.add_argument("--limit", type=int, default=20, help="newest N runs (default 20)")
    runs.add_argument("--json", action="store_true", help="one JSON run per line")
    runs.set_defaults(handler=list_runs)

    logs = commands.add_parser("logs", parents=[client_options], help="print a run's log lines")
    logs.add_argument("run", metavar="RUN", help="run id or a unique prefix of one")
    logs.add_argument(
        "--follow", "-f", action="store_true", help="keep printing until the run ends"
    )
    logs.set_defaults(handler=show_logs)

    flows = commands.add_parser(
        "flows", parents=[client_options], help="list flows and flow files that fail to load"
    )
    flows.add_argument("--json", action="store_true", help="the API's JSON answer")
    flows.set_defaults(handler=list_flows)


# -- commands --------------------------------------------------------------------------------


def run_flow(args: argparse.Namespace) -> int:
    from evtui.cli import client_for

    parameters = run_parameters(args.param, args.json_params)
    with client_for(args) as client:
        run = client.request(
            "POST", "/flow-runs", json={"flow": args.flow, "parameters": parameters}
        )
        print(run["id"], flush=True)
        if not args.wait:
            return 0
        final = follow_logs(client, run["id"])
    print(f"{final['state']}: {describe_run(final)}", flush=True)
    return 0 if final["state"] == "Completed" else 1


def list_runs(args: argparse.Namespace) -> int:
    from evtui.cli import UsageError, client_for

    if args.limit < 1:
        raise UsageError(f"--limit: must be at least 1, got {args.limit}")
    params: dict[str, Any] = {"limit": args.limit}
    if args.flow:
        params["flow"] = args.flow
    if args.state:
        params["state"] = args.state
    with client_for(args) as client:
        runs = client.request("GET", "/flow-runs", params=params)
    if args.json:
        for run in runs:
            print(json.dumps(run, separators=(",", ":")))
        return 0
    rows = [
        (
            run["id"][-8:],
            run["flow"],
            run["state"],
            cause_text(run["cause"]),
            local_time(run["started"] or run["created"]),
            duration_text(run),
        )
        for run in runs
    ]
    print_table(("RUN", "FLOW", "STATE", "CAUSE", "STARTED", "DURATION"), rows)
    return 0


def show_logs(args: argparse.Namespace) -> int:
    from evtui.cli import client_for

    with client_for(args) as client:
        run_id = resolve_run(client, args.run)
        if args.follow:
            follow_logs(client, run_id)
            return 0
        after = 0
        while True:
            page = client.request("GET", f"/flow-runs/{run_id}/logs", params={"after": after})
            for line in page:
                print(log_text(line))
            if not page:
                return 0
            after = page[-1]["seq"]


def list_flows(args: argparse.Namespace) -> int:
    from evtui.cli import client_for

    with client_for(args) as client:
        answer = client.request("GET", "/flows")
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    rows = [
        (flow["name"], flow["file"], parameters_text(flow["parameters_schema"]))
        for flow in answer["flows"]
    ]
    if rows:
        print_table(("FLOW", "FILE", "PARAMETERS"), rows)
    else:
        folders = ", ".join(answer["folders"]) or "none configured (use --flows DIR)"
        print(f"no flows found; flow folders: {folders}")
    for failure in answer["errors"]:
        print(f"\nerror in {failure['file']}:\n  {failure['error']}", file=sys.stderr)
    return 0


# -- helpers ---------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """JSON when it parses (`42`, `true`, `[1, 2]`, `"x"`), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_parameters(pairs: list[str], json_params: str | None) -> dict[str, Any]:
    """`--json-params` first, then each `-p KEY=VALUE` on top of it."""
    from evtui.cli import json_arg, key_value

    parameters: dict[str, Any] = (
        json_arg(json_params, "--json-params", (dict,)) if json_params else {}
    )
    for pair in pairs:
        key, value = key_value(pair, "-p")
        parameters[key] = parse_value(value)
    return parameters


def resolve_run(client: ApiClient, text: str) -> str:
    """A full run id as given, or the one run whose id starts (or ends) with `text`.

    The list shows the last 8 characters of ids (run ids are time-ordered, so their first
    characters are shared by runs started close together); either end of an id is accepted.
    """
    from evtui.cli import UsageError

    if FULL_ID.match(text):
        return text.lower()
    needle = text.lower()
    if len(needle) < 4:
        raise UsageError(f"RUN: {text!r} is too short; give at least 4 characters of the id")
    matches = [
        run["id"]
        for run in _all_runs(client)
        if run["id"].startswith(needle) or run["id"].endswith(needle)
    ]
    if not matches:
        raise UsageError(f"RUN: no run id starts or ends with {text!r} (see `evtui runs`)")
    if len(matches) > 1:
        raise UsageError(f"RUN: {text!r} matches {len(matches)} runs; give more characters")
    return matches[0]


def _all_runs(client: ApiClient) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        page = client.request("GET", "/flow-runs", params={"limit": PREFIX_PAGE, "offset": offset})
        yield from page
        if len(page) < PREFIX_PAGE:
            return
        offset += PREFIX_PAGE


def follow_logs(client: ApiClient, run_id: str) -> dict[str, Any]:
    """Print a run's log lines as they come (the NDJSON stream); returns the final run."""
    from evtui.client import DeliveryError

    headers = {"Authorization": f"Bearer {client.api_key}"} if client.api_key else {}
    url = f"{client.api_url}/flow-runs/{run_id}/logs/stream"
    timeout = httpx.Timeout(10.0, read=None)
    try:
        with (
            httpx.Client(headers=headers, timeout=timeout) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                response.read()
                raise DeliveryError(f"{url}: HTTP {response.status_code}: {response.text[:200]}")
            for raw in response.iter_lines():
                if not raw:
                    continue
                item = json.loads(raw)
                if item["type"] == "end":
                    return item["run"]
                print(log_text(item), flush=True)
    except httpx.TransportError as error:
        raise DeliveryError(f"lost the log stream of {url}: {error}") from None
    raise DeliveryError(f"{url}: the stream ended before the run did")


def local_time(iso: str | None, with_date: bool = True) -> str:
    if not iso:
        return "-"
    moment = datetime.fromisoformat(iso).astimezone()
    return f"{moment:%Y-%m-%d %H:%M:%S}" if with_date else f"{moment:%H:%M:%S.%f}"[:-3]


def duration_text(run: dict[str, Any]) -> str:
    if not run["started"]:
        return "-"
    end = datetime.fromisoformat(run["ended"]) if run["ended"] else datetime.now().astimezone()
    seconds = (end - datetime.fromisoformat(run["started"])).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def cause_text(cause: dict[str, Any]) -> str:
    if cause.get("rerun_of"):
        return f"rerun of {cause['rerun_of'][-8:]}"
    if cause.get("event_id"):
        return f"{cause['kind']} (event {cause['event_id'][-8:]})"
    return cause["kind"]


def describe_run(run: dict[str, Any]) -> str:
    """`<name> (<flow>) after 1.2s`, with the state message when there is one."""
    text = f"run {run['name']} of {run['flow']} after {duration_text(run)}"
    return f"{text}: {run['state_message']}" if run.get("state_message") else text


def log_text(line: dict[str, Any]) -> str:
    source = line["logger"] if line["stream"] == "logger" else line["stream"]
    return (
        f"{local_time(line['ts'], with_date=False)} {line['level']:<7} {source}: {line['message']}"
    )


def parameters_text(schema: dict[str, Any]) -> str:
    """`rows: integer = 10, path: string` from a JSON schema of the flow's signature."""
    required = set(schema.get("required", ()))
    parts = []
    for name, spec in schema.get("properties", {}).items():
        kind = spec.get("type") or "|".join(
            str(option.get("type", "?")) for option in spec.get("anyOf", ())
        )
        text = f"{name}: {kind or 'any'}"
        if name not in required and "default" in spec:
            text += f" = {json.dumps(spec['default'])}"
        parts.append(text)
    return ", ".join(parts) or "-"


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        print(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
