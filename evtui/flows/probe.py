"""Importing flow files: `python -m evtui.flows.probe FILE...` prints what each file defines.

User code is only ever imported in a subprocess: this probe (for the registry) or a run's child
process. A flow file can do anything at import time (loop forever, crash the interpreter, print
to stdout), and none of that may reach the evtui process. The probe prints one JSON object:
`{"files": {path: {"flows": [FlowInfo JSON...], "error": "line N: Type: message" | null,
"imports": [paths of other files in the flow folders it imported]}}}`.

`imports` lets the registry re-probe a flow file when a helper module it imports changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from evtui.flows.api import Flow


class FlowFileError(Exception):
    """A flow file that cannot be imported; the message says where, with its line."""


def module_name(path: Path) -> str:
    """A module name unique to the file, so same-named files in two folders do not collide."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"evtui_flow_{path.stem}_{digest}"


def import_file(path: Path) -> ModuleType:
    """Import a flow file by path, its folder on `sys.path` so sibling imports work."""
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FlowFileError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        del sys.modules[name]
        raise FlowFileError(describe_import_error(path, error)) from error
    return module


def flows_defined_in(module: ModuleType) -> list[Flow[Any, Any]]:
    """The module's flows, without those it merely imported from another file."""
    flows: list[Flow[Any, Any]] = []
    for value in vars(module).values():
        defined_here = getattr(getattr(value, "fn", None), "__module__", None) == module.__name__
        if isinstance(value, Flow) and defined_here and all(value is not f for f in flows):
            flows.append(value)
    return flows


def find_flow(module: ModuleType, name: str) -> Flow[Any, Any] | None:
    for value in vars(module).values():
        if isinstance(value, Flow) and value.name == name:
            return value
    return None


def describe_import_error(path: Path, error: BaseException) -> str:
    """`line N: Type: message`, N being the line of this file where the import failed."""
    summary = f"{type(error).__name__}: {error}"
    if isinstance(error, SyntaxError):
        summary = f"{type(error).__name__}: {error.msg}"
        if error.filename and Path(error.filename) == path and error.lineno:
            return f"line {error.lineno}: {summary}"
        if error.filename and error.lineno:
            return f"{error.filename}, line {error.lineno}: {summary}"
    line = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if Path(frame.f_code.co_filename) == path:
            line = lineno
    return f"line {line}: {summary}" if line is not None else summary


def flow_info(flow: Flow[Any, Any], path: Path) -> dict[str, Any]:
    """A flow as the registry's `FlowInfo` JSON."""
    return {
        "name": flow.name,
        "file": str(path),
        "function": flow.fn.__qualname__,
        "description": flow.description,
        "retries": flow.retries,
        "retry_delay_seconds": flow.retry_delay_seconds,
        "timeout_seconds": flow.timeout_seconds,
        "log_prints": flow.log_prints,
        "parameters_schema": flow.parameters_schema(),
    }


def probe(paths: list[Path]) -> dict[str, Any]:
    folders = {path.parent for path in paths}
    files: dict[str, Any] = {}
    for path in paths:
        before = set(sys.modules)
        try:
            module = import_file(path)
        except FlowFileError as error:
            files[str(path)] = {"flows": [], "error": str(error), "imports": []}
            continue
        loaded = [sys.modules[name] for name in set(sys.modules) - before]
        files[str(path)] = {
            "flows": [flow_info(flow, path) for flow in flows_defined_in(module)],
            "error": None,
            "imports": sorted(_local_files(loaded, folders) - {str(path)}),
        }
    return {"files": files}


def _local_files(modules: list[ModuleType], folders: set[Path]) -> set[str]:
    found = set()
    for module in modules:
        file = getattr(module, "__file__", None)
        if file and any(Path(file).is_relative_to(folder) for folder in folders):
            found.add(str(Path(file).resolve()))
    return found


def main(argv: list[str]) -> int:
    paths = [Path(arg).resolve() for arg in argv]
    with contextlib.redirect_stdout(sys.stderr):
        report = probe(paths)
    sys.stdout.write(json.dumps(report, default=repr))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
