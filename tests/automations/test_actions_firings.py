"""The firing store's queries, as explain, the API and the TUI use them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from actions_helpers import automation, engine_with_flows, firing_of, stored_event

from evtui.automations.firings import FiringStore


async def test_firings_by_event_and_by_automation_in_a_time_range(tmp_path: Path) -> None:
    async with engine_with_flows(tmp_path) as engine:
        firings = FiringStore(engine.store)
        auto = await automation(engine, [{"type": "do-nothing"}])
        other = await automation(engine, [{"type": "do-nothing"}], name="other")
        cause = await stored_event(engine)
        early, late = firing_of(auto, cause), firing_of(auto, None)
        late.occurred = early.occurred + timedelta(minutes=5)
        for firing in (early, late, firing_of(other, cause)):
            assert await firings.record_firing(firing, "announcement") is True
        assert await firings.record_firing(early, "announcement") is False

        by_event = await firings.firings_for_event(str(cause.id))
        assert {f.automation_id for f in by_event} == {str(auto.id), str(other.id)}
        assert [f.id for f in await firings.firings_for_automation(str(auto.id))] == [
            str(late.id),
            str(early.id),
        ]
        window = await firings.firings_for_automation(
            str(auto.id), early.occurred, early.occurred + timedelta(minutes=1)
        )
        assert [f.id for f in window] == [str(early.id)]
        record = window[0]
        assert record.triggering_event_id == str(cause.id)
        assert record.to_json()["triggering_event_ids"] == [str(cause.id)]
        assert record.to_json()["automation_name"] == "test automation"
        assert (await firings.get_firing(str(late.id))).triggering_event_id is None
        assert await firings.actions_for_firing(str(early.id)) == []
