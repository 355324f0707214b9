"""`evtui automations ls|show|apply|export|enable|disable|rm`: automations from a shell.

Every command is a client of a running evtui over Prefect's automation routes, so what works
here works from Prefect's client too. An automation is named by its id or by its name (names
are not unique: an ambiguous name is refused with the ids to choose from).

`apply FILE...` is automations as code from the command line: each automation in the files
(YAML or JSON, the shapes the automation folders take) is created, or updated when its
definition differs from the stored one of that name, or left alone: applying twice changes
nothing. `export` writes the YAML that `apply` reads, so the two round-trip.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evtui.commands.runs import FULL_ID, print_table

if TYPE_CHECKING:
    from evtui.client import ApiClient


def register(commands: Any, client_options: argparse.ArgumentParser) -> None:
    group = commands.add_parser(
        "automations",
        help="list, show, apply, export, enable, disable or remove automations",
        description="Automations run actions (flows, events, webhooks) when events match.",
    )
    actions = group.add_subparsers(dest="automations_action", metavar="ACTION", required=True)

    listing = actions.add_parser("ls", parents=[client_options], help="list automations")
    listing.add_argument("--json", action="store_true", help="the API's JSON answer")
    listing.set_defaults(handler=list_automations)

    show = actions.add_parser("show", parents=[client_options], help="show one automation")
    show.add_argument("automation", metavar="ID|NAME")
    show.add_argument("--json", action="store_true", help="the API's JSON answer")
    show.set_defaults(handler=show_automation)

    apply = actions.add_parser(
        "apply",
        parents=[client_options],
        help="create or update automations from YAML or JSON files, by name",
        description="Create each automation the files define, or update the one of that "
        "name when its definition changed. Nothing is changed when any file has an error.",
    )
    apply.add_argument("files", metavar="FILE", nargs="+", type=Path)
    apply.set_defaults(handler=apply_files)

    export = actions.add_parser(
        "export",
        parents=[client_options],
        help="write automations as YAML that `apply` reads back unchanged",
    )
    export.add_argument("names", metavar="ID|NAME", nargs="*", help="automations to export")
    export.add_argument("--all", action="store_true", help="export every automation")
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")
    export.add_argument(
        "--server-fields", action="store_true", help="include id, created, updated, trigger ids"
    )
    export.set_defaults(handler=export_automations)

    for name, handler, text in (
        ("enable", enable_automation, "resume an automation"),
        ("disable", disable_automation, "pause an automation (its definition stays)"),
        ("rm", remove_automation, "delete an automation"),
    ):
        command = actions.add_parser(name, parents=[client_options], help=text)
        command.add_argument("automation", metavar="ID|NAME")
        command.set_defaults(handler=handler)


# -- commands --------------------------------------------------------------------------------


def list_automations(args: argparse.Namespace) -> int:
    from evtui.cli import client_for

    with client_for(args) as client:
        automations = _all(client)
    if args.json:
        print(json.dumps(automations, indent=2))
        return 0
    if not automations:
        print("no automations (add one with `evtui automations apply FILE`)")
        return 0
    rows = [
        (
            automation["name"],
            "enabled" if automation["enabled"] else "disabled",
            describe_trigger(automation["trigger"]),
            ", ".join(action["type"] for action in automation["actions"]) or "-",
            automation["id"],
        )
        for automation in automations
    ]
    print_table(("NAME", "STATE", "TRIGGER", "ACTIONS", "ID"), rows)
    return 0


def show_automation(args: argparse.Namespace) -> int:
    from evtui.automations.export import to_yaml
    from evtui.automations.models import Automation
    from evtui.cli import client_for

    with client_for(args) as client:
        found = find(client, args.automation)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    print(f"automation  {found['name']}  ({'enabled' if found['enabled'] else 'disabled'})")
    print(f"id          {found['id']}")
    print(f"trigger     {describe_trigger(found['trigger'])}")
    print()
    print(to_yaml([Automation.model_validate(found)]), end="")
    return 0


def apply_files(args: argparse.Namespace) -> int:
    from evtui.automations.export import definition, same_definition
    from evtui.automations.folder import AutomationFileError, parse_file
    from evtui.automations.models import Automation
    from evtui.cli import UsageError, client_for

    entries = []
    for path in args.files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        try:
            entries += parse_file(path)
        except AutomationFileError as error:
            raise UsageError(str(error)) from None
    with client_for(args) as client:
        for entry in entries:
            spec = entry.spec
            named = _named(client, spec.name)
            if len(named) > 1:
                raise UsageError(_ambiguous(spec.name, named))
            body = definition(spec)
            if not named:
                created = client.request("POST", "/automations/", json=body)
                print(f"created    {spec.name}  ({created['id']})")
            elif same_definition(Automation.model_validate(named[0]), spec):
                print(f"unchanged  {spec.name}")
            else:
                client.request("PUT", f"/automations/{named[0]['id']}", json=body)
                print(f"updated    {spec.name}")
    return 0


def export_automations(args: argparse.Namespace) -> int:
    from evtui.automations.export import to_yaml
    from evtui.automations.models import Automation
    from evtui.cli import UsageError, client_for

    if args.all == bool(args.names):
        raise UsageError("name the automations to export, or give --all (not both)")
    with client_for(args) as client:
        chosen = _all(client) if args.all else [find(client, name) for name in args.names]
    if not chosen:
        raise UsageError("there are no automations to export")
    text = to_yaml(
        [Automation.model_validate(item) for item in chosen], server_fields=args.server_fields
    )
    if args.output is None:
        print(text, end="")
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"-o: cannot write {args.output}: {error}") from None
    print(f"exported {len(chosen)} automation{'s' if len(chosen) != 1 else ''} to {args.output}")
    return 0


def enable_automation(args: argparse.Namespace) -> int:
    return _set_enabled(args, True)


def disable_automation(args: argparse.Namespace) -> int:
    return _set_enabled(args, False)


def _set_enabled(args: argparse.Namespace, enabled: bool) -> int:
    from evtui.cli import client_for

    with client_for(args) as client:
        found = find(client, args.automation)
        client.request("PATCH", f"/automations/{found['id']}", json={"enabled": enabled})
    print(f"{'enabled' if enabled else 'disabled'} automation {found['name']}")
    return 0


def remove_automation(args: argparse.Namespace) -> int:
    from evtui.cli import client_for

    with client_for(args) as client:
        found = find(client, args.automation)
        client.request("DELETE", f"/automations/{found['id']}")
    print(f"removed automation {found['name']}")
    return 0


# -- helpers ---------------------------------------------------------------------------------


def find(client: ApiClient, reference: str) -> dict[str, Any]:
    """The automation with this id, or the only one with this name; else a one-line error."""
    from evtui.cli import UsageError

    if FULL_ID.match(reference):
        return client.request("GET", f"/automations/{reference}")  # type: ignore[no-any-return]
    named = _named(client, reference)
    if not named:
        raise UsageError(f"no automation named {reference!r} (see `evtui automations ls`)")
    if len(named) > 1:
        raise UsageError(_ambiguous(reference, named))
    return named[0]


def _all(client: ApiClient) -> list[dict[str, Any]]:
    return client.request("POST", "/automations/filter", json={})  # type: ignore[no-any-return]


def _named(client: ApiClient, name: str) -> list[dict[str, Any]]:
    body = {"sort": "CREATED_DESC", "automations": {"name": {"any_": [name]}}}
    return client.request("POST", "/automations/filter", json=body)  # type: ignore[no-any-return]


def _ambiguous(name: str, named: list[dict[str, Any]]) -> str:
    ids = ", ".join(automation["id"] for automation in named)
    return f"{len(named)} automations are named {name!r}; give an id instead: {ids}"


def describe_trigger(trigger: dict[str, Any]) -> str:
    """One line: `reactive file.created`, `proactive x: fewer than 3 in 60s`, `compound (2)`."""
    kind = trigger.get("type", "event")
    if kind != "event":
        parts = [describe_trigger(child) for child in trigger.get("triggers", [])]
        require = f" require {trigger['require']}" if kind == "compound" else ""
        return f"{kind}{require}: " + " | ".join(parts)
    posture = str(trigger.get("posture", "Reactive")).lower()
    names = ", ".join(trigger.get("expect") or []) or "any event"
    text = f"{posture} {names}"
    threshold, within = trigger.get("threshold", 1), trigger.get("within") or 0
    if posture == "proactive":
        text += f": fewer than {threshold} in {within:g}s"
    elif threshold > 1 or within:
        text += f": {threshold} in {within:g}s"
    if trigger.get("after"):
        text += f" after {', '.join(trigger['after'])}"
    if trigger.get("for_each"):
        text += f" for each {', '.join(trigger['for_each'])}"
    return text
