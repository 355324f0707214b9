"""TUI under load: keypress to screen update while 5,000 events/s arrive, frame rate, RSS, lag.

Runs the real app headless (Textual's `run_test`) over an embedded engine on a temporary
database, feeds it `--rate` events per second for `--seconds` through the engine (as the
receiver would, without waiting for each commit), and every 200 ms presses `k` or `j` in the
event list. A key's latency is the time from the press to the first frame the app draws after
the list handled it. Also reported: frames
per second, the RSS of the process at the start, the end and its peak (sampled every second),
and how far the list lagged behind the store (in seconds of events). Prints one line:

    tui load: key p50 12 ms, p95 40 ms; 18 frames/s; RSS 110 -> 140 -> 141 MiB at start,
    half-time, end (peak 150); lag max 0.2 s (5,000 events/s for 30 s)

(on one line). The buffers are bounded, so RSS grows while they fill and then stays flat: the
half-time and end figures of a long run (`--seconds 120`) show whether it does.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evtui.engine import Engine
from evtui.events import Event
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.widgets.event_list import EventList

BATCH_EVERY = 0.05
"""Seconds between ingested batches (the rate is spread evenly over them)."""
KEY_EVERY = 0.2


async def settle(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"tui load: gave up waiting {timeout:g} s for {what}")
        await asyncio.sleep(0.001)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(rate: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(db=Path(folder) / "tui.db", port=0, spare_children=0)
        engine = Engine(settings)
        app = EvtuiApp(engine)
        frames: list[float] = []
        original = app._display

        def counting_display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                frames.append(time.perf_counter())
            original(screen, renderable)

        app._display = counting_display  # type: ignore[method-assign]
        keys: list[float] = []
        rss: list[float] = []
        lags: list[float] = []
        async with app.run_test(size=(160, 45)):
            await settle(lambda: any(s.name == "tui" for s in engine.bus.stats()), "the app")
            event_list = app.query_one(EventList)
            event_list.focus()
            handled: list[float] = []
            for name in ("action_cursor_up", "action_cursor_down"):
                action = getattr(event_list, name)

                def timed(action: Callable[[], Any] = action) -> Any:
                    result = action()
                    handled.append(time.perf_counter())
                    return result

                setattr(event_list, name, timed)
            per_batch = max(1, int(rate * BATCH_EVERY))
            start = time.perf_counter()
            next_key = start + KEY_EVERY
            next_sample = start
            sent = 0
            pending: list[asyncio.Future[Any]] = []
            while (now := time.perf_counter()) - start < seconds:
                batch = [
                    Event(event=f"load.{n % 7}", resource={"prefect.resource.id": f"r.{n % 500}"})
                    for n in range(sent, sent + per_batch)
                ]
                sent += per_batch
                pending.append(engine.submit(batch))
                pending = [f for f in pending if not f.done()]
                if now >= next_sample:
                    rss.append(rss_mib())
                    lags.append((engine.bus.head - event_list.buffer.last_seq) / rate)
                    next_sample += 1.0
                if now >= next_key:
                    count = len(handled)
                    pressed = time.perf_counter()
                    app.simulate_key("k" if len(keys) % 2 == 0 else "j")
                    await settle(lambda c=count: len(handled) > c, "the key to be handled")
                    moved = handled[-1]
                    await settle(lambda m=moved: bool(frames) and frames[-1] >= m, "a frame")
                    keys.append(frames[-1] - pressed)
                    next_key += KEY_EVERY
                target = start + (sent / rate)
                await asyncio.sleep(max(0.0, target - time.perf_counter()))
            await asyncio.gather(*pending)
            elapsed = time.perf_counter() - start
            drawn = [t for t in frames if start <= t <= start + elapsed]
    cuts = statistics.quantiles([1000 * k for k in keys], n=20, method="inclusive")
    return {
        "p50": cuts[9],
        "p95": cuts[18],
        "fps": len(drawn) / elapsed,
        "rss": rss,
        "lag": max(lags) if lags else 0.0,
        "rate": sent / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=5000, help="events per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    found = asyncio.run(measure(args.rate, args.seconds))
    rss = found["rss"]
    print(
        f"tui load: key p50 {found['p50']:.0f} ms, p95 {found['p95']:.0f} ms;"
        f" {found['fps']:.0f} frames/s; RSS {rss[0]:.0f} -> {rss[len(rss) // 2]:.0f}"
        f" -> {rss[-1]:.0f} MiB at start, half-time, end (peak {max(rss):.0f});"
        f" lag max {found['lag']:.2f} s"
        f" ({found['rate']:,.0f} events/s for {args.seconds:g} s)"
    )


if __name__ == "__main__":
    main()
