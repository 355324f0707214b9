"""`--watch DIR[:PATTERN]`: parsing, errors that name the spec, which names count."""

from __future__ import annotations

from pathlib import Path

import pytest

from evtui.sources import WatchSpec


def test_folder_alone_watches_every_name(tmp_path: Path) -> None:
    spec = WatchSpec.parse(str(tmp_path))
    assert spec.directory == tmp_path.resolve()
    assert spec.pattern == "*"
    assert str(spec) == f"{tmp_path.resolve()}:*"


def test_pattern_after_the_last_colon(tmp_path: Path) -> None:
    spec = WatchSpec.parse(f"{tmp_path}:*.csv")
    assert (spec.directory, spec.pattern) == (tmp_path.resolve(), "*.csv")


def test_relative_folder_becomes_absolute(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "inbox").mkdir()
    monkeypatch.chdir(tmp_path)
    assert WatchSpec.parse("inbox:*.json").directory == (tmp_path / "inbox").resolve()


def test_folder_with_a_colon_in_its_name_needs_no_escaping(tmp_path: Path) -> None:
    folder = tmp_path / "data:2024"
    folder.mkdir()
    assert WatchSpec.parse(str(folder)) == WatchSpec(folder.resolve())
    assert WatchSpec.parse(f"{folder}:*.csv").pattern == "*.csv"


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("{tmp}/missing", "does not exist"),
        ("{tmp}/missing:*.csv", "does not exist"),
        ("{tmp}/file.txt", "is not a folder"),
        ("{tmp}:", "the pattern after ':' is empty"),
        ("{tmp}:sub/*.csv", "cannot hold a path separator"),
        ("  ", "watch spec is empty"),
    ],
)
def test_bad_specs_are_named_with_the_reason(tmp_path: Path, spec: str, reason: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    text = spec.format(tmp=tmp_path)
    with pytest.raises(ValueError, match=reason) as raised:
        WatchSpec.parse(text)
    if text.strip():
        assert repr(text) in str(raised.value)


def test_pattern_applies_to_names_in_the_folder_only(tmp_path: Path) -> None:
    spec = WatchSpec.parse(f"{tmp_path}:*.csv")
    assert spec.matches(tmp_path / "a.csv")
    assert not spec.matches(tmp_path / "processed" / "a.csv")
    assert not spec.matches(tmp_path / "a.csv.gz")


def test_a_double_star_pattern_applies_to_names_anywhere_below(tmp_path: Path) -> None:
    spec = WatchSpec.parse(f"{tmp_path}:**/*.csv")
    assert (spec.pattern, spec.recursive, str(spec)) == ("*.csv", True, f"{tmp_path}:**/*.csv")
    assert spec.matches(tmp_path / "a.csv")
    assert spec.matches(tmp_path / "2024" / "05" / "a.csv")
    assert not spec.matches(tmp_path / "a.csv.gz")
    assert not spec.matches(tmp_path / "A.CSV")
    assert not spec.matches(tmp_path.parent / "a.csv")


@pytest.mark.parametrize(
    "name",
    [".hidden", ".~lock.a.csv#", "~$report.xlsx", "a.csv~", "a.tmp", "a.part", "a.crdownload"],
)
def test_scratch_and_hidden_names_are_skipped(tmp_path: Path, name: str) -> None:
    assert not WatchSpec.parse(str(tmp_path)).matches(tmp_path / name)


def test_files_in_hidden_folders_are_skipped(tmp_path: Path) -> None:
    spec = WatchSpec.parse(f"{tmp_path}:**/*")
    assert not spec.matches(tmp_path / ".git" / "config")
    assert spec.matches(tmp_path / "visible" / "config")


def test_a_hidden_watched_folder_itself_is_fine(tmp_path: Path) -> None:
    folder = tmp_path / ".inbox"
    folder.mkdir()
    assert WatchSpec.parse(str(folder)).matches(folder / "a.csv")


def test_display_is_short_for_folders_under_the_working_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inbox").mkdir()
    monkeypatch.chdir(tmp_path)
    assert WatchSpec.parse("inbox:*.csv").display() == "inbox/*.csv"
    monkeypatch.chdir(tmp_path / "inbox")
    assert WatchSpec.parse(f"{tmp_path}:**/*.csv").display() == f"{tmp_path}/**/*.csv"
