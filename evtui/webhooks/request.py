"""A webhook request as the mappings see it, and what a mapping gives back.

The HTTP layer reads the request once into a `HookRequest`; templates and presets work on that
plain value, so they can be tested without a server and never touch Starlette objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from evtui.events import FieldError


class MappingError(Exception):
    """The request cannot become events: HTTP `status` with the reasons, nothing stored."""

    def __init__(self, status: int, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.status = status
        self.errors = errors


def mapping_error(status: int, loc: list[str | int], msg: str) -> MappingError:
    return MappingError(status, [FieldError(loc=loc, msg=msg)])


class Headers(dict[str, str]):
    """Header names are case-insensitive: `headers['X-GitHub-Event']` finds `x-github-event`.

    A `dict` underneath (keys lower-case), so templates can also `tojson` it.
    """

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for name, value in items:
            key = name.lower()
            # Repeated headers combine as HTTP says they may: a comma-separated list.
            dict.__setitem__(self, key, f"{self[key]}, {value}" if key in self else value)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


@dataclass(frozen=True)
class HookRequest:
    """One request to `/hooks/<slug>`, read whole."""

    slug: str
    method: str
    path: str
    headers: Headers
    query: dict[str, str]
    raw_body: bytes

    @property
    def content_type(self) -> str:
        """The media type alone, lower-case (`application/json`), '' when absent."""
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def text(self) -> str:
        try:
            return self.raw_body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise mapping_error(400, ["body"], f"not valid UTF-8 (byte {error.start})") from None

    def json(self) -> Any:
        """The body as JSON, whatever the Content-Type says (SNS sends `text/plain`)."""
        return parse_json(self.text(), ["body"])

    def template_body(self) -> Any:
        """Prefect Cloud's best effort: JSON and forms parsed, anything else JSON or text."""
        if not self.raw_body:
            return None
        if self.content_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(self.text(), keep_blank_values=True))
        if self.content_type == "application/json" or self.content_type.endswith("+json"):
            return self.json()
        text = self.text()
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    def template_context(self) -> dict[str, Any]:
        """What a template sees; `Authorization` is left out, as Prefect Cloud does."""
        return {
            "body": self.template_body(),
            "raw_body": self.text(),
            "headers": Headers(
                (name, value) for name, value in self.headers.items() if name != "authorization"
            ),
            "query": dict(self.query),
            "method": self.method,
            "path": self.path,
            "slug": self.slug,
        }


def parse_json(text: str, loc: list[str | int]) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise mapping_error(
            400, loc, f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


@dataclass
class Mapped:
    """What a mapping made of a request.

    `events` are event dicts, validated once decorated (see `evtui.webhooks.delivery`); `note`
    says why a request legitimately gave none (an S3 test event); `confirm_url` asks the
    receiver to confirm an SNS subscription instead of storing anything.
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None
    confirm_url: str | None = None
    confirm_topic: str | None = None
