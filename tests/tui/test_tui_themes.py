"""Themes and key remapping as a user meets them: files in the config folder, `--theme`, the
palette's "theme: NAME", the choice remembered across starts, the `[keys]` table.

The user config and data folders are the isolated ones of the autouse fixture in
tests/conftest.py, so the state file and user themes live in the test's own HOME.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import platformdirs
import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.command import CommandList
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Footer, Input, OptionList
from tui_helpers import until

from evtui.flows.records import STATE_TYPES
from evtui.tui.keymap import apply_keymap, key_problem, keymap_from_settings
from evtui.tui.themes import (
    DEFAULT_THEME,
    SEMANTIC_COLOURS,
    SHIPPED_THEMES,
    ThemeCommands,
    ThemeError,
    event_colour,
    install_themes,
    load_theme,
    load_themes,
    remembered_theme,
    run_state_colour,
    state_file,
)

SHIPPED = ["evtui-dark", "evtui-high-contrast", "evtui-light"]
SIZE = (100, 24)
SAMPLE_EVENTS = [
    "file.created",
    "prefect.flow-run.Completed",
    "evtui.flow-run.Failed",
    "evtui.automation.triggered",
    "evtui.action.executed",
    "evtui.webhook.received",
    "sensor.reading",
]

GOOD = """
name = "mine"
dark = true
primary = "#336699"
secondary = "#663399"
accent = "#ff9900"
foreground = "#eeeeee"
background = "#101010"
surface = "#181818"
panel = "#202020"
success = "green"
warning = "rgb(200, 160, 0)"
error = "#cc3333"
"""


def user_themes() -> Path:
    folder = Path(platformdirs.user_config_dir("evtui")) / "themes"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_theme(name: str, text: str) -> Path:
    path = user_themes() / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Sample(Horizontal):
    """Event names and run states in their theme colours, in Textual's own widgets: what the
    snapshots show of each theme."""

    DEFAULT_CSS = "Sample { height: 1fr; } Sample OptionList { width: 1fr; height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield OptionList(
            *[Content.assemble((name, f"${event_colour(name)}")) for name in SAMPLE_EVENTS],
            id="events",
        )
        yield OptionList(
            *[
                Content.assemble((f"{state:<15}", f"bold ${run_state_colour(state)}"), "etl")
                for state in STATE_TYPES
            ],
            id="runs",
        )


class ThemedApp(App[None]):
    """The wiring `EvtuiApp` does, on a small screen: themes and keymap installed at start."""

    COMMANDS = App.COMMANDS | {ThemeCommands}
    AUTO_FOCUS = "#events"
    BINDINGS = [Binding("p", "ping", "Ping", id="sample.ping")]

    def __init__(self, theme: str | None = None, keys: dict[str, str] | None = None) -> None:
        super().__init__()
        self.notes: list[tuple[str, str]] = []
        self.plain: list[bool] = []
        """Per notification: shown as typed (no markup), so `[keys]` and paths stay intact."""
        self.pings = 0
        install_themes(self, theme)
        apply_keymap(self, keys or {})

    def compose(self) -> ComposeResult:
        yield Sample()
        yield Input(placeholder="filter")
        yield Footer()

    def notify(self, message: str, **options: Any) -> None:
        self.notes.append((message, options.get("severity", "information")))
        self.plain.append(options.get("markup") is False)
        super().notify(message, **options)

    def action_ping(self) -> None:
        self.pings += 1


def test_each_shipped_theme_loads_with_every_semantic_colour() -> None:
    themes, problems = load_themes([SHIPPED_THEMES])
    assert problems == []
    assert [theme.name for theme in themes] == SHIPPED
    for theme in themes:
        assert set(SEMANTIC_COLOURS) <= set(theme.variables), theme.name
    assert {theme.name: theme.dark for theme in themes} == {
        "evtui-dark": True,
        "evtui-high-contrast": True,
        "evtui-light": False,
    }


def test_a_user_theme_gets_the_semantic_colours_from_its_palette() -> None:
    theme = load_theme(write_theme("mine", GOOD))
    assert theme.variables["run-failed"] == "#cc3333"
    assert theme.variables["event-file"] == "#ff9900"


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (GOOD.replace('primary = "#336699"\n', ""), "primary", "missing"),
        (GOOD.replace('"#cc3333"', '"blurple"'), "error", "not a colour: 'blurple'"),
        (GOOD + '[variables]\nrun-failed = "#12"\n', "variables.run-failed", "not a colour"),
        (GOOD + 'shade = "#123456"\n', "shade", "unknown field"),
        (GOOD.replace("dark = true", "dark = 'maybe'"), "dark", "boolean"),
        (GOOD.replace('"mine"', '"my theme"'), "name", "letters, digits"),
        (GOOD + "text_alpha = 2\n", "text_alpha", "less than or equal to 1"),
    ],
)
def test_a_broken_theme_file_is_named_with_the_field_and_the_reason(
    text: str, field: str, reason: str
) -> None:
    path = write_theme("broken", text)
    with pytest.raises(ThemeError) as raised:
        load_theme(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {field}: ")
    assert reason in message


def test_a_file_that_is_not_toml_is_named_with_its_line() -> None:
    path = write_theme("broken", 'name = "x"\nprimary = \n')
    with pytest.raises(ThemeError, match=rf"{path}: not valid TOML .*line 2"):
        load_theme(path)


async def test_broken_files_are_reported_in_one_notification_and_the_default_is_used() -> None:
    missing = write_theme("no-primary", GOOD.replace('primary = "#336699"\n', ""))
    bad = write_theme("bad-colour", GOOD.replace('"#cc3333"', '"blurple"'))
    app = ThemedApp(theme="no-primary")
    async with app.run_test(size=SIZE):
        assert app.theme == DEFAULT_THEME
        assert len(app.notes) == 1
        message, severity = app.notes[0]
        assert severity == "warning"
        assert f"{missing}: primary: missing" in message
        assert f"{bad}: error: not a colour: 'blurple'" in message
        assert "no theme named 'no-primary'" in message
        assert f"Using the {DEFAULT_THEME} theme." in message
        assert app.plain == [True]


async def test_a_user_theme_replaces_a_shipped_one_of_the_same_name() -> None:
    write_theme("dark-override", GOOD.replace('"mine"', f'"{DEFAULT_THEME}"'))
    app = ThemedApp()
    async with app.run_test(size=SIZE):
        assert app.theme == DEFAULT_THEME
        assert app.current_theme.primary == "#336699"
        assert app.notes == []


async def test_builtin_themes_get_the_semantic_colours_too() -> None:
    app = ThemedApp(theme="nord")
    async with app.run_test(size=SIZE):
        assert app.theme == "nord"
        variables = app.get_css_variables()
        assert set(SEMANTIC_COLOURS) <= set(variables)
        error = Color.parse(app.current_theme.error or "")
        assert Color.parse(variables["run-failed"]) == error


async def test_the_palette_switches_theme_and_the_next_start_remembers_it() -> None:
    app = ThemedApp()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == DEFAULT_THEME
        await pilot.press("ctrl+p", *"theme: evtui-light")
        hits = app.screen.query_one(CommandList)
        await until(pilot, lambda: hits.option_count == 1, "one palette hit")
        assert "theme: evtui-light" in str(hits.get_option_at_index(0).prompt)
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.theme == "evtui-light", "the light theme")
    assert remembered_theme() == "evtui-light"
    again = ThemedApp()
    async with again.run_test(size=SIZE):
        assert again.theme == "evtui-light"


async def test_theme_flag_wins_over_the_remembered_one_and_is_remembered() -> None:
    async with ThemedApp(theme="evtui-light").run_test(size=SIZE):
        pass
    app = ThemedApp(theme="evtui-high-contrast")
    async with app.run_test(size=SIZE):
        assert app.theme == "evtui-high-contrast"
    assert remembered_theme() == "evtui-high-contrast"


async def test_an_unknown_theme_name_is_not_remembered() -> None:
    async with ThemedApp(theme="evtui-light").run_test(size=SIZE):
        pass
    app = ThemedApp(theme="nonesuch")
    async with app.run_test(size=SIZE):
        assert app.theme == DEFAULT_THEME
        assert "no theme named 'nonesuch'" in app.notes[0][0]
    assert remembered_theme() == "evtui-light"


async def test_a_choice_that_cannot_be_remembered_is_reported() -> None:
    state_file().parent.parent.mkdir(parents=True, exist_ok=True)
    state_file().parent.write_text("a file where the folder should be", encoding="utf-8")
    app = ThemedApp()
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "evtui-light"
        await until(pilot, lambda: app.notes, "a notification")
        assert app.notes[0][0].startswith("Could not remember the theme: ")
        assert app.notes[0][1] == "warning"


async def test_an_unreadable_state_file_means_nothing_is_remembered() -> None:
    state_file().parent.mkdir(parents=True, exist_ok=True)
    state_file().write_text("{not json", encoding="utf-8")
    app = ThemedApp()
    async with app.run_test(size=SIZE):
        assert app.theme == DEFAULT_THEME
        assert app.notes == []


def test_keys_are_checked_and_normalised() -> None:
    keymap, problems = keymap_from_settings(
        {
            "app.quit": " ctrl+x , f2",
            "events.follow": "ctl+e",
            "events.filter": "slash,",
            "nope.one": "a",
            "nope.two": "b",
        },
        {"app.quit", "events.follow", "events.filter"},
    )
    assert keymap == {"app.quit": "ctrl+x,f2"}
    assert problems == [
        "unknown binding id: nope.one, nope.two (press ? for the ids)",
        "keys.events.follow: unknown modifier 'ctl' in 'ctl+e' "
        "(use alt, ctrl, hyper, meta, shift, super)",
        "keys.events.filter: no key given",
    ]


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("file.created", "event-file"),
        ("evtui.file.moved", "event-file"),
        ("prefect.flow-run.Completed", "event-flow-run"),
        ("evtui.task-run.Failed", "event-flow-run"),
        ("evtui.automation.triggered", "event-automation"),
        ("prefect.automation.triggered", "event-automation"),
        ("prefect.automation.action.executed", "event-action"),
        ("evtui.action.failed", "event-action"),
        ("evtui.webhook.received", "event-webhook"),
        ("sensor.reading", "event-other"),
        ("evtui", "event-other"),
    ],
)
def test_event_names_map_to_their_kind_colour(name: str, variable: str) -> None:
    assert event_colour(name) == variable


def test_every_run_state_has_a_colour() -> None:
    assert {state: run_state_colour(state) for state in STATE_TYPES} == {
        "Scheduled": "run-scheduled",
        "Pending": "run-pending",
        "Running": "run-running",
        "AwaitingRetry": "run-scheduled",
        "Retrying": "run-running",
        "Completed": "run-completed",
        "Failed": "run-failed",
        "Crashed": "run-crashed",
        "Cancelling": "run-cancelled",
        "Cancelled": "run-cancelled",
        "TimedOut": "run-timedout",
    }


@pytest.mark.parametrize("key", ["ctrl+x", "f12", "?", "question_mark", "slash", "G", "space"])
def test_keys_textual_delivers_are_accepted(key: str) -> None:
    assert key_problem(key) is None


async def test_a_remapped_key_runs_its_binding_and_unknown_ids_are_named() -> None:
    app = ThemedApp(keys={"sample.ping": "x", "sample.pong": "y"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert app.pings == 0
        await pilot.press("x")
        assert app.pings == 1
        assert app.notes == [
            (
                "unknown binding id: sample.pong (press ? for the ids)\n"
                "Those entries of [keys] were ignored.",
                "warning",
            )
        ]
        assert app.plain == [True]


@pytest.mark.parametrize("theme", SHIPPED)
def test_theme_snapshot(snap_compare, theme: str) -> None:
    assert snap_compare(ThemedApp(theme=theme), terminal_size=SIZE)
