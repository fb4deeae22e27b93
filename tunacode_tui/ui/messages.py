"""Messages shared across the UI. Widget-local messages live inside their widget classes."""

from __future__ import annotations

from textual.message import Message

from tunacode_tui.core.events import AgentEvent


class AgentEventPosted(Message, bubble=False):
    """One fact from the agent loop, delivered to the main screen in the order it happened."""

    def __init__(self, event: AgentEvent) -> None:
        super().__init__()
        self.event = event
