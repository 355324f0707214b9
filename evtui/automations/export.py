"""Automations as text: the definition a file holds, and the YAML `evtui automations export` writes.

A definition is an automation's create-body in the model's field order, without what the
server assigns (`id`, `created`, `updated` and the trigger ids, which are regenerated on every
save). Exporting writes exactly that, so the file applies back unchanged and exporting again
gives the same bytes: the round trip automations as code needs. One automation is written as a
mapping, several under `automations:`, the shape `prefect automation create -f` reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import yaml

from evtui.automations.models import Automation, AutomationCreate

SERVER_FIELDS = ("id", "created", "updated")


def without_trigger_ids(trigger: dict[str, Any]) -> dict[str, Any]:
    """A trigger tree's JSON without its ids (they are new on every save)."""
    plain = {key: value for key, value in trigger.items() if key != "id"}
    if isinstance(plain.get("triggers"), list):
        plain["triggers"] = [without_trigger_ids(child) for child in plain["triggers"]]
    return plain


def definition(
    automation: Automation | AutomationCreate, *, server_fields: bool = False
) -> dict[str, Any]:
    """The automation's JSON as a file holds it (with ids and times when `server_fields`)."""
    data = automation.model_dump(mode="json")
    if server_fields:
        return data
    data = {key: value for key, value in data.items() if key not in SERVER_FIELDS}
    data["trigger"] = without_trigger_ids(data["trigger"])
    return data


def digest(automation: Automation | AutomationCreate) -> str:
    """A fingerprint of the definition: equal exactly when applying it would change nothing."""
    text = json.dumps(definition(automation), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def same_definition(a: Automation | AutomationCreate, b: Automation | AutomationCreate) -> bool:
    return definition(a) == definition(b)


class _Dumper(yaml.SafeDumper):
    """Templates read as they were written: block style (`|`) for multi-line strings, and
    double quotes for strings holding a single quote (`"{{ event.resource['x'] }}"`)."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else '"' if "'" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(automations: Sequence[Automation], *, server_fields: bool = False) -> str:
    """The YAML document for these automations (a mapping for one, `automations:` for more)."""
    items = [definition(automation, server_fields=server_fields) for automation in automations]
    document: Any = items[0] if len(items) == 1 else {"automations": items}
    return yaml_text(document)


def yaml_text(document: Any) -> str:
    """Any JSON-able document as this module writes YAML (key order kept, templates legible)."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
