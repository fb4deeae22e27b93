"""Model reasoning, shown dim in the chat only while ``/thoughts on``."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class ThinkingBlock(Static):
    """Accumulates thinking deltas; plain text, since reasoning is rarely well-formed Markdown."""

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
        self.text = text

    def on_mount(self) -> None:
        self.update(Content(self.text))

    def append(self, fragment: str) -> None:
        self.text += fragment
        self.update(Content(self.text))
