"""What the presets share: deterministic event ids and validating a sender's JSON."""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from evtui.events import field_errors
from evtui.webhooks.request import MappingError

M = TypeVar("M", bound=BaseModel)

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://evtui.dev/webhooks")
"""Namespace of the version-5 ids below: fixed forever, or redeliveries would stop deduping."""


def stable_id(kind: str, *parts: str) -> uuid.UUID:
    """The same parts always give the same event id, so a redelivered notification is stored
    once (the store deduplicates on id). The parts are JSON-encoded so no separator character
    inside them can make two different keys collide."""
    return uuid.uuid5(NAMESPACE, json.dumps([kind, *parts]))


def parse_model(model: type[M], value: Any, loc: list[str | int]) -> M:
    """Validate a sender's JSON into `model`; 422 naming each missing or wrong field."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise MappingError(422, field_errors(error, loc)) from None
