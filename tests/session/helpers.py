"""Shared test data for the session tests."""

from __future__ import annotations

from tunacode_tui.core.messages import (
    Message,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)


def sample_conversation() -> list[Message]:
    """One full turn with every kind of part: text, thinking, parallel tool calls, results (one an error)."""
    return [
        Message.user("Find the config loader and explain it."),
        Message(
            "assistant",
            [
                ThinkingPart("I should grep first.", signature="sig-123"),
                TextPart("Looking."),
                ToolCallPart("call_1", "grep", {"pattern": "def load", "path": "src"}, '{"pattern":"def load"}'),
                ToolCallPart("call_2", "read_file", {"file_path": "src/config.py"}),
            ],
        ),
        Message(
            "tool",
            [
                ToolResultPart("call_1", "grep", "src/config.py:10: def load():"),
                ToolResultPart("call_2", "read_file", "no such file", is_error=True),
            ],
        ),
        Message.assistant("The loader is `load()` in src/config.py — ünïcode ✓."),
    ]
