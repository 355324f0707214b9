"""Themes as data: TOML files validated by pydantic, registered as Textual themes.

Every theme carries evtui's semantic colours as theme variables (`$event-file`, `$run-failed`,
...), so panes colour event kinds and run states with the theme rather than fixed colours. A
theme that leaves them out (a user's file, Textual's built-in themes) gets them derived from its
own palette, so any CSS using them works under every registered theme.

Themes come from the folder shipped with the package (`evtui/themes`, the checkout's `themes/`)
and then the user's `themes/` config folder; a user file with a shipped theme's name replaces it.
The theme chosen last is remembered in a small state file in the user data folder, not in the
config file, which belongs to the user.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model
from textual.app import App
from textual.color import Color, ColorParseError
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.theme import Theme

import evtui
from evtui.settings import APP_NAME

DEFAULT_THEME = "evtui-dark"
SHIPPED_THEMES = Path(evtui.__file__).parent / "themes"
"""`evtui/themes` in an installed package; a link to the checkout's `themes/` folder."""
STATE_FILE_NAME = "tui-state.json"

SEMANTIC_COLOURS = {
    "event-file": "accent",
    "event-flow-run": "primary",
    "event-automation": "secondary",
    "event-action": "warning",
    "event-webhook": "success",
    "event-other": "foreground",
    "run-scheduled": "secondary",
    "run-pending": "secondary",
    "run-running": "primary",
    "run-completed": "success",
    "run-failed": "error",
    "run-crashed": "error",
    "run-cancelled": "warning",
    "run-timedout": "warning",
}
"""evtui's theme variables, each with the Textual colour it falls back to when a theme has none."""


EVENT_FAMILIES = {
    "file": "event-file",
    "flow-run": "event-flow-run",
    "task-run": "event-flow-run",
    "flow": "event-flow-run",
    "automation": "event-automation",
    "trigger": "event-automation",
    "action": "event-action",
    "automation.action": "event-action",
    "webhook": "event-webhook",
}
"""An event name's family (its first one or two parts after any `prefect.`/`evtui.` prefix,
the longer one first: Prefect's `prefect.automation.action.*` are actions) and its colour."""

RUN_STATE_ALIASES = {
    "AwaitingRetry": "run-scheduled",
    "Retrying": "run-running",
    "Cancelling": "run-cancelled",
}
"""Run states that are a phase of another state and share its colour."""


def event_colour(name: str) -> str:
    """The theme variable for an event name, e.g. `event-flow-run` for `prefect.flow-run.Failed`."""
    parts = name.split(".")
    if parts[0] in ("prefect", "evtui"):
        parts = parts[1:]
    for family in (".".join(parts[:2]), ".".join(parts[:1])):
        if family in EVENT_FAMILIES:
            return EVENT_FAMILIES[family]
    return "event-other"


def run_state_colour(state: str) -> str:
    """The theme variable for a run state name, e.g. `run-timedout` for `TimedOut`."""
    variable = RUN_STATE_ALIASES.get(state, f"run-{state.lower()}")
    return variable if variable in SEMANTIC_COLOURS else "run-pending"


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"not a colour: {value!r} (use #rrggbb, rgb(r,g,b) or a name)") from None
    return value


Colour = Annotated[str, AfterValidator(_colour)]


