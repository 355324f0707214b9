"""Run names people can say aloud ("amber-otter"), like Prefect's, beside the run's uuid."""

from __future__ import annotations

import secrets

ADJECTIVES = (
    "amber", "brave", "calm", "clever", "crimson", "dapper", "eager", "fancy", "gentle", "golden",
    "hasty", "icy", "jolly", "keen", "lively", "lucky", "merry", "misty", "nimble", "olive",
    "proud", "quiet", "rapid", "rosy", "silver", "sleek", "sunny", "swift", "tidy", "vivid",
    "witty", "zesty",
)  # fmt: skip
ANIMALS = (
    "badger", "beaver", "bison", "crane", "dingo", "eagle", "falcon", "ferret", "gecko", "heron",
    "ibis", "jackal", "koala", "lemur", "lynx", "marmot", "moose", "newt", "ocelot", "otter",
    "panda", "puffin", "quail", "raven", "salmon", "seal", "tapir", "toucan", "walrus", "wombat",
    "yak", "zebra",
)  # fmt: skip


def run_name() -> str:
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(ANIMALS)}"
