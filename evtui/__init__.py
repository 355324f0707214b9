"""evtui: event-driven scheduling for Python data flows, in one terminal program."""

from evtui.client import DeliveryError, emit_event
from evtui.events import Event, ReceivedEvent
from evtui.flows import flow, get_run_logger, task

__version__ = "0.1.0"

__all__ = [
    "DeliveryError",
    "Event",
    "ReceivedEvent",
    "__version__",
    "emit_event",
    "flow",
    "get_run_logger",
    "task",
]
