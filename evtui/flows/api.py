"""`@flow`, `@task` and `get_run_logger`: Prefect 3's names and arguments, evtui's runtime.

A Prefect 3 flow that uses only `flow`, `task`, `get_run_logger` and `emit_event` with the
arguments `name`, `retries`, `retry_delay_seconds`, `timeout_seconds` and `log_prints` runs under
evtui after changing its import. Called directly (a script, a test, a notebook) a flow runs
in-process with its retries and timeout, like Prefect. Under evtui the runner starts one child
process per attempt: the runner does the flow's retries and kills a child that times out, while
tasks retry and time out inside the child and report their states on the run's channel.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

from evtui.flows.context import (
    FLOW_LOGGER,
    TASK_LOGGER,
    TaskRunContext,
    current_run,
    current_task_run,
    now,
    set_task_run,
)
from evtui.flows.errors import FlowTimeout
from evtui.flows.parameters import Parameters
from evtui.flows.protocol import TaskUpdate
from evtui.flows.timeouts import time_limit

P = ParamSpec("P")
R = TypeVar("R")
Report = Callable[[str, "str | None"], None]
"""Receives each state a flow or task run passes through, with its message."""


class _Policy:
    """How often to try, how long to wait between tries, and how long one try may take."""

    def __init__(
        self, what: str, retries: int, delays: float | list[float], timeout: float | None
    ) -> None:
        self.what = what
        self.retries = retries
        self.delays = delays
        self.timeout = timeout

    def delay(self, retry: int) -> float:
        """Seconds before retry number `retry` (0-based); a list's last delay repeats."""
        if isinstance(self.delays, list):
            return float(self.delays[min(retry, len(self.delays) - 1)]) if self.delays else 0.0
        return float(self.delays)

    def run(self, call: Callable[[], R], report: Report) -> R:
        attempt = 0
        while True:
            report("Running" if attempt == 0 else "Retrying", None)
            try:
                with time_limit(self.timeout):
                    result = call()
            except Exception as raised:
                time.sleep(self._after_failure(attempt, raised, raised, report))
                attempt += 1
            else:
                report("Completed", None)
                return result

    async def run_async(self, call: Callable[[], Any], report: Report) -> Any:
        attempt = 0
        while True:
            report("Running" if attempt == 0 else "Retrying", None)
            try:
                async with asyncio.timeout(self.timeout) as limit:
                    result = await call()
            except Exception as raised:
                error = FlowTimeout() if limit.expired() else raised
                await asyncio.sleep(self._after_failure(attempt, raised, error, report))
                attempt += 1
            else:
                report("Completed", None)
                return result

    def _after_failure(
        self, attempt: int, raised: Exception, error: Exception, report: Report
    ) -> float:
        """Seconds to wait before the next try; raises the final error when none is left."""
        if isinstance(error, FlowTimeout):
            error = FlowTimeout(f"{self.what} exceeded timeout of {self.timeout:g} second(s)")
        if attempt < self.retries:
            report("AwaitingRetry", _state_message(error))
            return self.delay(attempt)
        report("Failed", _state_message(error))
        if error is raised:
            raise raised
        raise error from raised


def _state_message(error: BaseException) -> str:
    if isinstance(error, FlowTimeout):
        return f"TimedOut: {error}"
    return f"{type(error).__name__}: {error}"


class _Runnable(Generic[P, R]):
    """What flows and tasks share: the function, its name, its retries and its timeout."""

    kind = "Run"

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None,
        retries: int | None,
        retry_delay_seconds: float | list[float] | None,
        timeout_seconds: float | None,
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.retries = retries or 0
        self.retry_delay_seconds = retry_delay_seconds or 0
        self.timeout_seconds = timeout_seconds
        self.is_async = inspect.iscoroutinefunction(fn)
        functools.update_wrapper(self, fn)

    def _attempts(self, call: Callable[[], Any], report: Report | None = None) -> Any:
        """Call with retries and timeout; a coroutine to await for an async function."""
        what = f"{self.kind} run {self.name!r}"
        policy = _Policy(what, self.retries, self.retry_delay_seconds, self.timeout_seconds)
        report = report or _log_states(what)
        if self.is_async:
            return policy.run_async(call, report)
        return policy.run(call, report)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Flow(_Runnable[P, R]):
    """A function evtui can run as a flow; calling it runs it in-process, with retries."""

    kind = "Flow"

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(fn, name, retries, retry_delay_seconds, timeout_seconds)
        self.log_prints = bool(log_prints)
        self.description = description if description is not None else inspect.getdoc(fn)
        self.parameters = Parameters(fn)

    def parameters_schema(self) -> dict[str, Any]:
        """The JSON schema of the function's parameters."""
        return self.parameters.json_schema()

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Validated, coerced parameters; raises `ParameterError` naming each bad one."""
        return self.parameters.validate(parameters)

    def call_once(self, values: dict[str, Any]) -> Any:
        """One attempt with validated values, as a run's child process makes it."""
        result = self.parameters.call(self.fn, values)
        return asyncio.run(result) if inspect.isawaitable(result) else result

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        values = self.validate_parameters(self.parameters.bind(args, kwargs))
        return self._attempts(lambda: self.parameters.call(self.fn, values))  # type: ignore[no-any-return]


