"""Stopping code that runs past a flow's or task's `timeout_seconds`.

A timeout has to stop the user's code, not just stop waiting for it: code left running in an
abandoned thread would keep writing, logging and emitting events for a task already reported
Failed. So, as Prefect does, the limit raises `FlowTimeout` inside the code itself:

- on the main thread through `SIGALRM` (`setitimer`), which also interrupts a blocking
  `time.sleep` or socket wait. Limits nest: an inner limit later than the outer one's remaining
  time is left to the outer one; otherwise the outer timer is restored afterwards.
- on other threads (a task called from the user's own thread pool) a watcher thread raises the
  exception asynchronously in the target thread (`PyThreadState_SetAsyncExc`). That lands at
  the next bytecode, so a call blocked in C returns first; a pending, undelivered exception is
  cleared when the code finishes in time.
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from evtui.flows.errors import FlowTimeout


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `FlowTimeout` inside the block if it runs longer than `seconds`."""
    if seconds is None:
        yield
    elif threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _watcher(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_remaining and outer_remaining <= seconds:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise FlowTimeout()

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))


@contextmanager
def _watcher(seconds: float) -> Iterator[None]:
    target = threading.get_ident()
    lock = threading.Lock()
    finished = threading.Event()
    fired = False

    def watch() -> None:
        nonlocal fired
        if finished.wait(seconds):
            return
        with lock:
            if not finished.is_set():
                fired = True
                _raise_in(target, FlowTimeout)

    watcher = threading.Thread(target=watch, name="evtui-timeout", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        with lock:
            finished.set()
            if fired:
                _raise_in(target, None)


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Schedule `exception` in the thread (None clears a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )
