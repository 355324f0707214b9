"""What one `--watch-db URL --tables a,b` (or `[[watch_db]]` table) asks for.

The URL is a libpq connection URI (`postgresql://USER[:PASSWORD]@HOST[:PORT]/DB`, query
parameters such as `?host=/run/postgresql` included), handed to psycopg as given. Tables are
named as in SQL, optionally with their schema (`orders`, `sales.orders`); an unqualified name is
looked up on the server's `search_path`, like any query would.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_SCHEMES = ("postgresql", "postgres")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


def split_tables(value: object) -> object:
    """`"a, b"` and `["a", "b"]` both mean the tables a and b."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def check_table_names(tables: list[str]) -> list[str]:
    if not tables:
        raise ValueError("name at least one table, e.g. --tables orders,customers")
    for table in tables:
        if not _TABLE.match(table):
            raise ValueError(f"{table!r} is not a table name such as orders or sales.orders")
    return tables


def redact(url: str) -> str:
    """The URL without its password, for logs, stats and the status bar."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class DbWatchSpec(BaseModel):
    """A PostgreSQL database whose row changes (on `tables`) become events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    """libpq connection URI of the database holding the outbox."""
    tables: list[str]
    """Tables whose changes are delivered; each needs `evtui db install-triggers`."""
    name: str = ""
    """Shown in stats and the status bar; defaults to the URL without its password."""
    batch_size: int = Field(default=2000, ge=1, le=50_000)
    """Outbox rows read, stored and deleted together."""

    _split = field_validator("tables", mode="before")(split_tables)
    _check = field_validator("tables")(check_table_names)

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        scheme = urlsplit(url).scheme
        if scheme not in _SCHEMES:
            raise ValueError(f"{redact(url)!r} is not a postgresql://USER@HOST/DB URL")
        return url

    @property
    def label(self) -> str:
        return self.name or redact(self.url)

    @classmethod
    def parse(cls, value: dict[str, Any], index: int) -> DbWatchSpec:
        """Validate one `watch_db` entry; raise ValueError naming the entry and the field."""
        try:
            return cls.model_validate(value)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or "entry"
            reason = first["msg"].removeprefix("Value error, ")
            if first["type"] == "extra_forbidden":
                reason = "unknown key (expected url, tables, name, batch_size)"
            raise ValueError(f"watch_db[{index}].{field}: {reason}") from None
