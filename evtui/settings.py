"""Settings: command-line flags > `EVTUI_*` environment > TOML config file > defaults.

One pydantic model is the single description of every setting, so a bad value from any layer
is reported the same way: which setting, where it came from, and why it is wrong.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

APP_NAME = "evtui"
ENV_PREFIX = "EVTUI_"
DEFAULT_PORT = 4200
SAMPLE_FLOWS = Path("sample_flows")
"""The checkout's sample folder; run from the repository, evtui sets up its scenario."""
SAMPLE_INBOX = Path("inbox")


class SettingsError(ValueError):
    """A setting is wrong; the message names it, its source and the reason."""


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "evtui.db"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseModel):
    """Everything the engine and its shells can be told."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    """Address the receiver binds; anything but loopback requires `api_key`."""
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    """Receiver port: 4200 is Prefect's, so `PREFECT_API_URL=http://127.0.0.1:4200/api` works."""
    db: Path = Field(default_factory=default_db_path)
    """The SQLite file holding every event."""
    api_key: str | None = None
    """When set, every endpoint but health requires it (Bearer header or websocket auth)."""
    retention_days: float = Field(default=7.0, gt=0)
    """Events older than this (by `occurred`) are deleted in the background."""
    retention_overrides: dict[str, float] = Field(default_factory=dict)
    """Shorter retention (days) for particular event names, capped at `retention_days`."""
    queue_limit: int = Field(default=200_000, ge=1)
    """Events waiting for their commit before senders get 503 + Retry-After."""
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    """Largest request body accepted on `POST /api/events`."""
    subscriber_buffer: int = Field(default=10_000, ge=1)
    """Committed events buffered per live subscriber before it catches up from the store."""
    log_level: str = "info"
    flows: list[Path] = Field(default_factory=list)
    """Folders whose `*.py` files hold `@flow`s; empty means `./sample_flows` if it exists."""
    max_concurrent_runs: int = Field(default=4, ge=1)
    """Flow runs executing at once; further runs wait, visible as queued (Scheduled)."""
    flow_concurrency: dict[str, int] = Field(default_factory=dict)
    """Per-flow limits on runs executing at once, e.g. `{"process_new_file" = 1}`."""
    spare_children: int = Field(default=2, ge=0, le=8)
    """Pre-started interpreters, evtui already imported, that the next runs start in (two
    keep back-to-back runs fast while a used one is replaced)."""
    log_lines_per_run: int = Field(default=10_000, ge=10)
    """Log records kept per run; beyond this the oldest lines make way (and a note says so)."""
    automations: list[Path] = Field(default_factory=list)
    """Folders of automation files (YAML/JSON); empty means `./sample_flows/automations`."""
    watch: list[str] = Field(default_factory=list)
    """Folders to watch, each `DIR` or `DIR:PATTERN` (glob, e.g. `inbox:*.csv`)."""
    settle_seconds: float = Field(default=1.0, ge=0)
    """A new or changed file is announced once its size and mtime held still this long."""
    announce_existing: bool = False
    """Emit `file.created` at start for files already present in watched folders."""
    watch_db: list[dict[str, Any]] = Field(default_factory=list)
    """PostgreSQL databases whose row changes become events (`--watch-db URL --tables a,b`,
    `[[watch_db]]` tables with `url`, `tables`, optional `name`); see `evtui/sources/postgres/`."""
    watch_sql: list[dict[str, Any]] = Field(default_factory=list)
    """Polled queries whose new rows become events (`--watch-sql URL --query ... --cursor
    COLUMN`, `[[watch_sql]]` tables with `url`, `query`, `cursor`, optional `name`, `key`,
    `every`, `event`, `start`, `batch_size`); see `evtui/sources/sql_poll/`."""
    theme: str | None = None
    """TUI theme by name (`themes/` files and the user's); unset: the last one chosen."""
    keys: dict[str, str] = Field(default_factory=dict)
    """TUI key remapping by binding id, e.g. `{"app.quit" = "ctrl+x"}` (`[keys]` table)."""
    webhooks: list[dict[str, Any]] = Field(default_factory=list)
    """Webhooks from the config file (`[[webhooks]]` tables); see `evtui/webhooks/`."""

    @model_validator(mode="after")
    def _non_loopback_needs_key(self) -> Settings:
        if not is_loopback(self.host) and not self.api_key:
            raise ValueError(
                f"binding {self.host} (not loopback) requires an API token: "
                "pass --api-key or set EVTUI_API_KEY"
            )
        return self

    @property
    def flow_dirs(self) -> list[Path]:
        """The configured flow folders, else `./sample_flows` when run from a checkout."""
        if self.flows:
            return [path.expanduser().resolve() for path in self.flows]
        return [SAMPLE_FLOWS.resolve()] if SAMPLE_FLOWS.is_dir() else []

    @property
    def sample_setup(self) -> bool:
        """Run from a checkout with nothing configured: the samples' scenario is the default."""
        return not (self.flows or self.automations or self.watch) and SAMPLE_FLOWS.is_dir()

    @property
    def watch_specs(self) -> list[str]:
        """The configured watches, else the samples' inbox (`./inbox:*.csv`) in a checkout."""
        if self.watch:
            return self.watch
        return [f"{SAMPLE_INBOX}:*.csv"] if self.sample_setup else []

    @property
    def automation_dirs(self) -> list[Path]:
        """The configured automation folders, else `./sample_flows/automations` if present."""
        if self.automations:
            return [path.expanduser().resolve() for path in self.automations]
        default = SAMPLE_FLOWS / "automations"
        return [default.resolve()] if default.is_dir() else []

    @property
    def api_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/api"


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Scalars as given; mappings as JSON; lists as a JSON array or else one item."""
    values: dict[str, Any] = {}
    for name, info in Settings.model_fields.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        kind = str(info.annotation)
        if "dict" in kind or ("list" in kind and raw.lstrip().startswith("[")):
            values[name] = _parse_json(ENV_PREFIX + name.upper(), raw)
        elif "list" in kind:
            values[name] = [raw]
        else:
            values[name] = raw
    return values


def _parse_json(source: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise SettingsError(f"{source}: not valid JSON ({error.msg})") from None


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"config file {path}: {error}") from None
    except OSError as error:
        raise SettingsError(f"config file {path}: {error.strerror}") from None


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the layers; flags whose value is None count as not given."""
    environ = os.environ if environ is None else environ
    env_values = _from_env(environ)
    chosen_file = config_file or (
        Path(environ[ENV_PREFIX + "CONFIG"]) if environ.get(ENV_PREFIX + "CONFIG") else None
    )
    if chosen_file is None and default_config_path().is_file():
        chosen_file = default_config_path()
    file_values = _from_file(chosen_file) if chosen_file else {}
    flag_values = {k: v for k, v in (flags or {}).items() if v is not None}
    layers = [
        (f"config file {chosen_file}", file_values),
        ("environment", env_values),
        ("command line", flag_values),
    ]
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            merged[key] = value
            origin[key] = source
    try:
        return Settings.model_validate(merged)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = "unknown setting"
        if not first["loc"]:
            raise SettingsError(reason) from None
        field = ".".join(str(p) for p in first["loc"])
        where = origin.get(str(first["loc"][0]), "default")
        raise SettingsError(f"{field} ({where}): {reason}") from None
