"""Neutral streaming events every provider adapter yields, in order.

A stream is: any mix of ``TextChunk`` / ``ThinkingChunk`` / ``ToolCallBegan`` / ``ToolCallArgsChunk`` /
``ToolCallReady`` and ``UsageReported``, closed by exactly one ``StreamEnded`` carrying the assembled
assistant message. ``ToolCallReady`` is emitted as soon as a call's arguments are complete, which is what
lets the executor start read-only tools while the model is still streaming.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunacode_tui.core.messages import Message, ToolCallPart, Usage


@dataclass(slots=True, frozen=True)
class TextChunk:
    text: str


@dataclass(slots=True, frozen=True)
class ThinkingChunk:
    text: str


@dataclass(slots=True, frozen=True)
class ToolCallBegan:
    index: int
    id: str
    name: str


@dataclass(slots=True, frozen=True)
class ToolCallArgsChunk:
    index: int
    delta: str


@dataclass(slots=True, frozen=True)
class ToolCallReady:
    index: int
    call: ToolCallPart


@dataclass(slots=True, frozen=True)
class UsageReported:
    usage: Usage


@dataclass(slots=True, frozen=True)
class StreamEnded:
    """``stop_reason`` is normalised: ``end_turn``, ``tool_use``, ``max_tokens`` or the raw value."""

    stop_reason: str
    message: Message
    usage: Usage


StreamEvent = (
    TextChunk | ThinkingChunk | ToolCallBegan | ToolCallArgsChunk | ToolCallReady | UsageReported | StreamEnded
)
