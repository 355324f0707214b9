"""A run's child process: `python -m evtui.flows.child` (see `evtui.flows.protocol`).

The child imports evtui, pydantic and the flow runtime before it says `ready`, then waits on
stdin: the runner keeps such a spare child started, so a run pays only for reading its request
and importing the flow file. One child runs one attempt and exits; the runner does the flow's
retries and its timeout (it kills the child), so a crash, a leak or a hung C call in user code
ends with the process.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic_core
from pydantic import ValidationError

import evtui  # noqa: F401  (imported before `ready`: what a spare child saves a run)
from evtui.flows.context import (
    FLOW_LOGGER,
    TASK_LOGGER,
    Channel,
    ChannelLogHandler,
    ChannelStream,
    RunContext,
    enter_run,
    now,
)
from evtui.flows.errors import ParameterError
from evtui.flows.probe import FlowFileError, find_flow, import_file
from evtui.flows.protocol import (
    CHANNEL_FD_ENV,
    EXIT_ORPHANED,
    Ack,
    Done,
    Ready,
    Running,
    RunRequest,
    parse_parent_message,
)

MAX_RESULT_CHARS = 100_000
"""A bigger return value is reported as a shortened repr: results are shown, not stored data."""
_RUNTIME_DIR = Path(__file__).resolve().parent


def main() -> int:
    fd_text = os.environ.get(CHANNEL_FD_ENV)
    if not fd_text:
        print(
            f"evtui.flows.child: {CHANNEL_FD_ENV} is not set; the runner starts this",
            file=sys.stderr,
        )
        return 2
    channel = Channel(int(fd_text))
    channel.send(Ready())
    stdin = _Lines(sys.stdin.fileno())
    sys.stdin = io.StringIO()  # the parent's messages are not the user's input
    line = next(stdin, b"")
    if not line:
        channel.close()
        return 0
    try:
        request = parse_parent_message(line)
    except ValidationError as error:
        print(f"evtui.flows.child: malformed run message: {error}", file=sys.stderr)
        return 2
    if not isinstance(request, RunRequest):
        print(f"evtui.flows.child: expected a run message, got {line[:200]!r}", file=sys.stderr)
        return 2
    run = RunContext(
        run_id=request.run_id,
        run_name=request.run_name,
        flow_name=request.flow,
        cause_event_id=request.cause_event_id,
        channel=channel,
    )
    os.environ["EVTUI_API_URL"] = request.api_url
    enter_run(run)
    finished = threading.Event()
    threading.Thread(
        target=_read_acks, args=(stdin, channel, finished), name="evtui-acks", daemon=True
    ).start()
    original = sys.stdout, sys.stderr
    _capture_output(run)
    done = _run(request, run)
    sys.stdout.flush()
    sys.stderr.flush()
    finished.set()
    channel.send(done)
    sys.stdout, sys.stderr = original
    channel.close()
    return 0


def _run(request: RunRequest, run: RunContext) -> Done:
    path = Path(request.file)
    try:
        module = import_file(path)
    except FlowFileError as error:
        _log_failure(error.__cause__ or error)
        return Done(state="Failed", message=f"cannot import {path}: {error}", retryable=False)
    flow = find_flow(module, request.flow)
    if flow is None:
        return Done(
            state="Failed", message=f"{path} defines no flow {request.flow!r}", retryable=False
        )
    run.log_prints = flow.log_prints
    try:
        values = flow.validate_parameters(request.parameters)
    except ParameterError as error:
        return Done(state="Failed", message=str(error), retryable=False)
    run.channel.send(Running(ts=now()))
    try:
        result = flow.call_once(values)
    except BaseException as error:
        _log_failure(error)
        return Done(state="Failed", message=f"{type(error).__name__}: {error}")
    return Done(state="Completed", result=_json_safe(result))


def _capture_output(run: RunContext) -> None:
    sys.stdout = ChannelStream(run, "stdout", "INFO", 1)
    sys.stderr = ChannelStream(run, "stderr", "WARNING", 2)
    handler = ChannelLogHandler(run)
    for name in (FLOW_LOGGER, TASK_LOGGER):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _log_failure(error: BaseException) -> None:
    """The traceback as an ERROR record, starting at the user's code, not the runtime's."""
    tb = error.__traceback__
    while tb is not None and Path(tb.tb_frame.f_code.co_filename).parent == _RUNTIME_DIR:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(error), error, tb)).rstrip()
    logging.getLogger(FLOW_LOGGER).error("Flow run failed:\n%s", text)


def _json_safe(result: Any) -> Any:
    """The result as JSON, or its repr when it has no JSON form or is too big to show."""
    try:
        encoded = pydantic_core.to_json(result, fallback=_unserializable)
    except (_Unserializable, pydantic_core.PydanticSerializationError, ValueError):
        return _short_repr(result)
    if len(encoded) > MAX_RESULT_CHARS:
        return _short_repr(result)
    return pydantic_core.from_json(encoded)


class _Unserializable(Exception):
    pass


def _unserializable(value: Any) -> Any:
    raise _Unserializable


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_RESULT_CHARS else text[: MAX_RESULT_CHARS - 1] + "…"


class _Lines:
    """Lines read from an fd with `os.read`.

    Not a buffered file: a daemon thread blocked inside a buffered read holds its lock, and
    the interpreter aborts at exit when it cannot take that lock.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pending = b""

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        while b"\n" not in self._pending:
            chunk = os.read(self._fd, 65536)
            if not chunk:
                line, self._pending = self._pending, b""
                if line:
                    return line
                raise StopIteration
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line + b"\n"


def _read_acks(stdin: _Lines, channel: Channel, finished: threading.Event) -> None:
    """Hand acks to the code waiting for them; leave at once if the parent goes away."""
    for line in stdin:
        try:
            message = parse_parent_message(line)
        except ValidationError:
            continue
        if isinstance(message, Ack):
            channel.deliver(message)
    if not finished.is_set():
        os._exit(EXIT_ORPHANED)


if __name__ == "__main__":
    sys.exit(main())
