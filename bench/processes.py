"""Client processes, each running one coroutine in its own event loop.

Forked, not spawned: the children need nothing but the job they are handed, and fork starts
them in milliseconds. All of a run's processes open their connections first and start sending
at one agreed wall-clock moment, so the measured window holds only load.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

Job = TypeVar("Job")
Outcome = TypeVar("Outcome")

SETTLE_SECONDS = 1.0
"""Time for every process to fork and connect before the agreed start."""


def start_time(processes: int) -> float:
    return time.time() + SETTLE_SECONDS + 0.1 * processes


def share(total: int, parts: int, index: int) -> int:
    """Part `index` of `total` split as evenly as whole numbers allow."""
    return total // parts + (1 if index < total % parts else 0)


def fan_out(main: Callable[[Job], Awaitable[Outcome]], jobs: list[Job]) -> list[Outcome]:
    """`main(job)` in one process per job; `main` must be a module-level coroutine function."""
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        return pool.map(_run, [(main, job) for job in jobs])


def _run(work: tuple[Callable[[Any], Awaitable[Any]], Any]) -> Any:
    main, job = work
    try:
        import uvloop
    except ImportError:  # uvloop is optional; the clients are just slower without it
        return asyncio.run(main(job))
    return uvloop.run(main(job))
