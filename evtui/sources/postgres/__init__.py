"""PostgreSQL row changes as events, through an outbox filled by triggers (`--watch-db`).

`spec` (what to watch), `install` (the outbox, its trigger function and the triggers),
`changes` (outbox rows as events), `source` (the listener). Nothing is imported here, so
`evtui.sources.postgres.spec` can be read without loading the driver.
"""
