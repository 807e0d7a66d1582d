"""Waiting for the app to finish its background work: shared by the tests and the
screenshot script, which both need the screen as the user sees it once loading is over."""

from __future__ import annotations

import contextlib

from textual.pilot import Pilot
from textual.widgets.tree import TreeNode
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

from data_hunter.tui.segment_tree import SegmentTree


def tree_nodes(tree: SegmentTree) -> list[TreeNode]:
    """Every node of the tree, expanded or not."""
    out, stack = [], [tree.root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


async def settle(pilot: Pilot) -> None:
    """Wait until no worker runs, no tree node is loading and the details debounce passed."""
    app = pilot.app
    idle = 0
    for _ in range(200):
        busy = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if busy:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await app.workers.wait_for_complete(busy)
        await pilot.pause(0.05)
        loading = any(
            n.data is not None and n.data.loading for n in tree_nodes(app.query_one(SegmentTree))
        )
        still = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not busy and not loading and not still:
            idle += 1
            if idle >= 3:
                return
        else:
            idle = 0
    raise AssertionError("the app did not settle")
