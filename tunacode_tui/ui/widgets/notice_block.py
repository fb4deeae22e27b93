"""Things the user should see that are not model output: notices, warnings, errors, command output."""

from __future__ import annotations

from typing import Literal

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

NoticeLevel = Literal["info", "warning", "error", "system"]

ICONS: dict[NoticeLevel, str] = {"info": "ℹ", "warning": "⚠", "error": "✗", "system": "•"}


class NoticeBlock(Static):
    """One notice; its level is a ``-info``/``-warning``/``-error``/``-system`` class."""

    DEFAULT_CSS = """
    NoticeBlock {
        margin: 1 0 0 0;
        padding: 0 1;
        color: $text-muted;
        &.-info { border-left: outer $accent; }
        &.-system { color: $text-muted; text-style: dim; }
        &.-warning { border-left: outer $warning; color: $text-warning; background: $warning 10%; }
        &.-error { border-left: outer $error; color: $text-error; background: $error 15%; }
    }
    """

    level: reactive[NoticeLevel] = reactive("info")

    def __init__(self, text: str, level: NoticeLevel = "info") -> None:
        super().__init__(Content(f"{ICONS[level]} {text}"))
        self.text = text
        self.set_reactive(NoticeBlock.level, level)

    def set_text(self, text: str) -> None:
        self.text = text
        self.update(Content(f"{ICONS[self.level]} {text}"))

    def on_mount(self) -> None:
        self.watch_level(self.level)

    def watch_level(self, level: NoticeLevel) -> None:
        for name in ICONS:
            self.set_class(name == level, f"-{name}")
