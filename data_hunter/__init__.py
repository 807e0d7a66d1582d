"""data-hunter: find the segments behind a metric's spike or dip."""

__version__ = "0.1.0"
