"""Model reasoning, shown dim in the chat only while ``/thoughts on``."""

from __future__ import annotations

import time

from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from tunacode_tui.ui.widgets.assistant_message import FLUSH_INTERVAL


class ThinkingBlock(Static):
    """Accumulates thinking deltas; plain text, since reasoning is rarely well-formed Markdown.

    Deltas are buffered and shown at most every ``FLUSH_INTERVAL``, like streamed answers.
    """

    DEFAULT_CSS = """
    ThinkingBlock {
        margin: 1 0 0 0;
        padding: 0 1;
        color: $text-muted;
        text-style: italic;
        border-left: blank;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._parts = [text] if text else []
        self._timer: Timer | None = None
        self._last_flush = 0.0

    @property
    def text(self) -> str:
        """All the thinking received, shown or not yet."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def on_mount(self) -> None:
        self.flush()

    def append(self, fragment: str) -> None:
        if not fragment:
            return
        self._parts.append(fragment)
        if self._timer is None and self.is_mounted:
            delay = max(0.001, self._last_flush + FLUSH_INTERVAL - time.monotonic())  # 0 breaks Timer
            self._timer = self.set_timer(delay, self.flush, name="render thinking")

    def flush(self) -> None:
        """Show everything received so far."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._last_flush = time.monotonic()
        self.update(Content(self.text))
