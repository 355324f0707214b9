"""The terminal UI: a Textual app over one `Engine` (see `evtui.tui.app.EvtuiApp`)."""
