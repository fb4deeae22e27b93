"""A prompt the user sent, as it appears in the chat, with a chip per ``@file`` it attached."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tunacode_tui.core.events import AttachedFile


def size_label(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 2**20:.1f} MB"


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
        self.attachments: list[AttachedFile] = []

    def show_attachments(self, files: list[AttachedFile]) -> None:
        """One chip per mentioned file under the prompt: attached (size, cut or not) or why not."""
        self.attachments = list(files)
        chips: list[Content] = []
        for f in files:
            if f.error:
                chips.append(Content.styled(f"⚠ @{f.path} not attached: {f.error}", "$text-warning"))
            else:
                cut = f", first {f.chars:,} characters" if f.truncated else ""
                chips.append(Content.styled(f"↳ attached {f.path} ({size_label(f.size)}{cut})", "$text-success"))
        self.update(Content("\n").join([Content(self.prompt), *chips]))
