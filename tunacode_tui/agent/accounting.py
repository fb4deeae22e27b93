"""Context accounting: how many tokens the next request will send.

The figure is the provider-reported prompt and output tokens of the last request plus a local count of
what was added since. Per-message counts are cached by identity, so adding one message costs O(its
size), never a recount of the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tunacode_tui.core.messages import (
    Message,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    Usage,
)
from tunacode_tui.providers import tokens

# Per-message framing the APIs add (role markers, separators): a few tokens each.
MESSAGE_OVERHEAD = 4


def message_text(message: Message) -> str:
    chunks: list[str] = []
    for part in message.parts:
        if isinstance(part, TextPart | ThinkingPart):
            chunks.append(part.text)
        elif isinstance(part, ToolCallPart):
            chunks.append(part.name)
            chunks.append(part.raw_arguments or json.dumps(part.arguments))
        elif isinstance(part, ToolResultPart):
            chunks.append(part.content)
    return "\n".join(chunks)


@dataclass(slots=True)
class ContextMeter:
    _cache: dict[int, tuple[Message, int]] = field(default_factory=dict)
    _static: tuple[str, int] | None = None
    # After a request: (messages covered by the report, tokens reported for them).
    _reported: tuple[int, int] | None = None
    _history_id: int | None = None
    # Local counts (cl100k) times this: raised when a server reports a prompt larger than we counted (a
    # different tokenizer and chat template), so estimates made after a rewrite of the history stay honest.
    scale: float = 1.0

    def count(self, message: Message) -> int:
        entry = self._cache.get(id(message))
        if entry is not None and entry[0] is message:
            return entry[1]
        value = tokens.count_tokens(message_text(message)) + MESSAGE_OVERHEAD
        self._cache[id(message)] = (message, value)
        return value

    def static_tokens(self, system: str, tools: list[ToolSpec]) -> int:
        key = system + json.dumps([(t.name, t.description, t.parameters) for t in tools], sort_keys=True)
        if self._static is None or self._static[0] != key:
            self._static = (key, tokens.count_tokens(key))
        return self._static[1]

    def record_usage(self, messages: list[Message], usage: Usage) -> None:
        """After a request whose reply is now the last message: the provider's figure becomes the base."""
        if usage.prompt_tokens or usage.output_tokens:
            self._reported = (len(messages), usage.prompt_tokens + usage.output_tokens)
        self._history_id = id(messages)

    def match_report(self, system: str, tools: list[ToolSpec], messages: list[Message]) -> None:
        """Scale local counts so the local count of ``messages`` equals the reported figure for them.

        Called before the history is rewritten: afterwards only local counts are left, and a server with
        another tokenizer or chat template (llama.cpp drops tools a model's template cannot show) counts
        differently from cl100k.
        """
        if self._reported is None or self._reported[0] > len(messages):
            return
        covered, reported = self._reported
        raw = self.static_tokens(system, tools) + sum(self.count(m) for m in messages[:covered])
        if raw > 0:
            self.scale = min(3.0, max(0.3, reported / raw))

    def seed(self, covered: int, reported: int) -> None:
        """A resumed session: the last reported figure covered the first ``covered`` messages."""
        self._reported = (covered, reported)

    def invalidate(self, messages: list[Message]) -> None:
        """The history was rewritten (compaction, clear, resume): fall back to local counts, and forget the
        counts of messages that left the history, so a long session's cache does not keep every message
        it ever counted alive."""
        self._reported = None
        live = {id(m) for m in messages}
        # An entry holds its message, so an id in ``live`` cannot belong to another object.
        self._cache = {k: v for k, v in self._cache.items() if k in live}

    def local_estimate(self, system: str, tools: list[ToolSpec], messages: list[Message]) -> int:
        """Local count of a whole history (ignoring reported usage), scaled: for candidate histories."""
        raw = self.static_tokens(system, tools) + sum(self.count(m) for m in messages)
        return round(raw * self.scale)

    def calibrate(self, reported: int, local: int) -> None:
        """A server counted ``reported`` tokens for what we counted as ``local``: scale local counts up."""
        if reported > 0 and local > 0:
            self.scale = min(3.0, max(self.scale, reported / local))

    def estimate(self, system: str, tools: list[ToolSpec], messages: list[Message]) -> int:
        if self._reported is not None and self._reported[0] <= len(messages):
            covered, reported = self._reported
            return reported + round(sum(self.count(m) for m in messages[covered:]) * self.scale)
        return self.local_estimate(system, tools, messages)
