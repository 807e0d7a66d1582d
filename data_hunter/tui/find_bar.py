"""``/``: a one-line search box under the panes; typing jumps among loaded segments."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FindBar(Input):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close find", show=False)]

    class Closed(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="find a segment (enter: done; / then enter, or ctrl+n: next match)", id=id
        )

    def action_close(self) -> None:
        self.post_message(self.Closed())
