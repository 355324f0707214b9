"""SQLite persistence: the event store and its schema."""

from evtui.store.rows import StoredEvent
from evtui.store.store import Overloaded, Store, StoreClosed, WriteOutcome

__all__ = ["Overloaded", "Store", "StoreClosed", "StoredEvent", "WriteOutcome"]
