"""What a webhook is: a slug to POST to, and how a request there becomes events.

One pydantic model describes a webhook wherever it comes from (the API, the CLI, a
`[[webhooks]]` table in the config file), so a bad definition is refused the same way from
each: the field and the reason.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from evtui.events import RESOURCE_ID
from evtui.webhooks.templating import check_template

PresetName = Literal["cloudevents", "s3", "gcs", "github"]
PRESETS: tuple[str, ...] = ("cloudevents", "s3", "gcs", "github")

DEFAULT_SIGNATURE_HEADER = "X-Hub-Signature-256"
DEFAULT_SIGNATURE_PREFIX = "sha256="
"""GitHub's scheme, the most common one: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`."""

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _check_slug(slug: str) -> str:
    """Only URL-unreserved characters, so `/hooks/<slug>` needs no escaping anywhere."""
    if not _SLUG.match(slug):
        raise ValueError(
            "must be 1-128 characters of letters, digits, '.', '_', '~' or '-', "
            "starting with a letter or digit"
        )
    return slug


def _check_header_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid HTTP header name")
    return name


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    if RESOURCE_ID in labels:
        raise ValueError(f"may not set {RESOURCE_ID!r}: the mapping decides the resource")
    return labels


def _check_template(source: str) -> str:
    check_template(source)
    return source


Slug = Annotated[str, AfterValidator(_check_slug)]


class WebhookSpec(BaseModel):
    """A webhook's definition apart from its slug (the body of `PUT /api/webhooks/{slug}`)."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    enabled: bool = True
    template: Annotated[str, AfterValidator(_check_template)] | None = None
    """Jinja (sandboxed) rendering to one event as JSON, or a JSON array of events."""
    preset: PresetName | None = None
    """A built-in mapping for a well-known sender, instead of a template."""
    secret: str | None = Field(default=None, min_length=1)
    """When set, requests must carry an HMAC-SHA256 of their raw body made with it."""
    signature_header: Annotated[str, AfterValidator(_check_header_name)] | None = None
    """Header carrying the signature; default GitHub's `X-Hub-Signature-256`."""
    signature_prefix: str | None = None
    """Text before the digest in that header; default `sha256=` for GitHub's header, else ''."""
    signature_encoding: Literal["hex", "base64"] = "hex"
    resource_labels: Annotated[dict[str, str], AfterValidator(_check_labels)] = Field(
        default_factory=dict
    )
    """Labels added to the resource of every event this webhook produces."""

    @model_validator(mode="after")
    def _one_mapping(self) -> WebhookSpec:
        if (self.template is None) == (self.preset is None):
            raise ValueError(
                "give either a template or a preset "
                f"({', '.join(PRESETS)}), not {'both' if self.template else 'neither'}"
            )
        if self.secret is None and (
            self.signature_header is not None or self.signature_prefix is not None
        ):
            raise ValueError("signature_header and signature_prefix need a secret")
        return self

    @property
    def header_name(self) -> str:
        return self.signature_header or DEFAULT_SIGNATURE_HEADER

    @property
    def header_prefix(self) -> str:
        if self.signature_prefix is not None:
            return self.signature_prefix
        return DEFAULT_SIGNATURE_PREFIX if self.signature_header is None else ""

    @property
    def kind(self) -> str:
        """`preset <name>` or `template`, for listings."""
        return f"preset {self.preset}" if self.preset else "template"


class Webhook(WebhookSpec):
    """A webhook: `POST /hooks/<slug>` maps the request to events with a template or preset."""

    slug: Slug

    @classmethod
    def from_spec(cls, slug: str, spec: WebhookSpec) -> Webhook:
        return cls.model_validate({**spec.model_dump(exclude_unset=True), "slug": slug})

    def public(self) -> dict[str, Any]:
        """The definition as the API shows it: the secret itself never leaves the server."""
        shown = self.model_dump(exclude={"secret"})
        shown["has_secret"] = self.secret is not None
        if self.secret is not None:
            digest = "<hex>" if self.signature_encoding == "hex" else "<base64>"
            shown["signature"] = f"{self.header_name}: {self.header_prefix}{digest}"
        return shown
