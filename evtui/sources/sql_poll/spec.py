"""What one `--watch-sql URL --query ... --cursor COLUMN` (or `[[watch_sql]]` table) asks for.

The query is the user's own SQL with one named parameter, `:cursor`: evtui binds the cursor
value of the last row it delivered and wraps the query as
`SELECT * FROM (<query>) ORDER BY <cursor> LIMIT <batch_size>`, so rows come in cursor order
whatever the query says, and a missing cursor column is an error at start-up.

URLs: `sqlite:///relative/path.db` or `sqlite:////absolute/path.db` (SQLAlchemy's spelling,
which most Python users already write), and libpq URIs `postgresql://USER@HOST/DB`. The
SQLite file is opened read-only: evtui never writes to a database it polls.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evtui.events import field_errors
from evtui.sources.postgres.changes import display_host
from evtui.sources.postgres.spec import redact

Kind = Literal["sqlite", "postgresql"]

SQLITE_PREFIX = "sqlite:///"
CURSOR_PARAMETER = re.compile(r"(?<![:\w]):cursor\b")
"""`:cursor` as a parameter, not the tail of a PostgreSQL cast (`x::cursor`) or a word."""
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
FIELDS = "url, query, cursor, name, key, every, event, start, batch_size"


def parse_duration(value: object) -> object:
    """`5s`, `500ms`, `2m`, `1h` or a number of seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 5s, 500ms or 2m")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


def _column(value: str, setting: str) -> str:
    if not _COLUMN.match(value):
        raise ValueError(f"{value!r} is not a column name ({setting} names a result column)")
    return value


def kind_of(url: str) -> Kind:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite" and url.startswith(SQLITE_PREFIX):
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise ValueError(f"{redact(url)!r} is neither sqlite:///PATH nor postgresql://USER@HOST/DB")


def sqlite_path(url: str) -> Path:
    """`sqlite:///warehouse.db` is relative to the working folder, `sqlite:////srv/w.db` not."""
    return Path(url.removeprefix(SQLITE_PREFIX).split("?", 1)[0]).expanduser().resolve()


def postgres_host(url: str) -> str:
    """The server as the PostgreSQL source names it: `HOST[:PORT]`, `localhost` for a socket."""
    parts = urlsplit(url)
    host = parts.hostname or parse_qs(parts.query).get("host", [""])[0]
    return display_host(host, parts.port or 5432)


def database_name(url: str) -> str:
    if kind_of(url) == "sqlite":
        return sqlite_path(url).stem
    return urlsplit(url).path.lstrip("/") or "postgres"


def entry_label(value: dict[str, Any], index: int) -> str:
    """What messages call an entry: its name, else its database's, else its place."""
    if value.get("name"):
        return str(value["name"])
    with contextlib.suppress(ValueError, TypeError, KeyError):
        return database_name(value["url"])
    return str(index)


class SqlPollSpec(BaseModel):
    """A query polled every `every` seconds; rows past the stored cursor become events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    """`sqlite:///PATH` or `postgresql://USER@HOST/DB`."""
    query: str
    """SQL with a `:cursor` parameter, e.g. `SELECT * FROM orders WHERE id > :cursor`."""
    cursor: str
    """Result column whose value only grows (an id, `updated_at`): the last one delivered is
    stored and bound to `:cursor` next time."""
    name: str = ""
    """The source's name: in resource ids, stats and the key of its stored cursor. Defaults to
    the database's name (file stem or database)."""
    key: list[str] = Field(default_factory=list)
    """Result columns that identify a row (its resource); defaults to the cursor column."""
    every: float = Field(default=5.0, ge=0.05, le=86_400)
    """Seconds between polls (`5s`, `500ms`, `2m`)."""
    event: str = Field(default="db.row.polled", min_length=1)
    """Name of the events."""
    start: int | float | datetime | date | str | None = None
    """Cursor value to start from when none is stored; unset: from the rows there now (they
    are not announced, later ones are)."""
    batch_size: int = Field(default=1000, ge=1, le=50_000)
    """Rows read per query; a full batch is followed by the next one at once."""

    _every = field_validator("every", mode="before")(parse_duration)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("name") and isinstance(data.get("url"), str):
            with contextlib.suppress(ValueError):  # the url validator names the problem
                data = {**data, "name": database_name(data["url"])}
        return data

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        """A relative SQLite path is made absolute now: the working folder may change."""
        if kind_of(url) == "sqlite":
            return SQLITE_PREFIX + str(sqlite_path(url))
        return url

    @field_validator("query")
    @classmethod
    def _check_query(cls, query: str) -> str:
        query = query.strip().rstrip(";").strip()
        if not query:
            raise ValueError("the query is empty")
        if not CURSOR_PARAMETER.search(query):
            raise ValueError(
                "the query has no :cursor parameter; compare the cursor column with it, "
                "e.g. WHERE updated_at > :cursor"
            )
        return query

    @field_validator("cursor")
    @classmethod
    def _check_cursor(cls, cursor: str) -> str:
        return _column(cursor, "cursor")

    @field_validator("key", mode="before")
    @classmethod
    def _split_key(cls, key: object) -> object:
        if isinstance(key, str):
            return [part.strip() for part in key.split(",") if part.strip()]
        return key

    @field_validator("key")
    @classmethod
    def _check_key(cls, key: list[str]) -> list[str]:
        return [_column(column, "key") for column in key]

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"{name!r} may hold only letters, digits, '_', '.' and '-'")
        return name

    @property
    def kind(self) -> Kind:
        return kind_of(self.url)

    @property
    def key_columns(self) -> list[str]:
        return self.key or [self.cursor]

    @property
    def database(self) -> str:
        """The SQLite file's absolute path, or the PostgreSQL database's name."""
        if self.kind == "sqlite":
            return str(sqlite_path(self.url))
        return database_name(self.url)

    @property
    def resource_base(self) -> str:
        """The database as a URL without credentials: `sqlite:////abs/w.db`,
        `postgresql://HOST/DB`; row resources are `<base>/<name>/<key>`."""
        if self.kind == "sqlite":
            return SQLITE_PREFIX + self.database
        return f"postgresql://{postgres_host(self.url)}/{self.database}"

    @classmethod
    def parse(cls, value: dict[str, Any], index: int) -> SqlPollSpec:
        """Validate one `watch_sql` entry; raise ValueError naming the entry and the setting."""
        label = entry_label(value, index)
        try:
            return cls.model_validate(value)
        except ValidationError as error:
            problem = field_errors(error)[0]
            unknown = error.errors(include_url=False)[0]["type"] == "extra_forbidden"
            reason = f"unknown setting (expected {FIELDS})" if unknown else problem.msg
            raise ValueError(f"watch_sql[{label}].{problem.path}: {reason}") from None