class _ExtraVariables(BaseModel):
    """Any other Textual theme variable (`footer-key-foreground`, ...), as text."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, str] = Field(init=False)


Variables = create_model(
    "Variables",
    __base__=_ExtraVariables,
    **{
        name.replace("-", "_"): (Colour | None, Field(default=None, alias=name))
        for name in SEMANTIC_COLOURS
    },
)
"""A theme's `[variables]` table: evtui's semantic colours (each optional) and any others."""


class ThemeFile(BaseModel):
    """One theme file: Textual's colours (all required) and optional extra variables."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """What `--theme` and the palette's "theme: NAME" call it."""
    dark: bool
    primary: Colour
    secondary: Colour
    accent: Colour
    foreground: Colour
    background: Colour
    surface: Colour
    panel: Colour
    success: Colour
    warning: Colour
    error: Colour
    luminosity_spread: float = Field(default=0.15, ge=0, le=1)
    """How far the lighter and darker shades Textual derives ($primary-lighten-1...) reach."""
    text_alpha: float = Field(default=0.95, ge=0, le=1)
    """Opacity of `$text` over the background (1.0 for the crispest text)."""
    variables: Variables = Field(default_factory=Variables)  # type: ignore[valid-type]

    def to_theme(self) -> Theme:
        fields = self.model_dump(exclude={"variables"})
        variables = self.variables.model_dump(by_alias=True, exclude_none=True)
        return with_semantics(Theme(**fields, variables=variables))


def with_semantics(theme: Theme) -> Theme:
    """`theme` with every semantic colour it does not set derived from its own palette."""
    missing = [name for name in SEMANTIC_COLOURS if name not in theme.variables]
    if not missing:
        return theme
    palette = theme.to_color_system().generate()
    derived = {
        name: getattr(theme, SEMANTIC_COLOURS[name]) or palette[SEMANTIC_COLOURS[name]]
        for name in missing
    }
    return replace(theme, variables={**theme.variables, **derived})


class ThemeError(ValueError):
    """A theme file cannot be used; the message names the file, the field and the reason."""


def load_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeError(f"{path}: cannot read ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ThemeError(f"{path}: not valid TOML ({error})") from None
    try:
        return ThemeFile.model_validate(data).to_theme()
    except ValidationError as error:
        raise ThemeError(f"{path}: {_first_problem(error)}") from None


def _first_problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    reason = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        reason = "missing (every Textual colour is required)"
    elif first["type"] == "string_pattern_mismatch":
        reason = "letters, digits, '-', '_' and '.' only, starting with a letter or digit"
    elif first["type"] == "extra_forbidden":
        reason = "unknown field (extra colours go in [variables])"
    return f"{field}: {reason}" if field else reason


def theme_folders() -> list[Path]:
    """The shipped themes, then the user's (which may replace a shipped one by name)."""
    return [SHIPPED_THEMES, Path(platformdirs.user_config_dir(APP_NAME)) / "themes"]


def load_themes(folders: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    """Every `*.toml` theme in `folders`, and one line per file that could not be used."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in folders:
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme(path)
            except ThemeError as error:
                problems.append(str(error))
            else:
                themes[theme.name] = theme
    return list(themes.values()), problems


def state_file() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / STATE_FILE_NAME


def remembered_theme() -> str | None:
    """The theme chosen last; an unreadable state file only means nothing is remembered."""
    try:
        state = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    theme = state.get("theme") if isinstance(state, dict) else None
    return theme if isinstance(theme, str) else None


def remember_theme(name: str) -> None:
    """Write the state file whole, via a temporary file, so a crash never leaves half of it."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"theme": name}), encoding="utf-8")
    os.replace(temporary, path)


def install_themes(app: App[Any], chosen: str | None) -> None:
    """Register every theme, switch to `chosen` (else the remembered one, else the default)
    and remember each later switch. Call it from the app's `__init__`: the app's CSS is parsed
    before `on_mount`, and the semantic colours it uses must exist by then.

    Files that cannot be used and an unknown `chosen` name are reported together in one
    notification; the app then shows the default theme.
    """
    for theme in list(app.available_themes.values()):
        app.register_theme(with_semantics(theme))
    themes, problems = load_themes(theme_folders())
    for theme in themes:
        app.register_theme(theme)
    wanted = chosen or remembered_theme() or DEFAULT_THEME
    if wanted not in app.available_themes:
        if chosen:
            names = ", ".join(theme.name for theme in themes)
            problems.append(f"no theme named {chosen!r} (evtui's: {names}; Textual's built-ins)")
        wanted = DEFAULT_THEME
    app.theme = wanted
    if chosen == wanted:
        _remember(app, wanted)
    app.watch(app, "theme", partial(_remember, app), init=False)
    if problems:
        app.notify(
            "\n".join([*problems, f"Using the {wanted} theme."]),
            title="Theme problem" if len(problems) == 1 else f"{len(problems)} theme problems",
            severity="warning",
            timeout=15,
            markup=False,
        )


def _remember(app: App[Any], name: str) -> None:
    try:
        remember_theme(name)
    except OSError as error:
        app.notify(f"Could not remember the theme: {error}", severity="warning", markup=False)


class ThemeCommands(Provider):
    """ "theme: NAME" in the command palette, one per registered theme."""

    def _commands(self) -> list[tuple[str, str]]:
        names = sorted(self.app.available_themes)
        return [(f"theme: {name}", name) for name in names]

    def _switch(self, name: str) -> None:
        self.app.theme = name

    async def discover(self) -> Hits:
        for title, name in self._commands():
            yield DiscoveryHit(title, partial(self._switch, name), help=_help(self.app, name))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, name in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self._switch, name),
                    help=_help(self.app, name),
                )


def _help(app: App[Any], name: str) -> str:
    return "the current theme" if name == app.theme else "switch to this theme (remembered)"
