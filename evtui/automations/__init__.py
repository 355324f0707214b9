"""Automations: when events match a trigger, actions run (Prefect 3's automations, reference §2-3).

`models` holds the JSON shape (Prefect's, field for field, plus evtui's `run-flow`, `emit-event`
and `match_payload`), `matching` and `payload` decide whether one event concerns a trigger,
`templating` renders action parameters in a sandbox; the evaluator, the action runner and the
store build on these.
"""
