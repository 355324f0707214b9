"""Polled SQL sources (`--watch-sql URL --query ... --cursor COLUMN`): for databases where
triggers cannot be installed, rows past a stored cursor become events."""

from evtui.sources.sql_poll.databases import SourceProblem
from evtui.sources.sql_poll.events import RowEvents
from evtui.sources.sql_poll.poller import SqlPoller, sql_pollers
from evtui.sources.sql_poll.spec import SqlPollSpec

__all__ = ["RowEvents", "SourceProblem", "SqlPollSpec", "SqlPoller", "sql_pollers"]