class Task(_Runnable[P, R]):
    """A function whose calls inside a run are task runs with their own states and retries."""

    kind = "Task"

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | list[float] | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
    ) -> None:
        super().__init__(fn, name, retries, retry_delay_seconds, timeout_seconds)
        self.log_prints = log_prints
        """None inherits the enclosing flow's (or task's) setting."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        run = current_run()
        if run is None:
            return self._attempts(lambda: self.fn(*args, **kwargs))  # type: ignore[no-any-return]
        parent = current_task_run()
        inherited = parent.log_prints if parent is not None else run.log_prints
        task_run = TaskRunContext(
            uuid.uuid4(), self.name, inherited if self.log_prints is None else self.log_prints
        )
        scope = contextvars.copy_context()
        scope.run(set_task_run, task_run)

        def report(state: str, message: str | None) -> None:
            update = TaskUpdate(
                task_run_id=task_run.id, task=self.name, state=state, ts=now(), message=message
            )  # type: ignore[arg-type]
            run.channel.send(update)

        def attempt() -> Any:
            if self.is_async:
                coroutine = self.fn(*args, **kwargs)
                return asyncio.get_running_loop().create_task(coroutine, context=scope)  # type: ignore[arg-type]
            return scope.run(self.fn, *args, **kwargs)

        report("Pending", None)
        return self._attempts(attempt, report)  # type: ignore[no-any-return]


def _log_states(what: str) -> Report:
    """Outside a run, failures and retries go to the run logger, as Prefect prints them."""
    logger = logging.getLogger(FLOW_LOGGER)

    def report(state: str, message: str | None) -> None:
        if state == "AwaitingRetry":
            logger.warning("%s failed (%s); retrying", what, message)
        elif state == "Failed":
            logger.error("%s failed: %s", what, message)

    return report


@overload
def flow(__fn: Callable[P, R]) -> Flow[P, R]: ...
@overload
def flow(
    __fn: None = None,
    *,
    name: str | None = None,
    retries: int | None = None,
    retry_delay_seconds: float | None = None,
    timeout_seconds: float | None = None,
    log_prints: bool | None = None,
    description: str | None = None,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...
def flow(__fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Make a function a flow: `@flow` or `@flow(name=..., retries=..., ...)`."""
    if __fn is None:
        return lambda fn: Flow(fn, **options)
    return Flow(__fn, **options)


@overload
def task(__fn: Callable[P, R]) -> Task[P, R]: ...
@overload
def task(
    __fn: None = None,
    *,
    name: str | None = None,
    retries: int | None = None,
    retry_delay_seconds: float | list[float] | None = None,
    timeout_seconds: float | None = None,
    log_prints: bool | None = None,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...
def task(__fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Make a function a task: `@task` or `@task(name=..., retries=..., ...)`."""
    if __fn is None:
        return lambda fn: Task(fn, **options)
    return Task(__fn, **options)


def get_run_logger() -> logging.LoggerAdapter[logging.Logger]:
    """The logger of the current flow or task run.

    Inside a run its records reach evtui as the run's log lines; outside one it is the plain
    `evtui.flow_runs` logger, configured like any other.
    """
    run = current_run()
    task_run = current_task_run()
    if run is None:
        return logging.LoggerAdapter(logging.getLogger(FLOW_LOGGER), {})
    extra: dict[str, Any] = {"flow_run_id": str(run.run_id), "flow_run_name": run.run_name}
    if task_run is not None:
        extra |= {"task_run_id": str(task_run.id), "task_name": task_run.name}
        return logging.LoggerAdapter(logging.getLogger(TASK_LOGGER), extra)
    return logging.LoggerAdapter(logging.getLogger(FLOW_LOGGER), extra)
