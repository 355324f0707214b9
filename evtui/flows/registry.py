"""The flows in the flow folders, kept current as their files change.

User code never runs in the evtui process: each file is imported in a probe subprocess
(`evtui.flows.probe`), which reports the flows it defines or the error that stopped it. A file
that does not import (syntax error, missing module, an exception, even a crash or a hang) is
reported against that file, with its line, while every other file's flows stay available.

Files are the `*.py` files directly in each folder, except those starting with `_` or `.`
(helpers and `__init__.py`); subfolders hold helper modules. watchfiles reports changes in the
folders, subfolders included; a changed flow file is probed again, and so is every flow file
that imported a changed helper.

A flow name defined by two files belongs to the file that had it first (at start, the first
in path order); the other file is reported with an error naming the owner.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import watchfiles

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 30.0
"""Seconds a flow file may take to import before it is reported as hanging."""
Listener = Callable[[], "Awaitable[None] | None"]


@dataclass(frozen=True)
class FlowInfo:
    """A flow as its file declares it (the runner and the API read it; no user code needed)."""

    name: str
    file: Path
    function: str
    description: str | None
    retries: int
    retry_delay_seconds: float
    timeout_seconds: float | None
    log_prints: bool
    parameters_schema: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"file": str(self.file)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowInfo:
        return cls(**(data | {"file": Path(data["file"])}))


@dataclass
class _FileState:
    flows: list[FlowInfo] = field(default_factory=list)
    error: str | None = None
    imports: set[Path] = field(default_factory=set)


class ProbeFailed(Exception):
    """The probe process hung or died before reporting; the message says which."""


class FlowRegistry:
    """Flows discovered in `dirs`; `start()` scans and then follows changes."""

    def __init__(self, dirs: list[Path], probe_timeout: float = PROBE_TIMEOUT) -> None:
        self.dirs = [Path(folder).expanduser().resolve() for folder in dirs]
        self.probe_timeout = probe_timeout
        self._files: dict[Path, _FileState] = {}
        self._by_name: dict[str, FlowInfo] = {}
        self._errors: dict[Path, str] = {}
        self._listeners: list[Listener] = []
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.reload()
        folders = [str(folder) for folder in self.dirs if folder.is_dir()]
        if folders:
            self._stop.clear()
            self._watcher = asyncio.create_task(self._watch(folders), name="flow-registry-watch")

    async def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            await self._watcher
            self._watcher = None

    def flows(self) -> list[FlowInfo]:
        return sorted(self._by_name.values(), key=lambda info: info.name)

    def get(self, name: str) -> FlowInfo | None:
        return self._by_name.get(name)

    def errors(self) -> dict[Path, str]:
        return dict(self._errors)

    def add_listener(self, listener: Listener) -> None:
        """Call `listener()` (plain or async) after every change of flows or errors."""
        self._listeners.append(listener)

    async def reload(self, path: Path | None = None) -> None:
        """Probe every flow file again, or only `path` and the flow files that import it."""
        await self._reload(None if path is None else {Path(path).resolve()})

    def flow_files(self) -> list[Path]:
        return sorted(
            path
            for folder in self.dirs
            if folder.is_dir()
            for path in folder.glob("*.py")
            if self._is_flow_file(path)
        )

    def _is_flow_file(self, path: Path) -> bool:
        return (
            path.suffix == ".py"
            and path.parent in self.dirs
            and not path.name.startswith(("_", "."))
        )

    async def _reload(self, changed: set[Path] | None) -> None:
        async with self._lock:
            if changed is None:
                self._files = {}
                targets = set(self.flow_files())
            else:
                targets = {
                    path
                    for path, state in self._files.items()
                    if path in changed or state.imports & changed
                }
                targets |= {path for path in changed if self._is_flow_file(path)}
            for path in [path for path in targets if not path.is_file()]:
                self._files.pop(path, None)
                targets.discard(path)
            self._files.update(await self._probe(sorted(targets)))
            self._index()
        await self._notify()

    def _index(self) -> None:
        """Names to flows, first owner keeping a name; errors per file."""
        previous = {name: info.file for name, info in self._by_name.items()}
        problems: dict[Path, list[str]] = {
            path: [state.error] for path, state in self._files.items() if state.error
        }
        claims: dict[str, list[FlowInfo]] = {}
        for path in sorted(self._files):
            for info in self._files[path].flows:
                claims.setdefault(info.name, []).append(info)
        by_name = {}
        for name, infos in claims.items():
            owner = next((i for i in infos if i.file == previous.get(name)), infos[0])
            by_name[name] = owner
            for other in infos:
                if other is owner:
                    continue
                where = "this file" if other.file == owner.file else str(owner.file)
                problems.setdefault(other.file, []).append(
                    f"flow name {name!r} (function {other.function}) is already defined in "
                    f"{where} (function {owner.function})"
                )
        self._by_name = by_name
        self._errors = {path: "; ".join(texts) for path, texts in problems.items()}

    async def _notify(self) -> None:
        for listener in self._listeners:
            try:
                outcome = listener()
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                logger.exception("flow registry listener %r failed", listener)

    async def _watch(self, folders: list[str]) -> None:
        async for changes in watchfiles.awatch(
            *folders, watch_filter=watchfiles.PythonFilter(), stop_event=self._stop
        ):
            try:
                await self._reload({Path(path).resolve() for _, path in changes})
            except Exception:
                logger.exception("reloading flow files after %s failed", changes)

    async def _probe(self, paths: list[Path]) -> dict[Path, _FileState]:
        """Probe files in one process; if it dies or hangs, each file alone, all at once."""
        if not paths:
            return {}
        try:
            return await self._probe_process(paths)
        except ProbeFailed as failure:
            if len(paths) == 1:
                return {paths[0]: _FileState(error=str(failure))}
        alone = await asyncio.gather(*(self._probe([path]) for path in paths))
        return {path: state for states in alone for path, state in states.items()}

    async def _probe_process(self, paths: list[Path]) -> dict[Path, _FileState]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "evtui.flows.probe",
            *map(str, paths),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # the terminal's ctrl+c is for evtui, not for a probe
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), self.probe_timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ProbeFailed(
                f"importing the file did not finish within {self.probe_timeout:g} s"
            ) from None
        try:
            report = json.loads(out)["files"]
        except (ValueError, KeyError, TypeError):
            last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ProbeFailed(
                f"importing the file ended the process (exit code {process.returncode}): {last[0]}"
            ) from None
        return {
            Path(path): _FileState(
                flows=[FlowInfo.from_json(info) for info in result["flows"]],
                error=result["error"],
                imports={Path(imported) for imported in result["imports"]},
            )
            for path, result in report.items()
        }
