"""User key remapping: the config file's `[keys]` table, by binding id, applied to the app.

    [keys]
    "app.quit" = "ctrl+x"
    "events.follow" = "end,F"

Every evtui binding has an id (`app.quit`, `events.filter`, ...); `?` lists them. A value is one
key or several separated by commas, each with optional modifiers (`ctrl+shift+a`). Textual
silently ignores an id no binding has, so a typo would leave the user wondering: the ids are
checked against every binding the app's widgets and screens declare, and unknown ids or keys
Textual would never deliver are reported together in one notification.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, Keys, key_to_character

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
KEY_NAMES = frozenset(
    key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<")
) | frozenset(REPLACED_KEYS)
"""Named keys (`escape`, `f5`, `pageup`, `slash`...); characters go by their Unicode name
(`question_mark`) or as themselves (`?`)."""


def key_problem(key: str) -> str | None:
    """Why `key` (one key, e.g. `ctrl+x`) can never be pressed, or None if it can."""
    *modifiers, name = key.split("+")
    unknown = [modifier for modifier in modifiers if modifier not in MODIFIERS]
    if unknown:
        return f"unknown modifier {unknown[0]!r} in {key!r} (use {', '.join(sorted(MODIFIERS))})"
    if len(name) == 1 or name in KEY_NAMES or key_to_character(name) is not None:
        return None
    return f"unknown key {name!r} in {key!r}"


def keymap_from_settings(
    mapping: Mapping[str, str], known_ids: Collection[str]
) -> tuple[dict[str, str], list[str]]:
    """The usable part of the `keys` setting, and one line per entry that is not usable.

    Keys are normalised (`" ctrl+x , f2"` -> `"ctrl+x,f2"`); an entry is dropped whole when
    its id is unknown or any of its keys is wrong, so no binding ends up half remapped.
    """
    keymap: dict[str, str] = {}
    problems: list[str] = []
    unknown = sorted(set(mapping) - set(known_ids))
    if unknown:
        problems.append(f"unknown binding id: {', '.join(unknown)} (press ? for the ids)")
    for binding_id, value in mapping.items():
        if binding_id in unknown:
            continue
        keys = [key.strip() for key in value.split(",")]
        wrong = ["no key given" if not key else key_problem(key) for key in keys]
        reasons = [reason for reason in wrong if reason]
        if reasons:
            problems.append(f"keys.{binding_id}: {reasons[0]}")
        else:
            keymap[binding_id] = ",".join(keys)
    return keymap, problems


def binding_ids(app: App[Any]) -> set[str]:
    """Every binding id declared by the app and by any widget or screen class imported, so the
    ids of screens not yet shown count too."""
    return {
        binding.id
        for node_class in {type(app), *_subclasses(DOMNode)}
        for binding in _bindings(node_class)
        if binding.id
    }


def _subclasses(base: type[DOMNode]) -> Iterator[type[DOMNode]]:
    for subclass in base.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _bindings(node_class: type[DOMNode]) -> Iterator[Binding]:
    for item in node_class.__dict__.get("BINDINGS", ()):
        if isinstance(item, Binding):
            yield item


def apply_keymap(app: App[Any], mapping: Mapping[str, str]) -> None:
    """Remap the app's keys from the `keys` setting; problems go to one warning notification."""
    keymap, problems = keymap_from_settings(mapping, binding_ids(app))
    app.set_keymap(keymap)
    if problems:
        app.notify(
            "\n".join([*problems, "Those entries of [keys] were ignored."]),
            title="Key remapping",
            severity="warning",
            timeout=15,
            markup=False,
        )
