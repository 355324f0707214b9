"""Exceptions of flows and runs, shared by the flow runtime and the runner."""

from __future__ import annotations


class ParameterError(ValueError):
    """Parameters that do not fit a flow's signature; the message names each parameter."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class FlowTimeout(TimeoutError):
    """A flow or task ran past its `timeout_seconds`; raised inside the code that overran."""


class UnknownFlow(LookupError):
    """No flow of this name is registered (its file may be missing or failing to import)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no flow named {name!r}; `evtui flows` lists the flows found")
        self.name = name


class RunNotFound(LookupError):
    """No run has this id."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no flow run with id {run_id!r}")
        self.run_id = run_id


class RunAlreadyFinished(RuntimeError):
    """The run is already in a final state, so it cannot be cancelled."""

    def __init__(self, run_id: str, state: str) -> None:
        super().__init__(f"flow run {run_id} already finished ({state})")
        self.run_id = run_id
        self.state = state
