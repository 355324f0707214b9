"""Trigger latency: from an event acknowledged to the first line of the flow it triggers.

Starts `evtui serve` (its own process, as a user runs it) on a temporary database with a flow
folder and an automations folder: "on `bench.tick`, run `first_line` with the event's
payload". Events are POSTed one at a time to `/api/events`, each after the previous run's flow
started and a gap (`--gap`); the latency is the `time.time()` the flow's first line writes to
a file minus the moment the 204 (committed) came back. Prints one line:

    trigger latency: p50 42 ms, p95 80 ms (n=50, gap 0.5 s)
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

FLOW = """
import time
from pathlib import Path

from evtui import flow


@flow
def first_line(out: str):
    started = time.time()
    Path(out).write_text(repr(started))
"""

AUTOMATION = {
    "name": "bench: tick runs first_line",
    "trigger": {"type": "event", "posture": "Reactive", "expect": ["bench.tick"], "threshold": 1},
    "actions": [
        {"type": "run-flow", "flow": "first_line", "parameters": {"out": "{{ event.payload.out }}"}}
    ],
}


def start_serve(root: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "evtui", "serve", "--port", "0"),
            *("--db", str(root / "bench.db")),
            *("--flows", str(root / "flows"), "--automations", str(root / "automations")),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if found := re.search(r"receiving events on (http://\S+/api)", line):
            return process, found.group(1)
    raise SystemExit("evtui serve did not start")


def wait_for(path: Path, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text()):
            return float(text)
        time.sleep(0.001)
    raise SystemExit(f"the flow did not start within {timeout} s")


def measure(events: int, gap: float) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "flows").mkdir()
        (root / "flows" / "first_line.py").write_text(FLOW)
        (root / "automations").mkdir()
        (root / "automations" / "tick.json").write_text(json.dumps(AUTOMATION))
        process, api = start_serve(root)
        latencies = []
        try:
            with httpx.Client(base_url=api, timeout=10.0) as client:
                time.sleep(1.0)  # the spare children start with evtui
                for index in range(events):
                    out = root / f"started-{index}"
                    event = {
                        "id": str(uuid.uuid4()),
                        "event": "bench.tick",
                        "resource": {"prefect.resource.id": f"bench.tick.{index}"},
                        "payload": {"out": str(out)},
                    }
                    response = client.post("/events", json=[event])
                    acknowledged = time.time()
                    response.raise_for_status()
                    latencies.append(wait_for(out) - acknowledged)
                    time.sleep(gap)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between events")
    args = parser.parse_args()
    latencies = measure(args.events, args.gap)
    cuts = statistics.quantiles([1000 * value for value in latencies], n=20, method="inclusive")
    print(
        f"trigger latency: p50 {cuts[9]:.0f} ms, p95 {cuts[18]:.0f} ms"
        f" (n={len(latencies)}, gap {args.gap:g} s)"
    )


if __name__ == "__main__":
    main()
