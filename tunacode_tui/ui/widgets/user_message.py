"""A prompt the user sent, as it appears in the chat."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class UserMessage(Static):
    """The user's prompt: plain text (never Markdown, so what was typed is what is shown)."""

    DEFAULT_CSS = """
    UserMessage {
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: outer $primary;
        background: $primary 10%;
        color: $text;
    }
    """

    def __init__(self, prompt: str) -> None:
        super().__init__(Content(prompt))
        self.prompt = prompt
