"""Automations as code: YAML or JSON files in the automation folders, applied by name.

A file holds one automation (a mapping), a list of them, or Prefect's multi-automation shape
(`automations: [...]`, what `prefect automation create -f` reads); server fields such as `id`,
`created` and `updated` (in `prefect automation inspect` output) are ignored. Files are the
`*.yaml`, `*.yml` and `*.json` directly in each folder, except names starting with `.` or `_`.

Applying a file is idempotent and by name: an automation the file names is created if no
automation has that name, updated if its definition changed since the file last applied it,
and left alone otherwise, so an unchanged file emits no event and keeps a pause made since
(through the API or a `pause-automation` action). The file is the source of truth for what it
defines: an automation it no longer lists, or all of them when the file is deleted, is deleted.
Automations made through the API are never deleted here; a file naming one adopts it.

A file with an error (YAML syntax, a field the model refuses, a template that does not
compile, a name another file already defines, no content at all: to delete a file's
automations, delete the file or write `automations: []`) changes nothing: its automations
stay as they were, and the file, the path in it and the reason are logged and kept in
`errors()` until the file is fixed or removed. Other files are never affected.

Files are applied at start and again whenever they change (watchfiles, debounced); automations
whose file vanished while evtui was stopped are deleted at start. Automations of a folder that
is no longer configured are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import watchfiles
import yaml
from pydantic import ValidationError

from evtui.automations.export import digest
from evtui.automations.models import Automation, AutomationCreate
from evtui.automations.store import AutomationStore, Origin, template_errors
from evtui.events import FieldError, field_errors

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml", ".json")
DEBOUNCE_MS = 300
"""Changes arriving this close together are applied as one (an editor's save is several)."""
Outcome = Literal["created", "updated", "unchanged", "deleted"]
Loc = list[str | int]


class AutomationFileError(ValueError):
    """A file that cannot be applied; the message names the file, the path in it and why."""

    def __init__(self, path: Path, errors: Sequence[FieldError]) -> None:
        self.path = path
        self.errors = list(errors)
        self.reason = "; ".join(str(e) if e.loc else e.msg for e in self.errors)
        super().__init__(f"{path}: {self.reason}")


@dataclass(frozen=True)
class Entry:
    """One automation of a file and where it is in the file (for error messages)."""

    loc: Loc
    spec: AutomationCreate


@dataclass(frozen=True)
class Applied:
    name: str
    outcome: Outcome
    automation: Automation


def is_automation_file(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES and not path.name.startswith((".", "_"))


def parse_file(path: Path) -> list[Entry]:
    """The automations a file defines, fully validated (templates too); raises
    `AutomationFileError` naming every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AutomationFileError(path, [FieldError(loc=[], msg=f"cannot read: {error}")]) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        msg = f"line {error.lineno}: not valid JSON: {error.msg}"
        raise AutomationFileError(path, [FieldError(loc=[], msg=msg)]) from None
    except yaml.YAMLError as error:
        raise AutomationFileError(path, [FieldError(loc=[], msg=_yaml_reason(error))]) from None
    if data is None:
        # Most often a save caught half-way (truncated, not yet written): never a deletion.
        msg = "the file is empty; delete the file to remove its automations"
        raise AutomationFileError(path, [FieldError(loc=[], msg=msg)])
    entries, errors = [], []
    names: dict[str, Loc] = {}
    for loc, item in _items(data):
        if not isinstance(item, dict):
            errors.append(FieldError(loc=loc, msg="an automation must be a mapping of fields"))
            continue
        try:
            spec = AutomationCreate.from_document(item)
        except ValidationError as error:
            errors.extend(field_errors(error, loc))
            continue
        problems = template_errors(spec)
        if problems:
            errors.extend(FieldError(loc=[*loc, *e.loc], msg=e.msg) for e in problems)
            continue
        if spec.name in names:
            where = ".".join(map(str, names[spec.name])) or "the file's root"
            msg = f"{spec.name!r} is already the name of the automation at {where}"
            errors.append(FieldError(loc=[*loc, "name"], msg=msg))
            continue
        names[spec.name] = loc
        entries.append(Entry(loc, spec))
    if errors:
        raise AutomationFileError(path, errors)
    return entries


def _items(data: Any) -> list[tuple[Loc, Any]]:
    if isinstance(data, dict) and "automations" in data:
        listed = data["automations"]
        if not isinstance(listed, list):
            return [(["automations"], listed)]
        return [(["automations", index], item) for index, item in enumerate(listed)]
    if isinstance(data, list):
        return [([index], item) for index, item in enumerate(data)]
    return [([], data)]


def _yaml_reason(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return (
        f"line {mark.line + 1}: not valid YAML: {problem}" if mark else f"not valid YAML: {problem}"
    )


class AutomationFolders:
    """Keeps the automations of the folders' files in the store; `start` after `store.load`."""

    def __init__(
        self, automations: AutomationStore, folders: Sequence[Path], debounce_ms: int = DEBOUNCE_MS
    ) -> None:
        self._automations = automations
        self.folders = [folder.resolve() for folder in folders]
        self.debounce_ms = debounce_ms
        self._errors: dict[Path, str] = {}
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def errors(self) -> dict[Path, str]:
        """Files (or folders) that could not be applied, and why."""
        return dict(self._errors)

    async def start(self) -> None:
        """Watch, then apply every file: a change made while applying is not missed."""
        present = [str(folder) for folder in self.folders if folder.is_dir()]
        if present:
            self._stop.clear()
            self._task = asyncio.create_task(self._watch(present), name="evtui-automation-files")
            # awatch installs its watches in its first step, before it first waits.
            await asyncio.sleep(0)
        await self.sync()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def sync(self) -> list[Applied]:
        """Apply every file; delete the automations of files that are gone."""
        applied: list[Applied] = []
        files: set[Path] = set()
        for folder in self.folders:
            if not folder.is_dir():
                self._report(folder, "the automations folder does not exist")
                continue
            self._errors.pop(folder, None)
            files.update(path for path in folder.iterdir() if self._owns(path) and path.is_file())
        for path in sorted(files):
            applied += await self.apply(path)
        gone = {
            Path(origin.source)
            for automation in self._automations.all()
            if (origin := self._automations.origin(automation.id)).is_file
        } - files
        for path in sorted(gone):
            if path.parent in self.folders:
                applied += await self.forget(path)
        return applied

    async def apply(self, path: Path) -> list[Applied]:
        """Bring the store in line with one file; on any error change nothing and report it."""
        path = path.resolve()
        async with self._lock:
            try:
                plan = self._plan(path, parse_file(path))
            except AutomationFileError as error:
                self._report(path, error.reason)
                return []
            source = str(path)
            applied = []
            kept = set()
            for entry, target in plan:
                origin = Origin(source, digest(entry.spec))
                if target is None:
                    automation = await self._automations.create(entry.spec, origin)
                    applied.append(Applied(automation.name, "created", automation))
                elif self._automations.origin(target.id) == origin:
                    applied.append(Applied(target.name, "unchanged", target))
                else:
                    automation = await self._automations.update(target.id, entry.spec, origin)
                    applied.append(Applied(automation.name, "updated", automation))
                kept.add(applied[-1].automation.id)
            applied += await self._delete_from(source, keep=kept)
            self._errors.pop(path, None)
        for item in applied:
            if item.outcome != "unchanged":
                log.info("%s: automation %r %s", path, item.name, item.outcome)
        return applied

    async def forget(self, path: Path) -> list[Applied]:
        """The file is gone: delete the automations it defined."""
        path = path.resolve()
        async with self._lock:
            self._errors.pop(path, None)
            applied = await self._delete_from(str(path), keep=set())
        for item in applied:
            log.info("%s was removed: automation %r deleted", path, item.name)
        return applied

    def _plan(self, path: Path, entries: list[Entry]) -> list[tuple[Entry, Automation | None]]:
        """Which stored automation each entry updates (None: a new one); conflicts raise."""
        source = str(path)
        plan: list[tuple[Entry, Automation | None]] = []
        errors = []
        for entry in entries:
            named = self._automations.by_name(entry.spec.name)
            mine = [a for a in named if self._automations.origin(a.id).source == source]
            others = [a for a in named if a not in mine]
            owners = sorted({str(owner) for a in others if (owner := self._owner_file(a))})
            free = [a for a in others if self._owner_file(a) is None]
            if mine:
                plan.append((entry, mine[0]))
            elif owners:
                msg = f"automation {entry.spec.name!r} is already defined in {owners[0]}"
                errors.append(FieldError(loc=[*entry.loc, "name"], msg=msg))
            elif len(free) > 1:
                msg = (
                    f"{len(free)} automations are named {entry.spec.name!r}; remove all but "
                    "one (`evtui automations rm ID`) so the file knows which one it defines"
                )
                errors.append(FieldError(loc=[*entry.loc, "name"], msg=msg))
            else:
                plan.append((entry, free[0] if free else None))
        if errors:
            raise AutomationFileError(path, errors)
        return plan

    def _owner_file(self, automation: Automation) -> Path | None:
        """The file that defines the automation, if it still exists."""
        origin = self._automations.origin(automation.id)
        return Path(origin.source) if origin.is_file and Path(origin.source).is_file() else None

    async def _delete_from(self, source: str, keep: set[Any]) -> list[Applied]:
        applied = []
        for automation in self._automations.all():
            if automation.id in keep or self._automations.origin(automation.id).source != source:
                continue
            await self._automations.delete(automation.id)
            applied.append(Applied(automation.name, "deleted", automation))
        return applied

    def _owns(self, path: Path) -> bool:
        return is_automation_file(path) and path.parent in self.folders

    def _report(self, path: Path, reason: str) -> None:
        if self._errors.get(path) != reason:
            log.error("automations file %s: %s", path, reason)
        self._errors[path] = reason

    async def _watch(self, folders: list[str]) -> None:
        async for changes in watchfiles.awatch(
            *folders,
            watch_filter=lambda _, path: is_automation_file(Path(path)),
            debounce=self.debounce_ms,
            step=50,
            recursive=False,
            stop_event=self._stop,
        ):
            for path in sorted({Path(path).resolve() for _, path in changes}):
                if not self._owns(path):
                    continue
                try:
                    await (self.apply(path) if path.is_file() else self.forget(path))
                except Exception:
                    log.exception("applying automations file %s failed", path)
