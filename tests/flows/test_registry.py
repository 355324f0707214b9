"""The flow registry: flow files probed in subprocesses, errors per file, reloads on save."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from evtui.flows.registry import FlowInfo, FlowRegistry

DEADLINE = 20.0

GREET = """
from evtui import flow

@flow(name="greet", retries=2, retry_delay_seconds=1.5, timeout_seconds=30, log_prints=True)
def greet_someone(who: str, times: int = 1):
    \"\"\"Say hello.\"\"\"
"""


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[FlowRegistry]:
    started = FlowRegistry([tmp_path])
    yield started
    await started.stop()


async def until(check: Callable[[], bool], touch: Callable[[], object] | None = None) -> None:
    """Wait for `check()`, redoing `touch` meanwhile (a change made before the watcher was
    listening would otherwise be missed)."""
    deadline = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        if touch is not None:
            touch()
        await asyncio.sleep(0.1)


def names(registry: FlowRegistry) -> list[str]:
    return [info.name for info in registry.flows()]


async def test_a_scan_finds_each_files_flows(registry: FlowRegistry, tmp_path: Path) -> None:
    greet = write(tmp_path, "greet.py", GREET)
    write(
        tmp_path,
        "more.py",
        """
        from evtui import flow
        from greet import greet_someone

        @flow
        def tidy_up():
            pass

        alias = tidy_up
        """,
    )
    write(tmp_path, "_helpers.py", "raise RuntimeError('helpers are not flow files')\n")
    await registry.start()
    assert names(registry) == ["greet", "tidy_up"]
    assert registry.errors() == {}
    info = registry.get("greet")
    assert info == FlowInfo(
        name="greet",
        file=greet,
        function="greet_someone",
        description="Say hello.",
        retries=2,
        retry_delay_seconds=1.5,
        timeout_seconds=30,
        log_prints=True,
        parameters_schema=info.parameters_schema if info else {},
    )
    assert info is not None
    assert info.parameters_schema["required"] == ["who"]
    assert FlowInfo.from_json(info.to_json()) == info
    assert registry.get("missing") is None


async def test_a_broken_file_is_reported_while_others_keep_working(
    registry: FlowRegistry, tmp_path: Path
) -> None:
    write(tmp_path, "greet.py", GREET)
    syntax = write(tmp_path, "syntax.py", "from evtui import flow\n\n@flow\ndef broken(:\n")
    missing = write(tmp_path, "missing.py", "import os\nimport not_installed_anywhere\n")
    failing = write(tmp_path, "failing.py", "x = 1\n\n\nraise ValueError('no config')\n")
    await registry.start()
    assert names(registry) == ["greet"]
    assert registry.errors() == {
        syntax: "line 4: SyntaxError: invalid syntax",
        missing: "line 2: ModuleNotFoundError: No module named 'not_installed_anywhere'",
        failing: "line 4: ValueError: no config",
    }


async def test_a_file_that_kills_or_hangs_its_probe_only_marks_itself(tmp_path: Path) -> None:
    write(tmp_path, "greet.py", GREET)
    dies = write(tmp_path, "dies.py", "import os\nos._exit(3)\n")
    hangs = write(tmp_path, "hangs.py", "import time\ntime.sleep(600)\n")
    registry = FlowRegistry([tmp_path], probe_timeout=2)
    await registry.reload()
    assert names(registry) == ["greet"]
    errors = registry.errors()
    assert errors[dies].startswith("importing the file ended the process (exit code 3)")
    assert errors[hangs] == "importing the file did not finish within 2 s"


async def test_saving_a_fixed_file_reloads_it(registry: FlowRegistry, tmp_path: Path) -> None:
    changes = []
    registry.add_listener(lambda: changes.append(len(registry.flows())))
    broken = write(tmp_path, "later.py", "from evtui import flow\n\n@flow\ndef later(:\n")
    await registry.start()
    assert broken in registry.errors()
    fixed = "from evtui import flow\n\n@flow\ndef later():\n    pass\n"
    await until(lambda: registry.get("later") is not None, lambda: broken.write_text(fixed))
    assert registry.errors() == {}
    assert changes[0] == 0 and changes[-1] == 1

    broken.unlink()
    await until(lambda: registry.get("later") is None)
    assert registry.errors() == {}


async def test_a_new_file_and_a_changed_helper_are_picked_up(
    registry: FlowRegistry, tmp_path: Path
) -> None:
    (tmp_path / "lib").mkdir()
    helper = write(tmp_path, "lib/naming.py", "NAME = 'first'\n")
    await registry.start()
    assert names(registry) == []
    source = """
    from evtui import flow
    from lib.naming import NAME

    @flow(name=NAME)
    def named():
        pass
    """
    flows = tmp_path / "named.py"
    await until(lambda: names(registry) == ["first"], lambda: write(tmp_path, "named.py", source))
    await until(
        lambda: names(registry) == ["second"], lambda: helper.write_text("NAME = 'second'\n")
    )
    assert registry.get("second") is not None and registry.get("second").file == flows


async def test_a_duplicate_name_is_an_error_on_the_later_file(
    registry: FlowRegistry, tmp_path: Path
) -> None:
    first = write(tmp_path, "a_greet.py", GREET)
    await registry.start()
    second_source = "from evtui import flow\n\n@flow(name='greet')\ndef other():\n    pass\n"
    second = tmp_path / "0_first_in_path_order.py"
    await until(lambda: second in registry.errors(), lambda: second.write_text(second_source))
    assert registry.errors()[second] == (
        f"flow name 'greet' (function other) is already defined in {first} (function greet_someone)"
    )
    assert registry.get("greet") is not None and registry.get("greet").file == first

    first.unlink()
    await until(lambda: registry.errors() == {})
    assert registry.get("greet") is not None and registry.get("greet").file == second


async def test_two_flows_of_one_name_in_one_file(registry: FlowRegistry, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "twice.py",
        """
        from evtui import flow

        @flow(name="same")
        def one():
            pass

        @flow(name="same")
        def two():
            pass
        """,
    )
    await registry.reload()
    assert registry.get("same") is not None and registry.get("same").function == "one"
    assert registry.errors() == {
        path: "flow name 'same' (function two) is already defined in this file (function one)"
    }


async def test_user_code_is_never_imported_in_this_process(tmp_path: Path) -> None:
    write(tmp_path, "greet.py", GREET)
    registry = FlowRegistry([tmp_path])
    await registry.reload(tmp_path / "greet.py")
    assert names(registry) == ["greet"]
    assert not [name for name in sys.modules if name.startswith("evtui_flow_")]
