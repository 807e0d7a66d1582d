"""Limits that keep an attribution bounded, in a module light enough for the CLI's parser
(which shows them in ``--help`` without importing NumPy)."""

MAX_COMBINATIONS = 2000
"""Most dimension combinations one attribution will group (30 dimensions at depth 30 would
be 2^30): beyond it the default depth is lowered, with a note, and an explicit one refused."""

DEFAULT_MAX_CARDINALITY = 1000
"""Dimensions with more values than this (user ids, say) stay out of combinations unless the
user chose them explicitly: crossing them multiplies segments without adding insight."""
