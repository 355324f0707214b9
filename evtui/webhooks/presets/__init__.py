"""Built-in mappings for well-known senders, by preset name."""

from __future__ import annotations

from collections.abc import Callable

from evtui.webhooks.presets import cloudevents, gcs, github, s3
from evtui.webhooks.request import HookRequest, Mapped

Mapper = Callable[[HookRequest], Mapped]

PRESET_MAPPERS: dict[str, Mapper] = {
    "cloudevents": cloudevents.map_request,
    "s3": s3.map_request,
    "gcs": gcs.map_request,
    "github": github.map_request,
}
