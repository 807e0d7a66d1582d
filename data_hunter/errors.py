"""The one exception type users see.

Anything the user can fix (a missing file, a typo in a column name, a window outside the
data) is raised as ``DataHunterError`` with a one-line message; the CLI prints it and exits 2,
the TUI shows it as a notification. Any other exception is a bug in data-hunter.
"""


class DataHunterError(Exception):
    """A problem with the user's input or data, explained in one line."""
