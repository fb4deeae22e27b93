"""Helpers for the UI tests: what was posted, waiting on a condition, sending a prompt."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.message import Message
from textual.pilot import Pilot

from tunacode_tui.core.events import AgentEvent
from tunacode_tui.ui.messages import AgentEventPosted
from tunacode_tui.ui.screens.main import MainScreen

SIZE = (120, 40)
MODEL = "openai:gpt-4.1"


class Recorder:
    """The app's messages (``run_test(message_hook=...)``) and the agent events among them."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def events(self, kind: type[AgentEvent] | tuple[type, ...] = object) -> list:  # type: ignore[assignment]
        return [m.event for m in self.messages if isinstance(m, AgentEventPosted) and isinstance(m.event, kind)]


async def wait_for(pilot: Pilot, condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.02)


def main_screen(app: App[object]) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), f"expected the main screen, got {screen!r}"
    return screen


async def send(pilot: Pilot[object], prompt: str) -> None:
    """Put ``prompt`` in the prompt (typing long text key by key is slow) and press a real Enter."""
    screen = main_screen(pilot.app)
    screen.prompt.focus()
    screen.prompt.insert(prompt)
    await pilot.press("enter")


def displayed(widget: Any) -> int:
    """How many widgets under ``widget`` Textual lays out on each frame (frozen blocks are hidden)."""
    return sum(1 + displayed(child) for child in widget.displayed_children)


def frozen_in_view(chat: Any) -> bool:
    """Whether an answer frozen behind its spacer overlaps the visible part of the chat."""
    from tunacode_tui.ui.widgets.assistant_message import AssistantMessage

    top, bottom = chat.scroll_y, chat.scroll_y + chat.scrollable_content_region.height
    for answer in chat.query(AssistantMessage):
        region = answer.virtual_region
        if answer.frozen_height and region.y < bottom and region.y + answer.frozen_height > top:
            return True
    return False
