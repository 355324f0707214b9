"""`evtui webhooks list|add|show|rm`: manage webhooks of a running evtui over its API.

Webhooks from the config file (`[[webhooks]]` tables) are listed too, marked `config`; they
are changed in the file, not here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evtui.webhooks.models import PRESETS


def register(commands: Any, client_options: argparse.ArgumentParser) -> None:
    group = commands.add_parser(
        "webhooks",
        help="list, add, show or remove webhooks (POST /hooks/SLUG)",
        description="Webhooks turn HTTP requests from other systems into events.",
    )
    actions = group.add_subparsers(dest="webhooks_action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", parents=[client_options], help="list webhooks")
    listing.add_argument("--json", action="store_true", help="the API's JSON answer")
    listing.set_defaults(handler=list_webhooks)

    add = actions.add_parser(
        "add",
        parents=[client_options],
        help="create or replace a webhook",
        description="Create the webhook SLUG, or replace it whole. Senders POST to "
        "/hooks/SLUG on the evtui server.",
    )
    add.add_argument("slug", metavar="SLUG", help="URL-safe name: letters, digits, . _ ~ -")
    mapping = add.add_mutually_exclusive_group(required=True)
    mapping.add_argument("--preset", choices=PRESETS, help="a built-in mapping")
    mapping.add_argument(
        "--template",
        metavar="FILE_OR_STRING",
        help="Jinja template rendering the event as JSON: a file, or the template itself",
    )
    add.add_argument("--secret", help="require an HMAC-SHA256 signature made with this secret")
    add.add_argument(
        "--signature-header", help="header carrying the signature (default X-Hub-Signature-256)"
    )
    add.add_argument(
        "--signature-prefix", help="text before the digest (default sha256= for GitHub's header)"
    )
    add.add_argument("--signature-encoding", choices=("hex", "base64"), help="default hex")
    add.add_argument("--description", help="what the webhook is for")
    add.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="label added to every event's resource (repeatable)",
    )
    add.add_argument("--disabled", action="store_true", help="create it disabled")
    add.set_defaults(handler=add_webhook)

    show = actions.add_parser(
        "show", parents=[client_options], help="show a webhook and the URL to POST to"
    )
    show.add_argument("slug", metavar="SLUG")
    show.add_argument("--json", action="store_true", help="the API's JSON answer")
    show.set_defaults(handler=show_webhook)

    remove = actions.add_parser("rm", parents=[client_options], help="remove a webhook")
    remove.add_argument("slug", metavar="SLUG")
    remove.set_defaults(handler=remove_webhook)


def list_webhooks(args: argparse.Namespace) -> int:
    from evtui.cli import client_for

    with client_for(args) as client:
        webhooks = client.request("GET", "/webhooks")
    if args.json:
        print(json.dumps(webhooks, indent=2))
        return 0
    if not webhooks:
        print("no webhooks (add one with `evtui webhooks add SLUG --preset ...`)")
        return 0
    rows = [("SLUG", "MAPPING", "STATE", "SIGNED", "SOURCE", "DESCRIPTION")]
    rows += [
        (
            hook["slug"],
            f"preset {hook['preset']}" if hook.get("preset") else "template",
            "enabled" if hook["enabled"] else "disabled",
            "yes" if hook["has_secret"] else "no",
            hook["source"],
            hook.get("description") or "",
        )
        for hook in webhooks
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def add_webhook(args: argparse.Namespace) -> int:
    from evtui.cli import client_for, key_value

    definition: dict[str, Any] = {
        "preset": args.preset,
        "template": read_template(args.template) if args.template is not None else None,
        "secret": args.secret,
        "signature_header": args.signature_header,
        "signature_prefix": args.signature_prefix,
        "signature_encoding": args.signature_encoding,
        "description": args.description,
        "resource_labels": dict(key_value(item, "--label") for item in args.label) or None,
        "enabled": False if args.disabled else None,
    }
    body = {name: value for name, value in definition.items() if value is not None}
    with client_for(args) as client:
        existed = any(hook["slug"] == args.slug for hook in client.request("GET", "/webhooks"))
        hook = client.request("PUT", f"/webhooks/{args.slug}", json=body)
        print(f"{'replaced' if existed else 'created'} webhook {hook['slug']}")
        print(f"POST to {hook_url(client.api_url, hook['slug'])}")
    return 0


def show_webhook(args: argparse.Namespace) -> int:
    from evtui.cli import client_for

    with client_for(args) as client:
        hook = client.request("GET", f"/webhooks/{args.slug}")
        url = hook_url(client.api_url, hook["slug"])
    if args.json:
        print(json.dumps({**hook, "url": url}, indent=2))
        return 0
    print(f"webhook      {hook['slug']}  ({hook['source']})")
    print(f"POST to      {url}")
    print(f"state        {'enabled' if hook['enabled'] else 'disabled'}")
    if hook.get("description"):
        print(f"description  {hook['description']}")
    print(f"signature    {hook.get('signature') or 'not required'}")
    if hook.get("resource_labels"):
        labels = " ".join(f"{k}={v}" for k, v in hook["resource_labels"].items())
        print(f"labels       {labels}")
    if hook.get("preset"):
        print(f"mapping      preset {hook['preset']}")
    else:
        print("template:")
        print(hook["template"].rstrip("\n"))
    return 0


def remove_webhook(args: argparse.Namespace) -> int:
    from evtui.cli import client_for

    with client_for(args) as client:
        client.request("DELETE", f"/webhooks/{args.slug}")
    print(f"removed webhook {args.slug}")
    return 0


def read_template(value: str) -> str:
    """A file's text when `value` names one, else `value` itself as the template."""
    from evtui.cli import UsageError

    path = Path(value).expanduser()
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"--template: cannot read {path}: {error}") from None
    if "{" not in value:
        raise UsageError(
            f"--template: no file {value!r}, and it is not a template either "
            "(a template renders a JSON event, so it contains '{')"
        )
    return value


def hook_url(api_url: str, slug: str) -> str:
    """Where senders POST: the server root (the API URL without `/api`) + `/hooks/<slug>`."""
    return f"{api_url.rstrip('/').removesuffix('/api')}/hooks/{slug}"
