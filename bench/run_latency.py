"""Run latency: from a run request to the first line of the flow's own code running.

An engine (no HTTP) on a temporary database runs a flow whose first line writes `time.time()`
to a file; runs are submitted one at a time, each after the previous one finished and a gap
(`--gap`, like events arriving apart), and the latency is that time minus the moment just
before `Runner.submit` was called. Prints one line:

    run latency: p50 42 ms, p95 80 ms (n=50, gap 0.5 s, 1 spare child)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from evtui.engine import Engine
from evtui.flows.records import RunCause
from evtui.settings import Settings

FLOW = """
import time
from pathlib import Path

from evtui import flow


@flow
def first_line(out: str):
    started = time.time()
    Path(out).write_text(repr(started))
"""


async def measure(runs: int, gap: float, spares: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "flows").mkdir()
        (root / "flows" / "first_line.py").write_text(FLOW)
        settings = Settings(
            db=root / "bench.db", port=0, flows=[root / "flows"], spare_children=spares
        )
        engine = Engine(settings, serve_http=False)
        await engine.start()
        runner = engine.runner
        latencies = []
        try:
            await asyncio.sleep(1.0)  # the spares start with evtui
            for index in range(runs):
                out = root / f"started-{index}"
                submitted = time.time()
                run = await runner.submit("first_line", {"out": str(out)}, RunCause("manual"))
                while run.id in {active.id for active in runner.active_runs()}:
                    await asyncio.sleep(0.005)
                latencies.append(float(out.read_text()) - submitted)
                await asyncio.sleep(gap)
        finally:
            await engine.stop()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between runs")
    parser.add_argument(
        "--spares",
        type=int,
        default=Settings.model_fields["spare_children"].default,
        help="spare children kept ready (default: evtui's default)",
    )
    args = parser.parse_args()
    latencies = asyncio.run(measure(args.runs, args.gap, args.spares))
    cuts = statistics.quantiles([1000 * value for value in latencies], n=20, method="inclusive")
    print(
        f"run latency: p50 {cuts[9]:.0f} ms, p95 {cuts[18]:.0f} ms (n={len(latencies)},"
        f" gap {args.gap:g} s, {args.spares} spare child{'ren' if args.spares != 1 else ''})"
    )


if __name__ == "__main__":
    main()
