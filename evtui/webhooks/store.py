"""Where webhooks live: the `webhooks` table plus the config file's `[[webhooks]]` entries.

The hot path (`POST /hooks/<slug>`) reads only the in-memory registry, filled at start from the
table and the settings and kept current by every change made here; changes are written with
`store.transact` (one transaction on the store's writer) before the registry moves on, so what
a request sees is always what is on disk. Webhooks from the config file are read-only: the
file is their source of truth, and the API refuses to change them (`ReadOnlyWebhook`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from evtui.events import field_errors, now_utc
from evtui.settings import SettingsError
from evtui.store import Store
from evtui.store.rows import from_micros, to_micros
from evtui.webhooks.delivery import CompiledWebhook
from evtui.webhooks.models import Webhook
from evtui.webhooks.sns import SubscriptionConfirmer

log = logging.getLogger(__name__)

Source = Literal["api", "config"]


class WebhookConfigError(SettingsError):
    """A `[[webhooks]]` entry is wrong; the message names the entry, the field and why."""


class ReadOnlyWebhook(Exception):
    """The webhook comes from the config file; change it there."""

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"webhook {slug!r} is defined in the config file ([[webhooks]]); change it there"
        )


@dataclass(frozen=True)
class RegisteredWebhook:
    """A webhook as the registry holds it: definition, origin, times, and compiled mapping."""

    compiled: CompiledWebhook
    source: Source
    created: datetime | None = None
    updated: datetime | None = None

    @property
    def webhook(self) -> Webhook:
        return self.compiled.webhook

    def to_json(self) -> dict[str, Any]:
        """What the API returns: the definition without its secret, plus origin and times."""
        return {
            **self.webhook.public(),
            "source": self.source,
            "path": f"/hooks/{self.webhook.slug}",
            "created": self.created.isoformat() if self.created else None,
            "updated": self.updated.isoformat() if self.updated else None,
        }


def parse_config(entries: Sequence[Mapping[str, Any]]) -> list[Webhook]:
    """Validate `settings.webhooks` with the same model as the API; one clear error."""
    webhooks: list[Webhook] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        name = f"webhooks[{index}]"
        if isinstance(entry, Mapping) and isinstance(entry.get("slug"), str):
            name += f" (slug {entry['slug']!r})"
        try:
            webhook = Webhook.model_validate(entry)
        except ValidationError as error:
            reasons = "; ".join(str(e) for e in field_errors(error))
            raise WebhookConfigError(f"{name}: {reasons}") from None
        if webhook.slug in seen:
            raise WebhookConfigError(f"{name}: slug: {webhook.slug!r} is defined twice")
        seen.add(webhook.slug)
        webhooks.append(webhook)
    return webhooks


class WebhookStore:
    """The registry of webhooks: persistent ones in SQLite, read-only ones from the config.

    `confirmer` is how SNS subscriptions are confirmed (replaceable, e.g. in tests).
    """

    def __init__(self, store: Store, configured: Sequence[Mapping[str, Any]] = ()) -> None:
        self._store = store
        self._configured = parse_config(configured)
        self._registry: dict[str, RegisteredWebhook] = {}
        self.confirmer = SubscriptionConfirmer()

    async def load(self) -> None:
        """Fill the registry; call once the store is open, before requests arrive."""
        registry: dict[str, RegisteredWebhook] = {}
        async with self._store.reader.execute(
            "SELECT slug, definition, created, updated FROM webhooks ORDER BY slug"
        ) as cursor:
            rows = await cursor.fetchall()
        for slug, definition, created, updated in rows:
            try:
                webhook = Webhook.model_validate({**json.loads(definition), "slug": slug})
            except (ValidationError, ValueError) as error:
                log.error("webhook %r in the database is not valid and is ignored: %s", slug, error)
                continue
            registry[slug] = RegisteredWebhook(
                CompiledWebhook(webhook), "api", from_micros(created), from_micros(updated)
            )
        for webhook in self._configured:
            if webhook.slug in registry:
                log.warning("webhook %r from the config file hides the stored one", webhook.slug)
            registry[webhook.slug] = RegisteredWebhook(CompiledWebhook(webhook), "config")
        self._registry = registry

    def get(self, slug: str) -> RegisteredWebhook | None:
        return self._registry.get(slug)

    def all(self) -> list[RegisteredWebhook]:
        return [self._registry[slug] for slug in sorted(self._registry)]

    async def put(self, webhook: Webhook) -> tuple[RegisteredWebhook, bool]:
        """Create or replace; returns the registered webhook and whether it is new."""
        self._check_writable(webhook.slug)
        compiled = CompiledWebhook(webhook)
        definition = webhook.model_dump_json(exclude={"slug"})
        now = to_micros(now_utc())

        def write(conn: sqlite3.Connection) -> tuple[int, bool]:
            row = conn.execute(
                "SELECT created FROM webhooks WHERE slug = ?", (webhook.slug,)
            ).fetchone()
            conn.execute(
                "INSERT INTO webhooks (slug, definition, created, updated) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (slug) DO UPDATE SET definition = excluded.definition,"
                " updated = excluded.updated",
                (webhook.slug, definition, now, now),
            )
            return (row[0], False) if row else (now, True)

        created, is_new = await self._store.transact(write)
        registered = RegisteredWebhook(compiled, "api", from_micros(created), from_micros(now))
        self._registry[webhook.slug] = registered
        return registered, is_new

    async def delete(self, slug: str) -> bool:
        """Remove a stored webhook; False when there is none by that slug."""
        self._check_writable(slug)

        def remove(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM webhooks WHERE slug = ?", (slug,)).rowcount

        deleted = await self._store.transact(remove)
        self._registry.pop(slug, None)
        return deleted > 0

    def _check_writable(self, slug: str) -> None:
        existing = self._registry.get(slug)
        if existing is not None and existing.source == "config":
            raise ReadOnlyWebhook(slug)
