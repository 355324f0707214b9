"""Label globs: `*` anywhere, `!` negates, a missing label never matches, lists OR, labels AND."""

from __future__ import annotations

import sqlite3

import pytest

from evtui.labels import glob_to_sqlite, labels_match, pattern_matches, prefix_to_sqlite

RESOURCE = {
    "prefect.resource.id": "prefect.flow-run.abc",
    "env": "prod",
    "path": "s3://bucket/data?v=1[a].csv",
}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("prod", "prod", True),
        ("prod", "production", False),
        ("prod*", "production", True),
        ("*tion", "production", True),
        ("p*d*n", "production", True),
        ("*", "", True),
        ("", "", True),
        ("!prod", "dev", True),
        ("!prod", "prod", False),
        ("!prod*", "production", False),
        ("!*", "anything", False),
        ("Prod", "prod", False),  # case-sensitive
        ("a?c", "abc", False),  # `?` is literal
        ("a?c", "a?c", True),
        ("[ab]", "a", False),  # brackets are literal
        ("[ab]", "[ab]", True),
        ("x.*", "x.y.z", True),
        ("multi\nline*", "multi\nline too", True),
    ],
)
def test_one_pattern(pattern: str, value: str, expected: bool) -> None:
    assert pattern_matches(pattern, value) is expected


@pytest.mark.parametrize("pattern", ["prod", "!prod", "*", "!*", ""])
def test_a_missing_label_never_matches(pattern: str) -> None:
    assert pattern_matches(pattern, None) is False
    assert labels_match({"region": pattern}, RESOURCE) is False


def test_values_in_a_list_are_ored_and_labels_are_anded() -> None:
    assert labels_match({"env": ["dev", "prod"]}, RESOURCE)
    assert not labels_match({"env": ["dev", "staging"]}, RESOURCE)
    assert labels_match({"env": "prod", "prefect.resource.id": "prefect.flow-run.*"}, RESOURCE)
    assert not labels_match({"env": "prod", "prefect.resource.id": "prefect.task-run.*"}, RESOURCE)
    # mixing a positive and a negative pattern in one list lets everything through
    assert labels_match({"env": ["dev-*", "!dev-x"]}, RESOURCE)


def test_an_empty_list_matches_nothing_and_an_empty_specification_everything() -> None:
    assert not labels_match({"env": []}, RESOURCE)
    assert labels_match({}, RESOURCE)
    assert labels_match({}, {})


@pytest.mark.parametrize(
    ("glob", "value"),
    [
        ("prod", "prod"),
        ("prod*", "production"),
        ("*.csv", "s3://bucket/data?v=1[a].csv"),
        ("s3://bucket/data?v=1[a]*", "s3://bucket/data?v=1[a].csv"),
        ("s3://bucket/data?v=1[b]*", "s3://bucket/data?v=1[a].csv"),
        ("a?c", "abc"),
        ("[ab]", "a"),
        ("[ab]*", "[ab]c"),
        ("*]", "x]"),
        ("Prod", "prod"),
        ("*", ""),
    ],
)
def test_sqlite_glob_agrees_with_matching_in_memory(glob: str, value: str) -> None:
    with sqlite3.connect(":memory:") as conn:
        (in_sql,) = conn.execute("SELECT ? GLOB ?", (value, glob_to_sqlite(glob))).fetchone()
    assert bool(in_sql) is pattern_matches(glob, value)


@pytest.mark.parametrize("prefix", ["acme.", "a*b", "a?", "[x]", ""])
def test_prefix_globs_take_the_prefix_literally(prefix: str) -> None:
    with sqlite3.connect(":memory:") as conn:
        for value, expected in [(prefix + "tail", True), ("zz" + prefix, prefix == "")]:
            (in_sql,) = conn.execute(
                "SELECT ? GLOB ?", (value, prefix_to_sqlite(prefix))
            ).fetchone()
            assert bool(in_sql) is expected
