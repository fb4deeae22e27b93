"""The one interface the agent loop talks to, whatever the API behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from tunacode_tui.core.messages import Message, ToolSpec
from tunacode_tui.core.stream import StreamEvent


@dataclass(slots=True, frozen=True)
class ModelRef:
    """A parsed ``provider:model`` name, e.g. ``openrouter:openai/gpt-4.1``."""

    provider: str
    model: str

    @property
    def full_name(self) -> str:
        return f"{self.provider}:{self.model}"

    def __str__(self) -> str:
        return self.full_name


@dataclass(slots=True)
class ChatRequest:
    model: str
    system: str
    messages: list[Message]
    tools: list[ToolSpec]
    max_tokens: int | None = None
    stream: bool = True
    # "low" | "medium" | "high" asks reasoning models to think (Anthropic adaptive thinking with that
    # effort, OpenAI reasoning_effort); None leaves the provider's default.
    reasoning: str | None = None


class Provider(Protocol):
    """Adapters implement ``stream``; a non-streaming request yields the same events in one go."""

    name: str

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]: ...

    async def aclose(self) -> None: ...
