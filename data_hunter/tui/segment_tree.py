"""The segment tree: the scope's total at the root, sub-segments loaded lazily on expand.

Children come from ``Engine.children`` in a thread worker; each load is tagged with the
tree's epoch (bumped whenever the tree is rebuilt) so a late result never lands in a newer
tree. Long lists show a batch and a "… N more" node; ``t`` groups children by dimension,
``o`` cycles the order of children (see ``ordering``).

The root's load also asks ``Engine.explain`` for the root causes of the change; they come
first under the root, in a "root causes" node (each expandable like any segment), and the
same segments are marked ★ wherever they show in the tree. A child carrying >= 90% of its
parent's change is marked ◆.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from data_hunter.engine import Cancelled, CancelToken, Explained
from data_hunter.errors import DataHunterError
from data_hunter.segment import Segment, SegmentStats
from data_hunter.sql import where_clause_for_user
from data_hunter.tui import ordering
from data_hunter.tui.context import ViewContext
from data_hunter.tui.labels import (
    CAUSE_MARK,
    DOMINANT_MARK,
    added_condition,
    segment_label,
    total_label,
)

Kind = Literal[
    "root", "segment", "dimension", "causes", "explanation", "more", "loading", "message"
]
BATCH = 15
NAME_WIDTH = 22
CAUSE_NAME_WIDTH = 34  # root causes are often combinations: a wider name column
TRUSTED = 0.5
"""When the root causes explain at least this share of the change, the cursor starts on the
first of them and their node is open; otherwise on the first ranked child, node closed."""


@dataclass
class NodeData:
    kind: Kind
    segment: Segment
    stats: SegmentStats | None = None
    loaded: bool = False
    loading: bool = False
    remaining: list[SegmentStats] = field(default_factory=list)
    dimension: str | None = None
    name_width: int = 12


class SegmentTree(Tree[NodeData]):
    """Ranked sub-segments of the current scope."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("right,l,space", "expand", "Expand"),
        Binding("left,h", "collapse", "Collapse", show=False),
        Binding("enter", "drill", "Drill in"),
        Binding("t", "toggle_grouping", "Group"),
        Binding("o", "cycle_order", "Order"),
        Binding("y", "copy", "Copy SQL"),
        Binding("ctrl+n", "next_match", "Next match", show=False),
    ]

    class Highlighted(Message):
        """The cursor is on ``segment`` (``stats`` may be None while loading)."""

        def __init__(self, segment: Segment, stats: SegmentStats | None) -> None:
            super().__init__()
            self.segment = segment
            self.stats = stats

    class DrillRequested(Message):
        def __init__(self, segment: Segment) -> None:
            super().__init__()
            self.segment = segment

    class Loaded(Message):
        """The scope's own numbers arrived (the root node is ready)."""

        def __init__(self, total: SegmentStats) -> None:
            super().__init__()
            self.total = total

    class _ChildrenLoaded(Message):
        def __init__(
            self,
            epoch: int,
            node: TreeNode[NodeData],
            total: SegmentStats | None,
            groups: dict[str, list[SegmentStats]] | None,
            error: str | None = None,
        ) -> None:
            super().__init__()
            self.epoch = epoch
            self.node = node
            self.total = total
            self.groups = groups
            self.error = error

    class _Explained(Message):
        def __init__(self, epoch: int, explained: Explained | None, error: str | None) -> None:
            super().__init__()
            self.epoch = epoch
            self.explained = explained
            self.error = error

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("no data yet"), id=id)
        self.auto_expand = False
        self.guide_depth = 2
        self.context: ViewContext | None = None
        self.grouped = False
        self.order = ordering.ORDERS[0]
        self.total: SegmentStats | None = None
        self.explained: Explained | None = None
        self.causes: set[Segment] = set()
        self._explained_for: ViewContext | None = None
        self._explain_error: str | None = None
        self._initial_cursor: TreeNode[NodeData] | None = None
        self._epoch = 0
        self._tokens: list[CancelToken] = []
        self._restore_expanded: set[Segment] = set()
        self._restore_cursor: Segment | None = None
        self._find_text = ""
        self._descend_after_load: TreeNode[NodeData] | None = None

    # --- building ---------------------------------------------------------------------

    def show_context(self, context: ViewContext, keep_place: bool = True) -> None:
        """Rebuild for a new analysis; keeps expanded segments and the cursor when the scope is
        the same and ``keep_place`` (a new metric or granularity keeps your place; a new
        anomaly window starts from its explanation)."""
        old = self.context
        if keep_place and old is not None and old.within == context.within:
            self._remember()
        else:
            self._restore_expanded, self._restore_cursor = set(), None
        self.context = context
        self._rebuild()

    def show_waiting(self, message: str) -> None:
        """No analysis yet (the detector is choosing the window): say so."""
        self.cancel_loads()
        self._epoch += 1
        if self.context is not None:
            self._remember()
        self.context = None
        self.total = None
        self.explained, self.causes, self._explained_for = None, set(), None
        self.clear()
        self.root.data = None
        self.root.set_label(Text(message, style="italic dim"))

    def _remember(self) -> None:
        expanded: set[Segment] = set()
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node.is_expanded and node.data is not None and node.data.kind == "segment":
                expanded.add(node.data.segment)
            stack.extend(node.children)
        self._restore_expanded = expanded
        cursor = self.cursor_node
        segment_here = (
            cursor is not None and cursor.data is not None and cursor.data.kind == "segment"
        )
        self._restore_cursor = cursor.data.segment if segment_here else None  # type: ignore[union-attr]

    def _rebuild(self) -> None:
        self.cancel_loads()
        self._epoch += 1
        ctx = self.context
        if ctx is None:
            return
        self.clear()
        self.total = None
        if self._explained_for is not ctx:
            self.explained, self.causes, self._explained_for = None, set(), None
            self._explain_error = None
        self._initial_cursor = None
        self.border_title = f"Segments · by {self.order}"
        self.root.data = NodeData("root", ctx.within)
        self.root.set_label(Text(f"{ctx.within.label()}  loading…"))
        self._load(self.root)
        self.root.expand()

    def on_unmount(self) -> None:
        self.cancel_loads()

    def cancel_loads(self) -> None:
        for token in self._tokens:
            token.cancel()
        self._tokens.clear()
        self.workers.cancel_group(self, "segment-loads")

    def _load(self, node: TreeNode[NodeData]) -> None:
        data = node.data
        if data is None or data.loaded or data.loading or self.context is None:
            return
        data.loading = True
        node.add_leaf(Text("loading…", style="italic dim"), data=NodeData("loading", data.segment))
        token = CancelToken()
        self._tokens.append(token)
        explain = data.kind == "root" and self._explained_for is not self.context
        self._load_worker(self._epoch, node, self.context, token, explain)

    @work(thread=True, group="segment-loads", exit_on_error=False)
    def _load_worker(
        self,
        epoch: int,
        node: TreeNode[NodeData],
        ctx: ViewContext,
        token: CancelToken,
        explain: bool = False,
    ) -> None:
        assert node.data is not None
        parent = node.data.segment
        try:
            total = None
            if node.data.kind == "root":
                total = ctx.engine.total(ctx.metric, ctx.windows, ctx.within, ctx.dimensions, token)
            groups = ctx.engine.children(
                ctx.metric, ctx.windows, parent, ctx.within, ctx.dimensions, token
            )
        except Cancelled:
            return
        except DataHunterError as exc:
            self.post_message(self._ChildrenLoaded(epoch, node, None, None, str(exc)))
            return
        except Exception as exc:  # a bug: say so, keep running
            message = f"{type(exc).__name__}: {exc}"
            self.post_message(self._ChildrenLoaded(epoch, node, None, None, message))
            return
        self.post_message(self._ChildrenLoaded(epoch, node, total, groups))
        if explain:  # after the children: the tree never waits for the explanation
            self._explain(epoch, ctx, token)

    def _explain(self, epoch: int, ctx: ViewContext, token: CancelToken) -> None:
        """In the root's worker thread: the root causes, or why there are none."""
        explained, error = None, None
        try:
            token.check()  # superseded already: skip the (uninterruptible) explain
            explained = ctx.engine.explain(ctx.metric, ctx.windows, ctx.dimensions,
                                           ctx.within, token)  # fmt: skip
        except Cancelled:
            return
        except DataHunterError as exc:
            error = str(exc)
        except Exception as exc:  # the explanation is extra: the tree still works
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(self._Explained(epoch, explained, error))

    @on(_Explained)
    def _explained(self, event: _Explained) -> None:
        event.stop()
        if event.epoch != self._epoch or self.context is None:
            return  # stale
        self.explained, self._explained_for = event.explained, self.context
        self._explain_error = event.error
        self.causes = {c.segment for c in shown_causes(event.explained, self.context.within)}
        top = self.root.children[0] if self.root.children else None
        if top is not None and top.data is not None and top.data.kind in ("causes", "explanation"):
            top.remove()
        self._add_causes(self.root, before=0 if self.root.children else None)
        self._relabel_causes()
        causes = self.causes_node()
        untouched = self.cursor_node in (None, self.root, self._initial_cursor)
        if causes is not None and causes.is_expanded and causes.children and untouched:
            self._move_to(causes.children[0])

    def _relabel_causes(self) -> None:
        """Mark the root causes ★ in the ranked tree (they arrive after it)."""
        for node in self._all_nodes():
            data, parent = node.data, node.parent
            if data is None or data.kind != "segment" or data.stats is None or parent is None:
                continue
            if parent.data is None or parent.data.kind == "causes":
                continue
            if data.segment in self.causes:
                name = added_condition(data.segment, parent.data.segment)
                node.set_label(segment_label(name, data.stats, parent.data.name_width,
                                             CAUSE_MARK))  # fmt: skip

    @on(_ChildrenLoaded)
    def _children_loaded(self, event: _ChildrenLoaded) -> None:
        event.stop()
        if event.epoch != self._epoch or self.context is None:
            return  # stale: the tree was rebuilt since
        node = event.node
        data = node.data
        assert data is not None
        data.loading = False
        node.remove_children()
        if event.error is not None or event.groups is None:
            node.add_leaf(Text(f"failed: {event.error}", style="red"),
                          data=NodeData("message", data.segment))  # fmt: skip
            self.notify(event.error or "failed", severity="error", markup=False)
            return
        data.loaded = True
        if event.total is not None:
            self.total = event.total
            data.stats = event.total
            name = "All" if self.context.within.is_root else self.context.within.label()
            node.set_label(total_label(name, self.context.metric, event.total))
            self.post_message(self.Loaded(event.total))
        wanted = self._restore_cursor
        self._populate(node, event.groups)
        if node is self.root:
            pending = self._restore_cursor
            deeper = pending is not None and any(
                s.contains(pending) for s in self._restore_expanded
            )
            if wanted is None or (pending is not None and not deeper):
                self._restore_cursor = None
                kinds = ("segment", "dimension")
                first = next((c for c in node.children if c.data and c.data.kind in kinds),
                             None)  # fmt: skip
                causes = self.causes_node()
                if causes is not None and causes.is_expanded and causes.children:
                    first = causes.children[0]
                self._initial_cursor = first
                self._move_to(first or node)
        if not node.children:
            node.add_leaf(Text("no sub-segments: every dimension is fixed", style="dim"),
                          data=NodeData("message", data.segment))  # fmt: skip
        if self._descend_after_load is node:
            self._descend_after_load = None
            if self.cursor_node is node and node.children:
                self._move_to(node.children[0])

    def _populate(self, node: TreeNode[NodeData], groups: dict[str, list[SegmentStats]]) -> None:
        assert node.data is not None
        if node.data.kind == "root":
            self._add_causes(node)
        if self.grouped:
            for dim, unordered in groups.items():
                stats = ordering.ordered(unordered, self.order)
                count = f"{len(stats)} value" + ("" if len(stats) == 1 else "s")
                label = Text(no_wrap=True)
                label.append(dim, style="bold")
                label.append(f"  ({count})", style="dim")
                dim_node = node.add(label, data=NodeData("dimension", node.data.segment,
                                                         node.data.stats, remaining=stats,
                                                         dimension=dim),
                                    allow_expand=bool(stats))  # fmt: skip
                if self._restore_cursor is not None and any(
                    st.segment == self._restore_cursor for st in stats
                ):
                    self._restore_expanded.add(node.data.segment)  # keeps the restore pending
                    dim_node.expand()
        else:
            merged = [s for stats in groups.values() for s in stats]
            self._add_batch(node, ordering.ordered(merged, self.order))  # stable on ties

    def causes_node(self) -> TreeNode[NodeData] | None:
        return next((c for c in self.root.children if c.data and c.data.kind == "causes"), None)

    def _add_causes(self, root: TreeNode[NodeData], before: int | None = None) -> None:
        """The explanation, first under the root: its causes, or why there are none."""
        assert root.data is not None
        ex = self.explained
        error = self._explain_error
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append(f"{CAUSE_MARK} root causes", style="bold")
        if self._explained_for is not self.context:
            label.append(": explaining…", style="italic dim")
            root.add_leaf(label, data=NodeData("explanation", root.data.segment), before=before)
            return
        within = root.data.segment
        found = shown_causes(ex, within)
        if ex is not None and ex.root_causes and not found:  # the cause is the scope itself
            label.append(f": all of {within.label()} moved together; no narrower segment "
                         "stands out", style="dim")  # fmt: skip
            root.add_leaf(label, data=NodeData("explanation", within), before=before)
            return
        if ex is None or not found:
            why = f"explain failed: {error}" if error else (
                "; ".join(ex.notes) if ex is not None and ex.notes else "none found")  # fmt: skip
            label.append(f": {why}", style="dim")
            root.add_leaf(label, data=NodeData("explanation", root.data.segment), before=before)
            return
        n = len(found)
        label.append(f"  {n} segment{'s' if n != 1 else ''}, {ex.explained:.0%} of the change",
                     style="dim")  # fmt: skip
        for note in ex.notes:
            label.append(f"  ({note})", style="dim")
        total = self.total
        causes = [
            s if s.share is not None or total is None or total.contribution == 0
            else SegmentStats(s.segment, s.actual, s.expected,
                              s.contribution / total.contribution, s.score)
            for s in found
        ]  # fmt: skip
        names = [len(added_condition(s.segment, within)) for s in causes]
        width = min(CAUSE_NAME_WIDTH, max([*names, 6]))
        data = NodeData("causes", within, total, loaded=True, name_width=width)
        node = root.add(label, data=data, before=before)
        for s in causes:
            name = added_condition(s.segment, within)
            node.add(segment_label(name, s, width, CAUSE_MARK),
                     data=NodeData("segment", s.segment, s),
                     allow_expand=self._can_expand(s.segment))  # fmt: skip
        if trusted(ex, within):
            node.expand()

    def _mark(self, s: SegmentStats, parent: SegmentStats | None) -> str:
        if s.segment in self.causes:
            return CAUSE_MARK
        if ordering.dominant(s, parent):
            return DOMINANT_MARK
        return " "

    def _can_expand(self, segment: Segment) -> bool:
        ctx = self.context
        return ctx is not None and any(d not in segment.dimensions for d in ctx.dimensions)

    def _add_batch(
        self,
        node: TreeNode[NodeData],
        items: list[SegmentStats],
        before: TreeNode[NodeData] | None = None,
    ) -> None:
        assert node.data is not None
        parent_segment = node.data.segment
        batch, rest = items[:BATCH], items[BATCH:]
        if before is None:
            names = [added_condition(s.segment, parent_segment) for s in batch]
            node.data.name_width = min(NAME_WIDTH, max([len(n) for n in names] + [6]))
        width = node.data.name_width
        parent_stats = node.data.stats
        restore_cursor: TreeNode[NodeData] | None = None
        for s in batch:
            name = added_condition(s.segment, parent_segment)
            child = node.add(segment_label(name, s, width, self._mark(s, parent_stats)),
                             data=NodeData("segment", s.segment, s), before=before,
                             allow_expand=self._can_expand(s.segment))  # fmt: skip
            if s.segment in self._restore_expanded:
                self._restore_expanded.discard(s.segment)
                child.expand()
            if s.segment == self._restore_cursor:
                restore_cursor = child
        if rest:
            more = Text(f"… {len(rest)} more (enter)", style="dim italic")
            if before is not None:
                before.set_label(more)
                assert before.data is not None
                before.data.remaining = rest
            else:
                node.add_leaf(more, data=NodeData("more", parent_segment, remaining=rest))
        elif before is not None:
            before.remove()
        if restore_cursor is not None:
            self._restore_cursor = None
            self._move_to(restore_cursor)

    def _expand_dimension(self, node: TreeNode[NodeData]) -> None:
        data = node.data
        assert data is not None
        if data.loaded:
            return
        data.loaded = True
        items, data.remaining = data.remaining, []
        self._add_batch(node, items)

    # --- events -----------------------------------------------------------------------

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        event.stop()
        data = event.node.data
        if data is None:
            return
        if data.kind == "dimension":
            self._expand_dimension(event.node)
        elif data.kind == "causes":
            return
        elif data.kind in ("segment", "root"):
            self._load(event.node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        event.stop()
        self._post_highlight(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()

    def _post_highlight(self, node: TreeNode[NodeData]) -> None:
        data = node.data
        if data is None:
            return
        if data.kind in ("segment", "root"):
            self.post_message(self.Highlighted(data.segment, data.stats))
        elif node.parent is not None and node.parent.data is not None:
            self.post_message(self.Highlighted(node.parent.data.segment, node.parent.data.stats))

    # --- actions ----------------------------------------------------------------------

    def _more(self, node: TreeNode[NodeData]) -> None:
        assert node.data is not None and node.parent is not None
        self._add_batch(node.parent, node.data.remaining, before=node)

    def action_expand(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if node.data.kind == "more":
            self._more(node)
        elif node.allow_expand and not node.is_expanded:
            if node.data.kind == "segment":
                self._load(node)  # the placeholder shows at once
            node.expand()
            if node.data.loading:
                self._descend_after_load = None
        elif node.data.loading:
            self._descend_after_load = node  # typed ahead: step in once the children arrive
        elif node.is_expanded and node.children:
            self.action_cursor_down()

    def action_collapse(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.children and not node.is_root:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)

    def action_drill(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        kind = node.data.kind
        if kind == "more":
            self._more(node)
        elif kind in ("dimension", "causes"):
            node.toggle()
        elif kind == "segment":
            self.post_message(self.DrillRequested(node.data.segment))

    def action_toggle_grouping(self) -> None:
        self.grouped = not self.grouped
        self._remember()
        self._rebuild()
        how = "by dimension" if self.grouped else "ranked across dimensions"
        self.notify(f"Children grouped {how}", timeout=2)

    def action_cycle_order(self) -> None:
        self.order = ordering.next_order(self.order)
        self._remember()
        self._rebuild()
        self.notify(f"Children ordered by {self.order}", timeout=2)

    def current_segment(self) -> Segment | None:
        node = self.cursor_node
        while node is not None and node.data is not None and node.data.kind not in (
            "segment", "root",
        ):  # fmt: skip
            node = node.parent
        return node.data.segment if node is not None and node.data is not None else None

    def action_copy(self) -> None:
        segment = self.current_segment()
        if segment is None:
            return
        clause = where_clause_for_user(segment.conditions)
        self.app.copy_to_clipboard(clause)
        self.notify(f"Copied: {clause}", title="WHERE clause", markup=False)

    # --- find -------------------------------------------------------------------------

    def _all_nodes(self) -> list[TreeNode[NodeData]]:
        out: list[TreeNode[NodeData]] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out

    def _matches(self, text: str) -> list[TreeNode[NodeData]]:
        needle = text.strip().lower()
        if not needle:
            return []
        found = []
        for node in self._all_nodes():
            data = node.data
            if data is None or data.kind not in ("segment", "dimension"):
                continue
            hay = data.segment.label() if data.kind == "segment" else (data.dimension or "")
            if needle in hay.lower():
                found.append(node)
        return found

    def find(self, text: str, forward_from_cursor: bool = False) -> int:
        """Move to the first (or next) loaded node whose segment matches ``text``."""
        self._find_text = text
        matches = self._matches(text)
        if not matches:
            return 0
        target = matches[0]
        if forward_from_cursor and self.cursor_node in matches:
            i = matches.index(self.cursor_node)
            target = matches[(i + 1) % len(matches)]
        self._reveal(target)
        return len(matches)

    def _reveal(self, node: TreeNode[NodeData]) -> None:
        parent = node.parent
        while parent is not None:
            if not parent.is_expanded:
                parent.expand()
            parent = parent.parent
        self._move_to(node)

    def _move_to(self, node: TreeNode[NodeData]) -> None:
        """Put the cursor on ``node`` once it is laid out, and tell the details pane."""

        def move() -> None:
            self.move_cursor(node)
            self._post_highlight(node)

        self.call_after_refresh(move)

    def action_next_match(self) -> None:
        if not self._find_text:
            self.notify("Nothing to find yet: press / first", timeout=2)
            return
        if not self.find(self._find_text, forward_from_cursor=True):
            self.notify(f"No loaded segment matches {self._find_text!r}", markup=False)


def shown_causes(explained: Explained | None, within: Segment) -> list[SegmentStats]:
    """The root causes the tree lists: not the scope itself (inside a drill-down, "all of
    country=BR moved" is no narrower cause)."""
    if explained is None:
        return []
    return [c for c in explained.root_causes if c.segment != within]


def trusted(explained: Explained | None, within: Segment) -> bool:
    """The causes explain enough of the change to start the cursor on the first of them."""
    found = shown_causes(explained, within)
    return bool(found) and explained is not None and explained.explained >= TRUSTED


def loaded_rows(tree: SegmentTree) -> list[tuple[int, SegmentStats]]:
    """Every loaded segment below the root, in tree order, with its depth."""
    out: list[tuple[int, SegmentStats]] = []

    def walk(node: TreeNode[NodeData], depth: int) -> None:
        for child in node.children:
            data = child.data
            if data is None:
                continue
            if data.kind == "segment" and data.stats is not None:
                out.append((depth + 1, data.stats))
                walk(child, depth + 1)
            elif data.kind == "dimension":
                walk(child, depth)

    walk(tree.root, 0)
    return out
