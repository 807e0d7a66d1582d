"""The interactive triage TUI (Textual). Imported lazily by ``data-hunter tui``.

The modules ``context``, ``labels``, ``bars``, ``detection``, ``ordering`` and ``export`` are
plain Python (no Textual); the widgets live one per module and the app owns all state changes.
"""
