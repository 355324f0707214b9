"""What a load run measured, the loss check, and the one-line figures the scripts print."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """What one load generator saw; the store is checked against it afterwards."""

    generator: str
    sent_events: int
    acked_events: int
    seconds: float
    """From the first request to the last acknowledgement."""
    p50_ms: float
    p99_ms: float
    acked_ids: set[str] | None = None
    """Every acknowledged id when the generator knows them; wrk only counts."""
    refused: int = 0
    """Requests answered 429/503 (overload, with Retry-After): retried, never lost."""
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.acked_events / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ClientOutcome:
    """What one client process saw; `from_clients` adds them up."""

    acked_ids: set[str] = field(default_factory=set)
    sent_events: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    finished_at: float = 0.0


def from_clients(outcomes: list[ClientOutcome], start_at: float) -> LoadResult:
    latencies = [value for outcome in outcomes for value in outcome.latencies_ms]
    return LoadResult(
        generator=f"python x{len(outcomes)} processes",
        sent_events=sum(o.sent_events for o in outcomes),
        acked_events=sum(len(o.acked_ids) for o in outcomes),
        seconds=max(o.finished_at for o in outcomes) - start_at,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        acked_ids=set().union(*(o.acked_ids for o in outcomes)),
        refused=sum(o.refused for o in outcomes),
        errors=[error for o in outcomes for error in o.errors],
    )


@dataclass(frozen=True)
class LossCheck:
    stored: int
    acked: int
    lost: int
    exact: bool
    """True when acknowledged ids were matched one by one, False for a count comparison."""

    def describe(self) -> str:
        if self.exact:
            return f"stored {self.stored:,}/{self.acked:,} acknowledged ({self.lost:,} lost)"
        return f"stored {self.stored:,} >= {self.acked:,} acknowledged ({self.lost:,} lost)"


def check_loss(result: LoadResult, stored_ids: set[str]) -> LossCheck:
    """Compare what the store holds with what the server acknowledged.

    With the ids known, every acknowledged id must be stored. With counts only (wrk), the
    store must hold at least as many of the run's events as were acknowledged; a few more is
    normal (requests in flight when wrk stopped were committed but their answers unread).
    """
    if result.acked_ids is not None:
        missing = result.acked_ids - stored_ids
        stored = len(result.acked_ids) - len(missing)
        return LossCheck(stored, len(result.acked_ids), len(missing), exact=True)
    lost = max(0, result.acked_events - len(stored_ids))
    return LossCheck(len(stored_ids), result.acked_events, lost, exact=False)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[rank]


def ms(value: float) -> str:
    """Milliseconds with two significant digits past the point for small values."""
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def target(met: bool, text: str) -> str:
    return f"target {text}: {'met' if met else 'MISSED'}"


def emit(line: str) -> None:
    """A result line: stdout, flushed, so a table can be built from the output alone."""
    print(line, flush=True)


def note(line: str) -> None:
    """Progress and diagnostics: stderr, so stdout holds only the figures."""
    print(line, file=sys.stderr, flush=True)
