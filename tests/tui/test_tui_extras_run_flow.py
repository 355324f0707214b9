"""The run-a-flow form reads `key=value` values as `evtui run -p` does: JSON when it parses."""

from __future__ import annotations

from typing import Any

import pytest

from evtui.tui.screens.run_flow import ParameterProblem, parse_parameters


@pytest.mark.parametrize(
    ("text", "parameters"),
    [
        ("n=3", {"n": 3}),
        (
            "ratio=0.5\non=true\noff=false\nnothing=null",
            {"ratio": 0.5, "on": True, "off": False, "nothing": None},
        ),
        ('xs=[1, 2]\nopts={"a": 1}', {"xs": [1, 2], "opts": {"a": 1}}),
        ('name=ada\ncode=007\nquoted="7"', {"name": "ada", "code": "007", "quoted": "7"}),
        ("  name = ada lovelace  \n\n# a comment\n", {"name": "ada lovelace"}),
        ("empty=", {"empty": ""}),
        ("url=http://x/?a=b", {"url": "http://x/?a=b"}),
        ('{"n": 3, "name": "ada"}', {"n": 3, "name": "ada"}),
        ("", {}),
    ],
)
def test_values_are_json_when_they_parse(text: str, parameters: dict[str, Any]) -> None:
    assert parse_parameters(text) == parameters


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("n=3\njust words", "line 2: expected name=value, got 'just words'"),
        ("=3", "line 1: expected name=value, got '=3'"),
        ('{"n": 3', "not valid JSON: "),
        ("[1, 2]", "line 1: expected name=value"),
        ('{"n": [3]', "not valid JSON"),
    ],
)
def test_lines_that_cannot_be_read_are_named(text: str, problem: str) -> None:
    with pytest.raises(ParameterProblem, match=problem.replace("[", r"\[")):
        parse_parameters(text)
