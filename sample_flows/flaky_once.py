"""A flow that fails on its first attempt and succeeds on the retry: watch evtui retry it.

    evtui run flaky_once --wait

The run goes Running → Failed attempt → AwaitingRetry → Retrying → Completed. A marker file in
the system temp folder remembers the failed attempt across the two processes (each attempt
runs in a fresh one); `key` keeps separate demos apart.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from evtui import flow, get_run_logger


@flow(name="flaky_once", retries=2, retry_delay_seconds=1)
def flaky_once(key: str = "demo") -> str:
    """Raise the first time for `key`, succeed (and reset) the next."""
    logger = get_run_logger()
    marker = Path(tempfile.gettempdir()) / f"evtui-flaky-once-{key}"
    if not marker.exists():
        marker.touch()
        logger.warning("first attempt for %r: failing on purpose", key)
        raise ConnectionError("the warehouse is not reachable yet (simulated)")
    marker.unlink()
    logger.info("second attempt for %r: succeeded", key)
    return "ok"
