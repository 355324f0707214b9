"""Command groups of the `evtui` CLI: each module adds its subcommands with `register`."""
