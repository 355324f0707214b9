"""Flows: the `@flow`/`@task` API, the child process that runs them, and their registry."""

from evtui.flows.api import Flow, Task, flow, get_run_logger, task

__all__ = ["Flow", "Task", "flow", "get_run_logger", "task"]
