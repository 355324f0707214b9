"""What one `--watch DIR[:PATTERN]` asks for: a folder, a glob on file names, names to skip.

The pattern is matched against the file's *name*. Only files directly in the folder count,
as with a shell glob: `inbox:*.csv`. A pattern starting with `**/` reaches into sub-folders
too: `inbox:**/*.csv`, so dropping a folder of CSVs into the inbox announces each of them.
Not recursing by default keeps the most common layout safe: a flow that moves what it
processed to `inbox/processed/` must not see that file arrive again.

Hidden entries (`.name`, files and folders) and the names editors, browsers and uploaders
write first and rename later (`*.tmp`, `*.part`, `~$x.docx`, `name~`, ...) are skipped by
default: the file a user means arrives under its final name, and announcing its scratch copy
would start a flow on half a file.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

DEFAULT_PATTERN = "*"
RECURSIVE_PREFIX = "**/"

DEFAULT_IGNORE: tuple[str, ...] = (
    ".*",
    "~*",
    "*~",
    "*.tmp",
    "*.temp",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.swp",
)
"""Scratch names that are renamed to the real one once complete (or are never the real one)."""


@dataclass(frozen=True)
class WatchSpec:
    """A folder to watch (absolute, resolved) and which file names in it count."""

    directory: Path
    pattern: str = DEFAULT_PATTERN
    ignore: tuple[str, ...] = DEFAULT_IGNORE
    recursive: bool = False
    """Whether files in sub-folders count too (`DIR:**/PATTERN`)."""

    @classmethod
    def parse(cls, spec: str) -> WatchSpec:
        """Read `DIR` or `DIR:PATTERN`; raise ValueError naming the spec and what is wrong.

        A spec that is itself an existing folder is taken whole, so a folder whose name holds
        a colon (or a Windows drive, `C:\\data`) needs no escaping; otherwise the pattern is
        what follows the last colon.
        """
        text = spec.strip()
        if not text:
            raise ValueError("watch spec is empty: give DIR or DIR:PATTERN")
        directory, pattern, recursive = text, DEFAULT_PATTERN, False
        if not Path(text).expanduser().is_dir() and ":" in text:
            directory, pattern = text.rsplit(":", 1)
            recursive = pattern.startswith(RECURSIVE_PREFIX)
            pattern = pattern.removeprefix(RECURSIVE_PREFIX)
            if not pattern:
                raise ValueError(f"watch spec {spec!r}: the pattern after ':' is empty")
            if "/" in pattern or os.sep in pattern:
                raise ValueError(
                    f"watch spec {spec!r}: the pattern {pattern!r} applies to file names "
                    f"and cannot hold a path separator (use {RECURSIVE_PREFIX}NAME to include "
                    "sub-folders)"
                )
        folder = Path(directory).expanduser()
        if not folder.exists():
            raise ValueError(f"watch spec {spec!r}: folder {str(folder)!r} does not exist")
        if not folder.is_dir():
            raise ValueError(f"watch spec {spec!r}: {str(folder)!r} is not a folder")
        return cls(directory=folder.resolve(), pattern=pattern, recursive=recursive)

    def __str__(self) -> str:
        prefix = RECURSIVE_PREFIX if self.recursive else ""
        return f"{self.directory}:{prefix}{self.pattern}"

    def display(self) -> str:
        """Short, for a status line: `inbox/*.csv` for a folder under the working one."""
        folder = self.directory
        with contextlib.suppress(ValueError):
            folder = folder.relative_to(Path.cwd())
        prefix = RECURSIVE_PREFIX if self.recursive else ""
        return f"{folder}/{prefix}{self.pattern}"

    def covers_folder(self, folder: Path) -> bool:
        """Whether files directly in `folder` may count: the spec's folder, or (recursive) a
        sub-folder that is not hidden."""
        if folder == self.directory:
            return True
        if not self.recursive or not folder.is_relative_to(self.directory):
            return False
        return not any(part.startswith(".") for part in folder.relative_to(self.directory).parts)

    def matches(self, path: Path) -> bool:
        """Whether the file at `path` (absolute) is one this spec announces."""
        name = path.name
        if any(fnmatchcase(name, ignored) for ignored in self.ignore):
            return False
        return fnmatchcase(name, self.pattern) and self.covers_folder(path.parent)
