"""Small helpers shared by the provider wire tests."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from tunacode_tui.core.messages import Message, ToolSpec
from tunacode_tui.core.stream import StreamEnded, StreamEvent
from tunacode_tui.providers.base import ChatRequest

READ_FILE = ToolSpec(
    "read_file",
    "Read a file.",
    {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]},
)


def request(*messages: Message, model: str = "gpt-4.1", stream: bool = True, max_tokens: int | None = None,
            system: str = "You are a test.") -> ChatRequest:
    return ChatRequest(model=model, system=system, messages=list(messages) or [Message.user("hi")],
                       tools=[READ_FILE], max_tokens=max_tokens, stream=stream)


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in events]


async def timed(events: AsyncIterator[StreamEvent]) -> list[tuple[float, StreamEvent]]:
    """Events with the monotonic time they reached the consumer."""
    return [(time.monotonic(), event) async for event in events]


def ended(events: list[Any]) -> StreamEnded:
    last = events[-1]
    assert isinstance(last, StreamEnded), f"stream did not end with StreamEnded: {last!r}"
    return last


def of_type(events: list[Any], kind: type) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]
