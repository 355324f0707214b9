"""Settings layering: flags > EVTUI_* environment > TOML config file > defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evtui.settings import (
    Settings,
    SettingsError,
    default_config_path,
    default_db_path,
    load_settings,
)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_are_loopback_on_prefects_port_with_the_db_in_the_data_dir(tmp_path) -> None:
    settings = load_settings(environ={})
    assert (settings.host, settings.port) == ("127.0.0.1", 4200)
    assert settings.db == default_db_path()
    assert settings.api_url == "http://127.0.0.1:4200/api"
    assert settings.retention_days == 7


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'port = 5000\nretention_days = 3\nlog_level = "debug"\n')
    environ = {"EVTUI_PORT": "6000", "EVTUI_RETENTION_DAYS": "2"}
    settings = load_settings({"port": 7000, "host": None}, config_file=config, environ=environ)
    assert settings.port == 7000
    assert settings.retention_days == 2
    assert settings.log_level == "debug"


def test_config_file_from_environment_and_default_location(tmp_path: Path) -> None:
    config = write_config(tmp_path, "port = 5001\n")
    assert load_settings(environ={"EVTUI_CONFIG": str(config)}).port == 5001
    default = default_config_path()
    assert str(default).startswith(os.environ["XDG_CONFIG_HOME"])
    default.parent.mkdir(parents=True)
    default.write_text("port = 5002\n")
    assert load_settings().port == 5002


def test_mapping_settings_come_from_json_in_the_environment() -> None:
    settings = load_settings(environ={"EVTUI_RETENTION_OVERRIDES": '{"noisy.event": 1}'})
    assert settings.retention_overrides == {"noisy.event": 1}


def test_list_settings_take_one_item_or_a_json_array_from_the_environment() -> None:
    settings = load_settings(environ={"EVTUI_WATCH": "inbox:*.csv", "EVTUI_FLOWS": '["a", "b"]'})
    assert settings.watch == ["inbox:*.csv"]
    assert settings.flows == [Path("a"), Path("b")]


def test_flow_dirs_default_to_sample_flows_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings().flow_dirs == []
    (tmp_path / "sample_flows").mkdir()
    assert Settings().flow_dirs == [tmp_path / "sample_flows"]
    assert Settings(flows=[Path("mine")]).flow_dirs == [tmp_path / "mine"]


def test_in_a_checkout_with_nothing_configured_the_samples_inbox_is_watched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings().watch_specs == []
    (tmp_path / "sample_flows" / "automations").mkdir(parents=True)
    assert Settings().watch_specs == ["inbox:*.csv"]
    assert Settings().automation_dirs == [tmp_path / "sample_flows" / "automations"]
    assert Settings(watch=["data"]).watch_specs == ["data"]
    assert Settings(flows=[Path("mine")]).watch_specs == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"environ": {"EVTUI_PORT": "seventy"}}, "port (environment): Input should be a valid"),
        ({"flags": {"port": 70000}}, "port (command line): Input should be less than or equal"),
        (
            {"environ": {"EVTUI_RETENTION_OVERRIDES": "{oops"}},
            "EVTUI_RETENTION_OVERRIDES: not valid JSON",
        ),
        (
            {"flags": {"host": "0.0.0.0"}},
            "binding 0.0.0.0 (not loopback) requires an API token",
        ),
    ],
)
def test_bad_values_name_the_setting_and_where_it_came_from(kwargs: dict, message: str) -> None:
    flags = kwargs.get("flags")
    with pytest.raises(SettingsError) as caught:
        load_settings(flags, environ=kwargs.get("environ", {}))
    assert str(caught.value).startswith(message)


def test_unknown_and_broken_config_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"colour \(config file .*\): unknown setting"):
        load_settings(config_file=write_config(tmp_path, 'colour = "red"\n'), environ={})
    with pytest.raises(SettingsError, match=r"config file .*config\.toml"):
        load_settings(config_file=write_config(tmp_path, "port = \n"), environ={})
    with pytest.raises(SettingsError, match="No such file"):
        load_settings(config_file=tmp_path / "missing.toml", environ={})


def test_non_loopback_bind_is_allowed_with_a_token() -> None:
    settings = Settings(host="0.0.0.0", api_key="secret")
    assert settings.api_url == "http://127.0.0.1:4200/api"
    assert Settings(host="::1").api_url == "http://[::1]:4200/api"
